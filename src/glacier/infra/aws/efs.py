"""EFS file systems: encrypted, a mount target in each of the environment's subnets, and one
access point the tasks that declare the volume mount through.

The mount targets admit NFS (port 2049) from the compute's security groups only. A task's
role may mount and write through the volume's one access point
(``elasticfilesystem:ClientMount``/``ClientWrite`` on the file system, on condition that the
access point is that one); Lambda functions get the access point as their file system
(under ``/mnt/``), ECS tasks as a volume with transit encryption and IAM authorization.
"""

from __future__ import annotations

from typing import Any

from glacier.errors import InfraError
from glacier.infra import iam
from glacier.infra.aws.network import NFS_PORT, in_network, port_from_compute, require_subnets
from glacier.infra.aws.stack import Stack, add, logical_name
from glacier.infra.model import TaskSpec, VolumeSpec

#: The POSIX identity files are written as through the access point, and its root directory.
POSIX_ID = 1000
ROOT_DIRECTORY = "/glacier"
CLIENT_ACTIONS = ("elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite")


def efs_config(volume: VolumeSpec) -> Any:
    """The volume's EfsConfig (the defaults when none was given)."""
    from glacier.settings import EfsConfig

    return volume.config if isinstance(volume.config, EfsConfig) else EfsConfig()


def file_system(stack: Stack, volume: VolumeSpec) -> None:
    """Declare ``volume``'s file system, its mount targets and its access point."""
    aws, cfg = stack.aws, efs_config(volume)
    subnets = require_subnets(stack, f"EFS file system {volume.name!r}")
    tags = {**stack.tags, **dict(volume.tags), **cfg.tags, "glacier:volume": volume.name}
    made = add(
        stack,
        aws.efs.FileSystem,
        logical_name(stack, volume.name, "file-system"),
        creation_token=f"{stack.env.naming_prefix}-{volume.name}",
        encrypted=cfg.encrypted,
        performance_mode=cfg.performance_mode,
        tags={**tags, "Name": volume.name},
    )
    group = port_from_compute(
        stack,
        logical_name(stack, volume.name, "nfs"),
        f"{stack.env.naming_prefix}-{volume.name}-nfs",
        NFS_PORT,
        f"NFS of Glacier volume {volume.name} for the tasks",
        tags,
    )
    targets = [
        add(
            stack,
            aws.efs.MountTarget,
            # A named subnet by its id; one the plan creates (an output) by its place.
            logical_name(
                stack, volume.name, "mount", subnet if isinstance(subnet, str) else f"{i}"
            ),
            file_system_id=made.id,
            subnet_id=subnet,
            security_groups=[group.id],
        )
        for i, subnet in enumerate(subnets, start=1)
    ]
    point = add(
        stack,
        aws.efs.AccessPoint,
        logical_name(stack, volume.name, "access-point"),
        depends_on=targets,
        file_system_id=made.id,
        posix_user=aws.efs.AccessPointPosixUserArgs(uid=POSIX_ID, gid=POSIX_ID),
        root_directory=aws.efs.AccessPointRootDirectoryArgs(
            path=ROOT_DIRECTORY,
            creation_info=aws.efs.AccessPointRootDirectoryCreationInfoArgs(
                owner_uid=POSIX_ID, owner_gid=POSIX_ID, permissions="755"
            ),
        ),
        tags=tags,
    )
    stack.out.file_systems[volume.key] = made
    stack.out.access_points[volume.key] = point


def access_statements(stack: Stack, volume: VolumeSpec) -> list[dict[str, Any]]:
    """Mount and write through the volume's one access point."""
    made, point = stack.out.file_systems[volume.key], stack.out.access_points[volume.key]
    return [
        iam.statement(
            f"Volume {volume.name}",
            list(CLIENT_ACTIONS),
            [made.arn],
            condition={"ArnEquals": {"elasticfilesystem:AccessPointArn": point.arn}},
        )
    ]


def lambda_file_system(stack: Stack, task: TaskSpec) -> Any:
    """The ``file_system_config`` of a Lambda task that mounts a volume (None without one)."""
    if not task.volumes:
        return None
    if len(task.volumes) > 1:
        raise InfraError(
            f"Task {task.name!r} ({task.location}) mounts {len(task.volumes)} volumes, but a "
            "Lambda function mounts one file system. Use one volume, or run it on ECS "
            "(compute=env.compute.ecs(...))."
        )
    if not in_network(stack, task):
        raise InfraError(
            f"Task {task.name!r} ({task.location}) mounts a volume, so its Lambda function "
            f"must run in the VPC: give environment {stack.env.key!r} subnet_ids under "
            "[network], or leave [network] out and the plan creates a VPC."
        )
    volume = stack.model.volumes[task.volumes[0]]
    return stack.aws.lambda_.FunctionFileSystemConfigArgs(
        arn=stack.out.access_points[volume.key].arn, local_mount_path=volume.mount_path
    )


def ecs_volumes(stack: Stack, task: TaskSpec) -> tuple[list[Any], list[dict[str, Any]]]:
    """An ECS task's volumes, and its container's mount points."""
    aws = stack.aws
    volumes, mounts = [], []
    for key in task.volumes:
        volume = stack.model.volumes[key]
        volumes.append(
            aws.ecs.TaskDefinitionVolumeArgs(
                name=volume.name,
                efs_volume_configuration=aws.ecs.TaskDefinitionVolumeEfsVolumeConfigurationArgs(
                    file_system_id=stack.out.file_systems[key].id,
                    transit_encryption="ENABLED",
                    authorization_config=aws.ecs.TaskDefinitionVolumeEfsVolumeConfigurationAuthorizationConfigArgs(
                        access_point_id=stack.out.access_points[key].id, iam="ENABLED"
                    ),
                ),
            )
        )
        mounts.append({"sourceVolume": volume.name, "containerPath": volume.mount_path})
    return volumes, mounts

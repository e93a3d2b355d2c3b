"""EFS file systems: encrypted, a mount target per subnet, one access point, mounted into the
Lambda functions and ECS tasks that declare the volume, with ClientMount/ClientWrite through
that access point only."""

from __future__ import annotations

import json

import pytest

from glacier.errors import InfraError
from glacier.infra import Plan, plan
from infra.pipelines import attached_pipeline, attached_settings
from infra.plans import FUNCTION, statement, task_policy

FILE_SYSTEM = "aws:efs/fileSystem:FileSystem"
ACCESS_POINT = "aws:efs/accessPoint:AccessPoint"


@pytest.fixture(scope="module")
def attached_plan() -> Plan:
    return plan(attached_pipeline())


def test_file_system_is_encrypted_with_a_mount_target_per_subnet(attached_plan: Plan) -> None:
    (fs,) = attached_plan.of_type(FILE_SYSTEM)
    assert fs.inputs["encrypted"] is True
    targets = attached_plan.of_type("aws:efs/mountTarget:MountTarget")
    assert sorted(t.inputs["subnetId"] for t in targets) == ["subnet-1", "subnet-2"]
    assert {t.inputs["fileSystemId"] for t in targets} == {fs.outputs["id"]}
    (point,) = attached_plan.of_type(ACCESS_POINT)
    assert point.inputs["rootDirectory"]["path"] == "/glacier"


def test_lambda_mounts_the_access_point_and_may_use_only_it(attached_plan: Plan) -> None:
    (point,) = attached_plan.of_type(ACCESS_POINT)
    (fs,) = attached_plan.of_type(FILE_SYSTEM)
    fetch = attached_plan.get(FUNCTION, "prod-fetch-function")
    assert fetch.inputs["fileSystemConfig"] == {
        "arn": point.outputs["arn"],
        "localMountPath": "/mnt/prod-scratch",
    }
    report = attached_plan.get(FUNCTION, "prod-report-function")
    assert "fileSystemConfig" not in report.inputs
    grant = statement(task_policy(attached_plan, "prod", "fetch"), "VolumeProdScratch")
    assert grant["Action"] == ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
    assert grant["Resource"] == [fs.outputs["arn"]]
    assert grant["Condition"] == {
        "ArnEquals": {"elasticfilesystem:AccessPointArn": point.outputs["arn"]}
    }


def test_ecs_task_mounts_the_volume_with_transit_encryption() -> None:
    p = plan(attached_pipeline(compute="ecs"))
    (point,) = p.of_type(ACCESS_POINT)
    definition = p.get("aws:ecs/taskDefinition:TaskDefinition", "prod-fetch-task-definition")
    (volume,) = definition.inputs["volumes"]
    efs = volume["efsVolumeConfiguration"]
    assert efs["transitEncryption"] == "ENABLED"
    assert efs["authorizationConfig"] == {"accessPointId": point.outputs["id"], "iam": "ENABLED"}
    (container,) = json.loads(definition.inputs["containerDefinitions"])
    assert container["mountPoints"] == [
        {"sourceVolume": "prod-scratch", "containerPath": "/mnt/prod-scratch"}
    ]


def test_a_volume_in_a_named_vpc_without_subnets_is_refused() -> None:
    # With no [network] at all the plan creates a VPC (tests/infra/test_network.py).
    settings = attached_settings(network={"vpc_id": "vpc-1"}, databases={})
    with pytest.raises(InfraError, match=r"EFS file system 'prod-scratch'.*subnet"):
        plan(attached_pipeline(settings))

"""ECS/Fargate: a task as a task definition on the pipeline's cluster, and its network.

A container task runs the image of its :class:`~glacier.settings.EcsConfig` (built by the
user's CI from the generated Dockerfile, :mod:`glacier.infra.image`), or, when it names none,
the image ``glacier deploy`` builds from that Dockerfile and pushes to the environment's
repository (:mod:`glacier.infra.aws.ecr`; the plan shows the choice), with
``python -m glacier.infra.runtime <target> <task>``, as the task's role; a second role (the
execution role) lets ECS pull the image (from ECR when the image is there) and write the logs.
Fargate places tasks in the environment's subnets, else in the default VPC's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from glacier.errors import InfraError
from glacier.infra import iam
from glacier.infra.aws.ecr import image_uri, repository
from glacier.infra.aws.efs import ecs_volumes
from glacier.infra.aws.logs import write_logs_statement
from glacier.infra.aws.naming import cluster_name, exec_role_name, family_name, partition_of
from glacier.infra.aws.network import _ECR_IMAGE, fargate_placement
from glacier.infra.aws.stack import Stack, add, invoke_options, json_input, logical_name
from glacier.infra.aws.task_environment import task_variables
from glacier.infra.image import ENTRY_POINT
from glacier.infra.lambda_package import PackageChoice
from glacier.infra.model import TaskSpec

#: What an ECS execution role needs to pull an image from an ECR repository.
ECR_PULL_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
)


def cluster(stack: Stack, tasks: Sequence[TaskSpec]) -> None:
    """Declare the pipeline's cluster when any of ``tasks`` runs on ECS (with Fargate Spot
    capacity when one of them asks for it)."""
    if not any(t.compute == "ecs" for t in tasks):
        return
    aws = stack.aws
    made = add(
        stack,
        aws.ecs.Cluster,
        logical_name(stack, "cluster"),
        name=cluster_name(stack.model, stack.env),
        tags=stack.tags,
    )
    stack.shared["cluster"] = made
    if any(t.compute == "ecs" and t.config.spot for t in tasks):
        add(
            stack,
            aws.ecs.ClusterCapacityProviders,
            logical_name(stack, "capacity-providers"),
            cluster_name=made.name,
            capacity_providers=["FARGATE", "FARGATE_SPOT"],
        )


def task_definition(stack: Stack, task: TaskSpec, role: Any, log_group: Any, policy: Any) -> None:
    """Declare ``task``'s execution role and task definition; refused without an image."""
    aws, cfg, env, model = stack.aws, task.config, stack.env, stack.model
    image: Any = cfg.image
    if not image:
        image = image_uri(stack, task, "ecs")
        stack.out.choices.append(
            PackageChoice(
                task.name,
                "Image",
                "no image= given; glacier deploy builds and pushes it",
                compute="ecs",
            )
        )
    exec_role = add(
        stack,
        aws.iam.Role,
        logical_name(stack, task.name, "exec-role"),
        name=exec_role_name(model, env, task.name),
        assume_role_policy=json.dumps(iam.trust_policy(service=iam.COMPUTE_PRINCIPALS["ecs"])),
        description=f"ECS execution role of Glacier task {task.name!r}",
        tags={**stack.tags, "glacier:task": task.name},
    )
    stack.exec_roles[task.name] = exec_role
    exec_policy = add(
        stack,
        aws.iam.RolePolicy,
        logical_name(stack, task.name, "exec-policy"),
        name="glacier-task-execution",
        role=exec_role.id,
        policy=json_input(stack, execution_policy(stack, image, log_group)),
    )
    environment = [{"name": k, "value": v} for k, v in sorted(task_variables(stack, task).items())]
    target = model.code.relative_target if model.code else model.pipeline
    volumes, mounts = ecs_volumes(stack, task)
    container = {
        "name": "task",
        "image": image,
        "essential": True,
        "command": [*ENTRY_POINT, target, task.name],
        "environment": environment,
        "mountPoints": mounts,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group.name,
                "awslogs-region": env.region,
                "awslogs-stream-prefix": "glacier",
            },
        },
    }
    definition = add(
        stack,
        aws.ecs.TaskDefinition,
        logical_name(stack, task.name, "task-definition"),
        depends_on=[policy, exec_policy],
        family=family_name(model, env, task.name),
        cpu=str(cfg.cpu),
        memory=str(cfg.memory),
        network_mode="awsvpc",
        requires_compatibilities=[cfg.launch_type],
        execution_role_arn=exec_role.arn,
        task_role_arn=role.arn,
        volumes=volumes or None,
        container_definitions=stack.pulumi.Output.json_dumps([container]),
        tags={**stack.tags, **cfg.tags, "glacier:task": task.name},
    )
    stack.out.task_definitions[task.name] = definition


def execution_policy(stack: Stack, image: Any, log_group: Any) -> dict[str, Any]:
    """The execution role's policy: write the task's logs, pull its image from ECR (the
    environment's repository when the image is the one Glacier builds)."""
    statements = [write_logs_statement(log_group)]
    if not isinstance(image, str):  # the environment's own repository
        statements.append(iam.statement("EcrToken", ["ecr:GetAuthorizationToken"], ["*"]))
        statements.append(iam.statement("EcrPull", ECR_PULL_ACTIONS, [repository(stack).arn]))
        return iam.document(statements)
    match = _ECR_IMAGE.match(image)
    if match:
        account, region, repo = match.groups()
        partition = partition_of(stack.env)
        statements.append(iam.statement("EcrToken", ["ecr:GetAuthorizationToken"], ["*"]))
        statements.append(
            iam.statement(
                "EcrPull",
                ECR_PULL_ACTIONS,
                [f"arn:{partition}:ecr:{region}:{account}:repository/{repo}"],
            )
        )
    return iam.document(statements)


def awsvpc(stack: Stack, task: TaskSpec) -> dict[str, Any]:
    """Where a Fargate task gets its network: the environment's subnets, the private subnets
    of the VPC the plan created for its database or volume, else the default VPC's (with a
    public IP, so the image can be pulled from a public registry)."""
    network = stack.model.envs[task.env].network
    if network.subnet_ids:
        placed: dict[str, Any] = {"Subnets": list(network.subnet_ids)}
        if network.security_group_ids:  # else ECS applies the VPC's default group
            placed["SecurityGroups"] = list(network.security_group_ids)
        return placed
    if task.env != stack.env.key:
        raise InfraError(
            f"Task {task.name!r} ({task.location}) runs on Fargate in environment "
            f"{task.env!r}, which has no subnets, and is started from {stack.env.key!r}, "
            "which cannot look up another account's VPC. Set subnet_ids (and "
            "security_group_ids) on the environment."
        )
    return fargate_placement(stack, task) or {
        "Subnets": vpc_subnets(stack),
        "AssignPublicIp": "ENABLED",
    }


def vpc_subnets(stack: Stack) -> Any:
    """The subnets of the environment's VPC, else of the account's default VPC (looked up
    once per environment)."""
    subnets = stack.shared.get("subnets")
    if subnets is None:
        aws, opts = stack.aws, invoke_options(stack)
        vpc_id = stack.env.network.vpc_id
        if vpc_id is None:
            vpc_id = aws.ec2.get_vpc_output(default=True, opts=opts).id
        found = aws.ec2.get_subnets_output(
            filters=[aws.ec2.GetSubnetsFilterArgs(name="vpc-id", values=[vpc_id])],
            opts=opts,
        )
        subnets = stack.shared["subnets"] = found.ids
    return subnets

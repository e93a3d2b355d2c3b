"""Tasks as ECS/Fargate task definitions: roles, image pull, Spot, and where Fargate finds
its network."""

from __future__ import annotations

import json
from pathlib import Path

from glacier.infra import generate, plan
from infra.pipelines import ecs_pipeline
from infra.plans import ROLE, ROLE_POLICY, definition, statement


def test_ecs_tasks_get_a_fargate_task_definition_and_exact_orchestration_rights() -> None:
    p = plan(ecs_pipeline())
    (definition_,) = p.of_type("aws:ecs/taskDefinition:TaskDefinition")
    inputs = definition_.inputs
    assert (inputs["cpu"], inputs["memory"]) == ("1024", "4096")
    assert inputs["requiresCompatibilities"] == ["FARGATE"]
    assert inputs["networkMode"] == "awsvpc"
    assert inputs["taskRoleArn"] == "arn:aws:iam::111111111111:role/batch-heavy-crunch"
    assert inputs["executionRoleArn"] == "arn:aws:iam::111111111111:role/batch-heavy-crunch-exec"
    (container,) = json.loads(inputs["containerDefinitions"])
    assert container["image"].endswith("/etl:1")
    assert container["command"][-1] == "crunch"
    trust = p.get(ROLE, "batch-crunch-role").policy()["Statement"][0]
    assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    sm = p.get(ROLE_POLICY, "batch-orchestrator-policy").policy()
    assert statement(sm, "RunTaskDefinitions")["Resource"] == [
        "arn:aws:ecs:us-west-2:111111111111:task-definition/batch-heavy-crunch:*"
    ]
    assert statement(sm, "PassTaskRoles")["Resource"] == [
        "arn:aws:iam::111111111111:role/batch-heavy-crunch",
        "arn:aws:iam::111111111111:role/batch-heavy-crunch-exec",
    ]
    assert statement(sm, "TrackTasks")["Resource"] == [
        "arn:aws:ecs:us-west-2:111111111111:task/batch-heavy/*"
    ]
    state = definition(p)["States"]["crunch"]
    assert state["Resource"] == "arn:aws:states:::ecs:runTask.sync"
    assert state["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"] == [
        "subnet-1"
    ]
    pull = statement(p.get(ROLE_POLICY, "batch-crunch-exec-policy").policy(), "EcrPull")
    assert pull["Resource"] == ["arn:aws:ecr:us-west-2:111111111111:repository/etl"]


def test_spot_tasks_run_on_fargate_spot() -> None:
    on_demand = plan(ecs_pipeline())
    assert definition(on_demand)["States"]["crunch"]["Parameters"]["LaunchType"] == "FARGATE"
    assert not on_demand.of_type("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")

    p = plan(ecs_pipeline(spot=True))
    parameters = definition(p)["States"]["crunch"]["Parameters"]
    assert "LaunchType" not in parameters
    assert parameters["CapacityProviderStrategy"] == [
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 1}
    ]
    (providers_,) = p.of_type("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    assert providers_.inputs == {
        "clusterName": "batch-heavy",
        "capacityProviders": ["FARGATE", "FARGATE_SPOT"],
    }


def test_fargate_without_a_network_runs_in_the_default_vpc() -> None:
    state = definition(plan(ecs_pipeline(network=False)))["States"]["crunch"]
    awsvpc = state["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert awsvpc == {
        "Subnets": ["subnet-default-a", "subnet-default-b"],  # looked up: default VPC
        "AssignPublicIp": "ENABLED",
    }


def test_fargate_with_only_a_vpc_runs_in_that_vpcs_subnets() -> None:
    state = definition(plan(ecs_pipeline(network="vpc only")))["States"]["crunch"]
    awsvpc = state["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert awsvpc == {"Subnets": ["subnet-1-a", "subnet-1-b"], "AssignPublicIp": "ENABLED"}


def test_fargate_in_subnets_without_groups_gets_the_vpcs_default_group() -> None:
    state = definition(plan(ecs_pipeline(network="subnets only")))["States"]["crunch"]
    awsvpc = state["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert awsvpc == {"Subnets": ["subnet-1"]}  # no SecurityGroups: ECS applies the default


def test_ecs_without_an_image_runs_the_image_deploy_builds_and_the_plan_says_so(
    tmp_path: Path,
) -> None:
    # Was refused ("no image"); the plan now chooses the image built from the generated
    # Dockerfile, pushed to the environment's repository by glacier deploy.
    planned = plan(ecs_pipeline(image=None))
    (repository,) = planned.of_type("aws:ecr/repository:Repository")
    url = repository.outputs["repositoryUrl"]
    (definition_,) = planned.of_type("aws:ecs/taskDefinition:TaskDefinition")
    image = json.loads(definition_.inputs["containerDefinitions"])[0]["image"]
    assert image.startswith(f"{url}:ecs-py311-x86_64-")
    (choice,) = planned.choices
    assert choice.text == (
        "crunch: ECS image built from the generated Dockerfile — no image= given; "
        "glacier deploy builds and pushes it"
    )
    pull = statement(planned.get(ROLE_POLICY, "batch-crunch-exec-policy").policy(), "EcrPull")
    assert pull["Resource"] == [repository.outputs["arn"]]
    # No repository policy for the Lambda service: no function runs an image here.
    assert not planned.of_type("aws:ecr/repositoryPolicy:RepositoryPolicy")
    written = generate(ecs_pipeline(image=None), tmp_path / "infra")
    (pushed,) = written["images"]
    assert image.endswith(f":{pushed['tag']}")
    assert pushed["dockerfile"] == str(tmp_path / "infra" / "Dockerfile")

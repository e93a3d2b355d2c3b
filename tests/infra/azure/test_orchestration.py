"""The Logic App running the DAG: each task started after its upstream tasks succeeded, its
execution awaited and checked, the schedule as a Recurrence, and a starter role on jobs only."""

from __future__ import annotations

import dataclasses

import pytest

from glacier.errors import InfraError
from glacier.infra import Plan, plan
from glacier.infra.azure.schedule import recurrence
from infra.azure.pipelines import SUB_A, lake_pipeline
from infra.azure.plans import ASSIGNMENT, WORKFLOW

JOBS = f"https://management.azure.com/subscriptions/{SUB_A}/resourceGroups/dev-etl/providers/Microsoft.App/jobs"


def _definition(p: Plan) -> dict:  # type: ignore[type-arg]
    (workflow,) = p.of_type(WORKFLOW)
    return workflow.inputs["definition"]  # type: ignore[no-any-return]


def test_each_task_starts_after_its_upstream_tasks_succeeded(lake_plan: Plan) -> None:
    actions = _definition(lake_plan)["actions"]
    starts = {k.removeprefix("start_"): v for k, v in actions.items() if k.startswith("start_")}
    assert set(starts) == {"extract", "sweep", "clean", "publish"}
    assert starts["extract"]["runAfter"] == {}
    assert starts["publish"]["runAfter"] == {
        "start_sweep": ["Succeeded"],
        "check_sweep": ["Succeeded"],
        "start_clean": ["Succeeded"],
        "check_clean": ["Succeeded"],
    }
    start = starts["sweep"]
    assert start["type"] == "Http"
    assert start["inputs"]["method"] == "POST"
    assert start["inputs"]["uri"] == f"{JOBS}/dev-etl-sweep/start?api-version=2024-03-01"
    assert start["inputs"]["authentication"] == {
        "type": "ManagedServiceIdentity",
        "audience": "https://management.azure.com/",
    }


def test_a_failed_execution_stops_the_run(lake_plan: Plan) -> None:
    actions = _definition(lake_plan)["actions"]
    wait = actions["wait_extract"]
    assert wait["type"] == "Until" and wait["runAfter"] == {"start_extract": ["Succeeded"]}
    assert "'Failed'" in wait["expression"] and "'Succeeded'" in wait["expression"]
    poll = wait["actions"]["poll_extract"]["inputs"]
    assert poll["method"] == "GET" and "body('start_extract')?['id']" in poll["uri"]
    check = actions["check_extract"]
    assert check["type"] == "If"
    assert check["expression"] == {
        "and": [{"equals": ["@body('poll_extract')?['properties']?['status']", "Succeeded"]}]
    }
    (fail,) = check["else"]["actions"].values()
    assert (fail["type"], fail["inputs"]["runStatus"]) == ("Terminate", "Failed")
    # the wait is bounded by the job's own timeout and a margin
    assert wait["limit"]["timeout"] == "PT2700S"


def test_the_schedule_is_the_trigger(lake_plan: Plan) -> None:
    assert _definition(lake_plan)["triggers"] == {
        "schedule": {"type": "Recurrence", "recurrence": {"frequency": "Day", "interval": 1}}
    }
    pipeline, env = lake_pipeline(schedule=None)
    unscheduled = plan(pipeline, environments=[env])
    assert list(_definition(unscheduled)["triggers"]) == ["manual"]


def test_the_workflow_may_only_start_the_pipelines_jobs(lake_plan: Plan) -> None:
    (workflow,) = lake_plan.of_type(WORKFLOW)
    assert workflow.inputs["identity"] == {"type": "SystemAssigned"}
    (role,) = lake_plan.of_type("azure-native:authorization:RoleDefinition")
    assert role.inputs["permissions"] == [
        {
            "actions": [
                "Microsoft.App/jobs/start/action",
                "Microsoft.App/jobs/read",
                "Microsoft.App/jobs/executions/read",
            ],
            "notActions": [],
        }
    ]
    assert role.inputs["assignableScopes"] == [f"/subscriptions/{SUB_A}/resourceGroups/dev-etl"]
    principal = workflow.outputs["identity"]["principalId"]
    granted = [r for r in lake_plan.of_type(ASSIGNMENT) if r.inputs["principalId"] == principal]
    assert sorted(r.inputs["scope"].rsplit("/", 1)[-1] for r in granted) == [
        "dev-etl-clean",
        "dev-etl-extract",
        "dev-etl-publish",
        "dev-etl-sweep",
    ]
    assert {r.inputs["roleDefinitionId"].rsplit("/", 1)[-1] for r in granted} == {
        role.inputs["roleDefinitionId"]
    }


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("rate(1 minute)", {"frequency": "Minute", "interval": 1}),
        ("rate(6 hours)", {"frequency": "Hour", "interval": 6}),
        (
            "cron(0,30 6 ? * SAT,SUN *)",
            {
                "frequency": "Week",
                "interval": 1,
                "timeZone": "UTC",
                "schedule": {"hours": [6], "minutes": [0, 30], "weekDays": ["Sunday", "Saturday"]},
            },
        ),
    ],
)
def test_schedules_map_to_recurrences(expression: str, expected: dict) -> None:  # type: ignore[type-arg]
    assert recurrence(expression) == expected


@pytest.mark.parametrize("expression", ["cron(0 6 1 * ? *)", "cron(0/5 * * * ? *)"])
def test_a_cron_a_recurrence_cannot_say_is_refused(expression: str) -> None:
    with pytest.raises(InfraError, match="cannot be a Logic Apps Recurrence"):
        recurrence(expression)


def test_a_task_of_another_cloud_cannot_be_started_by_the_logic_app() -> None:
    from glacier.infra.azure.orchestration import check_tasks
    from glacier.infra.model import build_model

    pipeline, env = lake_pipeline()
    model = build_model(pipeline, [env])
    aws = dataclasses.replace(model.envs["dev"], key="aws-dev", cloud="aws")
    tasks = (dataclasses.replace(model.tasks[0], env="aws-dev"), *model.tasks[1:])
    mixed = dataclasses.replace(model, envs={**model.envs, "aws-dev": aws}, tasks=tasks)

    class _Stack:
        def __init__(self) -> None:
            self.model, self.env = mixed, model.envs["dev"]

    with pytest.raises(InfraError, match="starts Container Apps jobs only"):
        check_tasks(_Stack())  # type: ignore[arg-type]


def test_jobs_of_another_subscription_are_started_by_the_one_workflow() -> None:
    from glacier import Dataset, Pipeline
    from infra.azure.pipelines import SUB_B, azure_env

    a = azure_env("a", SUB_A, "acmedata")
    b = azure_env("b", "99999999-8888-7777-6666-555555555555", "acmeshared")
    first = Dataset("first", storage=a.storage.blob("lake", "first/"))
    second = Dataset("second", storage=a.storage.blob("lake", "second/"))
    third = Dataset("third", storage=b.storage.blob("exports", "third/"))
    pipeline = Pipeline("two")

    @pipeline.task(compute=a.compute.container_app())
    def one() -> first: ...

    @pipeline.task(compute=a.compute.container_app())
    def two(x: first) -> second: ...

    @pipeline.task(compute=b.compute.container_app(), allow_cross_environment=True)
    def three(x: second) -> third: ...

    p = plan(pipeline, environments=[a, b])
    (workflow,) = p.of_type(WORKFLOW)
    assert workflow.environment == "a"
    start = workflow.inputs["definition"]["actions"]["start_three"]["inputs"]["uri"]
    assert f"/subscriptions/{SUB_B}/resourceGroups/b-two/providers/Microsoft.App/jobs/" in start
    principal = workflow.outputs["identity"]["principalId"]
    starts = [r for r in p.of_type(ASSIGNMENT) if r.inputs["principalId"] == principal]
    assert sorted(r.inputs["scope"].split("/")[2] for r in starts) == [SUB_A, SUB_A, SUB_B]
    (role,) = p.of_type("azure-native:authorization:RoleDefinition")
    assert role.inputs["assignableScopes"] == sorted(
        [
            f"/subscriptions/{SUB_A}/resourceGroups/a-two",
            f"/subscriptions/{SUB_B}/resourceGroups/b-two",
        ]
    )

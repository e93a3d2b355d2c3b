"""``glacier run --remote`` on GCP: the real google-cloud-workflows client
starts an execution of the deployed workflow and follows it, against a local stand-in of the
Workflows Executions API over gRPC (:mod:`infra.gcp.workflows_standin`)."""

from __future__ import annotations

from glacier.infra import remote
from infra.gcp.pipelines import daily
from infra.gcp.workflows_standin import EXECUTION_ID, WorkflowsStandIn

WORKFLOW = "projects/acme-data-prod/locations/europe-west1/workflows/prod-daily"


def test_the_workflow_is_found_by_its_deterministic_path() -> None:
    assert remote.state_machine_arn(daily())[0] == WORKFLOW


def test_an_execution_is_created_on_the_workflow_and_followed_until_it_succeeds() -> None:
    lines: list[str] = []
    stand_in = WorkflowsStandIn(
        states=("ACTIVE", "ACTIVE", "SUCCEEDED"),
        steps=(["level_0"], ["level_1"], ["succeeded"]),
    )
    with stand_in.serving():
        run = remote.start(daily(), endpoint_url=stand_in.url, poll=0, on_event=lines.append)
    execution = f"{WORKFLOW}/executions/{EXECUTION_ID}"
    assert run == remote.RemoteRun(WORKFLOW, execution, "SUCCEEDED")
    assert run.finished
    created, *gets = stand_in.calls
    assert created.method == "CreateExecution"
    assert created.request["parent"] == WORKFLOW
    assert created.request["execution"]["argument"] == "{}"
    assert [(g.method, g.request["name"]) for g in gets] == [("GetExecution", execution)] * 3
    # no Google token goes to an endpoint that is not Google's
    assert "authorization" not in created.metadata
    assert lines == [
        f"started {execution}",
        "at step main.level_0",
        "at step main.level_1",
        "at step main.succeeded",
        "execution succeeded",
    ]


def test_a_failed_execution_is_failed_with_its_error() -> None:
    lines: list[str] = []
    stand_in = WorkflowsStandIn(states=("ACTIVE", "FAILED"), error="task tidy: exit code 1")
    with stand_in.serving():
        run = remote.start(daily(), endpoint_url=stand_in.url, poll=0, on_event=lines.append)
    assert run.status == "FAILED" and run.finished
    assert lines[-1] == "execution failed: task tidy: exit code 1"


def test_a_cancelled_execution_is_aborted() -> None:
    with WorkflowsStandIn(states=("CANCELLED",)).serving() as stand_in:
        assert remote.start(daily(), endpoint_url=stand_in.url, poll=0).status == "ABORTED"


def test_following_stops_at_the_timeout_and_says_it_is_still_running() -> None:
    lines: list[str] = []
    stand_in = WorkflowsStandIn(states=("ACTIVE",))
    with stand_in.serving():
        run = remote.start(
            daily(), endpoint_url=stand_in.url, timeout=0, poll=0, on_event=lines.append
        )
    assert run.status == "RUNNING" and not run.finished
    assert [c.method for c in stand_in.calls] == ["CreateExecution", "GetExecution"]
    assert not any(line.startswith("execution") for line in lines)

"""``glacier run --remote`` on Azure: a run of the deployed Logic App started and followed by
the real azure-mgmt-logic client against a local stand-in of the Resource Manager API
(:mod:`infra.azure.logic_apps_standin`), or, without azure-mgmt-logic, the exact ``az``
command that starts it."""

from __future__ import annotations

import importlib.util

import pytest

from glacier.errors import InfraError
from glacier.infra import remote
from infra.azure.logic_apps_standin import NEW_RUN, LogicAppsStandIn
from infra.azure.pipelines import SUB_A, lake_pipeline

WORKFLOW = (
    f"/subscriptions/{SUB_A}/resourceGroups/dev-etl/providers/Microsoft.Logic/workflows/"
    "dev-etl-orchestrator"
)
EXTRACTED = {"start_extract": "Succeeded", "check_extract": "Succeeded"}


def test_the_workflow_is_found_by_its_deterministic_id() -> None:
    pipeline, _ = lake_pipeline()
    assert remote.state_machine_arn(pipeline)[0] == WORKFLOW


def test_without_azure_mgmt_logic_the_az_command_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "azure.mgmt.logic" else real(name, *a),
    )
    pipeline, _ = lake_pipeline()
    with pytest.raises(InfraError) as refused:
        remote.start(pipeline)
    assert (
        "az rest --method post --uri "
        f"'https://management.azure.com{WORKFLOW}/triggers/schedule/run?api-version=2016-06-01'"
    ) in str(refused.value)
    unscheduled, _ = lake_pipeline(schedule=None)
    with pytest.raises(InfraError, match="/triggers/manual/run"):
        remote.start(unscheduled)


def test_a_run_is_triggered_found_and_followed_until_it_succeeds() -> None:
    lines: list[str] = []
    stand_in = LogicAppsStandIn(
        WORKFLOW,
        statuses=("Running", "Running", "Succeeded"),
        actions=(
            {"start_extract": "Succeeded"},
            {**EXTRACTED, "start_sweep": "Running"},
            {**EXTRACTED, "start_sweep": "Succeeded"},
        ),
        appear_after=1,  # the run shows in the list one look after the trigger
    )
    pipeline, _ = lake_pipeline()
    with stand_in.serving():
        run = remote.start(pipeline, endpoint_url=stand_in.url, poll=0, on_event=lines.append)
    assert run == remote.RemoteRun(WORKFLOW, NEW_RUN, "SUCCEEDED")
    runs = f"{WORKFLOW}/runs"
    assert [(r.method, r.path) for r in stand_in.requests] == [
        ("GET", runs),  # the runs before
        ("POST", f"{WORKFLOW}/triggers/schedule/run"),  # the schedule's trigger, run now
        ("GET", runs),  # not there yet
        ("GET", runs),  # found
        ("GET", f"{runs}/{NEW_RUN}/actions"),
        ("GET", f"{runs}/{NEW_RUN}"),
        ("GET", f"{runs}/{NEW_RUN}/actions"),
        ("GET", f"{runs}/{NEW_RUN}"),
        ("GET", f"{runs}/{NEW_RUN}/actions"),
    ]
    assert stand_in.requests[0].query["$top"] == ["20"]
    assert all(r.query["api-version"] == ["2019-05-01"] for r in stand_in.requests)
    # the stand-in gets a worthless token, never the caller's Azure one
    assert {r.headers["authorization"] for r in stand_in.requests} == {"Bearer glacier-endpoint"}
    assert lines == [
        f"started run {NEW_RUN}",
        "started extract",
        "ended extract",
        "started sweep",
        "run succeeded",
    ]


def test_an_unscheduled_pipeline_is_started_through_its_manual_trigger() -> None:
    pipeline, _ = lake_pipeline(schedule=None)
    with LogicAppsStandIn(WORKFLOW).serving() as stand_in:
        assert remote.start(pipeline, endpoint_url=stand_in.url, poll=0).status == "SUCCEEDED"
    assert f"{WORKFLOW}/triggers/manual/run" in stand_in.paths("POST")


def test_a_failed_run_is_failed_with_its_error() -> None:
    lines: list[str] = []
    message = "Glacier task 'extract' ended Failed"
    stand_in = LogicAppsStandIn(
        WORKFLOW,
        statuses=("Running", "Failed"),
        actions=({"start_extract": "Succeeded", "check_extract": "Failed"},),
        error=message,
    )
    pipeline, _ = lake_pipeline()
    with stand_in.serving():
        run = remote.start(pipeline, endpoint_url=stand_in.url, poll=0, on_event=lines.append)
    assert run.status == "FAILED" and run.finished
    assert "failed extract" in lines
    assert lines[-1] == f"run failed: {message}"


def test_following_stops_at_the_timeout_while_the_run_goes_on() -> None:
    lines: list[str] = []
    pipeline, _ = lake_pipeline()
    with LogicAppsStandIn(WORKFLOW, statuses=("Running",)).serving() as stand_in:
        run = remote.start(
            pipeline, endpoint_url=stand_in.url, timeout=0, poll=0, on_event=lines.append
        )
    assert run.status == "RUNNING" and not run.finished
    assert lines == [f"started run {NEW_RUN}"]


def test_a_run_that_never_appears_is_refused_at_the_timeout() -> None:
    pipeline, _ = lake_pipeline()
    stand_in = LogicAppsStandIn(WORKFLOW, appear_after=10**6)
    with stand_in.serving(), pytest.raises(InfraError, match="started no run within 0 s"):
        remote.start(pipeline, endpoint_url=stand_in.url, timeout=0, poll=0)
    assert stand_in.paths("POST") == [f"{WORKFLOW}/triggers/schedule/run"]

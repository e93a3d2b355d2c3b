"""``glacier run --remote`` on GCP and Azure through the command: the deployed pipeline's
workflow or Logic App started and followed, against local stand-ins of the Workflows
Executions API and the Logic Apps runs API (``--endpoint``); a failed run exits 1."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.azure.logic_apps_standin import NEW_RUN, LogicAppsStandIn
from infra.gcp.workflows_standin import EXECUTION_ID, WorkflowsStandIn

from .commands import invoke
from .projects import write

LAKE = """
import polars as pl

from glacier import Dataset, Environment, Pipeline

env = Environment.from_env()
pipeline = Pipeline("lake", env=env)
raw = Dataset("raw", storage=env.get("raw"))
clean = Dataset("clean", storage=env.get("clean"))


@pipeline.task()
def extract() -> raw:
    return pl.DataFrame({"x": [1, 2, 3]})


@pipeline.task()
def tidy(data: raw) -> clean:
    return data.filter(pl.col("x") > 1)
"""

BUCKETS = """
[buckets.raw]
bucket_name = "acmeraw"
path = "orders/"

[buckets.clean]
bucket_name = "acmeclean"
path = "orders.parquet"
"""

SUBSCRIPTION = "00000000-0000-4000-8000-000000000001"
WORKFLOW = "projects/acme-data-prod/locations/europe-west1/workflows/gcp-lake"
LOGIC_APP = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/azure-lake/providers/Microsoft.Logic/"
    "workflows/azure-lake-orchestrator"
)


@pytest.fixture
def lake(project: Path) -> Iterator[Path]:
    write(
        project,
        {
            "lake.py": LAKE,
            "containers/gcp.toml": 'name = "gcp"\n[provider]\nkind = "gcp"\n'
            'project_id = "acme-data-prod"\nregion = "europe-west1"\n' + BUCKETS,
            "containers/azure.toml": 'name = "azure"\n[provider]\nkind = "azure"\n'
            f'subscription_id = "{SUBSCRIPTION}"\nstorage_account = "acmedata"\n'
            'location = "westeurope"\n' + BUCKETS,
        },
    )
    yield project
    # The commands imported lake.py in this process: no later plan may find its pipeline.
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", "") or "").startswith(str(project)):
            del sys.modules[name]


def test_gcp_run_remote_starts_and_follows_the_workflow(lake: Path) -> None:
    with WorkflowsStandIn(states=("SUCCEEDED",), steps=(["succeeded"],)).serving() as stand_in:
        code, out, err = invoke(
            "run", "lake.py", "--env", "gcp", "--remote", "--endpoint", stand_in.url
        )
    assert code == 0, out + err
    text = " ".join(out.split())
    assert f"glacier run --remote {WORKFLOW}" in text
    assert f"started {WORKFLOW}/executions/{EXECUTION_ID}" in text
    assert "execution succeeded" in text
    assert f"execution {WORKFLOW}/executions/{EXECUTION_ID}: SUCCEEDED" in text
    assert stand_in.calls[0].request["parent"] == WORKFLOW


def test_gcp_run_remote_of_a_failed_execution_exits_1(lake: Path) -> None:
    with WorkflowsStandIn(states=("FAILED",), error="tidy: exit 1").serving() as stand_in:
        code, out, _ = invoke(
            "run", "lake.py", "--env", "gcp", "--remote", "--endpoint", stand_in.url
        )
    assert code == 1
    assert "execution failed: tidy: exit 1" in out and ": FAILED" in out


def test_gcp_run_remote_followed_for_no_time_says_it_goes_on(lake: Path) -> None:
    with WorkflowsStandIn(states=("ACTIVE",)).serving() as stand_in:
        code, out, _ = invoke(
            "run", "lake.py", "--env", "gcp", "--remote", "--endpoint", stand_in.url,
            "--follow", "0",
        )  # fmt: skip
    assert code == 0
    assert "RUNNING (still running after 0 s; it goes on)" in " ".join(out.split())


def test_azure_run_remote_triggers_and_follows_the_logic_app(lake: Path) -> None:
    stand_in = LogicAppsStandIn(
        LOGIC_APP,
        statuses=("Succeeded",),
        actions=({"start_extract": "Succeeded", "check_extract": "Succeeded"},),
    )
    with stand_in.serving():
        code, out, err = invoke(
            "run", "lake.py", "--env", "azure", "--remote", "--endpoint", stand_in.url
        )
    assert code == 0, out + err
    text = " ".join(out.split())
    assert f"glacier run --remote {LOGIC_APP}" in text
    for line in (f"started run {NEW_RUN}", "started extract", "ended extract", "run succeeded"):
        assert line in text
    assert f"execution {NEW_RUN}: SUCCEEDED" in text
    assert f"{LOGIC_APP}/triggers/manual/run" in stand_in.paths("POST")


def test_azure_run_remote_of_a_failed_run_exits_1(lake: Path) -> None:
    stand_in = LogicAppsStandIn(LOGIC_APP, statuses=("Failed",), error="task 'tidy' failed")
    with stand_in.serving():
        code, out, _ = invoke(
            "run", "lake.py", "--env", "azure", "--remote", "--endpoint", stand_in.url
        )
    assert code == 1
    assert "run failed: task 'tidy' failed" in out

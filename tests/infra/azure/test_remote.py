"""``glacier run --remote`` on Azure: a run of the deployed Logic App, or, without
azure-mgmt-logic, the exact ``az`` command that starts it."""

from __future__ import annotations

import importlib.util

import pytest

from glacier.errors import InfraError
from glacier.infra import remote
from infra.azure.pipelines import SUB_A, lake_pipeline

WORKFLOW = (
    f"/subscriptions/{SUB_A}/resourceGroups/dev-etl/providers/Microsoft.Logic/workflows/"
    "dev-etl-orchestrator"
)


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

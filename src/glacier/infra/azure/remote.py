"""Starting a deployed Azure pipeline: a run of its Logic App, followed until it ends.

The workflow's id is computed from the pipeline and its orchestrating environment (the same
deterministic names the plan gave it), so starting needs no stack outputs. The run is started
through ``azure-mgmt-logic`` with the caller's Azure credentials (``DefaultAzureCredential``:
``az login``, a managed identity, ...); without that package installed, the exact ``az``
command that starts it is named instead of guessing another way in.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from typing import Any

from glacier.errors import InfraError
from glacier.infra.azure.naming import resource_group_id, resource_group_name, workflow_name

#: The Logic Apps API version of the commands named.
LOGIC_API_VERSION = "2016-06-01"
#: Logic Apps run statuses, as the statuses of a remote run (Step Functions' words).
STATUSES = {
    "Succeeded": "SUCCEEDED",
    "Failed": "FAILED",
    "TimedOut": "TIMED_OUT",
    "Cancelled": "ABORTED",
    "Aborted": "ABORTED",
    "Skipped": "ABORTED",
}


def workflow_of(model: Any) -> tuple[str, str, str, str]:
    """``(workflow id, subscription, resource group, workflow name)`` of ``model``'s Logic App."""
    env = model.envs[model.orchestrator]
    group = resource_group_name(model, env)
    name = workflow_name(model, env)
    group_id = resource_group_id(str(env.account_id), group)
    wid = f"{group_id}/providers/Microsoft.Logic/workflows/{name}"
    return wid, str(env.account_id), group, name


def trigger_name(model: Any) -> str:
    """The trigger a run is started through: the schedule's, else the manual one."""
    return "schedule" if model.schedule else "manual"


def az_command(model: Any) -> str:
    """The ``az`` command that starts a run of ``model``'s Logic App."""
    wid = workflow_of(model)[0]
    return (
        "az rest --method post --uri "
        f"'https://management.azure.com{wid}/triggers/{trigger_name(model)}/run"
        f"?api-version={LOGIC_API_VERSION}'"
    )


def start(
    model: Any,
    *,
    timeout: float = 3600,
    poll: float = 10.0,
    on_event: Callable[[str], Any] | None = None,
) -> tuple[str, str, str]:
    """Start a run of ``model``'s Logic App and follow it until it ends or ``timeout`` seconds
    pass: ``(workflow id, run name, status)``, the status in :data:`STATUSES`' words."""
    wid, subscription, group, name = workflow_of(model)
    if importlib.util.find_spec("azure.mgmt.logic") is None:
        raise InfraError(
            "Starting an Azure pipeline's Logic App needs the azure-mgmt-logic package "
            "(pip install azure-mgmt-logic azure-identity), which is not installed. Start it "
            f"with the Azure CLI instead: {az_command(model)}"
        )
    from azure.identity import DefaultAzureCredential
    from azure.mgmt.logic import LogicManagementClient

    client = LogicManagementClient(DefaultAzureCredential(), subscription)
    before = {r.name for r in client.workflow_runs.list(group, name, top=20)}
    client.workflow_triggers.run(group, name, trigger_name(model))
    deadline = time.monotonic() + timeout
    run: Any = None
    while run is None and time.monotonic() < deadline:
        run = next(
            (r for r in client.workflow_runs.list(group, name, top=20) if r.name not in before),
            None,
        )
        if run is None:
            time.sleep(poll)
    if run is None:
        raise InfraError(f"Logic App {name!r} started no run within {timeout:g} s.")
    if on_event is not None:
        on_event(f"started run {run.name}")
    status = str(run.status)
    while status not in STATUSES and time.monotonic() < deadline:
        time.sleep(poll)
        status = str(client.workflow_runs.get(group, name, run.name).status)
    return wid, str(run.name), STATUSES.get(status, status.upper())

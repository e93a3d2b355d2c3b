"""Starting a deployed Azure pipeline: a run of its Logic App, followed until it ends.

The workflow's id is computed from the pipeline and its orchestrating environment (the same
deterministic names the plan gave it), so starting needs no stack outputs. The run is started
through ``azure-mgmt-logic`` with the caller's Azure credentials (``DefaultAzureCredential``:
``az login``, a managed identity, ...): the trigger's ``run``, then the workflow's runs
listed until a new one appears (the management API's ``run`` returns no run id), then that
run and its actions read until it ends. Without that package (the ``azure-deploy`` extra),
the exact ``az`` command that starts it is named instead of guessing another way in.
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
    endpoint_url: str | None = None,
    timeout: float = 3600,
    poll: float = 10.0,
    on_event: Callable[[str], Any] | None = None,
) -> tuple[str, str, str]:
    """Start a run of ``model``'s Logic App and follow it until it ends or ``timeout`` seconds
    pass, looking every ``poll`` seconds: ``(workflow id, run name, status)``, the status in
    :data:`STATUSES`' words (``RUNNING`` while it goes on).

    ``on_event`` gets a line when the run is found, one per task whose ``start_<task>`` action
    succeeded (``started``) and whose ``check_<task>`` action ended (``ended`` or ``failed``:
    the actions :mod:`glacier.infra.azure.orchestration` writes), and the run's end with its
    error's message when it failed. ``endpoint_url`` is another server of the Resource
    Manager API (a stand-in): it gets :class:`EndpointToken`, never the caller's Azure token.
    """
    wid, subscription, group, name = workflow_of(model)
    if importlib.util.find_spec("azure.mgmt.logic") is None:
        raise InfraError(
            "Starting an Azure pipeline's Logic App needs the azure-mgmt-logic package "
            "(pip install 'glacier-pipelines[azure-deploy]'), which is not installed. Start it "
            f"with the Azure CLI instead: {az_command(model)}"
        )
    from azure.mgmt.logic import LogicManagementClient

    say = on_event or (lambda line: None)
    # Bearer tokens go over https only, unless the caller says so for its own endpoint.
    plain = {"enforce_https": False} if endpoint_url else {}
    # Any: the SDK types its pagers as the pages' models.
    client: Any = LogicManagementClient(
        _credential(endpoint_url), subscription, base_url=endpoint_url or ARM_ENDPOINT
    )
    with client:
        runs = client.workflow_runs
        before = {r.name for r in runs.list(group, name, top=RECENT_RUNS, **plain)}
        client.workflow_triggers.run(group, name, trigger_name(model), **plain)
        deadline = time.monotonic() + timeout
        run: Any = None
        while True:
            new = (r for r in runs.list(group, name, top=RECENT_RUNS, **plain))
            run = next((r for r in new if r.name not in before), None)
            if run is not None or time.monotonic() >= deadline:
                break
            time.sleep(poll)
        if run is None:
            raise InfraError(
                f"Logic App {name!r} started no run within {timeout:g} s: see its run history "
                f"(az rest --method get --uri 'https://management.azure.com{wid}/runs"
                f"?api-version={LOGIC_API_VERSION}')."
            )
        say(f"started run {run.name}")
        said: set[str] = set()
        while True:
            status = str(run.status)
            for action in client.workflow_run_actions.list(group, name, run.name, **plain):
                line = _action_line(str(action.name), str(action.status))
                if line and line not in said:
                    said.add(line)
                    say(line)
            if status in STATUSES or time.monotonic() >= deadline:
                break
            time.sleep(poll)
            run = runs.get(group, name, run.name, **plain)
    if status in STATUSES:
        error = run.error.get("message", "") if isinstance(run.error, dict) else ""
        say(f"run {status.lower()}" + (f": {error}" if error else ""))
    return wid, str(run.name), STATUSES.get(status, "RUNNING")


#: The Resource Manager endpoint of Azure's public cloud.
ARM_ENDPOINT = "https://management.azure.com"
#: How many of the latest runs are looked at to find the one just started.
RECENT_RUNS = 20


def _action_line(action: str, status: str) -> str:
    """The line an action's status is worth: a task started, ended or failed; else ``""``."""
    step, _, task = action.partition("_")
    if step == "start" and status == "Succeeded":
        return f"started {task}"
    if step == "check" and status == "Succeeded":
        return f"ended {task}"
    if step == "check" and status in ("Failed", "TimedOut"):
        return f"failed {task}"
    return ""


class EndpointToken:
    """The token credential sent to an endpoint that is not Azure's (a stand-in): a fixed,
    worthless token, so the caller's own Azure token never leaves for it."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """A token that expires in an hour, whatever the scopes."""
        from azure.core.credentials import AccessToken

        return AccessToken("glacier-endpoint", int(time.time()) + 3600)


def _credential(endpoint_url: str | None) -> Any:
    """Azure's credential chain for Azure, :class:`EndpointToken` for another endpoint."""
    if endpoint_url is not None:
        return EndpointToken()
    from glacier.extras import require

    identity = require("azure.identity", "azure-deploy", "Starting an Azure pipeline")
    return identity.DefaultAzureCredential()

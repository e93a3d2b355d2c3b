"""The orchestration of the DAG: a Logic Apps workflow (Consumption), its schedule, and its
right to start exactly the pipeline's jobs.

Logic Apps rather than Durable Functions: a workflow is a resource whose definition is data
(nothing to build, package or deploy beside it), it calls the Container Apps API with its own
managed identity, and its run history shows each task's step. Per task the definition has
three actions:

- ``start_<task>``: an HTTP POST to the job's ``start`` API (the workflow's system-assigned
  identity, audience Azure Resource Manager), after ``start_`` and ``check_`` of every
  upstream task succeeded (``runAfter``);
- ``wait_<task>``: an ``Until`` loop polling the started execution's status until it is no
  longer running (bounded by the job's own timeout and a margin);
- ``check_<task>``: a condition that terminates the run as Failed unless the execution
  Succeeded, so a failure stops its dependants (and the run).

Retries and the timeout of each attempt are the task's own process's (see
:mod:`glacier.infra.azure.container_apps`). The workflow may do nothing but this: a custom role
with ``Microsoft.App/jobs/start/action`` and the reads of a job and its executions, assigned on
each job (never on the resource group or the subscription).
"""

from __future__ import annotations

import uuid
from typing import Any

from glacier.errors import InfraError
from glacier.infra.azure.container_apps import replica_timeout
from glacier.infra.azure.data_access import role_assignment
from glacier.infra.azure.naming import (
    assignment_name,
    job_id,
    job_name,
    resource_group_id,
    resource_group_name,
    workflow_name,
)
from glacier.infra.azure.schedule import recurrence
from glacier.infra.azure.stack import Stack, add, logical_name, native
from glacier.infra.model import TaskSpec

#: The Container Apps API version the workflow calls.
APPS_API_VERSION = "2024-03-01"
#: Azure Resource Manager: where the job APIs are, and the token audience.
ARM = "https://management.azure.com"
#: What the workflow's custom role allows: start a job, read it and its executions.
STARTER_ACTIONS = (
    "Microsoft.App/jobs/start/action",
    "Microsoft.App/jobs/read",
    "Microsoft.App/jobs/executions/read",
)
#: Seconds the wait for an execution is given beyond the job's own timeout (start-up, pulls).
WAIT_MARGIN = 900
#: Seconds between two polls of an execution's status.
POLL_INTERVAL = 30
#: An execution's statuses that end it.
FINAL_STATUSES = ("Succeeded", "Failed", "Stopped", "Degraded")

_ROLES = uuid.UUID("4c0b2b1e-7f0e-4f0f-9b3a-1d2c3e4f5a6b")


def start_uri(stack: Stack, task: TaskSpec) -> str:
    """The ``start`` API of ``task``'s job."""
    home = stack.model.envs[task.env]
    job = job_id(
        str(home.account_id),
        resource_group_name(stack.model, home),
        job_name(stack.model, home, task.name),
    )
    return f"{ARM}{job}/start?api-version={APPS_API_VERSION}"


def _status(task: TaskSpec) -> str:
    return f"body('poll_{task.name}')?['properties']?['status']"


def task_actions(stack: Stack, task: TaskSpec) -> dict[str, Any]:
    """The three actions of ``task`` (see the module docs)."""
    after: dict[str, list[str]] = {}
    for up in task.upstream:
        after[f"start_{up}"] = ["Succeeded"]
        after[f"check_{up}"] = ["Succeeded"]
    auth = {"type": "ManagedServiceIdentity", "audience": f"{ARM}/"}
    poll_uri = f"{ARM}@{{body('start_{task.name}')?['id']}}?api-version={APPS_API_VERSION}"
    final = ", ".join(f"'{s}'" for s in FINAL_STATUSES)
    return {
        f"start_{task.name}": {
            "type": "Http",
            "inputs": {"method": "POST", "uri": start_uri(stack, task), "authentication": auth},
            "runAfter": after,
        },
        f"wait_{task.name}": {
            "type": "Until",
            "expression": f"@contains(createArray({final}), {_status(task)})",
            "limit": {"count": 5000, "timeout": f"PT{replica_timeout(task) + WAIT_MARGIN}S"},
            "actions": {
                f"pause_{task.name}": {
                    "type": "Wait",
                    "inputs": {"interval": {"count": POLL_INTERVAL, "unit": "Second"}},
                    "runAfter": {},
                },
                f"poll_{task.name}": {
                    "type": "Http",
                    "inputs": {"method": "GET", "uri": poll_uri, "authentication": auth},
                    "runAfter": {f"pause_{task.name}": ["Succeeded"]},
                },
            },
            "runAfter": {f"start_{task.name}": ["Succeeded"]},
        },
        f"check_{task.name}": {
            "type": "If",
            "expression": {"and": [{"equals": [f"@{_status(task)}", "Succeeded"]}]},
            "actions": {},
            "else": {
                "actions": {
                    f"fail_{task.name}": {
                        "type": "Terminate",
                        "inputs": {
                            "runStatus": "Failed",
                            "runError": {
                                "code": "TaskFailed",
                                "message": f"Glacier task {task.name!r} ended @{{{_status(task)}}}",
                            },
                        },
                        "runAfter": {},
                    }
                }
            },
            "runAfter": {f"wait_{task.name}": ["Succeeded", "Failed", "TimedOut"]},
        },
    }


def definition(stack: Stack) -> dict[str, Any]:
    """The workflow definition: a trigger (the schedule, else a manual HTTP request) and the
    actions of every task in the DAG's order."""
    model = stack.model
    if model.schedule:
        triggers = {
            "schedule": {"type": "Recurrence", "recurrence": recurrence(str(model.schedule))}
        }
    else:
        triggers = {"manual": {"type": "Request", "kind": "Http", "inputs": {"schema": {}}}}
    actions: dict[str, Any] = {}
    for level in model.levels:
        for name in level:
            actions.update(task_actions(stack, model.task(name)))
    return {
        "$schema": (
            "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/"
            "2016-06-01/workflowdefinition.json#"
        ),
        "contentVersion": "1.0.0.0",
        "parameters": {},
        "triggers": triggers,
        "actions": actions,
        "outputs": {},
    }


def check_tasks(stack: Stack) -> None:
    """Refuse a DAG the workflow cannot start: a task of another cloud."""
    for task in stack.model.tasks:
        if stack.model.envs[task.env].cloud != "azure":
            raise InfraError(
                f"Task {task.name!r} ({task.location}) runs in {stack.model.envs[task.env].cloud} "
                f"environment {task.env!r}, but the pipeline is orchestrated by a Logic App in "
                f"Azure environment {stack.env.key!r}, which starts Container Apps jobs only. "
                "Run every task of the pipeline on Azure, or orchestrate it from the other cloud."
            )


def workflow(stack: Stack) -> Any:
    """Declare the workflow, its custom starter role and the role's assignment on each job."""
    check_tasks(stack)
    logic, authorization, model = native("logic"), native("authorization"), stack.model
    made = add(
        stack,
        logic.Workflow,
        logical_name(stack, "orchestrator"),
        depends_on=[stack.out.resource_group, *stack.out.jobs.values()],
        workflow_name=workflow_name(model, stack.env),
        resource_group_name=stack.group,
        location=stack.location,
        identity={"type": "SystemAssigned"},
        state="Enabled",
        definition=definition(stack),
        tags=stack.tags,
    )
    stack.out.workflow = made
    homes = {t.env: model.envs[t.env] for t in model.tasks}
    scopes = sorted(
        {
            resource_group_id(str(e.account_id), resource_group_name(model, e))
            for e in homes.values()
        }
    )
    guid = str(uuid.uuid5(_ROLES, f"{stack.subscription}|{stack.group}|{model.pipeline}"))
    role = add(
        stack,
        authorization.RoleDefinition,
        logical_name(stack, "job-starter-role"),
        role_definition_id=guid,
        role_name=f"Glacier job starter ({stack.group}/{model.pipeline})",
        description=f"Starts the Container Apps jobs of Glacier pipeline {model.pipeline!r}",
        role_type="CustomRole",
        scope=resource_group_id(stack.subscription, stack.group),
        assignable_scopes=scopes,
        permissions=[{"actions": list(STARTER_ACTIONS), "not_actions": []}],
    )
    principal = made.identity.apply(lambda i: i["principal_id"] if i else None)
    for task in model.tasks:
        home = model.envs[task.env]
        scope = job_id(
            str(home.account_id),
            resource_group_name(model, home),
            job_name(model, home, task.name),
        )
        depends = [role, *[j for j in (stack.out.jobs.get(task.name),) if j is not None]]
        role_assignment(
            stack,
            "orchestrator",
            logical_name(stack, "orchestrator", "starts", task.name),
            principal_id=principal,
            role=guid,
            scope=scope,
            name=assignment_name(scope, "orchestrator", guid),
            depends_on=depends,
            description=f"The orchestrator of {model.pipeline!r} starts task {task.name!r}",
        )
    return made

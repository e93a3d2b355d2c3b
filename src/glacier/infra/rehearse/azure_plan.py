"""An Azure environment's plan, read for a rehearsal (the one module that knows its shapes).

Read: blob containers (``azure-native:storage:BlobContainer``: accountName, containerName),
user-assigned identities (``azure-native:managedidentity:UserAssignedIdentity``: their
``principalId`` and ``id`` outputs), role assignments
(``azure-native:authorization:RoleAssignment``: principalId, roleDefinitionId, a container's
scope, the ABAC condition, parsed), Container Apps jobs (``azure-native:app:Job``: the
identity, the container's ``command``/``args`` and ``env``, ``replicaRetryLimit``,
``replicaTimeout``) and the Logic Apps workflow (``azure-native:logic:Workflow``:
``definition.actions``, each job started by an HTTP action whose URI names
``.../jobs/<name>/start``, ordered by ``runAfter``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from glacier import env_vars
from glacier.errors import InfraError
from glacier.infra.rehearse.cloud_plan import CloudPlan, Job, of_type, one, seconds, variables
from glacier.infra.rehearse.conditions import parse_abac
from glacier.infra.rehearse.evaluator import Grant, azure_role

CONTAINER = "azure-native:storage:BlobContainer"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
JOB = "azure-native:app:Job"
WORKFLOW = "azure-native:logic:Workflow"

_SCOPE = re.compile(
    r"/storageAccounts/(?P<account>[^/]+)/blobServices/default/containers/(?P<container>[^/]+)$"
)
_START = re.compile(r"/jobs/(?P<job>[^/?]+)/start\b")


def read(resources: Iterable[Any], data: Iterable[Any] = ()) -> CloudPlan:
    """The :class:`CloudPlan` of an Azure environment's planned resources; ``data``: the
    resources of other subscriptions' environments holding data its tasks reach (their
    containers and the role assignments there are added; their jobs are not this one's)."""
    planned = list(resources)
    accounts, grants = storage(planned)
    their_accounts, their_grants = storage(list(data))
    principals: dict[str, str] = {}  # identity id (and name) -> principal id
    for r in of_type(planned, IDENTITY):
        principal = str(r.outputs.get("principalId") or "")
        for key in (r.outputs.get("id"), r.inputs.get("resourceName"), r.name):
            if key:
                principals[str(key)] = principal
    jobs = {job.name: job for job in (_job(r, principals) for r in of_type(planned, JOB))}
    workflow = one(planned, WORKFLOW, "Logic Apps workflow")
    definition = workflow.inputs.get("definition") or {}
    every = {**their_accounts, **accounts}
    return CloudPlan(
        cloud="azure",
        buckets=tuple(every),
        grants=(*grants, *their_grants),
        jobs=jobs,
        levels=levels(definition.get("actions") or {}),
        orchestration=str(workflow.inputs.get("workflowName") or workflow.name),
        accounts=every,
    )


def storage(planned: list[Any]) -> tuple[dict[str, str], tuple[Grant, ...]]:
    """The containers (name -> storage account) and the role assignments on them."""
    accounts: dict[str, str] = {}
    for r in of_type(planned, CONTAINER):
        accounts[str(r.inputs.get("containerName") or r.name)] = str(r.inputs["accountName"])
    grants = []
    for r in of_type(planned, ASSIGNMENT):
        scope = str(r.inputs.get("scope") or "")
        found = _SCOPE.search(scope)
        role_id = str(r.inputs["roleDefinitionId"])
        if found is None:
            if role_id.rstrip("/").rsplit("/", 1)[-1].lower() in _ROLE_NAMES:
                raise InfraError(
                    f"Role assignment {r.name!r} gives a storage data role at {scope!r}, not "
                    "on a container; Glacier assigns data roles on containers only, with a "
                    "condition (a rehearsal evaluates no other scope)."
                )
            continue  # not a storage role (a Key Vault secret's, a registry's)
        guid, actions = azure_role(role_id)
        condition = r.inputs.get("condition")
        grants.append(
            Grant(
                cloud="azure",
                identity=str(r.inputs["principalId"]),
                bucket=found["container"],
                actions=actions,
                role=_ROLE_NAMES.get(guid, guid),
                condition=parse_abac(str(condition)) if condition else None,
                account=found["account"],
            )
        )
    return accounts, tuple(grants)


_ROLE_NAMES = {
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
}


def _job(r: Any, principals: Mapping[str, str]) -> Job:
    template = r.inputs.get("template") or {}
    containers = template.get("containers") or []
    if not containers:
        raise InfraError(f"Container Apps job {r.name!r} has no container in its template.")
    container = containers[0]
    identities = (r.inputs.get("identity") or {}).get("userAssignedIdentities") or ()
    ids = list(identities.keys() if isinstance(identities, Mapping) else identities)
    if len(ids) != 1 or str(ids[0]) not in principals:
        raise InfraError(
            f"Container Apps job {r.name!r} runs as {ids or 'no identity'}; a rehearsal needs "
            "exactly one user-assigned identity of the plan."
        )
    configuration = r.inputs.get("configuration") or {}
    found, secrets = variables(container.get("env"))
    return Job(
        task=found.get(env_vars.GLACIER_TASK_NAME) or str(r.name),
        name=str(r.inputs.get("jobName") or r.name),
        identity=principals[str(ids[0])],
        command=tuple(
            str(c) for c in (*(container.get("command") or ()), *(container.get("args") or ()))
        ),
        variables=found,
        attempts=1 + int(configuration.get("replicaRetryLimit") or 0),
        timeout=seconds(configuration.get("replicaTimeout")),
        secrets=secrets,
    )


def levels(actions: Mapping[str, Any]) -> tuple[tuple[str, ...], ...]:
    """The jobs a Logic Apps definition starts, level by level: an action runs after every
    action its ``runAfter`` names; the job starts of one level run together."""
    depth: dict[str, int] = {}

    def level_of(name: str, seen: tuple[str, ...] = ()) -> int:
        if name in seen:
            raise InfraError(f"The Logic Apps actions' runAfter form a cycle through {name!r}.")
        if name not in depth:
            if name not in actions:
                raise InfraError(f"A Logic Apps action runs after {name!r}, which is no action.")
            after = (actions[name] or {}).get("runAfter") or {}
            depth[name] = 1 + max((level_of(a, (*seen, name)) for a in after), default=-1)
        return depth[name]

    starts: dict[int, list[str]] = {}
    for name, action in actions.items():
        level = level_of(name)  # every action: a cycle anywhere is an error
        job = _started_job(action)
        if job is not None:
            starts.setdefault(level, []).append(job)
    return tuple(tuple(starts[k]) for k in sorted(starts))


def _started_job(action: Any) -> str | None:
    inputs = (action or {}).get("inputs") or {}
    found = _START.search(str(inputs.get("uri") or "")) if isinstance(inputs, Mapping) else None
    return found["job"] if found else None

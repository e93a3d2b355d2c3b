"""Role assignments on containers: a task's access to exactly the datasets it uses.

Per task and container, at most two assignments, both scoped to the container (never to the
account, the resource group or the subscription) and both confined by a condition on the
blob path (:mod:`glacier.infra.azure.conditions`):

- **Storage Blob Data Reader** for the locations the task only reads and lists;
- **Storage Blob Data Contributor** for the locations it writes (read, list and write there;
  delete only where a write sweeps old versions, denied everywhere else by the condition).

The stack that owns the container declares the assignment: a task reading a container of
another subscription gets its assignment in that subscription's stack, with the same
condition, and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from glacier.infra.azure.conditions import (
    CONDITION_VERSION,
    contributor_condition,
    reader_condition,
)
from glacier.infra.azure.identities import principal_of
from glacier.infra.azure.naming import assignment_name, identity_name, role_definition_id
from glacier.infra.azure.stack import Stack, add, logical_name, native
from glacier.infra.azure.storage import scope_of
from glacier.infra.model import Grant, TaskSpec

READER = "Storage Blob Data Reader"
CONTRIBUTOR = "Storage Blob Data Contributor"


def grants_here(stack: Stack, task: TaskSpec) -> dict[str, list[Grant]]:
    """``task``'s grants on containers this stack owns, by store key."""
    out: dict[str, list[Grant]] = {}
    for g in task.grants:
        if stack.model.stores[g.location.store].env == stack.env.key:
            out.setdefault(g.location.store, []).append(g)
    return out


def data_assignments(stack: Stack, task: TaskSpec) -> list[Any]:
    """Declare ``task``'s role assignments on this stack's containers (see the module docs)."""
    made = []
    for store_key, grants in grants_here(stack, task).items():
        store = stack.model.stores[store_key]
        reads = [g for g in grants if "write" not in g.access]
        writes = [g for g in grants if "write" in g.access]
        artifacts = store.kind == "artifacts"
        label = "artifacts" if artifacts else str(store.bucket_name or store_key.split(":")[-1])
        if reads:
            condition = reader_condition(reads, artifacts=artifacts)
            made.append(_assign(stack, task, store_key, label, READER, condition))
        if writes:
            condition = contributor_condition(writes, artifacts=artifacts)
            made.append(_assign(stack, task, store_key, label, CONTRIBUTOR, condition))
    return made


def _assign(
    stack: Stack, task: TaskSpec, store_key: str, label: str, role: str, condition: str
) -> Any:
    store = stack.model.stores[store_key]
    scope = scope_of(stack, store)
    home = stack.model.envs[task.env]
    who = identity_name(stack.model, home, task.name)
    name = assignment_name(scope if isinstance(scope, str) else store_key, who, role)
    kind = "reader" if role == READER else "contributor"
    depends = [c for c in (stack.out.containers.get(store_key),) if c is not None]
    return role_assignment(
        stack,
        task.name,
        logical_name(stack, task.name, kind, label),
        principal_id=principal_of(stack, task),
        role=role,
        scope=scope,
        name=name,
        condition=condition,
        depends_on=depends,
        description=f"Glacier task {task.name!r} ({task.env}): {kind} of its datasets in {label}",
    )


def role_assignment(
    stack: Stack,
    purpose: str,
    logical: str,
    *,
    principal_id: Any,
    role: str,
    scope: Any,
    name: str,
    condition: str | None = None,
    depends_on: Sequence[Any] = (),
    description: str = "",
) -> Any:
    """Declare one role assignment to a service principal (a managed identity), recorded in
    ``stack.out.role_assignments`` under ``purpose`` (a task's name, or what it serves)."""
    authorization = native("authorization")
    args: dict[str, Any] = {
        "principal_id": principal_id,
        "principal_type": "ServicePrincipal",
        "role_definition_id": role_definition_id(stack.subscription, role),
        "scope": scope,
        "role_assignment_name": name,
        "description": description or None,
    }
    if condition is not None:
        args["condition"] = condition
        args["condition_version"] = CONDITION_VERSION
    made = add(stack, authorization.RoleAssignment, logical, depends_on=depends_on, **args)
    stack.out.role_assignments.append((purpose, made))
    return made

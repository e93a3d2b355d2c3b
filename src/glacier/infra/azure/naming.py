"""Physical names and resource ids of an environment's Azure resources.

Names are pure functions of the model and the environment, and Azure resource ids are paths
built from the subscription, the resource group and the names, so one environment's stack can
name a container or a job of another subscription (cross-subscription grants) without
reading the other stack's outputs.

Example:
    >>> from types import SimpleNamespace
    >>> model = SimpleNamespace(pipeline="etl")
    >>> env = SimpleNamespace(naming_prefix="dev", config=SimpleNamespace(resource_group=None))
    >>> resource_group_name(model, env)
    'dev-etl'
    >>> job_name(model, env, "extract")
    'dev-etl-extract'
    >>> container_id("00000000-0000-0000-0000-000000000001", "rg", "acct", "raw")
    '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct/blobServices/default/containers/raw'
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

from glacier.infra.model import physical_name

#: Characters a resource group name allows (besides a final '.', which it refuses).
RESOURCE_GROUP_CHARS = r"A-Za-z0-9_.()-"
#: Built-in roles Glacier assigns, by name: their ids are the same in every tenant.
BUILT_IN_ROLES = {
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
}
#: Roles Glacier never assigns (a test checks every plan): they manage resources, not data.
FORBIDDEN_ROLES = {
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    "Storage Account Contributor": "17d1049b-9a84-46fb-8f53-869881c3d3ab",
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
}
#: Namespace of the deterministic role-assignment names (GUIDs, as Azure requires).
_ASSIGNMENTS = uuid.UUID("6f1d6c1e-9a51-4c1b-8d0e-5a7e3c2f9b10")


def resource_group_name(model: Any, env: Any) -> str:
    """The environment's resource group: the one its settings name, else ``<prefix>-<pipeline>``."""
    named = getattr(env.config, "resource_group", None)
    if named:
        return str(named)
    return physical_name(env.naming_prefix, model.pipeline, limit=90, allowed=RESOURCE_GROUP_CHARS)


def _lower_name(*parts: str, limit: int) -> str:
    """Lower-case letters, digits and single hyphens, starting with a letter (Container Apps,
    Key Vault and Logic Apps names all accept this)."""
    name = physical_name(*parts, limit=limit, allowed="a-z0-9-", lower=True)
    name = re.sub("-{2,}", "-", name).strip("-")
    if not name[:1].isalpha():
        name = physical_name("g", name, limit=limit, allowed="a-z0-9-", lower=True)
    return name


def identity_name(model: Any, env: Any, task: str) -> str:
    """The user-assigned managed identity a task runs as."""
    return physical_name(env.naming_prefix, model.pipeline, task, limit=128, allowed="A-Za-z0-9_-")


def job_name(model: Any, env: Any, task: str) -> str:
    """A task's Container Apps job (2-32 lower-case letters, digits and hyphens)."""
    return _lower_name(env.naming_prefix, model.pipeline, task, limit=32)


def apps_environment_name(model: Any, env: Any) -> str:
    """The Container Apps environment the jobs run in."""
    return _lower_name(env.naming_prefix, model.pipeline, limit=32)


def workflow_name(model: Any, env: Any) -> str:
    """The Logic Apps workflow that runs the DAG."""
    return _lower_name(env.naming_prefix, model.pipeline, "orchestrator", limit=80)


def vault_name(model: Any, env: Any) -> str:
    """The Key Vault of the environment's secrets (3-24 characters, globally unique: a
    digest of the subscription keeps two subscriptions' vaults apart)."""
    digest = hashlib.sha1(str(env.account_id).encode()).hexdigest()[:4]
    base = _lower_name(env.naming_prefix, model.pipeline, limit=19)
    return f"{base}-{digest}"


def registry_name(model: Any, env: Any) -> str:
    """The container registry (5-50 letters and digits, globally unique: the subscription's
    digest is part of it)."""
    digest = hashlib.sha1(str(env.account_id).encode()).hexdigest()[:6]
    base = re.sub("[^a-z0-9]", "", f"{env.naming_prefix}{model.pipeline}".lower())[:44]
    return f"{base}{digest}"


def role_definition_id(subscription: str, role: str) -> str:
    """The id of built-in role ``role`` (a name of :data:`BUILT_IN_ROLES` or a GUID) in
    ``subscription``."""
    guid = BUILT_IN_ROLES.get(role, role)
    return f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def resource_group_id(subscription: str, group: str) -> str:
    """``/subscriptions/<sub>/resourceGroups/<group>``."""
    return f"/subscriptions/{subscription}/resourceGroups/{group}"


def storage_account_id(subscription: str, group: str, account: str) -> str:
    """A storage account's id."""
    return (
        f"{resource_group_id(subscription, group)}/providers/Microsoft.Storage/"
        f"storageAccounts/{account}"
    )


def container_id(subscription: str, group: str, account: str, container: str) -> str:
    """A blob container's id: the scope of the role assignments on its data."""
    account_id = storage_account_id(subscription, group, account)
    return f"{account_id}/blobServices/default/containers/{container}"


def job_id(subscription: str, group: str, job: str) -> str:
    """A Container Apps job's id: the scope of the orchestrator's right to start it."""
    return f"{resource_group_id(subscription, group)}/providers/Microsoft.App/jobs/{job}"


def assignment_name(scope: str, principal: str, role: str) -> str:
    """A deterministic GUID for a role assignment of ``role`` to ``principal`` on ``scope``."""
    return str(uuid.uuid5(_ASSIGNMENTS, f"{scope}|{principal}|{role}"))

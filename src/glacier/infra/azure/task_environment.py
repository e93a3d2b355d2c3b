"""What a deployed task's container is started with: the same variables as on AWS
(:data:`glacier.env_vars.TASK_VARIABLES`: pipeline, task, environment, its baked settings,
where in-memory datasets travel), plus ``AZURE_CLIENT_ID``, which tells Azure's credential
chain (``DefaultAzureCredential``, used by adlfs and delta-rs) which of the job's managed
identities to sign with; and, for a task using PostgreSQL flexible servers of the plan,
``GLACIER_DATABASE_ENDPOINTS`` (:func:`glacier.infra.azure.postgres.connection_facts`).
Profiles, keys, connection strings and passwords never travel.
"""

from __future__ import annotations

import json
from typing import Any

from glacier import env_vars
from glacier.infra.azure import postgres
from glacier.infra.azure.stack import Stack
from glacier.infra.model import TaskSpec
from glacier.infra.task_settings import settings_variables
from glacier.settings.database_connection import DEPLOYED_DATABASES_VARIABLE

#: The variable Azure's credential chain reads for a user-assigned identity's client id.
CLIENT_ID_VARIABLE = "AZURE_CLIENT_ID"


def task_variables(stack: Stack, task: TaskSpec, client_id: Any) -> dict[str, Any]:
    """The task's own variables, then Glacier's (which win)."""
    variables: dict[str, Any] = {
        **dict(getattr(task.config, "environment_vars", None) or {}),
        env_vars.GLACIER_PIPELINE: stack.model.pipeline,
        env_vars.GLACIER_TASK_NAME: task.name,
        env_vars.GLACIER_ENVIRONMENT: stack.env.key,
        env_vars.GLACIER_DEPLOYED: "1",
        CLIENT_ID_VARIABLE: client_id,
        **settings_variables(stack.env, task),
    }
    variables.update(database_variables(stack, task))
    artifacts = artifact_uris(stack, task)
    if artifacts:
        variables[env_vars.GLACIER_ARTIFACTS] = json.dumps(artifacts, sort_keys=True)
    return variables


def database_variables(stack: Stack, task: TaskSpec) -> dict[str, Any]:
    """``GLACIER_DATABASE_ENDPOINTS``: where the flexible servers ``task`` uses are and who
    it signs in as, by identifier (an output), when it uses any."""
    facts = {
        db.identifier: postgres.connection_facts(stack, db, task)
        for db in (stack.model.databases[key] for key in task.databases)
    }
    if not facts:
        return {}
    return {DEPLOYED_DATABASES_VARIABLE: stack.pulumi.Output.json_dumps(facts)}


def artifact_uris(stack: Stack, task: TaskSpec) -> dict[str, str]:
    """Where the task's in-memory inputs and outputs travel: ``{dataset: abfs://...}``."""
    out = {}
    for g in task.grants:
        store = stack.model.stores[g.location.store]
        if store.kind == "artifacts" and g.location.is_artifact:
            out[g.location.dataset] = f"abfs://{store.bucket_name}/{g.location.prefix}"
    return out

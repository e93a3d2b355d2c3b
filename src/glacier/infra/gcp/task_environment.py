"""What a deployed Cloud Run task is told at run time: the same variables an AWS task gets.

Its pipeline, name and environment, the environment's settings (baked, so no file travels)
and where in-memory datasets travel between tasks (``gs://`` URIs in the artifacts bucket).
The task authenticates as its service account through the metadata server; no variable names
a credential or a profile. ``GOOGLE_CLOUD_PROJECT`` and ``GOOGLE_CLOUD_REGION`` name its
project and region (Cloud Run sets neither); ``GLACIER_RUN_ID`` is given per execution by the
workflow (:mod:`~glacier.infra.gcp.definition`), so the tasks of one run share it.
``GLACIER_DATABASE_ENDPOINTS`` says where the Cloud SQL databases the task uses are
(:func:`~glacier.infra.gcp.cloud_sql.connection_facts`): never a password.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from glacier import env_vars
from glacier.errors import InfraError
from glacier.infra.gcp.cloud_sql import connection_facts
from glacier.infra.gcp.stack import GcpStack
from glacier.infra.model import TaskSpec
from glacier.infra.task_settings import settings_variables

__all__ = ["task_variables"]

#: Variables pointing Google's SDKs at files of the deploying machine.
CREDENTIAL_FILE_VARIABLES = ("GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG")


def task_variables(stack: GcpStack, task: TaskSpec) -> dict[str, Any]:
    """The task's own variables, then Glacier's (which win)."""
    own = dict(getattr(task.config, "environment_vars", None) or {})
    home = str(Path.home())
    for name, value in own.items():
        if name in CREDENTIAL_FILE_VARIABLES:
            raise InfraError(
                f"Task {task.name!r} ({task.location}) sets {name} in its environment_vars, "
                "but a deployed task authenticates as its own service account. Remove it; "
                "credentials belong to the deploying side."
            )
        if Path(value).is_absolute() and (value == home or value.startswith(home + "/")):
            raise InfraError(
                f"Task {task.name!r} ({task.location}) sets {name}={value!r}, a path on this "
                "machine, which the deployed task cannot reach. Put the file in a bucket."
            )
    variables = {
        **own,
        env_vars.GLACIER_PIPELINE: stack.model.pipeline,
        env_vars.GLACIER_TASK_NAME: task.name,
        env_vars.GLACIER_ENVIRONMENT: stack.env.key,
        env_vars.GLACIER_DEPLOYED: "1",
        # Cloud Run sets neither; GcpConfig.from_env() reads them (the artifacts' buckets).
        "GOOGLE_CLOUD_PROJECT": stack.project,
        "GOOGLE_CLOUD_REGION": stack.region,
        **settings_variables(stack.env, task),
    }
    artifacts = {
        g.location.dataset: f"gs://{store.bucket_name}/{g.location.prefix}"
        for g in task.grants
        if (store := stack.model.stores[g.location.store]).kind == "artifacts"
        and g.location.is_artifact
    }
    if artifacts:
        variables[env_vars.GLACIER_ARTIFACTS] = json.dumps(artifacts, sort_keys=True)
    databases = connection_facts(stack, task)
    if databases:
        variables[env_vars.GLACIER_DATABASE_ENDPOINTS] = stack.pulumi.Output.json_dumps(databases)
    return variables


def environment_list(variables: dict[str, Any]) -> list[tuple[str, Any]]:
    """The variables in name order (a stable plan)."""
    return sorted(variables.items())

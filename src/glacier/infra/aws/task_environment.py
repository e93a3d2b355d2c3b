"""What a deployed task is told at run time: its pipeline, its name, its environment, and
where its in-memory inputs and outputs travel between tasks.

Lambda and ECS pass these as environment variables, Glue as job arguments; the runtime
(:mod:`glacier.infra.runtime`) reads them. Profiles and credentials never travel: a deployed
task uses its role.
"""

from __future__ import annotations

import json

from glacier.infra.aws.stack import Stack
from glacier.infra.model import TaskSpec


def task_variables(stack: Stack, task: TaskSpec) -> dict[str, str]:
    """The task's own variables, then Glacier's (which win)."""
    variables = {
        **task.config.environment_vars,
        "GLACIER_PIPELINE": stack.model.pipeline,
        "GLACIER_TASK_NAME": task.name,
        "GLACIER_ENVIRONMENT": stack.env.key,
    }
    artifacts = artifact_uris(stack, task)
    if artifacts:
        variables["GLACIER_ARTIFACTS"] = json.dumps(artifacts, sort_keys=True)
    return variables


def artifact_uris(stack: Stack, task: TaskSpec) -> dict[str, str]:
    """Where the task's in-memory inputs and outputs travel: ``{dataset: s3://...}``."""
    out = {}
    for g in task.grants:
        store = stack.model.stores[g.location.store]
        if store.kind == "artifacts" and g.location.is_artifact:
            out[g.location.dataset] = f"s3://{store.bucket_name}/{g.location.prefix}"
    return out

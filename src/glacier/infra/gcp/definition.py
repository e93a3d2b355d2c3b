"""The Workflows definition of a pipeline's DAG, as data: what Cloud Workflows runs.

The model's levels in order; each level a ``parallel`` step with one branch per task, which
calls the Cloud Run connector ``googleapis.run.v2.projects.locations.jobs.run`` on the task's
job, with the workflow's execution id as the job's ``GLACIER_RUN_ID`` (an override: the
tasks of one run share it), and waits for the execution to finish. A task with retries wraps
the call in ``try`` with a ``retry`` policy: its attempts and its backoff (first delay,
multiplier, longest delay; Workflows has no jitter, so the task's jitter is not applied). The
connector's own timeout is one attempt's limit plus :data:`START_ALLOWANCE` for the
execution to start. A failed task fails its branch, which fails the level, which ends the
workflow: the tasks downstream never start.

The source is written as JSON, which is YAML (Workflows reads either).

Example:
    >>> from glacier.infra.model import EnvSpec, InfraModel, TaskSpec
    >>> env = EnvSpec("prod", "gcp", True, account_id="acme", region="europe-west1")
    >>> t = TaskSpec("clean", "prod", "cloud_run", None, (), (), 0)
    >>> model = InfraModel("daily", None, {"prod": env}, {}, (t,), (("clean",),), "prod", ())
    >>> steps = definition(model)["main"]["steps"]
    >>> steps[0]["level_0"]["parallel"]["branches"][0]["clean"]["steps"][0]["run_clean"]["call"]
    'googleapis.run.v2.projects.locations.jobs.run'
"""

from __future__ import annotations

import json
import re
from typing import Any

from glacier import env_vars
from glacier.infra.gcp.naming import job_path
from glacier.infra.model import InfraModel, TaskSpec

__all__ = [
    "CONNECTOR",
    "RUN_ID",
    "START_ALLOWANCE",
    "definition",
    "source_contents",
    "step_name",
]

#: The connector that runs a Cloud Run job and waits for its execution.
CONNECTOR = "googleapis.run.v2.projects.locations.jobs.run"
#: Seconds allowed beyond one attempt's timeout for the execution to start (image pull).
START_ALLOWANCE = 600
#: The subworkflow every task's retry asks: any failure of the execution is retried.
RETRY_PREDICATE = "retry_any"
#: The run id every task of one execution shares (in-memory datasets travel under it): the
#: workflow's execution id, given to each job as an override of ``GLACIER_RUN_ID``.
RUN_ID = {
    "name": env_vars.GLACIER_RUN_ID,
    "value": '${sys.get_env("GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID")}',
}
#: The longest wait between attempts when the task sets no ``max_delay``.
DEFAULT_MAX_DELAY = 3600


def step_name(name: str) -> str:
    """A Workflows step or branch name for a task (letters, digits, ``_``)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def definition(model: InfraModel) -> dict[str, Any]:
    """The workflow of ``model``'s DAG (see the module docs)."""
    steps: list[dict[str, Any]] = []
    for i, level in enumerate(model.levels):
        branches = [{step_name(t): {"steps": [_run(model, model.task(t))]}} for t in level]
        steps.append({f"level_{i}": {"parallel": {"branches": branches}}})
    steps.append({"succeeded": {"return": "succeeded"}})
    out: dict[str, Any] = {"main": {"steps": steps}}
    if any(t.retries for t in model.tasks):
        out[RETRY_PREDICATE] = {"params": ["e"], "steps": [{"any": {"return": True}}]}
    return out


def source_contents(model: InfraModel) -> str:
    """:func:`definition` as the workflow's source."""
    return json.dumps(definition(model), indent=2)


def _run(model: InfraModel, task: TaskSpec) -> dict[str, Any]:
    from glacier.infra.gcp.cloud_run import timeout_seconds

    call = {
        "call": CONNECTOR,
        "args": {
            "name": job_path(model.pipeline, model.envs[task.env], task.name),
            "body": {"overrides": {"containerOverrides": [{"env": [RUN_ID]}]}},
            "connector_params": {"timeout": timeout_seconds(task) + START_ALLOWANCE},
        },
    }
    if not task.retries:
        return {f"run_{step_name(task.name)}": call}
    backoff = {
        "initial_delay": max(1, round(task.retry_delay)),
        "max_delay": round(task.max_delay) if task.max_delay else DEFAULT_MAX_DELAY,
        "multiplier": task.backoff,
    }
    retry = {
        "predicate": f"${{{RETRY_PREDICATE}}}",
        "max_retries": task.retries,
        "backoff": backoff,
    }
    return {f"run_{step_name(task.name)}": {"try": call, "retry": retry}}

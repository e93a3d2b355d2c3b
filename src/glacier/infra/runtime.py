"""Running one task of a deployed pipeline (inside its Lambda function or ECS container).

The orchestrator starts each task in its own process, so a task reads its stored inputs from
their buckets and its in-memory inputs from the artifacts bucket, where their producer left
them for this run; it writes its outputs the same way. Where the in-memory datasets travel
is in ``GLACIER_ARTIFACTS`` (``{"dataset": "s3://bucket/prefix/"}``), set by the generated
infrastructure.

Entry points: ``lambda_handler`` (called by the generated ``glacier_handler.py``),
``python -m glacier.infra.runtime <target> <task>`` (ECS) and ``glue_main`` (called by the
generated Glue job script).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from glacier import env_vars
from glacier.errors import InfraError
from glacier.result import new_run_id
from glacier.uris import parse_uri

_log = logging.getLogger(__name__)

#: The variables the generated infrastructure sets for a task (see glacier.env_vars).
TASK_VARIABLES = env_vars.TASK_VARIABLES


def lambda_handler(
    target: str, event: Mapping[str, Any] | None, context: Any = None
) -> dict[str, Any]:
    """Run the task named by the event (or ``GLACIER_TASK_NAME``) for the event's run id."""
    event = event or {}
    task = str(event.get("task") or os.environ.get(env_vars.GLACIER_TASK_NAME, ""))
    run_id = str(event.get("run_id") or os.environ.get(env_vars.GLACIER_RUN_ID) or new_run_id())
    _log_json_lines()
    return run_task(target, task, run_id=run_id, artifacts=_artifacts_from_env())


def _log_json_lines() -> None:
    """Deployed tasks log JSON lines (run id, task, attempt, environment on each) to stderr,
    where CloudWatch and the other collectors pick them up; ``GLACIER_LOG_LEVEL`` sets the
    level (INFO by default)."""
    from glacier.task_logs import configure_logging

    configure_logging(os.environ.get(env_vars.GLACIER_LOG_LEVEL, "INFO"), "json")


class DeployedContext:
    """The run context of one task of a deployed pipeline.

    The task's environment answers for its configuration, resources, stored datasets and
    cache; in-memory datasets live in the artifacts bucket, one copy per run, where their
    producer (another process) left them. The orchestrator keeps the run's history, so
    recording is left to it.
    """

    def __init__(self, env: Any, artifacts: Mapping[str, str], run_id: str, task_name: str) -> None:
        self.env = env
        self.artifacts = dict(artifacts)
        self.run_id = run_id
        self.task_name = task_name

    @property
    def name(self) -> str:
        """The environment's name."""
        return str(self.env.name)

    def task_config(self, task: Any) -> Any:
        """The task's settings in its environment."""
        return self.env.task_config(task)

    def resolve_resources(self, task: Any, given: Sequence[str] = ()) -> dict[str, Any]:
        """The task's resources, from its environment."""
        return self.env.resolve_resources(task, given)  # type: ignore[no-any-return]

    def buckets_for(self, datasets: Iterable[Any]) -> dict[Any, Any]:
        """Stored datasets' buckets, and the artifact buckets of in-memory ones that travel."""
        return {
            ds: self.require(ds) for ds in datasets if ds.is_stored or ds.name in self.artifacts
        }

    def require(self, ds: Any) -> Any:
        """The bucket ``ds`` is read from; an in-memory dataset must travel as an artifact."""
        if ds.is_stored:
            return self.env.bucket_for(ds)
        uri = self.artifacts.get(ds.name)
        if uri is None:
            raise InfraError(
                f"Task {self.task_name!r} needs in-memory dataset {ds.name!r}, but "
                "GLACIER_ARTIFACTS does not say where it travels between tasks. Regenerate "
                "and redeploy the infrastructure."
            )
        return artifact_bucket(uri, self.run_id)

    @property
    def cache(self) -> Any:
        """The environment's task cache (deployed runs do not use it)."""
        return self.env.cache

    def record_run(self, result: Any, versions: dict[str, str]) -> None:
        """Nothing: the orchestrator records deployed runs."""


def run_task(
    target: str,
    task_name: str,
    *,
    run_id: str,
    artifacts: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run one task of the pipeline ``target`` names; returns what it read and wrote.

    The task runs through the executors' per-task path (retries, timeout, stored outputs),
    alone: its upstream tasks ran in other processes.

    Args:
        target: ``file.py:name`` of the pipeline, as for :func:`glacier.targets.load_target`.
        task_name: The task to run.
        run_id: The run (the orchestrator's execution name); in-memory datasets of one run
            are kept apart from those of another.
        artifacts: ``{dataset: uri_prefix}`` for the in-memory datasets the task reads or
            writes (``s3://bucket/prefix/`` or a local directory).
    """
    from glacier.executors.base import PreparedRun
    from glacier.flow import as_pipeline
    from glacier.targets import load_target

    pipeline = as_pipeline(load_target(target))
    dag = pipeline.dag
    index = dag.index.get(task_name)
    if index is None:
        raise InfraError(
            f"Pipeline {pipeline.name!r} has no task {task_name!r}; tasks: "
            f"{', '.join(dag.index)}. Was the infrastructure generated from another version?"
        )
    task = dag.tasks[index]
    from glacier.environment import Environment

    # The task's environment, else the pipeline's; a pipeline declared without one runs in
    # the local default, as pipeline.run() would.
    env = task.env or pipeline.env or Environment.local()
    context = DeployedContext(env, artifacts or {}, run_id, task_name)
    for ds in task.input_datasets:
        context.require(ds)  # fail before running, naming what is missing
    run = PreparedRun(pipeline, context, None, None, use_cache=False, hooks=(), only=[index])
    if run.logs is not None:
        run.logs.run_id = run_id  # the orchestrator's run, which every task of it shares
    ok = run.execute_task(0)
    fields = {
        "run_id": run_id,
        "task": task.name,
        "attempt": run.table.attempts[0],
        "environment": getattr(context, "name", None),
    }
    if not ok:
        _log.error("task %s failed: %s", task.name, run.table.error[0], extra=fields)
        raise run.table.error[0]  # type: ignore[misc]  # the task's own exception
    seconds = run.table.duration_ns[0] / 1e9
    _log.info("task %s succeeded in %.3fs", task.name, seconds, extra=fields)
    return {
        "pipeline": pipeline.name,
        "task": task.name,
        "run_id": run_id,
        "read": [ds.name for ds in task.input_datasets],
        "written": [ds.name for ds in task.outputs if ds in run.storage],
    }


def artifact_bucket(uri: str, run_id: str) -> Any:
    """The Bucket holding one run's copy of an in-memory dataset under ``uri``."""
    from glacier.provider import Provider
    from glacier.settings import AwsConfig, LocalConfig

    parsed = parse_uri(uri)
    key = f"{run_id}.parquet"
    if parsed.cloud == "aws":
        return Provider(config=AwsConfig.from_env()).bucket(
            parsed.bucket, path=f"{parsed.key}{key}"
        )
    if not parsed.is_local:
        raise InfraError(
            f"In-memory datasets of deployed tasks travel through S3 or a local directory, "
            f"not {uri!r}. Regenerate and redeploy the infrastructure."
        )
    path = PurePosixPath(parsed.key)
    provider = Provider(config=LocalConfig(base_path=Path(str(path.parent.parent))))
    return provider.bucket(path.parent.name, path=f"{path.name}/{key}")


def _artifacts_from_env() -> dict[str, str]:
    raw = os.environ.get(env_vars.GLACIER_ARTIFACTS, "")
    if not raw:
        return {}
    value = json.loads(raw)
    return {str(k): str(v) for k, v in value.items()}


def main(argv: list[str] | None = None) -> int:
    """``python -m glacier.infra.runtime <target> <task>``: run one task (ECS containers)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m glacier.infra.runtime <file.py:pipeline> <task>", file=sys.stderr)
        return 2
    run_id = os.environ.get(env_vars.GLACIER_RUN_ID) or new_run_id()
    _log_json_lines()
    result = run_task(args[0], args[1], run_id=run_id, artifacts=_artifacts_from_env())
    print(json.dumps(result))
    return 0


def glue_main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the task an AWS Glue job's arguments name (``--GLACIER_TARGET``,
    ``--GLACIER_TASK_NAME``, ``--GLACIER_RUN_ID``, ``--GLACIER_ARTIFACTS``, ...).

    Glue passes a job's arguments as ``--NAME value`` pairs (among its own); each
    ``--GLACIER_*`` one is also set as an environment variable, as Lambda and ECS set them.
    """
    args = sys.argv[1:] if argv is None else argv
    values: dict[str, str] = {}
    for i, arg in enumerate(args[:-1]):
        if arg.startswith("--GLACIER_"):
            values[arg[2:]] = args[i + 1]
    os.environ.update(values)
    target, task = values.get(env_vars.GLACIER_TARGET), values.get(env_vars.GLACIER_TASK_NAME)
    if not target or not task:
        raise InfraError(
            "This Glue job was started without --GLACIER_TARGET and --GLACIER_TASK_NAME; it was "
            "not generated by Glacier, or its default arguments were changed. Regenerate and "
            "redeploy the infrastructure."
        )
    run_id = values.get(env_vars.GLACIER_RUN_ID) or new_run_id()
    _log_json_lines()
    result = run_task(target, task, run_id=run_id, artifacts=_artifacts_from_env())
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    raise SystemExit(main())

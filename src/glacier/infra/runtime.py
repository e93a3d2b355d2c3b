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
import os
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from glacier.errors import InfraError
from glacier.uris import parse_uri

#: Environment variables the generated infrastructure sets for a task, besides the cloud's.
#: None is the name of a GlacierSettings field (GLACIER_<field> configures settings).
TASK_VARIABLES = (
    "GLACIER_PIPELINE",
    "GLACIER_TASK_NAME",
    "GLACIER_ENVIRONMENT",
    "GLACIER_ARTIFACTS",
    "GLACIER_RUN_ID",
    "GLACIER_TARGET",
)


def lambda_handler(
    target: str, event: Mapping[str, Any] | None, context: Any = None
) -> dict[str, Any]:
    """Run the task named by the event (or ``GLACIER_TASK_NAME``) for the event's run id."""
    event = event or {}
    task = str(event.get("task") or os.environ.get("GLACIER_TASK_NAME", ""))
    run_id = str(event.get("run_id") or os.environ.get("GLACIER_RUN_ID") or _new_run_id())
    return run_task(target, task, run_id=run_id, artifacts=_artifacts_from_env())


def run_task(
    target: str,
    task_name: str,
    *,
    run_id: str,
    artifacts: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run one task of the pipeline ``target`` names; returns what it read and wrote.

    Args:
        target: ``file.py:name`` of the pipeline, as for :func:`glacier.targets.load_target`.
        task_name: The task to run.
        run_id: The run (the orchestrator's execution name); in-memory datasets of one run
            are kept apart from those of another.
        artifacts: ``{dataset: uri_prefix}`` for the in-memory datasets the task reads or
            writes (``s3://bucket/prefix/`` or a local directory).
    """
    from glacier.executors.base import invoke, normalize_outputs
    from glacier.infra.model import as_pipeline
    from glacier.result import TaskRun
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
    env = task.env or pipeline.environment()
    artifacts = dict(artifacts or {})
    kwargs: dict[str, Any] = dict(task.params)
    if task.resources:
        kwargs.update(env.resolve_resources(task))
    read: list[str] = []
    for pname, ds in task.inputs:
        kwargs[pname] = _bucket(ds, env, artifacts, run_id, task_name).scan()
        read.append(ds.name)
    cfg = env.task_config(task)
    value = invoke(task, (), kwargs, cfg, TaskRun(task.name))
    outputs = normalize_outputs(task, value)
    written: list[str] = []
    for ds, out in zip(task.outputs, outputs, strict=False):
        if ds.is_stored or ds.name in artifacts:
            _bucket(ds, env, artifacts, run_id, task_name).write(out, **ds.write)
            written.append(ds.name)
    return {
        "pipeline": pipeline.name,
        "task": task.name,
        "run_id": run_id,
        "read": read,
        "written": written,
    }


def _bucket(ds: Any, env: Any, artifacts: Mapping[str, str], run_id: str, task: str) -> Any:
    if ds.is_stored:
        return env.bucket_for(ds)
    uri = artifacts.get(ds.name)
    if uri is None:
        raise InfraError(
            f"Task {task!r} needs in-memory dataset {ds.name!r}, but GLACIER_ARTIFACTS does not "
            "say where it travels between tasks. Regenerate and redeploy the infrastructure."
        )
    return artifact_bucket(uri, run_id)


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
    raw = os.environ.get("GLACIER_ARTIFACTS", "")
    if not raw:
        return {}
    value = json.loads(raw)
    return {str(k): str(v) for k, v in value.items()}


def _new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def main(argv: list[str] | None = None) -> int:
    """``python -m glacier.infra.runtime <target> <task>``: run one task (ECS containers)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m glacier.infra.runtime <file.py:pipeline> <task>", file=sys.stderr)
        return 2
    run_id = os.environ.get("GLACIER_RUN_ID") or _new_run_id()
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
    target, task = values.get("GLACIER_TARGET"), values.get("GLACIER_TASK_NAME")
    if not target or not task:
        raise InfraError(
            "This Glue job was started without --GLACIER_TARGET and --GLACIER_TASK_NAME; it was "
            "not generated by Glacier, or its default arguments were changed. Regenerate and "
            "redeploy the infrastructure."
        )
    run_id = values.get("GLACIER_RUN_ID") or _new_run_id()
    result = run_task(target, task, run_id=run_id, artifacts=_artifacts_from_env())
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    raise SystemExit(main())

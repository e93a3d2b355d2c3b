"""The run dispatcher: one place that runs a pipeline in a mode.

``pipeline.run(mode=...)`` and ``flow.run(mode=...)`` both land here:

- ``local``: execute — a :class:`~glacier.Pipeline` on its environment's executor, an
  ``@env.pipeline()`` function eagerly (its body runs, each task call through the shared
  per-task path);
- ``analyze``: describe the DAG without running anything (data-flow bodies are traced);
- ``generate``: write the Pulumi project of the pipeline's infrastructure.

It sits above environments, executors and infrastructure, which is why the graph objects
reach it through :func:`glacier.pipeline.dispatcher` rather than importing it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from glacier.environment import Environment
from glacier.errors import ConfigError, PipelineRunError, UnknownRunError
from glacier.executors.base import Executor
from glacier.flow import FlowPipeline, PipelineLike, as_pipeline, run_eagerly
from glacier.infra.project import generate
from glacier.lineage import with_lineage
from glacier.pipeline import MODES, Pipeline
from glacier.selection import select_tasks

__all__ = ["default_environment", "run", "run_flow", "run_pipeline"]


def default_environment() -> Environment:
    """The environment a pipeline without one runs in: local files under ``.glacier/``."""
    return Environment.local()


def run(pipeline: PipelineLike, mode: str = "local", **options: Any) -> Any:
    """Run either kind of pipeline in ``mode`` (``options`` as for its ``run`` method)."""
    if isinstance(pipeline, FlowPipeline):
        return run_flow(pipeline, mode, **options)
    return run_pipeline(pipeline, mode, **options)


def run_pipeline(
    pipeline: Pipeline,
    mode: str = "local",
    *,
    targets: Sequence[Any] | None = None,
    params: Mapping[str, Any] | None = None,
    env: Any = None,
    executor: Executor | str | None = None,
    use_cache: bool = True,
    raise_on_failure: bool = True,
    hooks: Sequence[object] = (),
    output_dir: str | Path | None = None,
    environments: Sequence[Any] | None = None,
    resume: str | None = None,
    select: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    target: str = "pulumi",
) -> Any:
    """What :meth:`glacier.Pipeline.run` does."""
    _check_mode(mode)
    _check_target(mode, target)
    if select or exclude:
        if targets:
            raise ConfigError(
                "Pass either targets= (a task and what it needs) or select=/exclude=, not "
                "both; targets=['x'] is select=['+x']."
            )
        targets = [select_tasks(pipeline.dag, select, exclude)]
    if mode == "analyze":
        return pipeline.describe()
    if mode == "generate":
        return generate(
            pipeline,
            output_dir=output_dir or Path("infra") / pipeline.name,
            environments=list(environments) if environments else [env or pipeline.environment()],
            target=target,
        )
    _check_env(env)
    env = env or pipeline.environment()
    if executor is None:
        chosen: Executor = env.executor()
    elif isinstance(executor, str):
        chosen = env.executor(executor)
    elif callable(getattr(executor, "execute", None)):
        chosen = executor
    else:
        raise ConfigError(
            f"executor={executor!r} is not an executor: give a name ('local', 'dask') or an "
            "executor object such as glacier.LocalExecutor(max_workers=4)."
        )
    record = None
    if resume is not None:
        store = env.container.run_store()
        record = store.last(pipeline.name) if resume == "last" else store.load(resume)
        if record is None:
            raise UnknownRunError(
                f"No recorded run of pipeline {pipeline.name!r} to resume in "
                f"{store.directory}. Run it once without resume=."
            )
    store_of = getattr(getattr(env, "container", None), "run_store", None)
    if store_of is not None:
        store_of().check()  # a store that cannot keep the record fails now, not after the run
    hooks = with_lineage(hooks, pipeline, env)  # the settings' [lineage], when on
    result = chosen.execute(
        pipeline, targets, params, env=env, use_cache=use_cache, hooks=hooks, resume=record
    )
    if raise_on_failure and not result.ok:
        raise PipelineRunError(result.failure_report(), result)
    return result


def _check_env(env: Any) -> None:
    """``env=`` is a run context (an Environment); a name is a common mistake."""
    if env is None or callable(getattr(env, "executor", None)):
        return
    hint = (
        f"; to run in the environment named {env!r}, set GLACIER_ENV={env} (or `glacier run "
        f"--env {env}`) for a pipeline that follows the selected environment, or pass "
        f"env=Environment.from_env({env!r})"
        if isinstance(env, str)
        else ""
    )
    raise ConfigError(
        f"env={env!r} is not an environment: give an Environment (glacier.Environment(...), "
        f"AWSEnvironment(...)){hint}."
    )


def run_flow(
    flow: FlowPipeline,
    mode: str = "local",
    *,
    use_cache: bool = True,
    hooks: Sequence[object] = (),
    output_dir: str | Path | None = None,
    environments: Sequence[Any] | None = None,
    args: Sequence[Any] = (),
    target: str = "pulumi",
    **options: Any,
) -> Any:
    """What :meth:`glacier.FlowPipeline.run` does."""
    _check_mode(mode)
    _check_target(mode, target)
    if mode == "analyze":
        return as_pipeline(flow, *args).describe()
    if mode == "generate":
        return run_pipeline(
            as_pipeline(flow, *args),
            "generate",
            output_dir=output_dir,
            environments=environments,
            target=target,
        )
    executor = options.pop("executor", None)
    raise_on_failure = options.pop("raise_on_failure", True)
    if options:
        raise ConfigError(
            f"Unexpected options {sorted(options)} for a data-flow pipeline run; it takes "
            "executor= and raise_on_failure= besides use_cache=, hooks= and output_dir=."
        )
    if executor is None:
        settings = getattr(flow.env, "settings", None)
        kind = getattr(getattr(settings, "executor", None), "kind", "local")
        executor = None if kind == "local" else kind
    if executor is None or executor == "local":
        # Eager calls are not known before they happen: lineage names the tasks, not data.
        hooks = with_lineage(hooks, None, flow.env)
        return run_eagerly(flow, args, use_cache=use_cache, hooks=hooks)
    # Another executor runs the traced graph: its tasks run where the executor puts them,
    # while the body's own code between task calls runs only here, while tracing.
    return run_pipeline(
        as_pipeline(flow, *args),
        env=flow.env,
        executor=executor,
        use_cache=use_cache,
        hooks=hooks,
        raise_on_failure=raise_on_failure,
    )


def _check_target(mode: str, target: str) -> None:
    """``target=`` (what ``generate`` writes) is a known target, and only for that mode."""
    from glacier.infra.terraform import check_target

    check_target(target)
    if target != "pulumi" and mode != "generate":
        raise ConfigError(
            f"target={target!r} chooses what mode='generate' writes; mode={mode!r} writes "
            "nothing. Pass mode='generate', or leave target= out."
        )


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ConfigError(
            f"Unknown run mode {mode!r}; use one of {', '.join(repr(m) for m in MODES)}."
        )

"""The runner: one place that runs a pipeline in a mode.

``pipeline.run(mode=...)`` and ``flow.run(mode=...)`` both land here:

- ``local``: execute — a :class:`~glacier.Pipeline` on its environment's executor, an
  ``@env.pipeline()`` function eagerly (its body runs, each task call through the shared
  per-task path);
- ``analyze``: describe the DAG without running anything (data-flow bodies are traced);
- ``generate``: write the Pulumi project of the pipeline's infrastructure.

It sits above environments, executors and infrastructure and composes the pipeline: no
module below imports it. It registers itself in :mod:`glacier.dispatch` when imported, which
is how ``pipeline.run()`` reaches it; the command line calls it directly.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from glacier import dispatch, state
from glacier.environment import Environment
from glacier.errors import ConfigError, ForeignRunError, PipelineRunError, UnknownRunError
from glacier.executors.base import Executor
from glacier.flow import FlowPipeline, PipelineLike, as_pipeline, run_eagerly
from glacier.infra.project import generate
from glacier.lineage import with_lineage
from glacier.pipeline import MODES, Pipeline
from glacier.run_options import RunOptions
from glacier.selection import select_tasks

__all__ = [
    "default_environment",
    "environment_of",
    "environment_serving",
    "noting_runs",
    "run",
    "run_flow",
    "run_pipeline",
]


def default_environment() -> Environment:
    """The environment a pipeline without one runs in: local files under ``.glacier/``."""
    return Environment.local()


def environment_of(pipeline: PipelineLike) -> Any:
    """The environment ``pipeline`` runs in: its own (a data-flow pipeline's is the one that
    declared it), else :func:`default_environment`, made once per pipeline."""
    if isinstance(pipeline, FlowPipeline):
        return pipeline.env
    return pipeline.environment(default_environment)


def environment_serving(pipeline: Pipeline) -> Environment | None:
    """The environment a pipeline built without ``env=`` belongs to through its resources:
    a factory's ``Pipeline(name)`` over ``env.storage.s3(...)`` runs in ``env``. ``None``
    when its resources name no single environment."""
    return Environment.serving(_resources(pipeline))


def _resources(pipeline: Pipeline) -> list[Any]:
    """The resources a pipeline's tasks use: their datasets' storage (not paths), compute and
    the resources passed to data-flow calls."""
    found: dict[int, Any] = {}
    for task in pipeline.tasks.values():
        for ds in (*task.input_datasets, *task.outputs):
            if ds.storage is not None and not isinstance(ds.storage, str):
                found[id(ds.storage)] = ds.storage
        for resource in (task.compute, *task.resource_args.values()):
            if resource is not None:
                found[id(resource)] = resource
    return list(found.values())


#: Where local runs are noted while :func:`noting_runs` is active (the command line, while it
#: imports a pipeline's file).
_NOTED: ContextVar[list[Any] | None] = ContextVar("glacier_noted_runs", default=None)


@contextmanager
def noting_runs() -> Iterator[list[Any]]:
    """Within the block, the result of every local run is appended to the yielded list.

    ``glacier run`` imports the pipeline's file inside it: a file that runs its pipeline at
    import (a module-level ``pipeline.run()``) has then already run it, and the command
    reports that run rather than running the pipeline a second time.
    """
    noted: list[Any] = []
    token = _NOTED.set(noted)
    try:
        yield noted
    finally:
        _NOTED.reset(token)


def _note(result: Any) -> None:
    noted = _NOTED.get()
    if noted is not None:
        noted.append(result)


def run(pipeline: PipelineLike, mode: str = "local", **options: Any) -> Any:
    """Run either kind of pipeline in ``mode`` (``options`` as for its ``run`` method)."""
    if isinstance(pipeline, FlowPipeline):
        return run_flow(pipeline, mode, **options)
    return run_pipeline(pipeline, mode, **options)


def run_pipeline(
    pipeline: Pipeline,
    mode: str = "local",
    options: RunOptions | None = None,
    /,
    **given: Any,
) -> Any:
    """What :meth:`glacier.Pipeline.run` does: run ``pipeline`` in ``mode`` with ``options``
    (a :class:`~glacier.run_options.RunOptions`; options named as keywords refine it)."""
    _check_mode(mode)
    options = RunOptions.given(options, given)
    targets, env, executor = options.targets, options.env, options.executor
    hooks, output_dir, environments, resume = (
        options.hooks,
        options.output_dir,
        options.environments,
        options.resume,
    )
    select, exclude = options.select, options.exclude
    _check_target(mode, options.target)
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
            environments=list(environments) if environments else [env or environment_of(pipeline)],
            target=options.target,
        )
    _check_env(env)
    env = env or environment_of(pipeline)
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
    record = resume if isinstance(resume, Mapping) else None
    if isinstance(resume, str):
        store = env.container.run_store()
        record = store.last(pipeline.name) if resume == "last" else store.load(resume)
        if record is None:
            raise UnknownRunError(
                f"No recorded run of pipeline {pipeline.name!r} to resume in "
                f"{store.directory}. Run it once without resume=."
            )
        if record.get("pipeline") != pipeline.name:
            raise ForeignRunError(
                f"Run {resume!r} is a run of pipeline {record.get('pipeline')!r}, not of "
                f"{pipeline.name!r}: a run resumes only its own pipeline's tasks. Pick a run "
                f"of {pipeline.name!r} (glacier runs list --pipeline {pipeline.name}) or "
                "resume the last one (--resume)."
            )
    store_of = getattr(getattr(env, "container", None), "run_store", None)
    if store_of is not None:
        store_of().check()  # a store that cannot keep the record fails now, not after the run
    hooks = tuple(with_lineage(hooks, pipeline, env))  # the settings' [lineage], when on
    result = chosen.execute(
        pipeline,
        options.replace(targets=targets, env=env, hooks=hooks, resume=record),
    )
    _note(result)
    if options.raise_on_failure and not result.ok:
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
    options: RunOptions | None = None,
    /,
    *,
    args: Sequence[Any] = (),
    **given: Any,
) -> Any:
    """What :meth:`glacier.FlowPipeline.run` does (``args`` go to the body)."""
    _check_mode(mode)
    options = RunOptions.given(options, given)
    _check_target(mode, options.target)
    refused = sorted(
        name for name in _GRAPH_ONLY if getattr(options, name) != getattr(_DEFAULTS, name)
    )
    if refused:
        raise ConfigError(
            f"Unexpected options {refused} for a data-flow pipeline run; it takes "
            "executor= and raise_on_failure= besides use_cache=, hooks= and output_dir=."
        )
    if mode == "analyze":
        return as_pipeline(flow, *args).describe()
    if mode == "generate":
        return run_pipeline(as_pipeline(flow, *args), "generate", options)
    executor = options.executor
    if executor is None:
        settings = getattr(flow.env, "settings", None)
        kind = getattr(getattr(settings, "executor", None), "kind", "local")
        executor = None if kind == "local" else kind
    if executor is None or executor == "local":
        # Eager calls are not known before they happen: lineage names the tasks, not data.
        hooks = with_lineage(options.hooks, None, flow.env)
        result = run_eagerly(flow, args, use_cache=options.use_cache, hooks=hooks)
        _note(result)
        return result
    # Another executor runs the traced graph: its tasks run where the executor puts them,
    # while the body's own code between task calls runs only here, while tracing.
    return run_pipeline(
        as_pipeline(flow, *args), "local", options.replace(env=flow.env, executor=executor)
    )


#: Options that address a graph's tasks or its environment, which a data-flow body's calls
#: and its own environment decide.
_GRAPH_ONLY = ("targets", "params", "env", "resume", "select", "exclude")
_DEFAULTS = RunOptions()


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


# -- the seeds' spellings on lower objects (they reach this module through glacier.dispatch) --


def new_environment(provider: Any, **kwargs: Any) -> Environment:
    """What ``provider.env(name=...)`` builds: an environment around ``provider``."""
    return Environment(provider, **kwargs)


def environment_state(env: Environment, *, deployed: bool | None = None) -> dict[str, Any]:
    """``env.get_state()``: see :mod:`glacier.state`."""
    return state.environment_state(env, deployed=deployed)


def export_state(env: Environment, path: str | Path, *, deployed: bool | None = None) -> Path:
    """``env.export_state(path)``: see :mod:`glacier.state`."""
    return state.export_state(env, path, deployed=deployed)


# The runner registers itself: pipeline.run() and flow.run() reach it through the registry
# (the graph modules sit below it and never import it).
dispatch.register(sys.modules[__name__])  # type: ignore[arg-type]

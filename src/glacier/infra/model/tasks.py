"""A task's share of the model: its compute and config, its options, its Delta tables.

The compute kind comes from the task's hint, else the default of its environment's cloud,
through the cloud's row of :data:`glacier.infra.builders.BUILDERS`: the model names no
compute of its own, and a kind the cloud's builder does not generate is refused here, naming
what it does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glacier.errors import InfraError
from glacier.formats import resolve_format
from glacier.infra.builders import builder_of
from glacier.infra.model.specs import EnvSpec
from glacier.locations import TABLE, layout_of
from glacier.resources import Bucket, ExecutionEnvironment, Serverless

if TYPE_CHECKING:
    from glacier.task import Task

__all__ = ["compute_of", "extras_of", "tables_of", "task_config"]


def compute_of(task: Task, env: EnvSpec) -> tuple[str, Any]:
    """The compute kind and config of ``task`` in ``env``: its hint, else the default of the
    environment's cloud (see :mod:`glacier.infra.builders`); a kind the cloud's builder does
    not generate is refused, naming what it does."""
    builder = builder_of(env.cloud)
    if builder is None or not builder.compute:
        # A local environment runs tasks in-process, and a cloud with no builder is refused
        # (naming it) when its environment is declared: the model only describes the task.
        kind = "serverless" if isinstance(task.compute, Serverless) else "default"
        if isinstance(task.compute, ExecutionEnvironment):
            kind = task.compute.environment_type
        return kind, getattr(task.compute, "config", None)
    compute = task.compute
    if compute is None:
        return builder.default_compute, builder.default_config()
    if isinstance(compute, Serverless) and builder.serverless is not None:
        return builder.serverless, builder.serverless_config(task, compute)
    if isinstance(compute, ExecutionEnvironment) and builder.offers(compute.environment_type):
        return compute.environment_type, compute.config
    asked = (
        compute.environment_type
        if isinstance(compute, ExecutionEnvironment)
        else type(compute).__name__
    )
    raise InfraError(
        f"Task {task.name!r} ({task.location}) has compute={compute!r} ({asked}), which Glacier "
        f"does not generate in {env.cloud} environment {env.key!r}; use {builder.hint}."
    )


def task_config(task: Task, env: EnvSpec) -> Any:
    """The task's run options (retries, timeout, ...) in ``env``: the environment's
    defaults refined by the task's own."""
    environment = env.source
    make = getattr(environment, "task_config", None)
    if callable(make):
        return make(task)
    # A bare provider's resources: the task's own options over the defaults.
    from glacier.settings import TaskConfig

    return TaskConfig().refine(**task.options)


def tables_of(task: Any) -> tuple[str, ...]:
    """The Delta tables ``task`` reads or writes: multi-file parquet (or ``delta``) buckets,
    as its datasets or as its resources (see :mod:`glacier.adapters.tables`)."""
    named = [(ds.name, ds.storage) for ds in (*task.input_datasets, *task.outputs)]
    named += list(task.resource_args.items())
    out = []
    for name, storage in named:
        if not isinstance(storage, Bucket):
            continue
        if layout_of(storage.path, storage.format, storage.partition_by) == TABLE:
            out.append(str(name))
    return tuple(dict.fromkeys(out))


def extras_of(task: Any) -> tuple[str, ...]:
    """The extras the formats of ``task``'s datasets and bucket resources name (``excel``,
    ``models``: :attr:`glacier.formats.Format.extra`), which its runtime imports."""
    named = [ds.storage for ds in (*task.input_datasets, *task.outputs)]
    named += list(task.resource_args.values())
    out = []
    for resource in named:
        if isinstance(resource, Bucket):
            extra = resolve_format(resource.format).extra
            if extra is not None:
                out.append(extra)
    return tuple(dict.fromkeys(out))

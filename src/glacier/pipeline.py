"""Pipelines: tasks whose DAG follows from their type annotations.

A pipeline is a pure graph: it holds tasks and validates their DAG. Running it in one of
its modes is the runner's business (:mod:`glacier.runner`, which composes the pipeline and
is never imported here); :meth:`Pipeline.run` is a convenience that hands the pipeline to the
runner registered in :mod:`glacier.dispatch`.

::

    pipeline = Pipeline("etl")
    raw, clean = Dataset("raw"), Dataset("clean")

    @pipeline.task()
    def extract() -> raw:
        return pl.DataFrame({"amount": [1, -2, 3]})

    @pipeline.task(retries=2)
    def transform(data: raw) -> clean:
        return data.filter(pl.col("amount") > 0)

    result = pipeline.run()
    result["clean"]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glacier import dispatch
from glacier.checks.builtins import Check, check_declarations, check_references, custom
from glacier.dag import DAG
from glacier.dataset import NAME_PATTERN, Dataset
from glacier.errors import (
    CheckDefinitionError,
    DuplicateProducerError,
    DuplicateTaskError,
    PipelineDefinitionError,
)
from glacier.run_options import RunOptions
from glacier.task import Task, _caller_namespace
from glacier.task_options import TaskOptions

if TYPE_CHECKING:
    from glacier.context import RunContext

MODES = ("local", "analyze", "generate")

#: A schedule the deployed orchestration understands: ``rate(1 day)`` or a six-field cron.
#: EventBridge wants the singular unit for 1 (``rate(1 day)``), the plural above it.
SCHEDULE = re.compile(
    r"^(rate\((1 (minute|hour|day)|([2-9]|[1-9]\d+) (minutes|hours|days))\)"
    r"|cron\(\S+( \S+){5}\))$"
)
_RATE = re.compile(r"^rate\(([1-9]\d*) (minute|hour|day)s?\)$")


class Pipeline:
    """A named set of tasks; the DAG is inferred from what each task consumes and produces.

    Args:
        name: The pipeline's name (used for run records, infrastructure names, the CLI).
        env: The :class:`~glacier.Environment` to run in; a local environment rooted at
            ``.glacier/`` when omitted.
        schedule: Optional schedule for the deployed orchestration, e.g. ``"rate(1 day)"`` or
            ``"cron(0 6 * * ? *)"``.
        description: Shown by ``glacier graph`` and ``describe()``.
    """

    def __init__(
        self,
        name: str,
        *,
        env: RunContext | None = None,
        schedule: str | None = None,
        description: str = "",
    ) -> None:
        check_pipeline(name, schedule)
        self.name = name
        self.env = env
        self._schedule = schedule
        self.description = description
        self._tasks: dict[str, Task] = {}
        self._producers: dict[Dataset, Task] = {}
        self._dag: DAG | None = None
        self._default_env: Any = None
        self._checks: dict[Dataset, list[Check]] = {}
        self._has_checks = False

    @property
    def schedule(self) -> str | None:
        """When the deployed orchestration starts the pipeline (``None``: on demand)."""
        return self._schedule

    @schedule.setter
    def schedule(self, value: str | None) -> None:
        check_pipeline(self.name, value)
        self._schedule = value

    # -- building --------------------------------------------------------------------------

    def task(
        self,
        fn: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
        retries: int | None = None,
        retry_delay: float | None = None,
        backoff: float | None = None,
        max_delay: float | None = None,
        jitter: float | None = None,
        retry_on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
        timeout: float | None = None,
        cache: bool | None = None,
        cache_version: str | None = None,
        tags: dict[str, str] | None = None,
        compute: Any = None,
        executor: str | None = None,
        allow_cross_environment: bool = False,
        **unknown: Any,
    ) -> Any:
        """Register a function as a task (``@pipeline.task()`` or ``@pipeline.task``).

        Options left unset inherit the environment's task defaults (no retries, no timeout,
        no cache). ``retry_on`` narrows which failures are retried (see
        :mod:`glacier.retries`); ``cache_version`` is part of the cache key, to force a rerun.
        """
        namespace = _caller_namespace(1)
        if "checks" in unknown:
            raise CheckDefinitionError(
                "@pipeline.task(checks=...): a pipeline's checks belong to the datasets a task "
                "returns; declare them there, e.g. Dataset('orders', checks=[unique('id')])."
            )
        options = TaskOptions.parse(
            {
                "retries": retries,
                "retry_delay": retry_delay,
                "backoff": backoff,
                "max_delay": max_delay,
                "jitter": jitter,
                "retry_on": retry_on,
                "timeout": timeout,
                "cache": cache,
                "cache_version": cache_version,
                "tags": tags,
                "executor": executor,
                "compute": compute,
                "allow_cross_environment": allow_cross_environment,
                "name": name,
                **unknown,  # refused by name, with the options allowed
            },
            decorator="@pipeline.task",
        )

        def register(f: Callable[..., Any]) -> Task:
            return self.add(Task(f, options=options, namespace=namespace))

        return register(fn) if fn is not None else register

    def add(self, task: Task) -> Task:
        """Add an already-built :class:`Task` (e.g. from :func:`glacier.task`)."""
        other = self._tasks.get(task.name)
        if other is not None:
            same = other.fn is task.fn
            raise DuplicateTaskError(
                f"Task {task.name!r} is registered twice in pipeline {self.name!r}: "
                f"{other.location} and {task.location}."
                + (
                    " The same function was decorated twice; decorate it once."
                    if same
                    else " Rename one of them (def new_name or @pipeline.task(name=...))."
                )
            )
        for ds in task.outputs:
            prev = self._producers.get(ds)
            if prev is not None:
                raise DuplicateProducerError(
                    f"Dataset {ds.name!r} is produced by two tasks: {prev.name!r} "
                    f"({prev.location}) and {task.name!r} ({task.location}). A dataset has one "
                    "producer; give one of them a different output Dataset."
                )
        for ds in task.outputs:
            self._producers[ds] = task
        self._tasks[task.name] = task
        self._dag = None
        return task

    def check(
        self, dataset: Dataset, *, name: str | None = None, severity: str = "error"
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a custom data check on ``dataset`` (``@pipeline.check(orders)``): a
        function of its data (a LazyFrame) returning the failing rows (a frame, empty when the
        data is good) or a bool (``True``: good). It runs with the dataset's other checks
        (see :mod:`glacier.checks`); ``name`` defaults to the function's.

        Example:
            >>> import polars as pl
            >>> p = Pipeline("demo")
            >>> orders = Dataset("orders")
            >>> @p.check(orders, severity="warn")
            ... def no_negative_amounts(data: pl.LazyFrame) -> pl.LazyFrame:
            ...     return data.filter(pl.col("amount") < 0)
            >>> [c.name for c in p.checks_of(orders)]
            ['no_negative_amounts']
        """
        if not isinstance(dataset, Dataset):
            raise CheckDefinitionError(
                f"@pipeline.check({dataset!r}): give the Dataset the check is on, e.g. "
                "@pipeline.check(orders)."
            )

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            check = custom(fn, name=name, severity=severity)
            check_declarations(dataset.name, [*self.checks_of(dataset), check], None)
            self._checks.setdefault(dataset, []).append(check)
            self._dag = None
            return fn

        return register

    @property
    def has_checks(self) -> bool:
        """Whether any dataset of the pipeline has data checks (runs without skip them)."""
        _ = self.dag
        return self._has_checks

    def checks_of(self, dataset: Dataset) -> tuple[Check, ...]:
        """The data checks of ``dataset``: its own (``checks=``), then the pipeline's."""
        own = self._checks.get(dataset)
        return dataset.checks if not own else (*dataset.checks, *own)

    # -- inspection ------------------------------------------------------------------------

    @property
    def tasks(self) -> dict[str, Task]:
        """Tasks by name, in definition order."""
        return dict(self._tasks)

    @property
    def dag(self) -> DAG:
        """The validated DAG (built on first use and after each change)."""
        dag = self._dag
        if dag is None:
            dag = DAG.build(self._tasks.values())
            checks = {ds: own for ds in dag.datasets if (own := self.checks_of(ds))}
            check_references(self.name, checks, self._checks, dag.datasets)
            self._has_checks = bool(checks)
            self._dag = dag
        return dag

    @property
    def datasets(self) -> list[Dataset]:
        """Every dataset a task consumes or produces."""
        return list(self.dag.datasets)

    def validate(self) -> Pipeline:
        """Check the DAG now (cycles, missing inputs, ...) instead of at the first run."""
        _ = self.dag
        return self

    def environment(self, default: Callable[[], Any] | None = None) -> Any:
        """The environment runs use: the pipeline's own, else the one its resources belong
        to (a factory's ``Pipeline(name)`` over ``env.storage.s3(...)``), else a default made
        once per pipeline by ``default`` (the registered runner's local environment when
        omitted)."""
        if self.env is not None:
            return self.env
        # Found once per set of tasks (tasks are only ever added): a run asks every time.
        known: tuple[int, Any] | None = self.__dict__.get("_resources_env")
        if known is None or known[0] != len(self._tasks):
            known = self._resources_env = (
                len(self._tasks),
                dispatch.runner().environment_serving(self),
            )
        if known[1] is not None:
            return known[1]
        if self._default_env is None:
            self._default_env = (default or dispatch.runner().default_environment)()
        return self._default_env

    def describe(self) -> dict[str, Any]:
        """Tasks, DAG edges, datasets and resources as plain data (``mode="analyze"``)."""
        dag = self.dag
        resources: dict[int, Any] = {}
        datasets = []
        for ds in dag.datasets:
            storage = ds.storage
            datasets.append(
                {
                    "name": ds.name,
                    "stored": ds.is_stored,
                    "storage": _describe(storage),
                    "producer": dag.tasks[dag.producers[ds][0]].name
                    if ds in dag.producers
                    else None,
                    "checks": [c.name for c in self.checks_of(ds)],
                }
            )
            if storage is not None and not isinstance(storage, str):
                resources[id(storage)] = storage
        tasks = []
        for t in dag.tasks:
            if t.compute is not None:
                resources[id(t.compute)] = t.compute
            for r in t.resource_args.values():
                resources[id(r)] = r
            tasks.append(
                {
                    "name": t.name,
                    "location": str(t.location),
                    "inputs": [ds.name for ds in t.input_datasets],
                    "outputs": [ds.name for ds in t.outputs],
                    "params": {k: repr(v) for k, v in t.params.items() if k not in t.resource_args},
                    "resources": [r.param for r in t.resources] + list(t.resource_args),
                    "compute": _describe(t.compute),
                    "options": dict(t.options),
                }
            )
        return {
            "name": self.name,
            "tasks": tasks,
            "dag": [{"from": a, "to": b, "dataset": d} for a, b, d in dag.edges()],
            "order": [t.name for t in dag.tasks],
            "datasets": datasets,
            "resources": [_describe(r) for r in resources.values()],
            "schedule": self.schedule,
        }

    # -- running ---------------------------------------------------------------------------

    def run(
        self,
        mode: str = "local",
        *,
        targets: Sequence[str | Task | Dataset] | None = None,
        params: Mapping[str, Any] | None = None,
        env: RunContext | None = None,
        executor: Any = None,
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
        """Run the pipeline (see :func:`glacier.runner.run_pipeline`).

        - ``mode="local"`` executes the tasks (only those ``targets`` need) and returns a
          :class:`~glacier.RunResult`; if a task fails, the others that do not depend on it
          still finish, then :class:`~glacier.errors.PipelineRunError` reports every failure
          (pass ``raise_on_failure=False`` to get the result instead). ``resume="last"`` (or a
          run id) skips the tasks that succeeded in that run and whose outputs are stored.
          ``select``/``exclude`` pick tasks with dbt-style selectors (``clean``, ``+clean``,
          ``clean+``, ``tag:nightly``; see :mod:`glacier.selection`) instead of ``targets``.
        - ``mode="analyze"`` returns :meth:`describe` without running anything.
        - ``mode="generate"`` writes a Pulumi project for ``environments`` (default: the
          pipeline's environment) to ``output_dir`` and returns ``{"files": [...], ...}``;
          ``target="terraform"`` writes Terraform JSON instead, one directory per environment.
        """
        options = RunOptions(
            targets=targets,
            params=params,
            env=env,
            executor=executor,
            use_cache=use_cache,
            raise_on_failure=raise_on_failure,
            hooks=tuple(hooks),
            output_dir=output_dir,
            environments=tuple(environments) if environments is not None else None,
            resume=resume,
            select=tuple(select) if select is not None else None,
            exclude=tuple(exclude) if exclude is not None else None,
            target=target,
        )
        return dispatch.runner().run_pipeline(self, mode, options)

    def __repr__(self) -> str:
        return f"Pipeline({self.name!r}, tasks={list(self._tasks)})"


def _describe(obj: Any) -> Any:
    if obj is None:
        return None
    if isinstance(obj, str):
        return obj
    describe = getattr(obj, "describe", None)
    if callable(describe):
        return describe()
    return {"kind": "pulumi", "type": type(obj).__module__ + "." + type(obj).__qualname__}


def check_pipeline(name: Any, schedule: str | None) -> None:
    """Refuse a pipeline name or schedule that runs, run records or infrastructure can't use."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise PipelineDefinitionError(
            f"Pipeline name {name!r} is invalid: use letters, digits, '_', '-' or '.', "
            "starting with a letter or '_' (e.g. Pipeline('daily_sales'))."
        )
    if schedule is not None and not (isinstance(schedule, str) and SCHEDULE.match(schedule)):
        rate = _RATE.match(schedule) if isinstance(schedule, str) else None
        if rate is not None:  # a number and a unit that disagree: 'rate(1 days)'
            n, unit = rate.groups()
            fixed = f"rate({n} {unit}{'' if n == '1' else 's'})"
            raise PipelineDefinitionError(
                f"Pipeline {name!r} has schedule={schedule!r}, which AWS refuses: the unit is "
                f"singular for 1 and plural above it. Write schedule={fixed!r}."
            )
        raise PipelineDefinitionError(
            f"Pipeline {name!r} has schedule={schedule!r}, which is not a schedule: write "
            "'rate(N minutes|hours|days)' with N >= 1 (e.g. 'rate(1 day)') or a six-field "
            "'cron(minutes hours day-of-month month day-of-week year)' "
            "(e.g. 'cron(0 6 * * ? *)')."
        )

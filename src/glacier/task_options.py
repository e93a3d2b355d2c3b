"""Task options: what ``@pipeline.task(...)``, ``@env.task(...)`` and ``@task(...)`` accept.

Every decorator parses its keyword arguments into one frozen :class:`TaskOptions` record;
the values are checked against :class:`~glacier.settings.TaskConfig` when the task is
defined, so a bad ``retries=-1`` fails at the decorator, not at the first run.

>>> opts = TaskOptions.parse({"retries": 2, "compute": None}, decorator="@task")
>>> opts.refinements
{'retries': 2}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from glacier.checks.builtins import check_declarations
from glacier.errors import ConfigError

#: Option names that refine the environment's task defaults (see ``TaskConfig``).
TASK_OPTIONS = (
    "executor",
    "timeout",
    "retries",
    "retry_delay",
    "backoff",
    "max_delay",
    "jitter",
    "retry_on",
    "cache",
    "cache_version",
    "tags",
)
#: Option names about the task itself rather than how it runs.
TASK_FIELDS = ("compute", "allow_cross_environment", "name", "checks")


@dataclass(frozen=True, slots=True)
class TaskOptions:
    """A task's options, as given to its decorator.

    Args:
        refinements: The :data:`TASK_OPTIONS` that were set (``None`` means "inherit"),
            refining the environment's ``TaskConfig``.
        compute: The compute hint (``env.compute.lambda_(...)``), if any.
        allow_cross_environment: Whether the task may reach another environment's data.
        name: The task's name, when not the function's.
        checks: A data-flow task's data checks (:mod:`glacier.checks`), on what each call
            returns; a pipeline's tasks declare checks on their output datasets instead.
    """

    refinements: Mapping[str, Any] = field(default_factory=dict)
    compute: Any = None
    allow_cross_environment: bool = False
    name: str | None = None
    checks: tuple[Any, ...] = ()

    @classmethod
    def parse(
        cls,
        options: Mapping[str, Any],
        *,
        decorator: str,
        error: type[Exception] = ConfigError,
    ) -> TaskOptions:
        """The record of a decorator's keyword arguments; unknown names raise ``error``."""
        _refuse_compute_as_executor(options, decorator, error)
        unknown = set(options) - set(TASK_OPTIONS) - set(TASK_FIELDS)
        if unknown:
            raise error(
                f"{decorator} got unknown option(s) {sorted(unknown)}; allowed: "
                f"{', '.join((*TASK_OPTIONS, *TASK_FIELDS))}."
            )
        refinements = {k: v for k, v in options.items() if k in TASK_OPTIONS and v is not None}
        if isinstance(refinements.get("retry_on"), type):
            refinements["retry_on"] = (refinements["retry_on"],)  # one type, as a tuple
        compute = options.get("compute")
        cross = bool(options.get("allow_cross_environment", False))
        name = options.get("name")
        given = options.get("checks")
        checks = check_declarations(f"{name or 'task'} output", given, None) if given else ()
        if not refinements and compute is None and not cross and name is None and not checks:
            # Most tasks take no options: they share one record, so a 100,000-task pipeline
            # carries no extra object per task for the garbage collector to walk.
            return NO_OPTIONS
        return cls(
            refinements=refinements,
            compute=compute,
            allow_cross_environment=cross,
            name=name,
            checks=checks,
        )

    def check(self, where: str) -> None:
        """Refuse invalid values (``retries=-1``); ``where`` names the task in the message."""
        if not self.refinements:
            return
        # Here, not at import: the settings models (pydantic) are needed only by a task with
        # options, and would double the time of `from glacier import Pipeline, Dataset`.
        from glacier.settings import TaskConfig

        try:
            TaskConfig().refine(**self.refinements)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None


#: The options of a task that was given none.
NO_OPTIONS = TaskOptions()

#: The compute hint each cloud compute name is, and the options of the seeds' task-level
#: spelling (``executor="lambda", memory=3008``) that belong to it.
_COMPUTE_HINTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "lambda": ("lambda_", "AWS Lambda", ("memory", "timeout")),
    "ecs": ("ecs", "ECS", ("memory", "cpu")),
    "glue": ("glue", "Glue", ()),
    "databricks": ("databricks", "Databricks", ()),
}


def _refuse_compute_as_executor(
    options: Mapping[str, Any], decorator: str, error: type[Exception]
) -> None:
    """Refuse ``executor="lambda"`` (seed 001's task-level spelling), naming the compute hint
    that says it, with the sizes given beside it (``memory=3008, timeout=900``).

    An executor runs a run's tasks here or on Dask; where a deployed task runs is its compute
    hint. Mapping the name silently would make ``executor=`` mean two things.

    >>> try:
    ...     _refuse_compute_as_executor({"executor": "lambda", "memory": 3008}, "@task", ValueError)
    ... except ValueError as refused:
    ...     print(str(refused).split("Write ")[1].split(" —")[0])
    @task(compute=env.compute.lambda_(memory=3008))
    """
    executor = options.get("executor")
    if executor is None or executor in ("local", "dask"):
        return
    # Here, not at import: the settings models would double `from glacier import Pipeline`.
    from glacier.settings.execution import COMPUTE_NOT_EXECUTORS

    if executor not in COMPUTE_NOT_EXECUTORS:
        return
    hint, where, sizes = _COMPUTE_HINTS[str(executor)]
    given = ", ".join(f"{k}={options[k]!r}" for k in sizes if options.get(k) is not None)
    raise error(
        f"{decorator}(executor={executor!r}, ...): an executor runs a run's tasks ('local' or "
        f"'dask'); where a deployed task runs is its compute hint. Write "
        f"{decorator}(compute=env.compute.{hint}({given})) — local runs stay local, and the "
        f"plan deploys the task to {where}."
    )

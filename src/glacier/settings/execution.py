"""How tasks run: per-task options (``TaskConfig``) and the executor (``ExecutorSettings``).

The environment's settings hold a default ``TaskConfig``; each ``@env.task(...)`` refines it
with :meth:`TaskConfig.refine`, the last step of the provider -> resource -> task cascade.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import Field, field_serializer, field_validator

from glacier.settings.base import GlacierModel, between
from glacier.settings.tags import Tags

__all__ = ["ExecutorSettings", "TaskConfig", "check_scheduler_address"]

#: A Dask scheduler address: ``[protocol://]host:port`` (``inproc://`` names a scheduler in
#: this process). Anything else fails deep inside distributed with a bare ValueError.
_SCHEDULER_ADDRESS = re.compile(
    r"((tcp|tls|ucx|ws|wss)://)?([A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}|inproc://\S+"
)


def check_scheduler_address(address: str) -> str:
    """``address`` if it is a Dask scheduler address, else a ``ValueError`` saying the form.

    Example:
        >>> check_scheduler_address("tcp://scheduler:8786")
        'tcp://scheduler:8786'
    """
    if not _SCHEDULER_ADDRESS.fullmatch(address):
        raise ValueError(
            f"{address!r} is not a Dask scheduler address; write [protocol://]host:port, "
            "e.g. 'tcp://scheduler:8786'"
        )
    return address


#: Cloud compute kinds, which are compute hints of deployed tasks, not executors.
COMPUTE_NOT_EXECUTORS = ("lambda", "ecs", "glue", "databricks")


class TaskConfig(GlacierModel):
    """Execution options for a task; ``refine`` layers a task's options over the defaults.

    Args:
        executor: The executor to run on (``None``: the environment's).
        timeout: Seconds a single attempt may take (``None``: no limit).
        retries: Extra attempts after a failure.
        retry_delay: Seconds before the first retry.
        backoff: Factor the delay grows by after each retry (1 keeps it constant).
        max_delay: The longest wait between two attempts, in seconds (``None``: no cap).
        jitter: Up to this many seconds added at random to each wait, so tasks failing
            together do not retry in lockstep.
        retry_on: Retry only these exception types (``None``: any failure that may be
            transient; see :mod:`glacier.retries`).
        cache: Reuse the result when the inputs and code are unchanged.
        cache_version: Part of the cache key: change it to force a rerun of a cached task.
        tags: Labels for run records, selection (``--select tag:NAME``) and generated
            infrastructure: a mapping, or a list of names (each becomes a tag with an empty
            value, as the clouds allow).

    Example:
        >>> defaults = TaskConfig(retries=1, tags={"team": "data"})
        >>> task = defaults.refine(timeout=300, tags={"priority": "high"})
        >>> task.retries, task.timeout, task.tags
        (1, 300.0, {'team': 'data', 'priority': 'high'})
    """

    executor: Literal["local", "dask"] | None = None
    timeout: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    retries: Annotated[int, between(0, 100)] = 0
    retry_delay: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    backoff: Annotated[float, Field(ge=1, allow_inf_nan=False)] = 1.0
    max_delay: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    jitter: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    retry_on: tuple[type[BaseException], ...] | None = None
    cache: bool = False
    cache_version: str | None = None
    tags: Tags = {}

    @field_serializer("retry_on")
    def _retry_on_names(self, value: tuple[type[BaseException], ...] | None) -> list[str] | None:
        # Exception types have no JSON form; `glacier envs show` prints their names.
        if value is None:
            return None
        return [f"{c.__module__}.{c.__qualname__}" for c in value]

    def refine(self, **overrides: Any) -> TaskConfig:
        """A copy with the non-``None`` ``overrides`` applied; ``tags`` merge (override wins).

        Unknown option names and invalid values raise :class:`~glacier.errors.ConfigError`.
        """
        changes = {key: value for key, value in overrides.items() if value is not None}
        if isinstance(changes.get("tags"), list | tuple):
            changes["tags"] = tags_from_names(changes["tags"])
        if isinstance(changes.get("tags"), Mapping):
            changes["tags"] = {**self.tags, **changes["tags"]}
        return self.replace(**changes)

    @field_validator("executor", mode="before")
    @classmethod
    def _executor_is_not_compute(cls, value: Any) -> Any:
        # Cloud compute names an executor would run tasks on remotely; accepting one and
        # running in-process would silently be something else. Before the type check, which
        # would say only "'local' or 'dask'".
        if value in COMPUTE_NOT_EXECUTORS:
            raise ValueError(
                f"running tasks on {value} from a local run is not supported yet; a deployed "
                f"pipeline runs each task on its compute hint (compute=env.compute.{value}"
                f"{'_' if value == 'lambda' else ''}(...)), and local runs use executor "
                "'local' or 'dask'"
            )
        return value

    @field_validator(
        "timeout", "retries", "retry_delay", "backoff", "max_delay", "jitter", mode="before"
    )
    @classmethod
    def numbers_are_not_booleans(cls, value: Any) -> Any:
        # pydantic reads True as 1: `retries=True` would silently mean one retry.
        if isinstance(value, bool):
            raise ValueError(f"a number is needed, not the boolean {value!r}; give a number")
        return value

    @field_validator("retry_on", mode="before")
    @classmethod
    def retry_on_exception_types(cls, value: Any) -> Any:
        if isinstance(value, type):
            value = (value,)
        if value is not None and not (
            isinstance(value, list | tuple)
            and all(isinstance(c, type) and issubclass(c, BaseException) for c in value)
        ):
            raise ValueError(
                f"retry_on takes exception types, e.g. retry_on=(ConnectionError,); got {value!r}"
            )
        return value

    @field_validator("tags", mode="before")
    @classmethod
    def tag_names_become_tags(cls, value: Any) -> Any:
        return tags_from_names(value) if isinstance(value, list | tuple) else value


def tags_from_names(names: Sequence[Any]) -> dict[str, str]:
    """``["nightly", "pii"]`` -> ``{"nightly": "", "pii": ""}``: tags given by name only."""
    return {str(name): "" for name in names}


class ExecutorSettings(GlacierModel):
    """Which executor runs a pipeline's tasks, and how wide.

    ``kind = "local"`` runs tasks on threads of this process (``max_workers`` of them);
    ``kind = "dask"`` hands them to a Dask cluster: the scheduler at ``address``, or without
    one a ``LocalCluster`` of ``n_workers`` worker processes (default: one per core) with
    ``threads_per_worker`` threads each, started for the run and closed after it.
    ``processes = false`` keeps the local cluster's workers in this process (threads; no
    speed-up for pure-Python work, but nothing is pickled between processes).
    ``dask_address`` is the former name of ``address`` and still read.

    Example:
        A settings file's section::

            [executor]
            kind = "dask"
            address = "tcp://scheduler:8786"

        >>> ExecutorSettings(kind="dask", address="tcp://scheduler:8786").address
        'tcp://scheduler:8786'
        >>> ExecutorSettings(kind="dask", n_workers=2).n_workers
        2
    """

    kind: Literal["local", "dask"] = "local"
    max_workers: Annotated[int, Field(ge=1)] | None = None
    address: str | None = None
    n_workers: Annotated[int, Field(ge=1)] | None = None
    threads_per_worker: Annotated[int, Field(ge=1)] = 1
    processes: bool = True
    dask_address: str | None = None

    @field_validator("address", "dask_address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else check_scheduler_address(value)

    @property
    def scheduler_address(self) -> str | None:
        """The Dask scheduler to use (``address``, or the older ``dask_address``)."""
        return self.address or self.dask_address

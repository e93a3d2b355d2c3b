"""The run context: the narrow interface executors run tasks through.

Kedro's runners take a catalog protocol, not the session that owns it; ours take this. An
executor, an eager data-flow run and a deployed task ask a run context for exactly five
things: a task's effective configuration, the resources it needs, the bucket each stored
dataset reads and writes through, the task cache, and where the run is recorded.
:class:`~glacier.Environment` satisfies it; so does the deployed-task runtime
(:class:`glacier.infra.runtime.DeployedContext`), which keeps in-memory datasets in the
artifacts bucket between processes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from glacier.cache import TaskCache
    from glacier.dataset import Dataset
    from glacier.resources import Bucket
    from glacier.result import RunResult
    from glacier.settings import TaskConfig
    from glacier.task import Task

__all__ = ["RunContext"]


@runtime_checkable
class RunContext(Protocol):
    """What a run needs from where it runs.

    Example:
        >>> from glacier import Environment
        >>> isinstance(Environment.local("/tmp/ctx"), RunContext)
        True
    """

    @property
    def name(self) -> str:
        """The environment's name, for messages and records."""
        ...

    def task_config(self, task: Task) -> TaskConfig:
        """The task's effective settings (retries, timeout, cache, ...)."""
        ...

    def resolve_resources(self, task: Task, given: Sequence[str] = ()) -> dict[str, Any]:
        """Values for the task's resource parameters not in ``given``."""
        ...

    def buckets_for(self, datasets: Iterable[Dataset]) -> dict[Dataset, Bucket]:
        """The bucket of each of ``datasets`` the run reads or writes through storage."""
        ...

    @property
    def cache(self) -> TaskCache:
        """The task cache."""
        ...

    def record_run(self, result: RunResult, versions: dict[str, str]) -> None:
        """Keep the run's record."""
        ...

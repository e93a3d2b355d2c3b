"""Executors: where and when tasks run. Bookkeeping is shared in :mod:`.base`."""

from glacier.executors.base import Executor, PreparedRun
from glacier.executors.local import LocalExecutor

__all__ = ["Executor", "LocalExecutor", "PreparedRun"]

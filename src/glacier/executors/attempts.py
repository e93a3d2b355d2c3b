"""One task's attempts: the call of its function with retries, backoff and timeout, the
attempt ending once a returned lazy query is planned (:func:`settle`). The per-task path
(:class:`~glacier.executors.base.PreparedRun`) calls it for the local executor, Dask, eager
data-flow runs and deployed tasks alike."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier.errors import (
    TaskTimeoutError,
)
from glacier.result import (
    TaskRun,
)
from glacier.retries import delays, should_retry
from glacier.task_logs import _local as _local  # the hot path sets the thread's task itself
from glacier.task_logs import note_attempt

if TYPE_CHECKING:
    from glacier.settings import TaskConfig
    from glacier.task import Task

__all__ = ["invoke", "settle"]

# The retry warnings keep the logger name users filter on (docs/pipelines.md).
_log = logging.getLogger("glacier.executors.base")


def invoke(
    task: Task,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    cfg: TaskConfig,
    run: TaskRun,
) -> Any:
    """Call the task's function with retries, backoff and timeout; records attempts.

    An attempt ends once a returned lazy query's schema is resolved (:func:`settle`), so a
    query that names a missing column fails here, under this task's retry policy."""
    if not cfg.retries and cfg.timeout is None:
        # Most tasks: one attempt, no timeout thread. Skipping the retry loop's bookkeeping
        # is a measurable share of a no-op task's cost.
        run.attempts = 1
        return settle(task.fn(*args, **kwargs))
    attempts = cfg.retries + 1
    waits = delays(
        retry_delay=cfg.retry_delay,
        backoff=cfg.backoff,
        max_delay=cfg.max_delay,
        jitter=cfg.jitter,
        retries=cfg.retries,
    )
    fn = task.fn
    timeout = cfg.timeout
    attempt = 0
    while True:
        attempt += 1
        run.attempts = attempt
        if attempt > 1:
            note_attempt(attempt)
        try:
            if timeout is None:
                return settle(fn(*args, **kwargs))
            return _call_with_timeout(task, args, kwargs, timeout, attempt, attempts)
        except Exception as exc:
            if attempt >= attempts or not should_retry(exc, cfg.retry_on):
                raise
            wait = next(waits)
            _log.warning(
                "task %s attempt %d of %d failed (%s: %s); retrying in %.3gs",
                task.name,
                attempt,
                attempts,
                type(exc).__name__,
                exc,
                wait,
            )
            if wait:
                time.sleep(wait)


def settle(value: Any) -> Any:
    """``value``, after resolving the schema of any lazy query in it.

    Lazy frames flow to downstream tasks unexecuted, so polars can fuse their queries; but a
    query's *planning* errors (a missing column, a wrong type) would then surface in the
    consumer and blame it. Resolving the schema (``collect_schema()``: planning only, no data
    is read) makes them fail the task that wrote the query, without giving up the fusion."""
    if isinstance(value, pl.LazyFrame):
        value.collect_schema()
    elif type(value) is tuple:
        for v in value:
            if isinstance(v, pl.LazyFrame):
                v.collect_schema()
    return value


def _call_with_timeout(
    task: Task,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    timeout: float,
    attempt: int,
    attempts: int,
) -> Any:
    box: list[Any] = []
    cur = getattr(_local, "cur", None)

    def target() -> None:
        _local.cur = cur  # the task's lines are still its own on the timeout thread
        try:
            box.append((True, settle(task.fn(*args, **kwargs))))
        except BaseException as exc:  # re-raised in the calling thread
            box.append((False, exc))

    # Python cannot kill a thread: on timeout the call keeps running in a daemon thread and its
    # result is discarded. That is the price of running tasks in-process.
    worker = threading.Thread(target=target, name=f"glacier-task-{task.name}", daemon=True)
    worker.start()
    worker.join(timeout)
    if not box:
        raise TaskTimeoutError(
            f"Task {task.name!r} ({task.location}) exceeded its timeout of {timeout:g}s "
            f"(attempt {attempt} of {attempts}). Raise timeout= on the task, or make it faster."
        )
    ok, value = box[0]
    if ok:
        return value
    raise value

"""The in-process executor: topological order, independent tasks on parallel threads.

Scheduling costs a microsecond or two per task. The calling thread runs tasks itself, without
locks, until tasks wait behind others that take long enough for threads to pay (see
:class:`_Scheduler`); then threads start, up to ``max_workers``. A chain of tasks, or a wide
fan-out of small ones, runs on the calling thread alone.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from glacier.errors import ConfigError
from glacier.executors.base import PreparedRun, run_options
from glacier.result import RUNNING, SKIPPED
from glacier.run_options import RunOptions
from glacier.task_logs import capturing

if TYPE_CHECKING:
    from glacier.pipeline import Pipeline
    from glacier.result import RunResult


class LocalExecutor:
    """Runs a pipeline in this process.

    Args:
        capture_logs: Keep each task's log records and printed lines in its record
            (``TaskRun.logs``); off saves a few hundred nanoseconds per task.
        max_workers: Threads at most (the calling thread included). Defaults to
            ``min(32, cpu_count + 4)``, like :class:`concurrent.futures.ThreadPoolExecutor`;
            polars releases the GIL, so threads parallelise real frame work.

    Example:
        >>> from glacier import Dataset, Environment, Pipeline
        >>> p = Pipeline("demo")
        >>> out = Dataset("out")
        >>> @p.task()
        ... def make() -> out:
        ...     return 42
        >>> LocalExecutor().execute(p, env=Environment.local("demo-data"))["out"]
        42

    It runs in the context it is given (``env=``; ``pipeline.run()`` gives the pipeline's
    environment): an executor never asks a pipeline for one.
    """

    def __init__(self, max_workers: int | None = None, *, capture_logs: bool = True) -> None:
        if max_workers is not None and (
            isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1
        ):
            raise ConfigError(
                f"LocalExecutor: max_workers={max_workers!r} is invalid: use 1 or more threads (a "
                "whole number), or None for one per CPU plus four (at most 32)."
            )
        self.max_workers = max_workers or min(32, (os.cpu_count() or 1) + 4)
        #: Keep each task's log records and printed lines in its record (``TaskRun.logs``).
        self.capture_logs = capture_logs

    def execute(
        self, pipeline: Pipeline, options: RunOptions | None = None, /, **given: Any
    ) -> RunResult:
        """Run the tasks ``targets`` need (all by default) and return the result."""
        options, env, resume = run_options("LocalExecutor", pipeline, options, given)
        targets, params, hooks, use_cache = (
            options.targets,
            options.params,
            options.hooks,
            options.use_cache,
        )
        run = PreparedRun(
            pipeline,
            env,
            targets,
            params,
            use_cache=use_cache,
            hooks=hooks,
            resume=resume,
            executor="local",
            capture_logs=self.capture_logs,
        )
        if len(run):
            if self.capture_logs:
                with capturing():  # once per run: per task, only a thread-local is set
                    _Scheduler(run, self.max_workers).run()
            else:
                _Scheduler(run, self.max_workers).run()
        return run.finish()


#: Whether this Python has a GIL (free-threaded builds run every run in parallel mode).
_GIL: bool = getattr(sys, "_is_gil_enabled", lambda: True)()

#: How often the overseer looks at the progress of the runs it watches, in seconds.
TICK = 0.001
#: Fewer tasks than this finishing in a tick while others wait means tasks are slow enough
#: (over TICK / SLOW_BELOW = 50 µs each) for more threads to pay.
SLOW_BELOW = 20


class _Overseer:
    """One daemon thread, shared by every run in the process, that switches a run from serial
    to parallel mode once its tasks are slow enough (see :class:`_Scheduler`).

    It sleeps while no run has tasks waiting, so idle processes pay nothing, and a run pays
    a lock and a dictionary entry to be watched rather than a thread of its own.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start afresh: also in a forked child, where the lock may have been held and the
        thread does not exist."""
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        #: Each watched run, with its finished count and the time it was last looked at.
        self.runs: dict[_Scheduler, tuple[int, float]] = {}
        self.thread: threading.Thread | None = None

    def watch(self, run: _Scheduler) -> None:
        with self.lock:
            self.runs[run] = (run.finished, time.perf_counter())
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self._loop, name="glacier-overseer", daemon=True
                )
                self.thread.start()
            self.changed.notify()

    def forget(self, run: _Scheduler) -> None:
        with self.lock:
            self.runs.pop(run, None)

    def _loop(self) -> None:
        with self.lock:
            while True:
                while not self.runs:
                    self.changed.wait()
                self.changed.wait(TICK)
                now = time.perf_counter()
                for run, (last, since) in list(self.runs.items()):
                    elapsed = now - since
                    if elapsed < TICK:
                        continue  # watched since less than a tick: too early to tell
                    done = run.finished
                    if run.ready and (done - last) < SLOW_BELOW * elapsed / TICK:
                        del self.runs[run]
                        run.go_parallel()
                    else:
                        self.runs[run] = (done, now)


_OVERSEER = _Overseer()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_OVERSEER.reset)


class _Scheduler:
    """Dependency counting, first on the calling thread alone, then on a pool of threads.

    **Serial mode.** The calling thread runs ready tasks one after the other, counting down
    each finished task's dependants without locks: for small tasks a thread hand-off costs
    more than the task. When a task leaves other ready tasks waiting, the run asks the
    process's :class:`_Overseer` to watch it; once a tick passes in which tasks waited and
    fewer than :data:`SLOW_BELOW` finished, the tasks are slow enough for threads to pay, and
    the overseer switches the run to parallel mode.

    **Parallel mode.** Ready tasks go through a shared queue, counts change under a lock, and
    workers start while more tasks are ready than there are idle workers (up to
    ``max_workers`` threads, the calling thread included). A worker that finishes a task
    keeps one newly ready dependant for itself, so a chain still runs on one thread.

    **The switch.** The calling thread marks the bookkeeping between two tasks with
    :attr:`busy`; the overseer sets :attr:`parallel`. Each sets its own flag before reading
    the other's (Dekker's handshake; Python runs one bytecode at a time, so one of them sees
    the other's flag): the overseer waits until the calling thread is inside a task, moves
    the waiting tasks to the queue and starts workers, and the calling thread, finding
    :attr:`parallel` set after its task, carries on as one of the workers.
    """

    def __init__(self, run: PreparedRun, max_workers: int) -> None:
        self.run_ = run
        self.max_workers = max_workers
        self.remaining = list(run.upstream_count)
        self.total = len(run)
        self.finished = 0
        self.lock = threading.Lock()
        self.queue: queue.SimpleQueue[int] = queue.SimpleQueue()
        self.idle = 0
        self.threads: list[threading.Thread] = []
        self.crash: BaseException | None = None
        self.stopped = False
        # Serial mode: the ready tasks (a stack) and the handshake with the overseer.
        self.ready: list[int] = []
        self.busy = False
        self.parallel = False
        self.handed_over = threading.Event()
        self.watched = False

    def run(self) -> None:
        status = self.run_.table.status
        ready = [i for i, n in enumerate(self.remaining) if n == 0]
        for i in ready:
            status[i] = RUNNING
        ready.reverse()  # a stack: the first source runs first
        self.ready = ready
        if not _GIL and self.max_workers > 1:
            # The serial mode's handshake relies on the GIL: without it, start in parallel.
            self.parallel = True
            for i in reversed(ready[:-1]):
                self.queue.put(i)
            self._spawn_if_needed()
            self._work(ready[-1])
        else:
            try:
                handed = self._serial()
            except BaseException:  # e.g. KeyboardInterrupt in a task: no worker may start now
                self._stop()
                raise
            finally:
                if self.watched:
                    _OVERSEER.forget(self)
            if handed is None:  # every task ran here (a late switch had nothing to hand over)
                return
            i, ok = handed
            self._work(self._done(i, ok))
        for t in self.threads:
            t.join()
        if self.crash is not None:
            raise self.crash

    # -- serial mode -----------------------------------------------------------------------

    def _serial(self) -> tuple[int, bool] | None:
        """Run tasks on this thread until none is left (``None``), or until the overseer
        switched to parallel mode: then the task just run and whether it succeeded."""
        run = self.run_
        execute = run.execute_task
        downstream = run.downstream
        remaining = self.remaining
        status = run.table.status
        ready = self.ready
        pop, push = ready.pop, ready.append
        can_fork = self.max_workers > 1
        self.busy = True
        while ready:
            i = pop()
            if ready and can_fork and not self.watched:
                self.watched = True
                _OVERSEER.watch(self)
            self.busy = False
            ok = execute(i)
            self.busy = True
            if self.parallel:
                self.busy = False
                self.handed_over.wait()
                return i, ok
            self.finished += 1
            if ok:
                for d in reversed(downstream[i]):  # popped in definition order
                    remaining[d] -= 1
                    if remaining[d] == 0 and status[d] != SKIPPED:
                        status[d] = RUNNING
                        push(d)
            else:
                self.finished += len(run.skip_downstream(i))
        self.busy = False
        return None

    def go_parallel(self) -> None:
        """Switch to parallel mode (called by the overseer, from its thread)."""
        self.parallel = True
        while self.busy:  # the calling thread is between two tasks: let it get into one
            time.sleep(0)
        # From here on the calling thread leaves the serial structures alone.
        waiting, self.ready = self.ready, []
        for i in reversed(waiting):
            self.queue.put(i)
        self.handed_over.set()
        self._spawn_if_needed()

    # -- parallel mode ---------------------------------------------------------------------

    def _work(self, first: int = -1) -> None:
        try:
            i = first
            while True:
                while i >= 0:
                    i = self._done(i, self.run_.execute_task(i))
                i = self._next()
                if i < 0:
                    return
        except BaseException as exc:  # a bug in the scheduler must not hang the run
            self.crash = exc
            self._stop()

    def _next(self) -> int:
        """The next queued task, waiting as an idle worker while there is none (-1: stop)."""
        if self.stopped:
            return -1
        try:
            # While tasks are queued, workers take them without touching the lock: on a wide
            # fan-out, locking around every dequeue made the threads queue up behind each
            # other (and the GIL) instead of running tasks.
            return self.queue.get_nowait()
        except queue.Empty:
            pass
        with self.lock:
            self.idle += 1
        i = self.queue.get()
        with self.lock:
            self.idle -= 1
        return i

    def _done(self, i: int, ok: bool) -> int:
        """Count task ``i`` finished; returns a newly ready dependant to run next, or -1."""
        run = self.run_
        keep = -1
        extra = False
        with self.lock:
            self.finished += 1
            if ok:
                remaining = self.remaining
                status = run.table.status
                for d in run.downstream[i]:
                    remaining[d] -= 1
                    if remaining[d] == 0 and status[d] != SKIPPED:
                        status[d] = RUNNING
                        if keep < 0:
                            keep = d
                        else:
                            self.queue.put(d)
                            extra = True
            else:
                self.finished += len(run.skip_downstream(i))
            done = self.finished >= self.total
        if done:
            self._stop()
            return -1
        if extra:
            self._spawn_if_needed()
        return keep

    def _spawn_if_needed(self) -> None:
        with self.lock:
            if self.stopped:
                return
            # qsize is approximate while other workers dequeue; good enough to size the pool.
            want = self.queue.qsize() - self.idle
            room = self.max_workers - 1 - len(self.threads)
            n = min(want, room)
            new = [
                threading.Thread(target=self._work, name="glacier-worker", daemon=True)
                for _ in range(max(n, 0))
            ]
            self.threads.extend(new)
        for t in new:
            t.start()

    def _stop(self) -> None:
        with self.lock:
            if self.stopped:
                return
            self.stopped = True
            n = len(self.threads) + 1
        for _ in range(n):
            self.queue.put(-1)

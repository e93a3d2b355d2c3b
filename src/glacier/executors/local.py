"""The in-process executor: topological order, independent tasks on parallel threads.

Scheduling costs a few microseconds per task. The calling thread is a worker too, and a worker
that finishes a task keeps one newly ready dependant for itself, so a chain runs entirely on
one thread with no hand-offs; extra threads start only when more tasks are ready than there
are busy workers.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from glacier.errors import ConfigError
from glacier.executors.base import PreparedRun
from glacier.result import RUNNING, SKIPPED

if TYPE_CHECKING:
    from glacier.environment import Environment
    from glacier.pipeline import Pipeline
    from glacier.result import RunResult


class LocalExecutor:
    """Runs a pipeline in this process.

    Args:
        max_workers: Threads at most (the calling thread included). Defaults to
            ``min(32, cpu_count + 4)``, like :class:`concurrent.futures.ThreadPoolExecutor`;
            polars releases the GIL, so threads parallelise real frame work.

    Example:
        >>> from glacier import Pipeline, Dataset
        >>> p = Pipeline("demo")
        >>> out = Dataset("out")
        >>> @p.task()
        ... def make() -> out:
        ...     return 42
        >>> LocalExecutor().execute(p)["out"]
        42
    """

    def __init__(self, max_workers: int | None = None) -> None:
        if max_workers is not None and max_workers < 1:
            raise ConfigError(
                f"LocalExecutor: max_workers={max_workers} is invalid: use 1 or more threads, "
                "or None for one per CPU plus four (at most 32)."
            )
        self.max_workers = max_workers or min(32, (os.cpu_count() or 1) + 4)

    def execute(
        self,
        pipeline: Pipeline,
        targets: Sequence[Any] | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        env: Environment | None = None,
        use_cache: bool = True,
        hooks: Sequence[object] = (),
        resume: Mapping[str, Any] | None = None,
    ) -> RunResult:
        """Run the tasks ``targets`` need (all by default) and return the result."""
        if env is None:
            env = pipeline.environment()
        run = PreparedRun(
            pipeline, env, targets, params, use_cache=use_cache, hooks=hooks, resume=resume
        )
        if len(run):
            _Scheduler(run, self.max_workers).run()
        return run.finish()


class _Scheduler:
    """Dependency counting over a shared queue; see the module docstring for the idea."""

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

    def run(self) -> None:
        runs = self.run_.runs
        ready = [i for i, n in enumerate(self.remaining) if n == 0]
        for i in ready:
            runs[i].status = RUNNING
        # The calling thread takes the first ready task itself and only the others are
        # queued, so a pipeline with a single source (a chain) starts no thread at all.
        for i in ready[1:]:
            self.queue.put(i)
        self._spawn_if_needed()
        self._work(ready[0])
        for t in self.threads:
            t.join()
        if self.crash is not None:
            raise self.crash

    def _work(self, first: int = -1) -> None:
        try:
            i = first
            while True:
                while i >= 0:
                    i = self._step(i)
                i = self._next()
                if i < 0:
                    return
        except BaseException as exc:  # a bug in the scheduler must not hang the run
            self.crash = exc
            self._stop()

    def _next(self) -> int:
        """The next queued task, waiting as an idle worker while there is none (-1: stop)."""
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

    def _step(self, i: int) -> int:
        run = self.run_
        ok = run.execute_task(i)
        keep = -1
        extra = False
        with self.lock:
            self.finished += 1
            if ok:
                remaining = self.remaining
                runs = run.runs
                for d in run.downstream[i]:
                    remaining[d] -= 1
                    if remaining[d] == 0 and runs[d].status != SKIPPED:
                        runs[d].status = RUNNING
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

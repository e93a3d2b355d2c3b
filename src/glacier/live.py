"""A run hook that keeps a running run's record in the run store as it progresses.

A run is recorded when it ends; ``glacier ui`` shows a run while it runs because this hook
writes it before: status ``running``, each task as the executor last reported it (pending,
running with its attempt, succeeded, failed, with its logs so far). ``glacier run`` installs
it::

    from glacier.live import LiveRecord

    pipeline.run(hooks=[LiveRecord(env.container.run_store())])

Writes happen on one background thread, at most every ``interval`` seconds and only when
something changed, so a task's thread never waits on the database. The final record replaces
the progress one and is never replaced by it (:meth:`glacier.runstore.RunStore.record`). A
process killed mid-run leaves its run ``running`` in the store, as it last was.
"""

from __future__ import annotations

import threading
import time
import warnings
from typing import TYPE_CHECKING

from glacier.result import RunResult, TaskRun

if TYPE_CHECKING:
    from glacier.runstore import RunStore

__all__ = ["LiveRecord"]


class LiveRecord:
    """Writes the run in progress to ``store`` every ``interval`` seconds while it changes."""

    def __init__(self, store: RunStore, interval: float = 0.5) -> None:
        self.store = store
        self.interval = interval
        self._lock = threading.Lock()
        self._run: RunResult | None = None
        self._tasks: dict[str, TaskRun] = {}
        self._changed = False
        self._stop = threading.Event()
        self._writer: threading.Thread | None = None

    def on_run_start(self, pipeline: str, run_id: str, tasks: list[str]) -> None:
        with self._lock:
            self._tasks = {name: TaskRun(name) for name in tasks}
            self._run = RunResult(
                pipeline,
                run_id,
                tasks=self._tasks,
                started=time.time(),
                clock_ns=time.perf_counter_ns(),
            )
        self._write()
        self._stop.clear()
        self._writer = threading.Thread(target=self._loop, name="glacier-live-record", daemon=True)
        self._writer.start()

    def on_task_start(self, run: TaskRun) -> None:
        with self._lock:
            self._tasks[run.name] = run
            self._changed = True

    def on_task_end(self, run: TaskRun) -> None:
        self.on_task_start(run)

    def on_run_end(self, result: RunResult) -> None:
        self._stop.set()
        if self._writer is not None:
            self._writer.join()
            self._writer = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            if self._changed:
                self._write()

    def _write(self) -> None:
        with self._lock:
            run = self._run
            if run is None:
                return
            self._changed = False
            snapshot = RunResult(
                run.pipeline,
                run.run_id,
                tasks=dict(self._tasks),
                started=run.started,
                duration=time.time() - run.started,
                clock_ns=run.clock_ns,
            )
        try:
            self.store.record(snapshot, running=True)
        except Exception as exc:  # progress is a convenience: the run goes on without it
            warnings.warn(
                f"Could not record the progress of run {run.run_id} in {self.store.path}: {exc}",
                RuntimeWarning,
                stacklevel=2,
            )

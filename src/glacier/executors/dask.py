"""Run a pipeline on a Dask cluster, for work that outgrows one machine (see ``docs/scaling.md``).

The executor only schedules: each task becomes one Dask task running the shared per-task path
(:meth:`~glacier.executors.base.PreparedRun.execute_task`: retries, timeout, cache, stored
writes) on a worker. What happens where:

- **Workers** get one copy of the run without its hooks (as a worker plugin, not pickled
  into every task), run tasks, and keep each output in their memory: a consumer receives
  its inputs as the producers' futures, worker to worker. Stored datasets are written and
  read by the worker through the run's buckets, which carry settings, never secrets:
  credentials resolve on the worker through the cloud's own chain.
- **The client** (this process) owns the run: workers publish task start and end events on
  a Dask topic; the client turns them into records, hooks (the live display) and the run
  record, here, in order. Only the outputs of the requested targets (without targets, of
  the tasks nothing else in the run consumes) come back.

Why the run travels as a worker plugin: as a Dask dependency of every task (it was a task
whose result every task took), it pulled every task to the worker holding it, since the
scheduler places a task where its dependencies are; 8 independent tasks on 2 workers ran
8:0 until work stealing moved a few (5:3 measured, 1.59x on 2 workers where
``multiprocessing.Pool`` got 1.86x). A plugin is no dependency, so the scheduler spreads
tasks by its own estimate of each worker's load; the scheduler keeps the plugin and hands it
to every worker that joins later, so a worker restarted after a crash has the run too.
"""

from __future__ import annotations

import copy
import logging
import os
import pickle
import queue
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from glacier.dataset import Dataset
from glacier.errors import ConfigError, ExecutionError, NotSerializableError, WorkerLostError
from glacier.executors.base import PreparedRun, run_options
from glacier.extras import check_installed, require
from glacier.result import FAILED, RUNNING, SKIPPED, SUCCEEDED, TaskTable
from glacier.run_options import RunOptions
from glacier.settings.execution import check_scheduler_address
from glacier.task_logs import RunLogs, capturing

if TYPE_CHECKING:
    from glacier.pipeline import Pipeline
    from glacier.result import RunResult

__all__ = ["DaskExecutor"]

_FINAL = (SUCCEEDED, FAILED, SKIPPED)

#: How long the client waits for a finished task's end event before calling it lost.
EVENT_GRACE = 30.0

#: Marks, in a task record's ``workers``, an attempt whose worker died while holding it.
LOST = "(lost)"


def _key(task: str, run_id: str) -> str:
    """The Dask key of a task of a run (the scheduler names lost tasks by it)."""
    return f"{task}-{run_id}"


class DaskExecutor:
    """Runs each task on a Dask worker; hooks, progress and run records stay in this process.

    Args:
        address: Where the cluster is: a scheduler address (``"tcp://host:8786"``), a
            ``distributed.Client`` (used as is, never closed here), or any cluster object
            with a ``.scheduler_address`` (``LocalCluster``, dask-kubernetes' ``KubeCluster``,
            Coiled, dask-gateway). ``None`` starts a ``LocalCluster`` for the run.
        n_workers: The local cluster's worker count (default: one per core).
        threads_per_worker: Threads in each local worker (1: CPU-bound Python scales by
            processes, not threads).
        processes: Local workers as processes (real parallelism for pure-Python tasks);
            ``False`` runs them as threads of this process.
        keep_cluster: Keep the local cluster for later runs of this executor rather than
            starting one per run; :meth:`close` (or leaving a ``with`` block) ends it.

    Example:
        >>> executor = DaskExecutor("tcp://scheduler:8786")
        >>> executor.address
        'tcp://scheduler:8786'
        >>> DaskExecutor(n_workers=2, keep_cluster=True).n_workers
        2
    """

    def __init__(
        self,
        address: Any = None,
        n_workers: int | None = None,
        *,
        threads_per_worker: int = 1,
        processes: bool = True,
        keep_cluster: bool = False,
    ) -> None:
        if n_workers is not None and n_workers < 1:
            raise ConfigError(
                f"DaskExecutor: n_workers={n_workers} is invalid: use 1 or more, or None for "
                "one worker per core."
            )
        if threads_per_worker < 1:
            raise ConfigError(
                f"DaskExecutor: threads_per_worker={threads_per_worker} is invalid: use 1 or more."
            )
        if not (
            address is None
            or isinstance(address, str)
            or _is_client(address)
            or isinstance(getattr(address, "scheduler_address", None), str)
        ):
            raise ConfigError(
                f"DaskExecutor: address={address!r} is not a scheduler address, a "
                "distributed.Client or a cluster object with .scheduler_address; pass "
                "e.g. 'tcp://scheduler:8786'."
            )
        if isinstance(address, str):
            try:
                check_scheduler_address(address)
            except ValueError as exc:
                raise ConfigError(f"DaskExecutor: address={address!r} is invalid: {exc}.") from None
        # Here, before any task runs (without importing distributed: that is for the run).
        check_installed(("distributed", "cloudpickle"), "dask", "The Dask executor")
        self.address = address
        self.n_workers = n_workers
        self.threads_per_worker = threads_per_worker
        self.processes = processes
        self.keep_cluster = keep_cluster
        self._kept: tuple[Any, Any] | None = None  # (cluster, client) kept for the process

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the local cluster kept by ``keep_cluster=True`` (nothing otherwise)."""
        if self._kept is not None:
            cluster, client = self._kept
            self._kept = None
            with _quiet_local_cluster():
                client.close()
                cluster.close()

    def execute(
        self, pipeline: Pipeline, options: RunOptions | None = None, /, **given: Any
    ) -> RunResult:
        """Run the tasks ``targets`` need on the cluster and return the result."""
        options, env, resume = run_options("DaskExecutor", pipeline, options, given)
        targets, params, hooks, use_cache = (
            options.targets,
            options.params,
            options.hooks,
            options.use_cache,
        )
        run = PreparedRun(
            pipeline, env, targets, params, use_cache=use_cache, hooks=hooks, resume=resume
        )
        if len(run):
            payload = _portable(run)
            with self._client() as client:
                _DaskRun(client, run, payload, _wanted(run, targets)).go()
        return run.finish()

    # -- the cluster -------------------------------------------------------------------------

    @contextmanager
    def _client(self) -> Iterator[Any]:
        distributed = _distributed()
        address = self.address
        if _is_client(address):
            yield address
            return
        if address is None:
            with _quiet_local_cluster():
                if self._kept is not None:
                    yield self._kept[1]
                    return
                cluster = distributed.LocalCluster(
                    n_workers=self.n_workers or os.cpu_count() or 1,
                    threads_per_worker=self.threads_per_worker,
                    processes=self.processes,
                    dashboard_address=None,
                    # Its HTTP server (health, metrics) on a free port: the default, 8787,
                    # is taken by any other cluster on the machine, and Dask warns of it.
                    scheduler_kwargs={"dashboard_address": ":0"},
                )
                client = distributed.Client(cluster, set_as_default=False)
                if self.keep_cluster:
                    self._kept = (cluster, client)
                    yield client
                    return
                try:
                    yield client
                finally:
                    client.close()
                    cluster.close()
            return
        if isinstance(address, str | distributed.deploy.Cluster):
            client = distributed.Client(address, set_as_default=False)
        else:  # a cluster-like object of another library: its address and security
            client = distributed.Client(
                address.scheduler_address,
                security=getattr(address, "security", None),
                set_as_default=False,
            )
        try:
            yield client
        finally:
            client.close()


@contextmanager
def _quiet_local_cluster() -> Iterator[None]:
    """Warnings only from distributed while a local cluster of Glacier's own starts, runs and
    closes: its scheduler and nannies live in this process and log every step at INFO, which
    ``glacier run`` would print (about 35 lines a run). A cluster the caller gives is theirs
    to configure, and is left alone."""
    log = logging.getLogger("distributed")
    before = log.level
    if log.getEffectiveLevel() < logging.WARNING:
        log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(before)


def _ignore_event(event: Any) -> None:
    """Takes the events a run's topics receive after the run stopped listening."""


_ignore_event.glacier_run = True  # type: ignore[attr-defined]


class _DaskRun:
    """One run on a client: submit every task, then turn events into records and hooks."""

    def __init__(self, client: Any, run: PreparedRun, payload: PreparedRun, wanted: set[int]):
        self.client = client
        self.run = run
        self.payload = payload
        self.wanted = wanted
        self.topic = f"glacier-{run.run_id}"
        self.events: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        n = len(run)
        self.upstream: list[list[int]] = [[] for _ in range(n)]
        for u, downs in enumerate(run.downstream):
            for d in downs:
                self.upstream[d].append(u)
        # Where each attempt ran: the workers lost while holding the task (each an attempt
        # that never ended), then the worker of the attempt under way.
        self.lost: list[list[str]] = [[] for _ in range(n)]
        self.current: list[str | None] = [None] * n
        self.index = {_key(task.name, run.run_id): i for i, task in enumerate(run.tasks)}
        self.errored: dict[int, BaseException] = {}
        self.finished_futures = 0
        self.plugin = f"glacier-run-{run.run_id}"
        # The client's wall clock at the run's start: workers report wall-clock times, which
        # become offsets on this process's perf_counter clock (workers have their own).
        self.wall0_ns = round(run.started * 1e9)

    def go(self) -> None:
        client, run = self.client, self.run
        client.subscribe_topic(self.topic, lambda event: self.events.put(tuple(event[1])))
        # The scheduler announces a lost worker, with the tasks it held, on the topic "all":
        # the one reliable word of an attempt killed before its start event left the worker.
        # Client.unsubscribe_topic leaves its handler in this table: a handler found here is
        # a subscription of the caller's own (or a stale one of an earlier run, dropped below).
        handlers: dict[str, Any] = getattr(client, "_event_handlers", {})
        previous = handlers.get("all")
        if getattr(previous, "glacier_run", False):
            previous = None

        def on_cluster_event(event: Any) -> None:
            message = event[1]
            if isinstance(message, dict) and message.get("action") == "remove-worker":
                keys = message.get("processing-tasks") or ()
                held = [self.index[k] for k in keys if k in self.index]
                if held:
                    self.events.put(("lost", held, str(message.get("worker", "?"))))
            if previous is not None:
                previous(event)

        on_cluster_event.glacier_run = True  # type: ignore[attr-defined]
        client.subscribe_topic("all", on_cluster_event)
        futures: list[Any] = [None] * len(run.tasks)
        registered = False
        try:
            import cloudpickle

            try:
                blob = cloudpickle.dumps(self.payload)
            except Exception as exc:
                raise explain_unserializable(run, exc) from exc
            # Every worker, and every worker that joins later (a restarted one too), gets
            # the run from the scheduler; no task depends on it (see the module docstring).
            client.register_plugin(_payload_plugin(self.plugin, blob), name=self.plugin)
            registered = True
            for i in _submission_order(self.upstream):
                task = run.tasks[i]
                deps = [futures[u] for u in self.upstream[i]]
                future = client.submit(
                    _run_task,
                    self.plugin,
                    self.topic,
                    i,
                    tuple(self.upstream[i]),
                    *deps,
                    key=_key(task.name, run.run_id),
                    pure=False,
                )
                future.add_done_callback(lambda f, i=i: self.events.put(("done", i, f)))
                futures[i] = future
            self._follow()
            wanted = [i for i in sorted(self.wanted) if run.table.status[i] == SUCCEEDED]
            values = client.gather([futures[i] for i in wanted])
            for i, outputs in zip(wanted, values, strict=True):
                run.outputs[i] = outputs
        finally:
            client.unsubscribe_topic(self.topic)
            # Events already on their way still arrive: a quiet handler takes them (without
            # one, the client logs an error for each).
            handlers[self.topic] = _ignore_event
            if previous is not None:
                client.subscribe_topic("all", previous)
            else:
                # Unsubscribed before the client closes: a scheduler still sending this
                # client the events of "all" would log a closed comm at CRITICAL level.
                client.unsubscribe_topic("all")
                handlers["all"] = _ignore_event
            submitted = [f for f in futures if f is not None]
            if any(not f.done() for f in submitted):  # interrupted: stop what is left
                client.cancel(submitted)
            if registered:
                _drop_plugin(client, self.plugin)

    def _follow(self) -> None:
        """Handle events until every task has its final status."""
        status = self.run.table.status
        n = len(status)
        unresolved = n
        last_event = time.monotonic()
        while unresolved:
            try:
                event = self.events.get(timeout=0.5)
            except queue.Empty:
                if self.finished_futures == n:
                    self._settle_errors()
                    if time.monotonic() - last_event > EVENT_GRACE:
                        self._give_up()
                unresolved = n - sum(s in _FINAL for s in status)
                continue
            last_event = time.monotonic()
            kind, i = event[0], event[1]
            if kind == "start":
                self._started(i, event[2], event[3])
            elif kind == "end":
                self._ended(i, event[2], event[3])
            elif kind == "lost":
                self._lost(i, event[2])
            else:
                self.finished_futures += 1
                future = event[2]
                if future.status == "error":
                    self.errored[i] = future.exception()
                    self._settle_errors()
                elif future.status == "cancelled":
                    self.errored[i] = ExecutionError(
                        f"Task {self.run.tasks[i].name!r} was cancelled on the cluster."
                    )
                    self._settle_errors()
            unresolved = n - sum(s in _FINAL for s in status)

    def attempts_on(self, i: int) -> list[str]:
        """Where task ``i``'s attempts ran so far: lost workers (marked), then the current."""
        ran = [f"{w} {LOST}" for w in self.lost[i]]
        current = self.current[i]
        return [*ran, current] if current is not None else ran

    def _lost(self, held: list[int], worker: str) -> None:
        """``worker`` died holding the tasks ``held``: each had an attempt there that never
        ended (whether or not its start event left the worker before it died)."""
        table = self.run.table
        for i in held:
            if table.status[i] in _FINAL:
                continue
            self.lost[i].append(worker)
            if self.current[i] == worker:
                self.current[i] = None
            table.workers[i] = tuple(self.attempts_on(i))

    def _started(self, i: int, worker: str, wall_ns: int) -> None:
        run, table = self.run, self.run.table
        previous = self.current[i]
        if previous is not None and previous != worker:
            self.lost[i].append(previous)  # started again elsewhere: that attempt was lost
        self.current[i] = worker
        table.workers[i] = tuple(self.attempts_on(i))
        if table.status[i] in _FINAL:  # the end overtook the start; nothing to announce
            return
        table.status[i] = RUNNING
        table.started_ns[i] = run._t0 + (wall_ns - self.wall0_ns)
        if run.hooks:
            run.hooks.task_start(table.record(i))

    def _ended(self, i: int, blob: bytes, wall_ns: int) -> None:
        run, table = self.run, self.run.table
        record = pickle.loads(blob)
        record.started_ns = run._t0 + (wall_ns - self.wall0_ns)
        # One entry per attempt: the lost ones, then the worker that ran the final Dask task
        # once per attempt it made there (retries run on the same worker).
        lost = [f"{w} {LOST}" for w in self.lost[i]]
        final = self.current[i] or "?"
        record.workers = (*lost, *[final] * max(1, record.attempts))
        record.attempts += len(lost)
        table.set(i, record)
        if run.hooks:
            run.hooks.task_end(table.record(i))
        if record.status != SUCCEEDED:
            run.skip_downstream(i)

    def _settle_errors(self) -> None:
        """Fail the tasks whose Dask task itself failed (a lost worker, a crash outside the
        task's code) once their upstream tasks succeeded; the others are skipped."""
        table = self.run.table
        for i, exc in list(self.errored.items()):
            if table.status[i] in _FINAL:
                del self.errored[i]
            elif all(table.status[u] == SUCCEEDED for u in self.upstream[i]):
                del self.errored[i]
                self._fail(i, _worker_failure(self.run.tasks[i].name, exc, self.attempts_on(i)))

    def _give_up(self) -> None:
        for i, s in enumerate(self.run.table.status):
            if s not in _FINAL:
                self._fail(
                    i,
                    ExecutionError(
                        f"Task {self.run.tasks[i].name!r}: its Dask task finished but no record "
                        f"reached the client within {EVENT_GRACE:g}s."
                    ),
                )

    def _fail(self, i: int, error: BaseException) -> None:
        run, table = self.run, self.run.table
        table.status[i] = FAILED
        table.error[i] = error
        table.attempts[i] = max(table.attempts[i], len(self.attempts_on(i)))
        table.workers[i] = tuple(self.attempts_on(i))
        if run.hooks:
            run.hooks.task_end(table.record(i))
        run.skip_downstream(i)


def _submission_order(upstream: list[list[int]]) -> list[int]:
    """Task indexes, each after its upstream tasks: the run's own order (one pass), unless
    data checks made a task wait for a later one (see :mod:`glacier.checks.gate`)."""
    done = [False] * len(upstream)
    order: list[int] = []
    pending = list(range(len(upstream)))
    while pending:
        waiting = []
        for i in pending:
            if all(done[u] for u in upstream[i]):
                done[i] = True
                order.append(i)
            else:
                waiting.append(i)
        pending = waiting
    return order


# -- on the worker ---------------------------------------------------------------------------


class _NoKeys(dict[int, str | None]):
    """Upstream cache keys live on other workers; a missing one makes the cache key use the
    input's fingerprint instead."""

    def __missing__(self, key: int) -> None:
        return None


def _payload_plugin(name: str, blob: bytes) -> Any:
    """The worker plugin carrying a run (``blob``, its pickle) to every worker as ``name``.

    Its class derives from distributed's ``WorkerPlugin`` (workers accept nothing else), so
    it is made on first use: importing this module must not import distributed. The plugin
    pickles as a call of this function, so a worker never looks the class up by name.
    """
    global _PAYLOAD_PLUGIN
    if _PAYLOAD_PLUGIN is None:
        from distributed.diagnostics.plugin import WorkerPlugin

        class RunPayload(WorkerPlugin):
            """A run on a worker, unpickled by the first task that needs it (in a task
            thread: the worker's event loop stays free)."""

            def __init__(self, name: str, blob: bytes) -> None:
                self.name = name
                self.blob = blob
                self._lock = threading.Lock()
                self._run: PreparedRun | None = None

            def __reduce__(self) -> tuple[Any, tuple[str, bytes]]:
                return _payload_plugin, (self.name, self.blob)

            def run(self) -> PreparedRun:
                with self._lock:
                    if self._run is None:
                        self._run = pickle.loads(self.blob)
                    return self._run

        _PAYLOAD_PLUGIN = RunPayload
    return _PAYLOAD_PLUGIN(name, blob)


_PAYLOAD_PLUGIN: Any = None


def _drop_plugin(client: Any, name: str) -> None:
    """Remove a finished run's plugin from the scheduler and the workers."""
    try:
        client.unregister_worker_plugin(name)
    except Exception as exc:  # a closed client or a lost scheduler: nothing left to free
        logging.getLogger(__name__).debug("Dask: plugin %s not removed: %s", name, exc)


def _run_task(
    plugin: str, topic: str, i: int, upstream: tuple[int, ...], *inputs: Any
) -> tuple[Any, ...] | None:
    """Run task ``i`` on this worker; its outputs, or ``None`` if it (or an upstream) failed.

    ``plugin`` names the worker plugin holding the run; ``inputs`` are the upstream tasks'
    outputs, which Dask brought from their workers.
    """
    from distributed import get_worker

    if any(outputs is None for outputs in inputs):
        return None  # an upstream task failed: the client marks this one skipped
    worker = get_worker()
    payload: Any = worker.plugins.get(plugin)
    if payload is None:  # the run ended (or was interrupted) before this task started
        raise ExecutionError(
            f"Worker {worker.address} has no run {plugin!r}: the run that submitted task "
            f"#{i} has ended; run the pipeline again."
        )
    run = payload.run()
    worker.log_event(topic, ("start", i, worker.address, time.time_ns()))
    # Worker threads share the run: each task gets its own view of outputs and records.
    local = copy.copy(run)
    local.outputs = dict(zip(upstream, inputs, strict=True))  # type: ignore[assignment]
    local.table = TaskTable(run.plan.names, run.plan.locations)
    local.keys = _NoKeys()  # type: ignore[assignment]
    if run.logs is not None:  # what the task logs and prints goes into its own record
        local.logs = RunLogs(run.run_id, run.logs.environment, run.plan.names, local.table.logs)
        with capturing(), _root_level(logging.INFO):
            ok = local.execute_task(i)
    else:
        ok = local.execute_task(i)
    record = local.table.record(i)
    wall_start = time.time_ns() - (time.perf_counter_ns() - (record.started_ns or 0))
    worker.log_event(topic, ("end", i, _pickled_record(record), wall_start))
    return local.outputs[i] if ok else None


_level_lock = threading.Lock()
_level_users = 0
_level_saved = logging.NOTSET


@contextmanager
def _root_level(level: int) -> Iterator[None]:
    """The root logger passes records at ``level`` and above while a task runs here (as it
    does in a ``glacier run``, where the CLI sets it), so a task's INFO lines reach its
    record; counted across the worker's threads, restored by the last."""
    global _level_users, _level_saved
    root = logging.getLogger()
    with _level_lock:
        if _level_users == 0:
            _level_saved = root.level
            if root.getEffectiveLevel() > level:
                root.setLevel(level)
        _level_users += 1
    try:
        yield
    finally:
        with _level_lock:
            _level_users -= 1
            if _level_users == 0:
                root.setLevel(_level_saved)


def _pickled_record(record: Any) -> bytes:
    try:
        return pickle.dumps(record)
    except Exception:  # an exception that does not pickle: keep its type name and message
        error = record.error
        record.error = ExecutionError(f"{type(error).__name__}: {error}")
        return pickle.dumps(record)


# -- what is sent, and what goes wrong -------------------------------------------------------


def _portable(run: PreparedRun) -> PreparedRun:
    """The copy of ``run`` workers get: no hooks (they stay here), no outputs yet."""
    _ship_unimportable_modules(run)
    payload = copy.copy(run)
    payload.hooks = None
    # Workers run tasks through what the run resolved here (configs, parameters, resources,
    # buckets, the cache); the environment and the pipeline stay with the client.
    payload.env = None  # type: ignore[assignment]
    payload.pipeline = None  # type: ignore[assignment]
    payload.outputs = [None] * len(run)
    payload.table = TaskTable(run.plan.names, run.plan.locations)
    payload._scans = {}
    return payload


def _ship_unimportable_modules(run: PreparedRun) -> None:
    """Have the tasks of modules a worker cannot import pickled by value.

    A pipeline file ``glacier run`` loaded by path lives in a module no worker can import
    by name, so pickling its functions by reference (cloudpickle's default for modules)
    would fail on the worker; its code travels with the tasks instead.
    """
    import importlib.machinery

    import cloudpickle

    names: set[str] = {getattr(task.fn, "__module__", None) or "" for task in run.tasks}
    for name in names - _SHIPPED:
        module = sys.modules.get(name)
        if module is None or name == "__main__":
            continue
        top = name.split(".")[0]
        findable = importlib.machinery.PathFinder.find_spec(top, sys.path) is not None
        if not findable and top not in sys.builtin_module_names:
            cloudpickle.register_pickle_by_value(module)
        _SHIPPED.add(name)


#: Modules already looked at by _ship_unimportable_modules.
_SHIPPED: set[str] = set()


def explain_unserializable(run: PreparedRun, exc: BaseException) -> NotSerializableError:
    """The error naming what of ``run`` could not be pickled for the workers, and the fix."""
    import cloudpickle

    def fails(value: Any) -> str | None:
        try:
            cloudpickle.dumps(value)
        except Exception as err:
            return f"{type(err).__name__}: {err}"
        return None

    for i, task in enumerate(run.tasks):
        why = fails(task.fn)
        if why is not None:
            return NotSerializableError(
                f"Task {task.name!r} ({task.location}) cannot be sent to Dask workers: its "
                f"function, or something its closure or globals refer to, does not pickle "
                f"({why}). Create locks, clients, connections and open files inside the "
                "task (or pass them as resources), not around it."
            )
        for name, value in run.static[i].items():
            why = fails(value)
            if why is not None:
                return NotSerializableError(
                    f"Parameter {name!r} of task {task.name!r} ({task.location}) cannot be "
                    f"sent to Dask workers: {type(value).__name__} does not pickle ({why}). "
                    "Pass plain values (or a resource the worker can build), or run this "
                    "pipeline with the local executor."
                )
    why = fails(run.env) or f"{type(exc).__name__}: {exc}"
    return NotSerializableError(
        f"The run of pipeline {run.pipeline.name!r} cannot be sent to Dask workers: its "
        f"environment {run.env.name!r} does not pickle ({why}). Keep unpicklable objects out "
        "of registered resources and settings."
    )


def _worker_failure(task: str, exc: BaseException, workers: list[str]) -> BaseException:
    if type(exc).__name__ == "KilledWorker":
        where = ", ".join(workers) or "its workers"
        return WorkerLostError(
            f"Task {task!r} was running when its worker died, {len(workers)} time(s) "
            f"({where}), more than the cluster's 'distributed.scheduler.allowed-failures' "
            "allows. A task that exhausts a worker's memory kills it: give workers more "
            "memory, or split the task."
        )
    return exc


# -- helpers ---------------------------------------------------------------------------------


def _wanted(run: PreparedRun, targets: Sequence[Any] | None) -> set[int]:
    """The tasks whose outputs come back: those producing a target, and those nothing in
    the run consumes (with no targets, these are the pipeline's results)."""
    # The plan's consumers: data checks may make a sink wait for another (run.downstream).
    wanted = {i for i, downs in enumerate(run.plan.downstream) if not downs}
    if targets is None:
        return wanted
    if isinstance(targets, str | Dataset) or hasattr(targets, "fn"):
        targets = [targets]
    names = {t if isinstance(t, str) else getattr(t, "name", None) for t in targets}
    for i, task in enumerate(run.tasks):
        if task.name in names or any(ds.name in names for ds in task.outputs):
            wanted.add(i)
    return wanted


def _distributed() -> Any:
    return require("distributed", "dask", "The Dask executor")


def _is_client(value: Any) -> bool:
    return type(value).__name__ == "Client" and hasattr(value, "submit")

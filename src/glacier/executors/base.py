"""What every executor shares: preparing a run, running one task, and bookkeeping.

An executor only decides *where* and *when* tasks run (threads, a Dask cluster). Everything
else lives here, once: resolving params and resources, retries with backoff, timeouts, the
cache, writing stored datasets, schema checks, task records and hooks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Protocol

import polars as pl

from glacier.cache import fingerprint, identity_changes, task_identity
from glacier.checks.gate import RunChecks, gate
from glacier.dataset import Dataset
from glacier.errors import (
    ConfigError,
    ExecutionError,
    SchemaMismatchError,
    UnknownTaskError,
    UpstreamQueryError,
)
from glacier.executors.attempts import invoke, settle
from glacier.executors.outputs import check_writes, partly_written, write_order
from glacier.format_checks import check_outputs
from glacier.hooks import HookSet
from glacier.result import (
    FAILED,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    RunResult,
    TaskRun,
    TaskTable,
    new_run_id,
)
from glacier.retries import delays, should_retry
from glacier.row_counts import rows_of
from glacier.schemas import compare_schemas
from glacier.selection import TaskSelection
from glacier.task_code import code_identity
from glacier.task_code import prepare as read_sources
from glacier.task_logs import RunLogs, note_attempt
from glacier.task_logs import _local as _local  # the hot path sets the thread's task itself

if TYPE_CHECKING:
    from glacier.cache import TaskCache
    from glacier.context import RunContext
    from glacier.pipeline import Pipeline
    from glacier.resources import Bucket
    from glacier.run_options import RunOptions
    from glacier.settings import TaskConfig
    from glacier.task import Task


_now_ns = time.perf_counter_ns
_LazyFrame = pl.LazyFrame
_log = logging.getLogger(__name__)
# Errors of planning a lazy query. Every upstream task's query was planned when that task
# ended (settle), so a planning error is the running task's own; an error while executing
# may come from any query fused into the running one.
_PLANNING = (
    pl.exceptions.ColumnNotFoundError,
    pl.exceptions.SchemaError,
    pl.exceptions.SchemaFieldNotFoundError,
    pl.exceptions.DuplicateError,
)


class Executor(Protocol):
    """Runs a pipeline's tasks and returns a :class:`~glacier.RunResult`."""

    def execute(
        self, pipeline: Pipeline, options: RunOptions | None = None, /, **given: Any
    ) -> RunResult:
        """Run the tasks ``options.targets`` need in ``options.env`` (the run's context),
        with its params, cache, hooks and the record to resume from; options named as
        keywords refine ``options`` (``execute(pipeline, env=env)``)."""
        ...


class PreparedRun:
    """One run of (part of) a pipeline, ready to execute task by task in any order that
    respects :attr:`downstream`. Executors call :meth:`execute_task` and
    :meth:`skip_downstream`; everything else is bookkeeping they need not know about.

    This is the one per-task execution path (params, resources, cache, retries, timeout,
    stored outputs, records, hooks): executors, eager data-flow calls (one node each) and
    deployed tasks (``only=`` their index) all run tasks through :meth:`execute_task`, with
    what is particular to each coming from their :class:`~glacier.context.RunContext`.
    ``announce=False`` leaves ``on_run_start`` to a caller that runs many of these as one
    run. ``executor`` names the executor running it, to refuse tasks asking for another.
    ``capture_logs`` keeps each task's log records and printed lines in its record (see
    :mod:`glacier.task_logs`) while the executor holds :func:`~glacier.task_logs.capturing`
    open, once per run."""

    def __init__(
        self,
        pipeline: Pipeline,
        env: RunContext,
        targets: Sequence[Any] | None,
        params: Mapping[str, Any] | None,
        *,
        use_cache: bool,
        hooks: Sequence[object],
        resume: Mapping[str, Any] | None = None,
        only: Sequence[int] | None = None,
        announce: bool = True,
        executor: str | None = None,
        capture_logs: bool = True,
    ) -> None:
        dag = pipeline.dag
        if isinstance(targets, str | Dataset) or hasattr(targets, "fn"):
            targets = [targets]  # type: ignore[list-item]  # one target, not its characters
        if params is not None and not isinstance(params, Mapping):
            raise ConfigError(
                f"Run params are a mapping of 'task.param' to value, e.g. "
                f'params={{"extract.n": 10}}; got {type(params).__name__}.'
            )
        # The wiring depends only on the DAG and the targets, and is cached there; what
        # follows is what depends on this run (params, resources, configs, records).
        first = targets[0] if targets else None
        if isinstance(first, TaskSelection):  # exactly these tasks, not their upstream
            targets, only = None, first.indexes
        plan = dag.selection(dag.needed_for(targets) if only is None else only)
        self.pipeline = pipeline
        self.plan = plan
        self.env = env
        self.run_id = new_run_id()
        self.tasks: list[Task] = list(plan.tasks)
        overrides = _split_params(params, self.tasks) if params else {}
        # Each task's keyword arguments other than its inputs; execute_task copies them, so
        # a task without run params or resources shares its own defaults.
        self.static: list[dict[str, Any]] = [t.params for t in self.tasks]
        if overrides or plan.has_resources:
            for i, t in enumerate(self.tasks):
                if t.resources or t.name in overrides:
                    kw = {**t.params, **overrides.get(t.name, {})}
                    if t.resources:
                        kw.update(env.resolve_resources(t))
                    self.static[i] = kw
        self.configs: list[TaskConfig] = list(map(env.task_config, self.tasks))
        self.sources: list[tuple[tuple[str, int, int, Dataset], ...]] = list(plan.sources)
        self.downstream: list[tuple[int, ...]] = list(plan.downstream)
        self.upstream_count = list(plan.upstream_count)
        self.storage: dict[Dataset, Bucket] = env.buckets_for(plan.datasets)
        # Whether any output needs a schema check or a write; if none does (in-memory
        # pipelines), execute_task hands outputs on without looking at each dataset.
        self._persisting = bool(self.storage) or any(ds.schema is not None for ds in plan.datasets)
        self._scans: dict[Dataset, Any] = {}
        # Tasks mostly share their environment's default config: each distinct one is looked
        # at once.
        distinct = {id(c): c for c in self.configs}
        if executor is not None:
            _refuse_other_executors(self.tasks, self.configs, distinct.values(), executor)
        self.cache: TaskCache | None = (
            env.cache if use_cache and any(c.cache for c in distinct.values()) else None
        )
        n = len(self.tasks)
        self.keys: list[str | None] = [None] * n
        self.outputs: list[tuple[Any, ...] | None] = [None] * n
        #: The task records, as columns executors write (see TaskTable).
        self.table = TaskTable(plan.names, plan.locations)
        self.hooks = HookSet(list(hooks)) if hooks else None
        self.logs: RunLogs | None = (
            RunLogs(self.run_id, _env_name(env), plan.names, self.table.logs)
            if capture_logs
            else None
        )
        # What "the same task" is (glacier.cache.task_identity) is known for cached tasks
        # and for tasks storing all their outputs (what a resume may reuse). Their sources are
        # read here, on this thread: never on a worker thread (see glacier.task_code).
        self.identified = [False] * n
        # Stored inputs' versions as the tasks saw them; the run record reuses them (nothing
        # writes a dataset after its consumers started).
        self._input_versions: dict[Dataset, str] = {}
        if self.cache is not None or self.storage:  # else nothing is cached or resumable
            self.identified = [
                bool(c.cache and self.cache is not None)
                or (bool(t.outputs) and all(ds.is_stored for ds in t.outputs))
                for t, c in zip(self.tasks, self.configs, strict=True)
            ]
        #: Each identified task's source digest, read here; it travels with the run to
        #: workers in other processes (Dask), which then read no source themselves.
        self.sources_read: list[str | None] = [
            read_sources(t.fn) if known else None
            for t, known in zip(self.tasks, self.identified, strict=True)
        ]
        # Resuming skips what already succeeded, when its outputs outlived that run and it is
        # still the same task (execute_task compares the identities).
        self.resumed_run: str | None = (resume or {}).get("run_id")
        self.earlier: dict[str, str | None] = {
            name: rec.get("identity")
            for name, rec in (resume or {}).get("tasks", {}).items()
            if rec.get("status") == SUCCEEDED
        }
        self.resumable = [False] * n
        if self.earlier:
            self.resumable = [
                t.name in self.earlier and known
                for t, known in zip(self.tasks, self.identified, strict=True)
            ]
        # Tasks that need none of the above: one attempt, no cache, one in-memory output. Most
        # small tasks are plain, and execute_task runs them without looking at anything else.
        if self._persisting:
            self.plain = [False] * n
        else:
            simple = {
                key: not (
                    c.retries or c.timeout is not None or (c.cache and self.cache is not None)
                )
                for key, c in distinct.items()
            }
            self.plain = [
                single and simple[id(c)] and not resumed
                for single, c, resumed in zip(
                    plan.single_output, self.configs, self.resumable, strict=True
                )
            ]
        #: The data checks of the tasks' outputs (see glacier.checks); None: there are none.
        self.checks = RunChecks.plan(pipeline, self.tasks, _check_settings(env))
        if self.checks is not None:
            self._plan_checks(env)
        self.started = time.time()
        self._t0 = time.perf_counter_ns()
        if self.hooks and announce:
            self.hooks.run_start(pipeline.name, self.run_id, [t.name for t in self.tasks])

    def __len__(self) -> int:
        return len(self.tasks)

    # -- running one task ------------------------------------------------------------------

    def execute_task(self, i: int) -> bool:
        """Run task ``i`` (its upstream tasks have succeeded); returns whether it succeeded."""
        task = self.tasks[i]
        table = self.table
        status = table.status
        outputs = self.outputs
        kwargs = dict(self.static[i])
        for pname, producer, pos, ds in self.sources[i]:
            if producer >= 0:
                kwargs[pname] = outputs[producer][pos]  # type: ignore[index]
            else:
                kwargs[pname] = self._scan(ds)
        hooks = self.hooks
        status[i] = RUNNING
        # Integer nanoseconds: exact, and several times faster for the run store to format
        # than floats.
        table.started_ns[i] = t0 = _now_ns()
        if hooks:
            hooks.task_start(table.record(i))
        logs = self.logs
        if logs is not None:
            _local.cur = (logs, i)  # task_logs.begin(), inlined on the hot path
        try:
            if self.plain[i]:
                table.attempts[i] = 1
                value = task.fn(**kwargs)
                if isinstance(value, _LazyFrame):
                    value.collect_schema()  # settle(), inlined on the hot path
                outputs[i] = (value,)
                status[i] = SUCCEEDED
                return True
            cfg = self.configs[i]
            identity, unknown = self._identify(i, kwargs) if self.identified[i] else (None, ())
            if self.resumable[i]:
                if identity is not None and identity == self.earlier[task.name]:
                    outputs[i] = tuple(self.storage[ds].load() for ds in task.outputs)
                    table.resumed[i] = True
                    status[i] = SUCCEEDED
                    return True
                self._note(i, self._changed(i, identity, unknown))
            key = None
            if cfg.cache and self.cache is not None and identity is not None:
                key = self.keys[i] = identity
                hit = self.cache.load(task.name, key)
                if hit is not None and len(hit) == len(task.outputs):
                    outputs[i] = self._persist(task, hit, write=False)
                    self._check(i)
                    table.cached[i] = True
                    status[i] = SUCCEEDED
                    return True
            if cfg.retries or cfg.timeout is not None:
                attempts = TaskRun(task.name)  # invoke counts the attempts on it
                try:
                    value = invoke(task, (), kwargs, cfg, attempts)
                finally:
                    table.attempts[i] = attempts.attempts
            else:  # invoke's fast path, inlined: this is the hot loop of every run
                table.attempts[i] = 1
                value = settle(task.fn(**kwargs))
            if task.returns_tuple or len(task.outputs) != 1:
                outs = normalize_outputs(task, value)
            else:  # the usual single output, without the call
                outs = (value,)
            if self._persisting:  # before anything is written or cached
                check_outputs(task, outs, self.storage)
            if key is not None and self.cache is not None:
                outs = self.cache.store(task.name, key, outs)
            if self._persisting:
                try:
                    outputs[i] = self._persist(task, outs, write=True, cfg=cfg, index=i)
                except Exception:
                    if key is not None and self.cache is not None:
                        # A result is reusable once its outputs landed; else the next run
                        # would take it from the cache and never write them.
                        self.cache.discard(task.name, key)
                    raise
            else:
                outputs[i] = outs
            self._check(i)
            status[i] = SUCCEEDED
            return True
        except Exception as exc:
            if isinstance(exc, pl.exceptions.PolarsError) and not isinstance(exc, _PLANNING):
                exc = self._blame_producers(i, kwargs, exc)
            table.error[i] = exc
            status[i] = FAILED
            return False
        finally:
            table.duration_ns[i] = _now_ns() - t0
            if logs is not None:
                _local.cur = None
            if hooks:
                hooks.task_end(table.record(i))

    def skip_downstream(self, i: int) -> list[int]:
        """Mark every task downstream of failed task ``i`` as skipped; returns their indexes."""
        skipped: list[int] = []
        stack = list(self.downstream[i])
        status = self.table.status
        while stack:
            d = stack.pop()
            if status[d] == SKIPPED:
                continue
            status[d] = SKIPPED
            skipped.append(d)
            stack.extend(self.downstream[d])
        return skipped

    def finish(self) -> RunResult:
        """Assemble the result, record the run and notify hooks."""
        outputs = self.outputs
        singles = self.plan.single_outputs
        if singles is not None and None not in outputs:  # every task ran, one output each
            by_task: dict[str, tuple[Any, ...]] = dict(zip(self.plan.names, outputs, strict=True))  # type: ignore[arg-type]
            values = dict(zip(singles, map(itemgetter(0), outputs), strict=True))  # type: ignore[arg-type]
        else:
            values = {}
            by_task = {}
            for t, outs in zip(self.tasks, outputs, strict=True):
                if outs is None:
                    continue
                by_task[t.name] = outs
                for ds, v in zip(t.outputs, outs, strict=False):
                    values[ds] = v
        self._count_memory_rows()
        result = RunResult(
            pipeline=self.pipeline.name,
            run_id=self.run_id,
            tasks=self.table,
            values=values,
            outputs_by_task=by_task,
            started=self.started,
            duration=(time.perf_counter_ns() - self._t0) / 1e9,
            clock_ns=self._t0,
            dataset_uris=self._uris(),
        )
        self.env.record_run(result, self._versions())
        if self.hooks:
            self.hooks.run_end(result)
        return result

    # -- internals -------------------------------------------------------------------------

    def _plan_checks(self, env: RunContext) -> None:
        """Order the tasks as the data checks need, and give them what they read."""
        checks = self.checks
        assert checks is not None
        checks.order(self.downstream, self.upstream_count)
        unread = [ds for ds in checks.targets if ds.is_stored and ds not in self.storage]
        if unread:
            self.storage.update(env.buckets_for(unread))
        for i, outs in enumerate(checks.by_task):
            if outs:
                self.plain[i] = False

    def _check(self, i: int) -> None:
        """Evaluate the data checks of task ``i``'s outputs, as written (the record keeps
        the results); a failed check of severity ``error`` raises CheckFailedError, failing
        the task so that its consumers are skipped."""
        checks = self.checks
        if checks is None or checks.by_task[i] is None:
            return
        results = checks.run(i, self.outputs[i], self._scan, self.outputs)  # type: ignore[arg-type]
        self.table.checks[i] = [r.as_dict() for r in results]
        gate(self.tasks[i], results)

    def _blame_producers(self, i: int, kwargs: Mapping[str, Any], exc: Exception) -> Exception:
        """``exc``, or an error naming the upstream tasks whose lazy queries ran inside task
        ``i`` when it failed: polars executes them fused, so the failure may be theirs."""
        producers = [
            self.tasks[producer]
            for pname, producer, _pos, _ds in self.sources[i]
            if producer >= 0 and isinstance(kwargs.get(pname), pl.LazyFrame)
        ]
        if not producers:
            return exc
        task = self.tasks[i]
        names = ", ".join(f"{p.name!r} ({p.location})" for p in dict.fromkeys(producers))
        err = UpstreamQueryError(
            f"Task {task.name!r} ({task.location}) failed executing a lazy query that includes "
            f"the query of upstream task(s) {names}; polars runs them as one, so the cause may "
            f"be in either. {type(exc).__name__}: {exc}"
        )
        err.__cause__ = exc
        return err

    def _scan(self, ds: Dataset) -> Any:
        scan = self._scans.get(ds)
        if scan is None:
            scan = self._scans[ds] = self.storage[ds].load()
        return scan

    def _identify(self, i: int, kwargs: Mapping[str, Any]) -> tuple[str | None, tuple[str, ...]]:
        """Task ``i``'s identity now (:func:`glacier.cache.task_identity`), recorded with the
        task; ``None`` and what could not be hashed when it cannot be known (a cached task
        then runs uncached, with a note in its record and a warning)."""
        task, cfg = self.tasks[i], self.configs[i]
        code = code_identity(task.fn, sources=self.sources_read[i])
        unknown = [f"{value} cannot be hashed" for value in code.unhashable]
        versions = []
        for pname, producer, pos, ds in self.sources[i]:
            if producer >= 0 and self.keys[producer] is not None:
                versions.append(f"{pname}={self.keys[producer]}:{pos}")
            elif ds in self.storage:
                version = self._input_versions.get(ds)
                if version is None:
                    try:
                        version = self._input_versions[ds] = self.storage[ds].fingerprint()
                    except Exception as exc:  # the read fails the task, with its own message
                        unknown.append(f"the version of input {pname!r} cannot be read ({exc})")
                        continue
                versions.append(f"{pname}=stored:{version}")
            elif cfg.cache and self.cache is not None:
                versions.append(f"{pname}={fingerprint(kwargs[pname])}")
            else:
                # A value computed in memory in this run: hashing it would compute it twice
                # for a task that is not cached; its identity is unknown instead.
                unknown.append(
                    f"input {pname!r} is computed in memory by {self.tasks[producer].name!r}"
                )
        if unknown:
            if cfg.cache and self.cache is not None:
                why = "; ".join(unknown)
                self._note(i, f"uncached this run: {why}")
                _log.warning(
                    "task %s runs uncached this run: %s (make a value picklable, pass it as "
                    "a parameter, or set cache=False)",
                    task.name,
                    why,
                )
            return None, tuple(unknown)
        params = {k: v for k, v in kwargs.items() if k in task.params}
        identity = task_identity(task.name, code.digest or "", cfg.cache_version, versions, params)
        self.table.identity[i] = identity
        return identity, ()

    def _changed(self, i: int, identity: str | None, unknown: Sequence[str]) -> str:
        """Why task ``i``, which succeeded in the resumed run, is computed again."""
        before = self.earlier.get(self.tasks[i].name)
        if identity is None:
            why = f"whether it changed is unknown ({'; '.join(unknown)})"
        elif before is None:
            why = "the resumed run recorded no identity for it"
        else:
            why = f"its {' and '.join(identity_changes(before, identity))} changed"
        return f"recomputed: {why} since run {self.resumed_run}"

    def _note(self, i: int, note: str) -> None:
        table = self.table
        table.note[i] = note if table.note[i] is None else f"{table.note[i]}; {note}"

    def _persist(
        self,
        task: Task,
        outs: tuple[Any, ...],
        *,
        write: bool,
        cfg: TaskConfig | None = None,
        index: int = -1,
    ) -> tuple[Any, ...]:
        if not task.outputs:
            return outs
        for pos, ds in enumerate(task.outputs):
            if ds.schema is not None:
                check_schema(task, ds, outs[pos])
        result = list(outs)
        if write:  # every output checked before any is written (see executors/outputs.py)
            values = check_writes(task.outputs, outs, self.storage)
        written: list[str] = []
        rows: dict[str, int] = {}
        for pos in write_order(task.outputs, self.storage) if write else range(len(outs)):
            ds = task.outputs[pos]
            bucket = self.storage.get(ds)
            if bucket is not None:
                if write:
                    try:
                        count = self._write(task, bucket, values[pos], ds, cfg, index)
                    except Exception as exc:
                        if written:
                            if index >= 0:  # the outputs left written keep their counts
                                self.table.rows[index] = rows or None
                            raise partly_written(task, written, ds.name, exc) from exc
                        raise
                    written.append(ds.name)
                    count = rows_of(values[pos], count)
                    if count is not None:
                        rows[ds.name] = count
                # Downstream tasks read what was written, lazily: one write, no recompute.
                # (A value that is not a table is handed on as it is.)
                if isinstance(result[pos], pl.DataFrame | pl.LazyFrame):
                    result[pos] = bucket.scan()
        if rows and index >= 0:
            self.table.rows[index] = rows
        return tuple(result)

    def _write(
        self, task: Task, bucket: Any, value: Any, ds: Dataset, cfg: TaskConfig | None, i: int
    ) -> int | None:
        """Write one output under the task's retry policy: a transient store failure is
        retried with the attempts the task has left (the function is not run again, and
        outputs already written are not written twice); a deterministic one is not.
        Returns the rows the store reports written (``None``: not reported)."""
        table = self.table
        while True:
            try:
                count = bucket.write(value, **ds.write)
                return count if isinstance(count, int) else None
            except Exception as exc:
                if cfg is None or not cfg.retries:
                    raise
                used = table.attempts[i] or 1
                if used > cfg.retries or not should_retry(exc, cfg.retry_on):
                    raise
                wait = list(
                    delays(
                        retry_delay=cfg.retry_delay,
                        backoff=cfg.backoff,
                        max_delay=cfg.max_delay,
                        jitter=cfg.jitter,
                        retries=used,
                    )
                )[-1]
                table.attempts[i] = used + 1
                note_attempt(used + 1)
                _log.warning(
                    "task %s: writing %s failed on attempt %d of %d (%s: %s); retrying in %.3gs",
                    task.name,
                    ds.name,
                    used,
                    cfg.retries + 1,
                    type(exc).__name__,
                    exc,
                    wait,
                )
                if wait:
                    time.sleep(wait)

    def _uris(self) -> dict[str, str]:
        uris: dict[str, str] = {}
        if not self.storage:
            return uris
        # By status, not by outputs held here: a Dask run brings back only the outputs it
        # was asked for, and every dataset its tasks wrote is the run's.
        for task, status in zip(self.tasks, self.table.status, strict=True):
            if status != SUCCEEDED:
                continue
            for ds in task.outputs:
                bucket = self.storage.get(ds)
                if bucket is not None:
                    try:
                        uris[ds.name] = bucket.get_uri()
                    except Exception:  # a record is no place to fail over a URI
                        continue
        return uris

    def _count_memory_rows(self) -> None:
        """Add the rows of in-memory outputs held as eager frames (their height) to the
        tasks' row counts; stored outputs were counted as they were written, and a lazy
        in-memory output is not computed only to be counted."""
        storage, rows, frame = self.storage, self.table.rows, pl.DataFrame
        for i, outs in enumerate(self.outputs):
            if outs is None:
                continue
            for pos, value in enumerate(outs):
                # The type test first: it is the cheap one, and most values fail it.
                if isinstance(value, frame):
                    ds = self.tasks[i].outputs[pos]
                    if ds not in storage:
                        rows[i] = {**(rows[i] or {}), ds.name: value.height}

    def _versions(self) -> dict[str, str]:
        versions: dict[str, str] = {}
        seen = self._input_versions
        for ds, bucket in self.storage.items():
            try:
                versions[ds.name] = seen.get(ds) or bucket.fingerprint()
            except Exception:  # a missing source dataset has no version; not worth failing
                continue
        return versions


def run_options(
    executor: str, pipeline: Pipeline, options: RunOptions | None, given: Mapping[str, Any]
) -> tuple[RunOptions, RunContext, Mapping[str, Any] | None]:
    """The options an executor runs ``pipeline`` with, the run's context, and the record of
    the run to resume from.

    Raises:
        ConfigError: without the run's context (``env=``: an executor never asks a
            pipeline for one), or with a run id to resume, which the runner resolves.
    """
    from glacier.run_options import RunOptions

    options = RunOptions.given(options, given)
    if options.env is None:
        raise ConfigError(
            f"{executor}.execute(pipeline {pipeline.name!r}) needs the run's context: pass "
            "env= (an Environment), or run it with pipeline.run(executor=...), which passes it."
        )
    resume = options.resume
    if isinstance(resume, str):
        raise ConfigError(
            f"{executor}.execute: resume={options.resume!r} is a run id; pipeline.run(resume=...) "
            "loads its record, and an executor is given the record."
        )
    context: RunContext = options.env
    return options, context, resume


def _refuse_other_executors(
    tasks: Sequence[Task],
    configs: Sequence[TaskConfig],
    distinct: Iterable[TaskConfig],
    executor: str,
) -> None:
    """A task's ``executor=`` cannot be honoured yet (one run, one executor): rather than
    run it elsewhere silently, refuse the run and say what to change."""
    if all(c.executor in (None, executor) for c in distinct):
        return
    asking = [
        f"{t.name!r} ({t.location}) asks for executor={c.executor!r}"
        for t, c in zip(tasks, configs, strict=True)
        if c.executor not in (None, executor)
    ]
    raise ConfigError(
        f"This run's executor is {executor!r}, but {'; '.join(asking)}. A per-task executor "
        "is not supported yet: remove executor= from the task, or run the whole pipeline on "
        "that executor (the environment's executor settings, or pipeline.run(executor=...))."
    )


def _check_settings(env: Any) -> Any:
    """The ``[checks]`` settings of ``env`` (``None``: a run context without settings)."""
    return getattr(getattr(env, "settings", None), "checks", None)


def _env_name(env: Any) -> str | None:
    try:
        name = env.name
    except Exception:  # a run context without a name still runs
        return None
    return None if name is None else str(name)


def normalize_outputs(task: Task, value: Any) -> tuple[Any, ...]:
    """The task's return value as a tuple matching its declared outputs."""
    n = len(task.outputs)
    if n == 0:
        return () if not task.is_dataflow else (value,)
    if not task.returns_tuple:
        return (value,)
    if not isinstance(value, tuple | list) or len(value) != n:
        got = f"{len(value)} values" if isinstance(value, tuple | list) else type(value).__name__
        raise ExecutionError(
            f"Task {task.name!r} ({task.location}) declares {n} outputs "
            f"({', '.join(d.name for d in task.outputs)}) but returned {got}. Return a tuple "
            "with one value per output, in order."
        )
    return tuple(value)


def check_schema(task: Task, ds: Dataset, value: Any) -> None:
    """Raise :class:`SchemaMismatchError` if a frame's columns or types differ from ``ds``'s."""
    if isinstance(value, pl.LazyFrame):
        schema = dict(value.collect_schema())
    elif isinstance(value, pl.DataFrame):
        schema = dict(value.schema)
    else:
        raise SchemaMismatchError(
            f"Task {task.name!r} returned {type(value).__name__} for dataset {ds.name!r}, "
            "which declares a schema; return a polars DataFrame or LazyFrame."
        )
    diff = compare_schemas(ds.schema or {}, schema)
    if diff:
        raise SchemaMismatchError(
            f"Task {task.name!r} ({task.location}) produced data for dataset {ds.name!r} that "
            f"does not match its schema: {diff.describe()}. Fix the task or the schema."
        )


def _split_params(params: Mapping[str, Any], tasks: Sequence[Task]) -> dict[str, dict[str, Any]]:
    by_name = {t.name: t for t in tasks}
    out: dict[str, dict[str, Any]] = {}
    for key, value in params.items():
        task_name, dot, pname = key.partition(".")
        if not dot:
            owners = [t for t in tasks if key in t.params]
            if len(owners) != 1:
                where = ", ".join(f"{t.name}.{key}" for t in owners) or "no task has it"
                raise UnknownTaskError(
                    f"Run parameter {key!r} must be written 'task.param' ({where})."
                )
            task_name, pname = owners[0].name, key
        t = by_name.get(task_name)
        if t is None:
            raise UnknownTaskError(
                f"Run parameter {key!r} names task {task_name!r}, which is not part of this "
                f"run. Tasks: {', '.join(sorted(by_name)) or '(none)'}."
            )
        if pname not in t.params:
            raise UnknownTaskError(
                f"Run parameter {key!r}: task {task_name!r} ({t.location}) has no parameter "
                f"{pname!r}. Its parameters: {', '.join(t.params) or '(none)'}."
            )
        out.setdefault(task_name, {})[pname] = value
    return out


StatusCallback = Callable[[int, bool], None]

"""What a run returns: every task's record and every dataset's value."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from glacier.dataset import Dataset
from glacier.redaction import redact, traceback_text

if TYPE_CHECKING:
    from glacier.task import Task

PENDING = "pending"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
SKIPPED = "skipped"


def new_run_id() -> str:
    """A new run's id: its start time (local clock, sortable) and a random suffix.

    The one place run ids are made (executors, data-flow runs, deployed tasks).
    """
    return time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


@dataclass(slots=True)
class TaskRun:
    """One task's record in a run.

    ``status`` is ``pending``, ``running``, ``succeeded``, ``failed`` or ``skipped`` (an
    upstream task failed); ``cached`` says the outputs came from the cache. Times are kept as
    integer nanoseconds of :func:`time.perf_counter_ns` (exact, and cheap to record);
    :attr:`started` and :attr:`duration` give them in seconds.
    """

    name: str
    status: str = PENDING
    attempts: int = 0
    #: When the task started, in ``time.perf_counter_ns()`` nanoseconds (``None``: not yet).
    started_ns: int | None = None
    #: How long the task ran (its attempts and retry delays included), in nanoseconds.
    duration_ns: int = 0
    cached: bool = False
    error: BaseException | None = None
    location: str = ""
    #: Skipped on resume: it succeeded in the resumed run and its outputs are stored.
    resumed: bool = False
    #: Where each attempt ran, when an executor runs tasks elsewhere: Dask worker addresses,
    #: one per attempt in order; an attempt whose worker died holding the task is marked
    #: ``"<address> (lost)"`` and comes before the worker that ran the task again.
    workers: tuple[str, ...] = ()
    #: What the task logged and printed, one dict per line (``time``, ``level``, ``logger``,
    #: ``message``, ``run_id``, ``task``, ``attempt``, ``environment``); ``None``: nothing.
    logs: list[dict[str, Any]] | None = None
    #: The data checks of the task's outputs, one dict per check (``dataset``, ``check``,
    #: ``severity``, ``status``, ``failing_rows``, ``sample``, ``message``; see
    #: :mod:`glacier.checks`); ``None``: its outputs have none, or they did not run.
    checks: list[dict[str, Any]] | None = None
    #: What "the same task" is for the cache and resume (:func:`glacier.cache.task_identity`),
    #: for tasks that are cached or store all their outputs; ``None``: not known.
    identity: str | None = None
    #: Why the task ran although it might not have: uncached this run (a value it reads
    #: cannot be hashed), or recomputed on resume (it changed since the resumed run).
    note: str | None = None
    #: Rows written this run per output dataset (``{dataset: rows}``), where the count was
    #: known without reading the data again (:mod:`glacier.row_counts`); ``None``: none.
    rows: dict[str, int] | None = None

    @property
    def ok(self) -> bool:
        """Whether the task succeeded (from the cache or by running)."""
        return self.status == SUCCEEDED

    @property
    def started(self) -> float | None:
        """When the task started, on the ``time.perf_counter()`` clock (seconds)."""
        return None if self.started_ns is None else self.started_ns / 1e9

    @started.setter
    def started(self, seconds: float | None) -> None:
        self.started_ns = None if seconds is None else round(seconds * 1e9)

    @property
    def duration(self) -> float:
        """How long the task ran, in seconds."""
        return self.duration_ns / 1e9

    @duration.setter
    def duration(self, seconds: float) -> None:
        self.duration_ns = round(seconds * 1e9)

    def as_dict(self, origin_ns: int = 0) -> dict[str, Any]:
        """JSON-able form, as written to the run store.

        ``offset_ns`` is when the task started, in nanoseconds after ``origin_ns`` (the run
        store passes the run's start, so offsets compare within a run and across runs).
        """
        started = self.started_ns
        error = self.error
        return (
            {
                "name": self.name,
                "status": self.status,
                "attempts": self.attempts,
                "offset_ns": None if started is None else started - origin_ns,
                "duration_ns": self.duration_ns,
                "cached": self.cached,
                "resumed": self.resumed,
                "error": None if error is None else error_text(error),
                "logs": self.logs,
            }
            | ({"workers": ",".join(self.workers)} if self.workers else {})
            | ({"checks": self.checks} if self.checks is not None else {})
            | ({"identity": self.identity} if self.identity else {})
            | ({"note": self.note} if self.note else {})
        )


def error_text(error: BaseException) -> str:
    """``"Type: message"``, as a run record keeps a task's error (credentials masked).

    >>> error_text(ValueError("no postgresql://etl:pw@db/x"))
    'ValueError: no postgresql://etl:****@db/x'
    """
    return redact(f"{type(error).__name__}: {error}")


#: The fields of a task record, in the order the run store writes them.
RECORD_FIELDS = (
    "name",
    "status",
    "attempts",
    "offset_ns",
    "duration_ns",
    "cached",
    "resumed",
    "error",
    "workers",
    "logs",
    "checks",
    "identity",
    "note",
)


class TaskTable(Mapping[str, TaskRun]):
    """The task records of one run, as columns: one list per field, indexed like the run's
    tasks. Executors write the lists; reading ``table[name]`` gives a :class:`TaskRun`.

    A run of small tasks spends a measurable share of its time on bookkeeping; a column
    store makes each record a few list writes rather than an object, and lets the run store
    encode a whole column at once.

    Example:
        >>> table = TaskTable(("extract", "clean"), ("etl.py:3", "etl.py:9"))
        >>> table.status[0] = SUCCEEDED
        >>> table["extract"].status, table["clean"].status, len(table)
        ('succeeded', 'pending', 2)
    """

    __slots__ = (
        "_index",
        "attempts",
        "cached",
        "checks",
        "duration_ns",
        "error",
        "identity",
        "locations",
        "logs",
        "names",
        "note",
        "resumed",
        "rows",
        "started_ns",
        "status",
        "workers",
    )

    def __init__(self, names: Sequence[str], locations: Sequence[str]) -> None:
        n = len(names)
        self.names = names
        self.locations = locations
        self.status: list[str] = [PENDING] * n
        self.attempts: list[int] = [0] * n
        self.started_ns: list[int | None] = [None] * n
        self.duration_ns: list[int] = [0] * n
        self.cached: list[bool] = [False] * n
        self.error: list[BaseException | None] = [None] * n
        self.resumed: list[bool] = [False] * n
        #: Filled only by executors that run tasks elsewhere (see TaskRun.workers).
        self.workers: list[tuple[str, ...]] = [()] * n
        self.logs: list[list[dict[str, Any]] | None] = [None] * n
        #: Filled only for tasks whose outputs have data checks (see TaskRun.checks).
        self.checks: list[list[dict[str, Any]] | None] = [None] * n
        self.identity: list[str | None] = [None] * n
        self.note: list[str | None] = [None] * n
        #: Rows written per output dataset (see TaskRun.rows).
        self.rows: list[dict[str, int] | None] = [None] * n
        self._index: dict[str, int] | None = None

    @classmethod
    def of(cls, runs: Mapping[str, TaskRun]) -> TaskTable:
        """A table holding ``runs`` (a name -> record mapping), e.g. to store them."""
        if isinstance(runs, TaskTable):
            return runs
        table = cls(tuple(runs), tuple(r.location for r in runs.values()))
        for i, run in enumerate(runs.values()):
            table.set(i, run)
        return table

    def record(self, i: int) -> TaskRun:
        """Task ``i``'s record, as it is now (a copy: writing to it changes nothing here)."""
        return TaskRun(
            self.names[i],
            self.status[i],
            self.attempts[i],
            self.started_ns[i],
            self.duration_ns[i],
            self.cached[i],
            self.error[i],
            self.locations[i],
            self.resumed[i],
            self.workers[i],
            self.logs[i],
            self.checks[i],
            self.identity[i],
            self.note[i],
            self.rows[i],
        )

    def set(self, i: int, run: TaskRun) -> None:
        """Overwrite task ``i``'s fields with ``run``'s (its name is not checked)."""
        self.status[i] = run.status
        self.attempts[i] = run.attempts
        self.started_ns[i] = run.started_ns
        self.duration_ns[i] = run.duration_ns
        self.cached[i] = run.cached
        self.error[i] = run.error
        self.resumed[i] = run.resumed
        self.workers[i] = run.workers
        self.logs[i] = run.logs
        self.checks[i] = run.checks
        self.identity[i] = run.identity
        self.note[i] = run.note
        self.rows[i] = run.rows

    def ok(self) -> bool:
        """Whether every task succeeded."""
        return self.status.count(SUCCEEDED) == len(self.status)

    def columns(self, origin_ns: int = 0) -> dict[str, list[Any]]:
        """JSON-able columns named by :data:`RECORD_FIELDS` (``offset_ns`` counts from
        ``origin_ns``; errors become ``"Type: message"``)."""
        errors: list[Any] = self.error
        if errors.count(None) != len(errors):
            errors = [None if e is None else error_text(e) for e in errors]
        columns: dict[str, list[Any]] = {
            "name": list(self.names),
            "status": self.status,
            "attempts": self.attempts,
            "offset_ns": [None if s is None else s - origin_ns for s in self.started_ns],
            "duration_ns": self.duration_ns,
            "cached": self.cached,
            "resumed": self.resumed,
            "error": errors,
            "logs": self.logs,
        }
        workers: list[Any] = self.workers
        if any(workers):  # only runs on remote workers have them; others keep their format
            # One string per task: the run store writes a column whose values are all equal
            # as that value, which a list would make ambiguous.
            columns["workers"] = [",".join(w) for w in workers]
        if self.checks.count(None) != len(self.checks):  # only runs with data checks
            columns["checks"] = self.checks
        # Only runs with cached or stored tasks have them; others keep their format.
        if self.identity.count(None) != len(self.identity):
            columns["identity"] = self.identity
        if self.note.count(None) != len(self.note):
            columns["note"] = self.note
        return columns

    # -- Mapping[str, TaskRun] ---------------------------------------------------------------

    def __getitem__(self, name: str) -> TaskRun:
        index = self._index
        if index is None:
            index = self._index = {n: i for i, n in enumerate(self.names)}
        return self.record(index[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        return f"TaskTable({dict(zip(self.names, self.status, strict=True))})"


@dataclass
class RunResult:
    """The outcome of ``pipeline.run()``: dataset values and task records.

    ``result["clean"]`` or ``result[clean]`` is a dataset's value (a task name gives its only
    output); ``result.tasks["clean"].duration`` is a task's record.
    """

    pipeline: str
    run_id: str
    #: Each task's record by name (a :class:`TaskTable` from the executors).
    tasks: Mapping[str, TaskRun]
    values: dict[Dataset, Any] = field(default_factory=dict)
    outputs_by_task: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    started: float = 0.0
    duration: float = 0.0
    #: ``time.perf_counter_ns()`` when the run started: tasks' ``started_ns`` count from the
    #: same clock, and the run store records them as offsets from it.
    clock_ns: int = 0
    #: A data-flow pipeline's return value (``@env.pipeline`` bodies).
    output: Any = None
    #: Where each stored dataset the run's tasks produced lives (name -> URI), for the record.
    dataset_uris: dict[str, str] = field(default_factory=dict)

    @property
    def dataset_rows(self) -> dict[str, int]:
        """Rows written this run per dataset (name -> rows), where the count was known
        without reading the data again (see :mod:`glacier.row_counts`).

        Example:
            >>> run = TaskRun("clean", status=SUCCEEDED, rows={"orders": 3})
            >>> RunResult("etl", "r1", tasks={"clean": run}).dataset_rows
            {'orders': 3}
        """
        tasks = self.tasks
        per_task = tasks.rows if isinstance(tasks, TaskTable) else [t.rows for t in tasks.values()]
        return {name: n for rows in per_task if rows for name, n in rows.items()}

    def __getitem__(self, key: str | Dataset | Task) -> Any:
        if isinstance(key, Dataset):
            if key in self.values:
                return self.values[key]
            raise KeyError(f"Dataset {key.name!r} has no value in this run (not run, or failed).")
        name = key if isinstance(key, str) else key.name
        for ds, value in self.values.items():
            if ds.name == name:
                return value
        outs = self.outputs_by_task.get(name)
        if outs is not None:
            return outs[0] if len(outs) == 1 else outs
        known = sorted({ds.name for ds in self.values} | set(self.outputs_by_task))
        raise KeyError(f"{name!r} is not a dataset or task with a value; known: {known}")

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(ds.name for ds in self.values)

    @property
    def ok(self) -> bool:
        """Whether every task that was meant to run succeeded."""
        tasks = self.tasks
        if isinstance(tasks, TaskTable):
            return tasks.ok()
        return all(t.status == SUCCEEDED for t in tasks.values())

    @property
    def failed(self) -> list[TaskRun]:
        """Records of the tasks that failed (not those skipped because of them)."""
        return [t for t in self.tasks.values() if t.status == FAILED]

    @property
    def skipped(self) -> list[TaskRun]:
        """Records of the tasks skipped because an upstream task failed."""
        return [t for t in self.tasks.values() if t.status == SKIPPED]

    @property
    def checks(self) -> list[dict[str, Any]]:
        """Every data check's result in the run, in task order (see :mod:`glacier.checks`)."""
        return [c for t in self.tasks.values() for c in t.checks or ()]

    def counts(self) -> Mapping[str, int]:
        """How many tasks ended in each status (and how many came from the cache)."""
        out: dict[str, int] = {}
        for t in self.tasks.values():
            out[t.status] = out.get(t.status, 0) + 1
            if t.cached:
                out["cached"] = out.get("cached", 0) + 1
        return out

    def failure_report(self) -> str:
        """Every failed task with its exception chain, then the tasks skipped because of it."""
        lines = [f"{len(self.failed)} task(s) failed in pipeline {self.pipeline!r}:"]
        for t in self.failed:
            lines.append(f"- {t.name} ({t.location}) after {t.attempts} attempt(s):")
            if t.error is not None:
                chain = traceback_text(t.error).rstrip().splitlines()
                lines.extend("    " + ln for ln in chain)
        if self.skipped:
            names = ", ".join(t.name for t in self.skipped)
            lines.append(
                f"{len(self.skipped)} task(s) skipped because an upstream task failed: {names}"
            )
        return "\n".join(lines)

    def summary(self) -> str:
        """One line: counts and wall time."""
        c = self.counts()
        parts = [f"{c.get(s, 0)} {s}" for s in (SUCCEEDED, FAILED, SKIPPED) if c.get(s)]
        if c.get("cached"):
            parts.append(f"{c['cached']} from cache")
        return f"{self.pipeline}: {', '.join(parts) or 'nothing to run'} in {self.duration:.3f}s"

"""Every run is recorded (tasks, timings, status, dataset URIs and versions) in one SQLite file.

Why SQLite, from the standard library: a person (``glacier runs list``) and a script
(``glacier runs list --json``) both ask questions of the records ("the failed runs of this
pipeline"), several runs may finish at the same time, and a project's history should be one
file, not a directory of thousands. SQLite gives indexed queries, concurrent writers (WAL
journal, a busy timeout) and atomic commits, with no dependency.

A run is one row of the ``runs`` table: the fields a query filters on are columns; the task
records are one JSON text holding a list per task field (:data:`~glacier.result.RECORD_FIELDS`),
because encoding a column is one call into the JSON encoder's C code, where a row per task cost
more than running a thousand no-op tasks. :meth:`RunStore.load` gives the tasks back as one
record per task.

Records of earlier versions (one ``<run_id>.json`` per run in the same directory) are read,
not migrated: :meth:`RunStore.list` and :meth:`RunStore.load` show them beside the database's.
A record that cannot be read (a truncated file, a corrupt row) is skipped with a
:class:`RunRecordWarning` naming it; it never stops listing, loading others or resuming.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import traceback
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from glacier.errors import RunStoreError, UnknownRunError
from glacier.redaction import redact
from glacier.result import FAILED, RECORD_FIELDS, RUNNING, SUCCEEDED, RunResult, TaskTable

__all__ = ["DATABASE", "RunRecordWarning", "RunStore"]

#: The database's file name in the run store's directory.
DATABASE = "runs.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    pipeline TEXT NOT NULL,
    started REAL NOT NULL,
    duration REAL NOT NULL,
    status TEXT NOT NULL,
    tasks INTEGER NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_pipeline ON runs (pipeline, started);
CREATE INDEX IF NOT EXISTS runs_by_started ON runs (started);
"""

_FINAL = "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)"
# A run in progress: its row is written, or updated while it is still running, never over
# a finished run's (the final record may be written before the last progress write).
_PROGRESS = (
    "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET "
    "duration = excluded.duration, status = excluded.status, tasks = excluded.tasks, "
    f"record = excluded.record WHERE runs.status = '{RUNNING}'"
)

_dumps = json.dumps


class RunRecordWarning(UserWarning):
    """A run record could not be read and was skipped (the others are unaffected)."""


class RunStore:
    """The run records of one project, in ``<directory>/runs.sqlite``.

    Example:
        >>> import tempfile
        >>> from glacier.result import RunResult, TaskRun
        >>> store = RunStore(tempfile.mkdtemp())
        >>> store.list()
        []
        >>> run = TaskRun("clean", status="succeeded", attempts=1, started_ns=7, duration_ns=5)
        >>> _ = store.record(RunResult("etl", "r1", tasks={"clean": run}, clock_ns=2))
        >>> [(r["run_id"], r["status"]) for r in store.list()]
        [('r1', 'succeeded')]
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._names: tuple[Sequence[str], str] | None = None

    def __getstate__(self) -> dict[str, Any]:
        # An environment sent to Dask workers carries its store (checked before the run):
        # its connection and lock stay in this process.
        return {**self.__dict__, "_conn": None, "_lock": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _lock=threading.Lock())

    @property
    def path(self) -> Path:
        """The database file."""
        return self.directory / DATABASE

    def check(self) -> None:
        """Refuse a store that could not be read or keep a record, before a run starts: a
        file where its directory (or a parent) goes, or a directory where its database goes.

        Raises:
            RunStoreError: naming the path in the way and what to do.
        """
        blocking = next((p for p in (self.directory, *self.directory.parents) if p.exists()), None)
        if blocking is not None and not blocking.is_dir():
            raise RunStoreError(
                f"The run store {self.directory} cannot be used: {blocking} is a file, not a "
                "directory. Move the file aside, or choose another state directory "
                "(state_dir in the settings, or --state-dir)."
            )
        if self.path.exists() and not self.path.is_file():
            raise RunStoreError(
                f"The run store {self.path} is not a file (a directory is in its place). Move "
                "it aside; a new store is started at the next run."
            )

    # -- writing ---------------------------------------------------------------------------

    def record(
        self, result: RunResult, versions: dict[str, str] | None = None, *, running: bool = False
    ) -> Path:
        """Keep the run's record (replacing an earlier one of the same id); returns the
        database's path.

        ``running=True`` records a run still in progress (status ``running``,
        :class:`glacier.live.LiveRecord`): it never replaces the record of a finished run, so
        a late progress write cannot undo the final one.

        Example:
            >>> import tempfile
            >>> from glacier.result import RunResult, TaskRun
            >>> store = RunStore(tempfile.mkdtemp())
            >>> run = TaskRun("clean", status="succeeded", attempts=1, started_ns=7, duration_ns=5)
            >>> result = RunResult("etl", "r1", tasks={"clean": run}, clock_ns=2)
            >>> _ = store.record(result, {"raw": "v1"})
            >>> record = store.load("r1")
            >>> record["tasks"]["clean"] == run.as_dict(2), record["dataset_versions"]
            (True, {'raw': 'v1'})
        """
        table = TaskTable.of(result.tasks)
        ok = table.ok()
        columns: dict[str, Any] = table.columns(result.clock_ns)
        encoded: dict[str, str] = {}
        for key, column in columns.items():
            # The same for every task: stored once. Not a list value (a task's logs): read
            # back, a list is taken for the column itself.
            if (
                column
                and column.count(column[0]) == len(column)
                and not isinstance(column[0], list)
            ):
                encoded[key] = _dumps(column[0], default=str)
            elif key == "name":
                encoded[key] = self._names_json(table.names)
            else:
                encoded[key] = _encode(column)
        body = (
            '{"task_columns": {'
            + ", ".join(f'"{k}": {v}' for k, v in encoded.items())
            + '}, "dataset_versions": '
            + _dumps(versions or {}, default=str)
            + ', "dataset_uris": '
            + _dumps(result.dataset_uris, default=str)
            + _dataset_rows(result)
            + _tracebacks(table)
            + "}"
        )
        status = RUNNING if running else SUCCEEDED if ok else FAILED
        row = (
            result.run_id,
            result.pipeline,
            result.started,
            result.duration,
            status,
            len(table),
            body,
        )
        with self._connection(create=True) as conn:
            conn.execute(_PROGRESS if running else _FINAL, row)
        return self.path

    def _names_json(self, names: Sequence[str]) -> str:
        """The task names as JSON, encoded once per pipeline shape: a pipeline run again and
        again records the same names."""
        cached = self._names
        if cached is None or (cached[0] is not names and cached[0] != names):
            cached = self._names = (names, _dumps(list(names)))
        return cached[1]

    # -- reading ---------------------------------------------------------------------------

    def load(self, run_id: str) -> dict[str, Any]:
        """The record of one run, with ``tasks`` mapping each task's name to its record.

        Raises:
            UnknownRunError: No such run (the message lists recent ones).
            RunStoreError: The store is not where a store can be (see :meth:`check`).
        """
        self.check()
        for row in self._select("WHERE run_id = ?", (run_id,)):
            record = _from_row(row)
            if record is not None:
                return record
        legacy = self.directory / f"{run_id}.json"
        try:
            found = legacy.is_file()
        except OSError:  # an id no file could be named after (too long, ...): no such run
            found = False
        if found:
            record = _from_file(legacy)
            if record is not None:
                return record
        known = ", ".join(r["run_id"] for r in self.list()[-5:])
        shown = (
            repr(run_id) if len(run_id) <= 80 else f"{run_id[:40]!r}... ({len(run_id)} characters)"
        )
        raise UnknownRunError(
            f"No run {shown} in {self.directory}. Recent runs: {known or '(none)'}. "
            "List them with `glacier runs list`."
        )

    def list(self, pipeline: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """Run records, oldest first; of one ``pipeline`` and/or with one ``status``
        (``succeeded`` or ``failed``) when given.

        Raises:
            RunStoreError: The store is not where a store can be (see :meth:`check`).
        """
        self.check()
        where, args = [], []
        if pipeline is not None:
            where.append("pipeline = ?")
            args.append(pipeline)
        if status is not None:
            where.append("status = ?")
            args.append(status)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        runs = [r for r in map(_from_row, self._select(clause, tuple(args))) if r is not None]
        for path in sorted(self.directory.glob("*.json")) if self.directory.exists() else ():
            record = _from_file(path)
            if record is None:
                continue
            if (pipeline is None or record.get("pipeline") == pipeline) and (
                status is None or record.get("status") == status
            ):
                runs.append(record)
        return sorted(runs, key=lambda d: d.get("started") or 0)

    def last(self, pipeline: str) -> dict[str, Any] | None:
        """The most recent record of ``pipeline``."""
        runs = self.list(pipeline)
        return runs[-1] if runs else None

    # -- internals -------------------------------------------------------------------------

    def _select(self, clause: str, args: tuple[Any, ...]) -> Sequence[tuple[Any, ...]]:
        if not self.path.exists():
            return []
        try:
            with self._connection(create=False) as conn:
                return conn.execute(
                    "SELECT run_id, pipeline, started, duration, status, record FROM runs "
                    + clause
                    + " ORDER BY started",
                    args,
                ).fetchall()
        except sqlite3.DatabaseError as exc:
            warnings.warn(
                f"The run store {self.path} cannot be read ({exc}); its runs are not shown. "
                "Move the file aside to start a new history.",
                RunRecordWarning,
                stacklevel=3,
            )
            return []

    def _connection(self, *, create: bool) -> _Transaction:
        with self._lock:
            conn = self._conn
            if conn is None:
                conn = self._conn = self._open(create)
        return _Transaction(conn, self._lock)

    def _open(self, create: bool) -> sqlite3.Connection:
        if create:
            self.directory.mkdir(parents=True, exist_ok=True)
        # One connection per store, shared by threads under a lock: a run records once, at its
        # end, so contention is nil, and opening a connection per record costs more than the
        # record. Autocommit mode: each record is one atomic statement.
        conn = sqlite3.connect(
            self.path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        try:
            # WAL: readers never block the writer; synchronous=NORMAL: a commit does not wait
            # for the disk (a power cut may lose the last runs' records, never corrupt older
            # ones), which keeps recording a small share of a short run.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError:
            conn.close()
            if not create:
                raise
            moved = self.path.with_name(f"{DATABASE}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
            self.path.replace(moved)
            warnings.warn(
                f"The run store {self.path} could not be read; it was moved to {moved.name} "
                "and a new one started.",
                RunRecordWarning,
                stacklevel=4,
            )
            return self._open(create)
        return conn


class _Transaction:
    """The store's connection, held under its lock for one statement or query."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.Lock) -> None:
        self.conn = conn
        self.lock = lock

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def _dataset_rows(result: RunResult) -> str:
    """``, "dataset_rows": {dataset: rows}`` for the datasets whose rows the run counted as
    it wrote them (nothing when none: a record of earlier versions has no such key, and
    readers take a missing key for "not recorded")."""
    rows = result.dataset_rows
    return ', "dataset_rows": ' + _dumps(rows) if rows else ""


def _tracebacks(table: TaskTable) -> str:
    """``, "tracebacks": {task: text}`` for the tasks that failed (nothing when none did):
    the page of a run shows where each error was raised, not only its message."""
    errors = table.error
    if errors.count(None) == len(errors):
        return ""
    texts = {
        name: redact("".join(traceback.format_exception(error)).rstrip())
        for name, error in zip(table.names, errors, strict=True)
        if error is not None
    }
    return ', "tracebacks": ' + _dumps(texts, default=str)


def _encode(column: list[Any]) -> str:
    """A column as JSON. A column of plain ints (timings) is its ``repr``, which is the same
    text: CPython's json encoder formats ints about 4x slower than ``repr`` of their list,
    and timings are most of a record's bytes.

    >>> _encode([1, -2, 30]), _encode([True, 2]), _encode([None, 3])
    ('[1, -2, 30]', '[true, 2]', '[null, 3]')
    """
    if set(map(type, column)) == {int}:
        return repr(column)
    return _dumps(column, default=str)


def _from_row(row: tuple[Any, ...]) -> dict[str, Any] | None:
    run_id, pipeline, started, duration, status, body = row
    try:
        doc = json.loads(body)
        record = {
            "run_id": run_id,
            "pipeline": pipeline,
            "started": started,
            "duration": duration,
            "ok": status == SUCCEEDED,
            "status": status,
            **doc,
        }
        return _rows(record)
    except (ValueError, KeyError, TypeError) as exc:
        warnings.warn(
            f"Run record {run_id!r} is corrupt ({exc}); skipped.", RunRecordWarning, stacklevel=4
        )
        return None


def _from_file(path: Path) -> dict[str, Any] | None:
    """A record of an earlier version: one JSON file per run."""
    try:
        with path.open() as f:
            doc = json.load(f)
        if not isinstance(doc, dict) or "run_id" not in doc:
            raise ValueError("not a run record")
        doc.setdefault("status", SUCCEEDED if doc.get("ok") else FAILED)
        return _rows(doc)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        warnings.warn(
            f"Run record {path} cannot be read ({exc}); skipped.", RunRecordWarning, stacklevel=4
        )
        return None


def _rows(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with its ``task_columns`` turned into ``tasks``: name -> one task's record.

    Records written before the columns (a ``tasks`` object already) come back unchanged.
    """
    columns = doc.pop("task_columns", None)
    if columns is not None:
        names = columns["name"]
        names = names if isinstance(names, list) else [names]
        fields = [f for f in (*RECORD_FIELDS, *_extra(columns)) if f in columns]
        lists = [
            columns[f] if isinstance(columns[f], list) else [columns[f]] * len(names)
            for f in fields
        ]
        doc["tasks"] = {
            row[0]: dict(zip(fields, row, strict=True)) for row in zip(*lists, strict=True)
        }
    # Keep the documented key order: tasks (and the failed ones' tracebacks) before the datasets.
    for key in ("tracebacks", "dataset_versions", "dataset_uris", "dataset_rows"):
        if key in doc:
            doc[key] = doc.pop(key)
    return doc


def _extra(columns: dict[str, Any]) -> Iterator[str]:
    """Task fields a newer version recorded that this one does not name (kept, not dropped)."""
    return (k for k in columns if k not in RECORD_FIELDS)

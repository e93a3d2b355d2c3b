"""Every run is recorded: tasks, timings, status and dataset versions, as JSON files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from glacier.errors import GlacierError
from glacier.result import RECORD_FIELDS, RunResult, TaskTable

_dumps = json.dumps


class RunStore:
    """Writes one ``<run_id>.json`` per run under ``directory``; reads them back.

    Example:
        >>> import tempfile
        >>> RunStore(tempfile.mkdtemp()).list()
        []
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def record(self, result: RunResult, versions: dict[str, str] | None = None) -> Path:
        """Write the run's record atomically and return its path.

        The record is a JSON object: the run's fields, then ``task_columns`` holding one
        list per task field (:data:`~glacier.result.RECORD_FIELDS`: task times are integer
        nanoseconds, ``offset_ns`` counted from the run's start), then ``dataset_versions``.
        A field with the same value for every task (``"status": "succeeded"``, say) is
        written as that value instead of a list. :meth:`load` gives the tasks back one
        record per task, under ``tasks``.

        Example:
            >>> import tempfile
            >>> from glacier.result import RunResult, TaskRun
            >>> store = RunStore(tempfile.mkdtemp())
            >>> run = TaskRun("clean", status="succeeded", attempts=1, started_ns=7, duration_ns=5)
            >>> result = RunResult("etl", "r1", tasks={"clean": run}, clock_ns=2)
            >>> path = store.record(result, {"raw": "v1"})
            >>> record = store.load("r1")
            >>> record["tasks"]["clean"] == run.as_dict(2), record["dataset_versions"]
            (True, {'raw': 'v1'})
            >>> record["tasks"]["clean"]["offset_ns"]
            5
        """
        table = TaskTable.of(result.tasks)
        fields: dict[str, Any] = {
            "run_id": result.run_id,
            "pipeline": result.pipeline,
            "started": result.started,
            "duration": result.duration,
            "ok": table.ok(),
        }
        lines = [f"  {_dumps(k)}: {_dumps(v, default=str)}" for k, v in fields.items()]
        # A column at a time: encoding a list is one call into the JSON encoder's C code,
        # where a line per task (or json.dumps of per-task dicts) cost more than running
        # a thousand no-op tasks.
        columns: dict[str, Any] = table.columns(result.clock_ns)
        for key, column in columns.items():
            if column and column.count(column[0]) == len(column):
                columns[key] = column[0]  # the same for every task
        lines.append(
            '  "task_columns": {\n'
            + ",\n".join(f'    "{k}": {_dumps(v)}' for k, v in columns.items())
            + "\n  }"
        )
        lines.append(f'  "dataset_versions": {_dumps(versions or {}, default=str)}')
        data = ("{\n" + ",\n".join(lines) + "\n}\n").encode()
        path = self.directory / f"{result.run_id}.json"
        # Written under a temporary name and renamed: a reader sees the whole record or none.
        tmp = self.directory / f".{result.run_id}.{os.getpid()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        except FileNotFoundError:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, path)
        return path

    def load(self, run_id: str) -> dict[str, Any]:
        """The record of one run, with ``tasks`` mapping each task's name to its record."""
        path = self.directory / f"{run_id}.json"
        if not path.exists():
            known = ", ".join(p.stem for p in sorted(self.directory.glob("*.json"))[-5:])
            raise GlacierError(
                f"No run {run_id!r} in {self.directory}. Recent runs: {known or '(none)'}."
            )
        with path.open() as f:
            return _rows(json.load(f))

    def list(self, pipeline: str | None = None) -> list[dict[str, Any]]:
        """All run records, oldest first, optionally of one pipeline."""
        if not self.directory.exists():
            return []
        runs = []
        for p in self.directory.glob("*.json"):
            with p.open() as f:
                doc = json.load(f)
            if pipeline is None or doc.get("pipeline") == pipeline:
                runs.append(_rows(doc))
        return sorted(runs, key=lambda d: d.get("started") or 0)

    def last(self, pipeline: str) -> dict[str, Any] | None:
        """The most recent record of ``pipeline``."""
        runs = self.list(pipeline)
        return runs[-1] if runs else None


def _rows(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with its ``task_columns`` turned into ``tasks``: name -> one task's record.

    Records written before the columns (a ``tasks`` object already) come back unchanged.
    """
    columns = doc.pop("task_columns", None)
    if columns is not None:
        names = columns["name"]
        names = names if isinstance(names, list) else [names]
        fields = [f for f in RECORD_FIELDS if f in columns]
        lists = [
            columns[f] if isinstance(columns[f], list) else [columns[f]] * len(names)
            for f in fields
        ]
        doc["tasks"] = {
            row[0]: dict(zip(fields, row, strict=True)) for row in zip(*lists, strict=True)
        }
        # Keep the documented key order: tasks before dataset_versions.
        if "dataset_versions" in doc:
            doc["dataset_versions"] = doc.pop("dataset_versions")
    return doc

"""Every run is recorded: tasks, timings, status and dataset versions, as JSON files."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from glacier.errors import GlacierError
from glacier.result import RunResult

_json_str = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


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

        The record is a JSON object: the run's fields, then ``tasks`` with one line per task
        (:meth:`TaskRun.as_json <glacier.result.TaskRun.as_json>`: task times are integer
        nanoseconds, ``offset_ns`` counted from the run's start), then ``dataset_versions``.

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
        self.directory.mkdir(parents=True, exist_ok=True)
        fields: dict[str, Any] = {
            "run_id": result.run_id,
            "pipeline": result.pipeline,
            "started": result.started,
            "duration": result.duration,
            "ok": result.ok,
        }
        lines = [f"  {json.dumps(k)}: {json.dumps(v, default=str)}" for k, v in fields.items()]
        # Task records are formatted one per line by TaskRun.as_json: json.dumps of the whole
        # document (indented, in pure Python) took longer than running 1,000 no-op tasks.
        origin = result.clock_ns
        tasks = ",\n".join(
            f"    {_json_str(name)}: {t.as_json(origin)}" for name, t in result.tasks.items()
        )
        lines.append('  "tasks": {\n' + tasks + "\n  }" if tasks else '  "tasks": {}')
        lines.append(f'  "dataset_versions": {json.dumps(versions or {}, default=str)}')
        data = ("{\n" + ",\n".join(lines) + "\n}\n").encode()
        path = self.directory / f"{result.run_id}.json"
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".run-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        return path

    def load(self, run_id: str) -> dict[str, Any]:
        """The record of one run."""
        path = self.directory / f"{run_id}.json"
        if not path.exists():
            known = ", ".join(p.stem for p in sorted(self.directory.glob("*.json"))[-5:])
            raise GlacierError(
                f"No run {run_id!r} in {self.directory}. Recent runs: {known or '(none)'}."
            )
        with path.open() as f:
            data: dict[str, Any] = json.load(f)
        return data

    def list(self, pipeline: str | None = None) -> list[dict[str, Any]]:
        """All run records, oldest first, optionally of one pipeline."""
        if not self.directory.exists():
            return []
        runs = []
        for p in self.directory.glob("*.json"):
            with p.open() as f:
                doc = json.load(f)
            if pipeline is None or doc.get("pipeline") == pipeline:
                runs.append(doc)
        return sorted(runs, key=lambda d: d.get("started") or 0)

    def last(self, pipeline: str) -> dict[str, Any] | None:
        """The most recent record of ``pipeline``."""
        runs = self.list(pipeline)
        return runs[-1] if runs else None

"""Every run is recorded: tasks, timings, status and dataset versions, as JSON files."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from glacier.errors import GlacierError
from glacier.result import RunResult


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
        """Write the run's record atomically and return its path."""
        self.directory.mkdir(parents=True, exist_ok=True)
        doc: dict[str, Any] = {
            "run_id": result.run_id,
            "pipeline": result.pipeline,
            "started": result.started,
            "duration": result.duration,
            "ok": result.ok,
            "tasks": {name: t.as_dict() for name, t in result.tasks.items()},
            "dataset_versions": versions or {},
        }
        path = self.directory / f"{result.run_id}.json"
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".run-")
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=2, default=str)
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

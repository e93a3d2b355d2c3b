"""Self-contained HTML reports: one file, everything inlined, to attach to a CI job.

``glacier runs show RUN_ID --html FILE`` writes :func:`run_report`; ``glacier graph TARGET
--html FILE`` writes :func:`graph_report`. A report is the page ``glacier ui`` serves with the
answers it would fetch written in: opened from disk it shows the same run, and asks nothing
of the network (its Content-Security-Policy forbids it).

The file is written beside its destination and moved into place, so a reader (or a CI job
that uploads it) never sees half a report.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from glacier.errors import OutputPathError
from glacier.ui.api import Api
from glacier.ui.page import render_page

__all__ = ["graph_report", "run_report", "write_report"]


def run_report(api: Api, run_id: str) -> str:
    """The page of one run (timeline, logs, errors, datasets) as one HTML document.

    Raises:
        NotFound: No such run in the store.
    """
    run = api.answer(f"/api/run/{run_id}", {})
    summary = {
        "run_id": run["run_id"],
        "pipeline": run["pipeline"],
        "status": run["status"],
        "started": run["started"],
        "duration": run["duration"],
        "tasks": _counts(run),
    }
    answers = {
        f"/api/run/{quote(run_id, safe='')}": run,
        "/api/runs": {"runs": [summary], "pipelines": [], "statuses": [], "filter": {}},
    }
    data = {
        "start": f"run/{quote(run_id, safe='')}",
        "has": {"graph": False, "runs": True, "plan": False},
    }
    return render_page(f"run {run_id} · glacier", {**data, "api": answers}, mode="report")


def graph_report(api: Api) -> str:
    """The pipeline's DAG (task and dataset panels, the last run's statuses and its page)."""
    graph = api.answer("/api/graph", {})
    answers: dict[str, Any] = {"/api/graph": graph}
    last = graph["last_run"]
    runs = []
    if last is not None:
        answers[f"/api/run/{quote(last['run_id'], safe='')}"] = last
        runs.append(
            {
                "run_id": last["run_id"],
                "pipeline": last["pipeline"],
                "status": last["status"],
                "started": last["started"],
                "duration": last["duration"],
                "tasks": _counts(last),
            }
        )
    answers["/api/runs"] = {"runs": runs, "pipelines": [], "statuses": [], "filter": {}}
    data = {"start": "graph", "has": {"graph": True, "runs": True, "plan": False}}
    title = f"{graph['graph']['pipeline']} · glacier"
    return render_page(title, {**data, "api": answers}, mode="report")


def _counts(run: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for task in run["tasks"]:
        counts[str(task["status"])] = counts.get(str(task["status"]), 0) + 1
    return counts


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_report(html: str, path: str | os.PathLike[str]) -> Path:
    """Write ``html`` to ``path`` atomically (a temporary file beside it, then a rename).

    Raises:
        OutputPathError: ``path`` is a directory, or its directory does not exist.
    """
    target = Path(path)
    if target.is_dir():
        raise OutputPathError(f"--html {str(target)!r} is a directory; give a file name.")
    if not target.parent.is_dir():
        raise OutputPathError(
            f"--html {str(target)!r}: the directory {str(target.parent)!r} does not exist; "
            "create it first."
        )
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(html)
        os.chmod(tmp, 0o666 & ~_umask())  # as open() would have made it, not mkstemp's 0600
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target

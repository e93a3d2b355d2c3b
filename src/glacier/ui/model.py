"""What the page shows, as plain JSON-able data: a pipeline's graph, runs, one run, a plan.

The server answers its JSON endpoints with these, and a report inlines the same data in its
one file, so the page renders identically from either. Nothing here formats HTML: the page's
script puts every value into the document as text (never as markup), which is what keeps a
task named ``<script>...`` a name.

Example:
    >>> bars = attempt_bars(
    ...     {"status": "failed", "attempts": 1, "offset_ns": 0, "duration_ns": 2_000_000_000},
    ...     run_started=0.0,
    ... )
    >>> [(b["attempt"], b["start"], b["end"], b["outcome"]) for b in bars]
    [(1, 0.0, 2.0, 'failed')]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from glacier.graph import compute_hint, env_name, storage_uri

if TYPE_CHECKING:
    from glacier.dataset import Dataset
    from glacier.flow import FlowPipeline
    from glacier.pipeline import Pipeline
    from glacier.runstore import RunStore
    from glacier.task import Task

__all__ = [
    "attempt_bars",
    "dataset_history",
    "graph_data",
    "plan_data",
    "run_data",
    "run_summary",
    "runs_data",
]

#: The retry warning the per-task path logs when an attempt fails (glacier.executors.base):
#: its time ends the attempt, and the wait it names starts the next one.
_RETRY_LINE = re.compile(r"attempt (\d+) of \d+ failed .*; retrying in ([0-9.eE+-]+)s")


# -- the pipeline ----------------------------------------------------------------------------


def graph_data(pipeline: Pipeline | FlowPipeline) -> dict[str, Any]:
    """The pipeline's tasks and datasets with what their panels show.

    Example:
        >>> from glacier import Dataset, Pipeline
        >>> p = Pipeline("etl")
        >>> raw = Dataset("raw")
        >>> @p.task(retries=2, tags={"team": "core"})
        ... def extract() -> raw:
        ...     return 1
        >>> data = graph_data(p)
        >>> [t["name"] for t in data["tasks"]], data["tasks"][0]["options"]["retries"]
        (['extract'], '2')
        >>> data["datasets"][0]["name"], data["datasets"][0]["producers"]
        ('raw', ['extract'])
    """
    from glacier.flow import FlowPipeline

    graph = pipeline.trace() if isinstance(pipeline, FlowPipeline) else pipeline
    env = graph.environment()
    datasets: dict[str, dict[str, Any]] = {}
    tasks = []

    def dataset(ds: Dataset) -> dict[str, Any]:
        entry = datasets.get(ds.name)
        if entry is None:
            entry = datasets[ds.name] = _dataset_entry(ds, env)
        return entry

    for task in graph.dag.tasks:
        inputs = [ds.name for ds in task.input_datasets]
        outputs = [ds.name for ds in task.outputs]
        for ds in task.input_datasets:
            dataset(ds)["consumers"].append(task.name)
        for ds in task.outputs:
            dataset(ds)["producers"].append(task.name)
        tasks.append(_task_entry(task, inputs, outputs, env))
    return {
        "pipeline": graph.name,
        "description": graph.description or "",
        "environment": env_name(env),
        "tasks": tasks,
        "datasets": list(datasets.values()),
    }


def _task_entry(task: Task, inputs: list[str], outputs: list[str], env: Any) -> dict[str, Any]:
    options = {k: _text(v) for k, v in sorted(task.options.items()) if k != "tags"}
    tags = task.options.get("tags") or {}
    return {
        "name": task.name,
        "location": str(task.location),
        "doc": (task.fn.__doc__ or "").strip(),
        "compute": compute_hint(task),
        "environment": env_name(task.env or env),
        "options": options,
        "tags": {str(k): _text(v) for k, v in dict(tags).items()},
        "params": {k: _text(v) for k, v in task.params.items()},
        "inputs": inputs,
        "outputs": outputs,
    }


def _dataset_entry(ds: Dataset, env: Any) -> dict[str, Any]:
    storage = ds.storage
    owner = getattr(storage, "environment", None) if storage is not None else None
    fmt = getattr(storage, "format", None) if storage is not None else None
    return {
        "name": ds.name,
        "uri": storage_uri(ds, env),
        "format": "" if fmt is None else str(getattr(fmt, "name", fmt)),
        "stored": ds.is_stored,
        "environment": owner if isinstance(owner, str) else env_name(env),
        "description": ds.description or "",
        "schema": {str(k): _text(v) for k, v in (ds.schema or {}).items()},
        "declared_at": str(ds.declared_at),
        "producers": [],
        "consumers": [],
    }


def _text(value: Any) -> str:
    """An option's value as the panel shows it."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items())
    if isinstance(value, type):
        return value.__name__
    if isinstance(value, Iterable) and not isinstance(value, bytes):
        return ", ".join(_text(v) for v in value)
    return repr(value) if not isinstance(value, int | float | bool) else str(value)


# -- runs ------------------------------------------------------------------------------------


def run_summary(record: Mapping[str, Any]) -> dict[str, Any]:
    """One run's line in the runs list: id, pipeline, status, start, duration, task counts."""
    counts: dict[str, int] = {}
    for task in (record.get("tasks") or {}).values():
        status = str(task.get("status"))
        counts[status] = counts.get(status, 0) + 1
    return {
        "run_id": record.get("run_id"),
        "pipeline": record.get("pipeline"),
        "status": record.get("status"),
        "started": record.get("started"),
        "duration": record.get("duration"),
        "tasks": counts,
    }


def runs_data(
    store: RunStore, pipeline: str | None = None, status: str | None = None, limit: int = 200
) -> dict[str, Any]:
    """The latest ``limit`` runs (latest first), and the pipelines and statuses to filter by."""
    every = store.list()
    chosen = [
        r
        for r in every
        if (pipeline is None or r.get("pipeline") == pipeline)
        and (status is None or r.get("status") == status)
    ]
    return {
        "runs": [run_summary(r) for r in reversed(chosen[-limit:])],
        "pipelines": sorted({str(r.get("pipeline")) for r in every}),
        "statuses": sorted({str(r.get("status")) for r in every}),
        "filter": {"pipeline": pipeline, "status": status},
    }


def run_data(record: Mapping[str, Any]) -> dict[str, Any]:
    """One run as its page shows it: tasks with attempt bars, logs, errors and tracebacks;
    datasets written with their versions; checks when the record has them."""
    started = float(record.get("started") or 0.0)
    tracebacks: Mapping[str, Any] = record.get("tracebacks") or {}
    tasks = []
    for name, task in (record.get("tasks") or {}).items():
        offset = task.get("offset_ns")
        tasks.append(
            {
                "name": name,
                "status": task.get("status"),
                "attempts": task.get("attempts") or 0,
                "start": None if offset is None else offset / 1e9,
                "duration": (task.get("duration_ns") or 0) / 1e9,
                "cached": bool(task.get("cached")),
                "resumed": bool(task.get("resumed")),
                "error": task.get("error"),
                "traceback": tracebacks.get(name) or task.get("traceback"),
                "workers": task.get("workers") or "",
                "logs": _logs(task.get("logs"), started),
                "bars": attempt_bars(task, started),
                "checks": _checks(task.get("checks")),
            }
        )
    uris: Mapping[str, Any] = record.get("dataset_uris") or {}
    versions: Mapping[str, Any] = record.get("dataset_versions") or {}
    rows: Mapping[str, Any] = record.get("dataset_rows") or {}
    names = list(dict.fromkeys([*uris, *versions, *rows]))  # rows: in-memory ones too
    return {
        "run_id": record.get("run_id"),
        "pipeline": record.get("pipeline"),
        "status": record.get("status"),
        "started": started,
        "duration": float(record.get("duration") or 0.0),
        "updated": record.get("updated"),
        "tasks": tasks,
        "datasets": [
            {
                "name": n,
                "uri": _str_or_none(uris.get(n)),
                "version": _str_or_none(versions.get(n)),
                "rows": rows.get(n),
            }
            for n in names
        ],
        "checks": _checks(record.get("checks")),
    }


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _logs(logs: Any, run_started: float) -> list[dict[str, Any]]:
    """A task's log lines, each with its time as seconds after the run started."""
    if not logs:
        return []
    if isinstance(logs, str):
        logs = logs.splitlines()
    out = []
    for line in logs:
        if isinstance(line, Mapping):
            when = line.get("time")
            out.append(
                {
                    "at": None if not isinstance(when, int | float) else when - run_started,
                    "level": str(line.get("level") or ""),
                    "logger": str(line.get("logger") or ""),
                    "attempt": line.get("attempt"),
                    "message": str(line.get("message") or ""),
                }
            )
        else:
            out.append({"at": None, "level": "", "logger": "", "attempt": None, "message": line})
    return out


def _checks(checks: Any) -> list[dict[str, Any]]:
    """Check results in whatever shape a record holds them (a list of records, or a mapping
    of name to record or status): a list of flat records, values as text."""
    if not checks:
        return []
    if isinstance(checks, Mapping):
        items: list[Any] = [
            {"name": k, **v} if isinstance(v, Mapping) else {"name": k, "status": v}
            for k, v in checks.items()
        ]
    elif isinstance(checks, list):
        items = checks
    else:
        return [{"result": str(checks)}]
    return [
        {str(k): _text(v) for k, v in item.items()}
        if isinstance(item, Mapping)
        else {"result": _text(item)}
        for item in items
    ]


def attempt_bars(task: Mapping[str, Any], run_started: float) -> list[dict[str, Any]]:
    """One bar per attempt of a task: start and end in seconds after the run started, and how
    the attempt ended.

    A record keeps the task's start, total duration and attempt count; the boundaries between
    attempts come from the retry warnings in its logs (each names the attempt that failed and
    the wait before the next). Where a boundary was not logged (logs not captured), the rest
    of the span is split evenly and those bars say ``estimated``.
    """
    offset = task.get("offset_ns")
    attempts = int(task.get("attempts") or 0)
    if offset is None or attempts < 1:
        return []
    start = offset / 1e9
    end = start + (task.get("duration_ns") or 0) / 1e9
    status = str(task.get("status") or "")
    failures: dict[int, tuple[float, float]] = {}
    for line in _logs(task.get("logs"), run_started):
        match = _RETRY_LINE.search(line["message"])
        if match and line["at"] is not None:
            at = min(max(line["at"], start), end)
            failures[int(match.group(1))] = (at, float(match.group(2)))
    bars = []
    cursor = start
    for attempt in range(1, attempts + 1):
        last = attempt == attempts
        if attempt in failures and not last:
            stop, wait = failures[attempt]
            bars.append(_bar(attempt, cursor, stop, "failed", False))
            cursor = min(stop + wait, end)
        elif last:
            bars.append(_bar(attempt, cursor, end, status, False))
        else:
            share = (end - cursor) / (attempts - attempt + 1)
            bars.append(_bar(attempt, cursor, cursor + share, "failed", True))
            cursor += share
    return bars


def _bar(attempt: int, start: float, end: float, outcome: str, estimated: bool) -> dict[str, Any]:
    return {
        "attempt": attempt,
        "start": round(start, 6),
        "end": round(max(end, start), 6),
        "outcome": outcome,
        "estimated": estimated,
    }


def dataset_history(store: RunStore, pipeline: str, limit: int = 50) -> dict[str, list[Any]]:
    """For each dataset the pipeline's runs wrote: its versions (latest first) with the run,
    when, where, and the row count where the record has one."""
    out: dict[str, list[Any]] = {}
    for record in reversed(store.list(pipeline)[-limit:]):
        versions: Mapping[str, Any] = record.get("dataset_versions") or {}
        uris: Mapping[str, Any] = record.get("dataset_uris") or {}
        rows: Mapping[str, Any] = record.get("dataset_rows") or {}
        for name in dict.fromkeys([*uris, *versions, *rows]):
            out.setdefault(name, []).append(
                {
                    "run_id": record.get("run_id"),
                    "started": record.get("started"),
                    "version": _str_or_none(versions.get(name)),
                    "uri": _str_or_none(uris.get(name)),
                    "rows": rows.get(name),
                }
            )
    return out


# -- the plan --------------------------------------------------------------------------------


def plan_data(pipeline: Pipeline | FlowPipeline) -> dict[str, Any]:
    """Per environment, the resources the plan declares and each task's grants and policy
    documents (offline, under Pulumi's mock engine; needs the ``deploy`` extra)."""
    from glacier import infra

    planned = infra.plan(pipeline)
    model = infra.build_model(pipeline)
    roles: dict[str, str] = {}  # a task role's names (logical, physical, id) -> its task
    for r in planned.of_type("aws:iam/role:Role"):
        task = (r.inputs.get("tags") or {}).get("glacier:task")
        if task:
            for key in (r.name, r.inputs.get("name"), r.outputs.get("id")):
                if isinstance(key, str):
                    roles[key] = str(task)
    envs: dict[str, dict[str, Any]] = {}
    for r in planned.resources:
        env = envs.setdefault(r.environment or "(default provider)", _env_entry())
        env["resources"].append(
            {
                "type": r.type,
                "name": r.name,
                "account": r.account,
                "region": r.region,
            }
        )
        env["account"] = env["account"] or r.account
        env["region"] = env["region"] or r.region
    for spec in model.tasks:
        env = envs.setdefault(spec.env, _env_entry())
        env["tasks"][spec.name] = {
            "compute": spec.compute,
            "grants": [
                {"store": g.location.store, "pattern": g.location.pattern, "access": list(g.access)}
                for g in spec.grants
            ],
            "policies": [],
        }
    for resource, _key, document in planned.policies():
        owner = _policy_task(resource, roles)
        home = envs.get(resource.environment or "(default provider)")
        if owner is not None and home is not None and owner in home["tasks"]:
            home["tasks"][owner]["policies"].append({"name": resource.name, "document": document})
    return {"pipeline": planned.pipeline, "environments": envs}


def _env_entry() -> dict[str, Any]:
    return {"account": None, "region": None, "resources": [], "tasks": {}}


def _policy_task(resource: Any, roles: Mapping[str, str]) -> str | None:
    """The task whose role a policy resource is attached to (inline role policies)."""
    role = resource.inputs.get("role")
    return roles.get(role) if isinstance(role, str) else None

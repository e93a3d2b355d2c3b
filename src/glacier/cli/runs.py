"""``glacier runs list`` and ``glacier runs show``: the run history, for a person or a script.

The records are the project's (:mod:`glacier.runstore`, under the state directory of the
selected environment's settings), so the commands give the same answer from any directory of
the project. ``--json`` prints what a script needs: ``glacier runs show RUN_ID --json | jq
'.tasks[] | select(.status == "failed")'``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from glacier.cli.app import (
    EnvOpt,
    SettingsDirOpt,
    TracebackOpt,
    app,
    directory_option,
    handle_errors,
)
from glacier.cli.console import console

if TYPE_CHECKING:
    from glacier.runstore import RunStore

runs_app = typer.Typer(
    name="runs", help="List and show recorded runs.", no_args_is_help=True, add_completion=False
)
app.add_typer(runs_app)

StateDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        parser=directory_option,
        metavar="DIR",
        help="The state directory holding runs/ (default: the selected environment's "
        "state_dir: PROJECT/.glacier for a settings file, else ./.glacier).",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON only (machine-readable).")]
HtmlOpt = Annotated[
    Path | None,
    typer.Option(
        "--html",
        metavar="FILE",
        help="Write a self-contained HTML report (everything inlined) to FILE.",
        show_default=False,
    ),
]


def project_run_store(
    env: str | None, settings_dir: Path | None, state_dir: Path | None
) -> RunStore:
    """The run store of the project: ``state_dir``, or the selected environment's settings'.

    Without a settings file for the environment (a pipeline built with
    ``Environment.local()``), runs are where such a pipeline records them: ``./.glacier``.
    """
    from glacier.runstore import RunStore
    from glacier.settings import GlacierSettings

    if state_dir is None:
        name = env or None
        if name is not None or GlacierSettings.available(settings_dir):
            state_dir = Path(GlacierSettings.load(name, settings_dir).state_dir)
        else:
            state_dir = Path(GlacierSettings().state_dir)
    return RunStore(state_dir / "runs")


def record_json(record: dict[str, Any]) -> dict[str, Any]:
    """A run record for scripts: ``tasks`` as a list (each task names itself);
    ``dataset_rows`` always present (``{}`` in records of versions that did not count)."""
    out = dict(record)
    out.setdefault("dataset_rows", {})
    tasks = out.get("tasks")
    if isinstance(tasks, dict):
        out["tasks"] = [{"name": name, **task} for name, task in tasks.items()]
    return out


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    tasks = record.get("tasks") or {}
    counts: dict[str, int] = {}
    for task in tasks.values():
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


_STATUS_STYLE = {"succeeded": "green", "running": "cyan"}


def _head_style(record: dict[str, Any], ok: bool) -> str:
    return "bold cyan" if record.get("status") == "running" else "bold green" if ok else "bold red"


def _when(started: Any) -> str:
    try:
        return datetime.fromtimestamp(float(started)).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError, OSError):
        return ""


@runs_app.command("list")
def list_runs(
    pipeline: Annotated[
        str | None,
        typer.Option("--pipeline", metavar="NAME", help="Only this pipeline's runs."),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status", metavar="STATUS", help="Only runs that succeeded, failed or are running."
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, metavar="N", help="At most this many (latest).")
    ] = 50,
    as_json: JsonOpt = False,
    env: EnvOpt = None,
    settings_dir: SettingsDirOpt = None,
    state_dir: StateDirOpt = None,
    traceback: TracebackOpt = False,
) -> None:
    """List recorded runs, latest last: id, pipeline, status, start, duration, task counts."""
    out, err = console(), console(stderr=True)
    with handle_errors(err, traceback):
        if status is not None and status not in ("succeeded", "failed", "running"):
            raise typer.BadParameter(
                f"{status!r}: use 'succeeded', 'failed' or 'running'", param_hint="'--status'"
            )
        store = project_run_store(env, settings_dir, state_dir)
        runs = [_summary(r) for r in store.list(pipeline, status)][-limit:]
        if as_json:
            typer.echo(json.dumps(runs, indent=2, default=str))
            return
        if not runs:
            out.print(Text(_nothing_listed(store, pipeline, status), style="dim"))
            return
        table = Table(show_edge=False, header_style="bold", pad_edge=False)
        for column in ("run", "pipeline", "status", "started", "duration", "tasks"):
            table.add_column(column, no_wrap=True)
        for run in runs:
            counts = ", ".join(f"{n} {s}" for s, n in run["tasks"].items())
            table.add_row(
                str(run["run_id"]),
                str(run["pipeline"]),
                Text(str(run["status"]), style=_STATUS_STYLE.get(str(run["status"]), "bold red")),
                _when(run["started"]),
                f"{float(run['duration'] or 0):.3f}s",
                counts,
            )
        out.print(table)


@runs_app.command("show")
def show_run(
    run_id: Annotated[str, typer.Argument(metavar="RUN_ID", help="The run (see `runs list`).")],
    as_json: JsonOpt = False,
    html: HtmlOpt = None,
    env: EnvOpt = None,
    settings_dir: SettingsDirOpt = None,
    state_dir: StateDirOpt = None,
    traceback: TracebackOpt = False,
) -> None:
    """Show one run: its tasks (status, attempts, timings, errors, logs) and its datasets."""
    from glacier.errors import UnknownRunError

    if html is not None and as_json:
        raise typer.BadParameter(
            "give either --json (to stdout) or --html FILE (a report), not both",
            param_hint="'--html'",
        )
    out, err = console(), console(stderr=True)
    with handle_errors(err, traceback, usage=(UnknownRunError,)):
        store = project_run_store(env, settings_dir, state_dir)
        record = store.load(run_id)
        if html is not None:
            from glacier.ui import Api, run_report, write_report

            path = write_report(run_report(Api(None, store), run_id), html)
            out.print(Text.assemble(("glacier runs show ", "bold"), f"wrote {path}"))
            return
        if as_json:
            typer.echo(json.dumps(record_json(record), indent=2, default=str))
            return
        print_record(out, record)


def print_record(out: Any, record: dict[str, Any]) -> None:
    """A run record as a person reads it."""
    from glacier.cli.test import print_checks
    from glacier.progress import format_duration

    ok = record.get("status") == "succeeded" or record.get("ok") is True
    head = Text.assemble(
        ("run ", "bold"),
        (str(record.get("run_id")), "bold cyan"),
        f"  pipeline {record.get('pipeline')}  ",
        (str(record.get("status") or ("succeeded" if ok else "failed")), _head_style(record, ok)),
        f"  started {_when(record.get('started'))}",
        f"  took {float(record.get('duration') or 0):.3f}s",
    )
    out.print(head, soft_wrap=True)
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for column in ("task", "status", "attempts", "start", "duration", "note"):
        table.add_column(column, no_wrap=column != "note")
    tasks: dict[str, Any] = record.get("tasks") or {}
    for name, task in tasks.items():
        status = str(task.get("status"))
        if task.get("cached"):
            status += " (cached)"
        if task.get("resumed"):
            status += " (reused)"
        offset = task.get("offset_ns")
        table.add_row(
            name,
            Text(status, style={"failed": "bold red", "skipped": "yellow"}.get(status, "green")),
            str(task.get("attempts", "")),
            "" if offset is None else f"+{format_duration(offset / 1e9)}",
            format_duration((task.get("duration_ns") or 0) / 1e9),
            Text(
                str(task.get("error") or task.get("note") or ""),
                style="red" if task.get("error") else "yellow",
            ),
        )
    out.print(table)
    print_checks(out, (c for task in tasks.values() for c in task.get("checks") or ()))
    for name, task in tasks.items():
        logs = task.get("logs")
        if logs:
            out.print(Text(f"logs of {name}:", style="bold"))
            lines = logs if isinstance(logs, list) else str(logs).splitlines()
            for line in lines:
                out.print(Text(f"  {line}"), soft_wrap=True)
    uris: dict[str, str] = record.get("dataset_uris") or {}
    versions: dict[str, str] = record.get("dataset_versions") or {}
    rows: dict[str, int] = record.get("dataset_rows") or {}
    # In-memory datasets have no URI; their rows are shown when the run counted them.
    written = {**uris, **{n: "(in memory)" for n in rows if n not in uris}}
    if written:
        out.print(Text("datasets written:", style="bold"))
        width = max(len(n) for n in written)
        for name, uri in written.items():
            version = versions.get(name) if name in uris else None
            suffix = f"  version {version}" if version else ""
            if name in rows:
                suffix += f"  {rows[name]:,} rows"
            out.print(Text(f"  {name:<{width}}  {uri}{suffix}"), soft_wrap=True)


def _nothing_listed(store: Any, pipeline: str | None, status: str | None) -> str:
    """Why ``runs list`` shows nothing: no run at all, or none that matches the filters (and
    which pipelines have runs, when a --pipeline matched none)."""
    everything = store.list(None, None)
    if not everything:
        return f"No recorded runs in {store.directory}."
    if pipeline is not None:
        known = sorted({str(r["pipeline"]) for r in everything})
        if pipeline not in known:
            return (
                f"No runs of pipeline {pipeline!r} in {store.directory}; recorded pipelines: "
                f"{', '.join(known)}."
            )
    what = " ".join(filter(None, (status, f"runs of {pipeline!r}" if pipeline else "runs")))
    return f"No {what} in {store.directory}."

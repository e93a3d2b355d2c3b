"""``glacier run``: run a pipeline locally with live progress, then a summary and its failures.

A failed task does not stop the command early: the other tasks finish, the summary shows
every task, and each failure is reported with where the task is defined and the line of the
user's code that raised, so the exit code (1) comes with what to fix.
"""

from __future__ import annotations

import json
import sys
import traceback as tb
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from glacier.cli.app import (
    EnvOpt,
    SettingsDirOpt,
    TargetArg,
    TracebackOpt,
    app,
    handle_errors,
    raising_frame,
)
from glacier.cli.console import console, relative
from glacier.cli.loading import (
    bind_selected_environment,
    describe_environment,
    is_dataflow,
    load_pipeline,
    pipeline_environment,
    selected_environment,
)
from glacier.errors import PipelineRunError
from glacier.task_logs import console_logging
from glacier.task_logs import log_level as check_log_options

if TYPE_CHECKING:
    from glacier.environment import Environment
    from glacier.pipeline import Pipeline
    from glacier.result import RunResult, TaskRun
    from glacier.targets import PipelineLike


@app.command()
def run(
    target: TargetArg,
    env: EnvOpt = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            metavar="TASK.NAME=VALUE",
            help="Override a task parameter; VALUE is JSON when it parses (5, true, [1,2]), "
            "else a string. Repeatable.",
            show_default=False,
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            metavar="TASK",
            help="Run only this task (or the task producing this dataset) and what it needs. "
            "Repeatable.",
            show_default=False,
        ),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Ignore and do not fill the task cache.")
    ] = False,
    settings_dir: SettingsDirOpt = None,
    traceback: TracebackOpt = False,
    log_level: Annotated[
        str,
        typer.Option(
            "--log-level",
            metavar="LEVEL",
            help="Show log records at LEVEL and above on stderr (DEBUG, INFO, WARNING, ERROR); "
            "each task's INFO and above are kept in its record either way.",
        ),
    ] = "INFO",
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            metavar="FORMAT",
            help="text, or json: one object per line with run_id, task, attempt, environment.",
        ),
    ] = "text",
) -> None:
    """Run a pipeline locally with live progress, then print a summary.

    Exits 1 if a task failed, after the other tasks finished.
    """
    params = parse_params(param or [])
    out, err = console(), console(stderr=True)
    try:
        check_log_options(log_level, log_format)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    logs = console_logging(log_level, log_format, sys.stderr)
    with handle_errors(err, traceback), logs, selected_environment(env, settings_dir):
        pipeline = load_pipeline(target)
        bind_selected_environment(pipeline, env)
        run_env = pipeline_environment(pipeline)
        out.print(_run_header(pipeline, run_env))
        if is_dataflow(pipeline) and (params or only):
            out.print(
                Text(
                    "--param/--only run the traced graph of this data-flow pipeline: its "
                    "tasks run, the body's own code between task calls does not.",
                    style="dim",
                ),
                soft_wrap=True,
            )
        result = execute(pipeline, out, params=params, only=only or [], use_cache=not no_cache)
        print_summary(out, pipeline, run_env, result)
        if not result.ok:
            report_failures(err, result, show_traceback=traceback)
            raise typer.Exit(1)


def parse_params(values: Sequence[str]) -> dict[str, Any]:
    """``["extract.rows=5", "clean.mode=fast"]`` -> ``{"extract.rows": 5, "clean.mode": "fast"}``.

    Values are JSON when they parse (numbers, booleans, null, lists, objects), else strings.

    Raises:
        typer.BadParameter: An entry is not ``TASK.NAME=VALUE`` (exit code 2).

    Example:
        >>> parse_params(["a.n=5", "a.flag=true", "b.s=hello", "b.l=[1, 2]"])
        {'a.n': 5, 'a.flag': True, 'b.s': 'hello', 'b.l': [1, 2]}
    """
    params: dict[str, Any] = {}
    for entry in values:
        key, eq, raw = entry.partition("=")
        key = key.strip()
        task, dot, name = key.partition(".")
        if not eq or not dot or not task or not name:
            missing = "'='" if not eq else "'TASK.' before the parameter name"
            raise typer.BadParameter(
                f"{entry!r} has no {missing}; write TASK.NAME=VALUE, e.g. --param extract.rows=100",
                param_hint="'--param'",
            )
        try:
            params[key] = json.loads(raw)
        except ValueError:
            params[key] = raw
    return params


def execute(
    pipeline: PipelineLike,
    console: Console,
    *,
    params: Mapping[str, Any],
    only: Sequence[str],
    use_cache: bool,
) -> RunResult:
    """Run ``pipeline`` with a :class:`~glacier.progress.RunProgress` display; never raises
    for a task failure (the result says)."""
    from glacier.progress import RunProgress

    with RunProgress(console) as progress:
        if not is_dataflow(pipeline):
            return _run_graph(pipeline, params, only, use_cache, progress)
        if params or only:
            # Targets and parameters address the traced graph's tasks.
            return _run_graph(pipeline.trace(), params, only, use_cache, progress)
        try:
            result: RunResult = pipeline.run(use_cache=use_cache, hooks=[progress])
        except PipelineRunError as exc:
            result = exc.result  # type: ignore[assignment]
            if not result.failed and exc.__cause__ is not None:
                # The body itself raised outside any task.
                raise exc.__cause__ from None
        return result


def _run_graph(
    pipeline: Pipeline,
    params: Mapping[str, Any],
    only: Sequence[str],
    use_cache: bool,
    progress: object,
) -> RunResult:
    result: RunResult = pipeline.run(
        targets=list(only) or None,
        params=dict(params),
        use_cache=use_cache,
        raise_on_failure=False,
        hooks=[progress],
    )
    return result


def _run_header(pipeline: PipelineLike, env: Environment | None) -> Text:
    kind = "data-flow pipeline" if is_dataflow(pipeline) else "pipeline"
    header = Text.assemble(("glacier run ", "bold"), f"{kind} ", (pipeline.name, "bold cyan"))
    if env is not None:
        header.append("  environment ")
        header.append(describe_environment(env), "bold")
    return header


def print_summary(
    console: Console, pipeline: PipelineLike, env: Environment | None, result: RunResult
) -> None:
    """The table of tasks (status, attempts, duration, note), the count line, and where the
    stored datasets were written."""
    from glacier.progress import display_status, error_line, format_duration

    table = Table(title=None, show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("task", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("attempts", justify="right")
    table.add_column("duration", justify="right", no_wrap=True)
    # The full error is printed below the table; the note only names it.
    table.add_column("note", max_width=80, no_wrap=True, overflow="ellipsis")
    styles = {"succeeded": "green", "failed": "bold red", "skipped": "yellow"}
    for task_run in result.tasks.values():
        status = display_status(task_run)
        note = ""
        if task_run.status == "failed":
            note = error_line(task_run.error)
        elif task_run.status == "skipped":
            note = "an upstream task failed"
        ran = task_run.status != "skipped"
        table.add_row(
            task_run.name,
            Text(status, style=styles.get(task_run.status, "blue")),
            str(task_run.attempts) if ran else "",
            format_duration(task_run.duration) if ran else "",
            Text(note, style="red" if task_run.status == "failed" else "dim"),
        )
    console.print()
    console.print(table)
    console.print(
        Text(result.summary(), style="bold green" if result.ok else "bold red"), soft_wrap=True
    )
    written = _written_datasets(pipeline, env, result)
    if written:
        console.print(Text("datasets:", style="bold"))
        width = max(len(name) for name, _ in written)
        for name, uri in written:
            console.print(Text(f"  {name:<{width}}  {uri}"), soft_wrap=True)


def _written_datasets(
    pipeline: PipelineLike, env: Environment | None, result: RunResult
) -> list[tuple[str, str]]:
    from glacier.graph import storage_uri

    if is_dataflow(pipeline):
        return []
    out = []
    for task in pipeline.dag.tasks:
        task_run = result.tasks.get(task.name)
        if task_run is None or not task_run.ok:
            continue
        for ds in task.outputs:
            if ds.is_stored:
                out.append((ds.name, storage_uri(ds, task.env or env)))
    return out


def report_failures(console: Console, result: RunResult, *, show_traceback: bool) -> None:
    """Each failed task: name, where it is defined, where it raised, the exception line."""
    for task_run in result.failed:
        console.print(_failure_text(task_run), soft_wrap=True)
        if show_traceback and task_run.error is not None:
            console.print(
                Text("".join(tb.format_exception(task_run.error)).rstrip()), soft_wrap=True
            )
    if result.skipped:
        names = ", ".join(r.name for r in result.skipped)
        console.print(Text(f"skipped because of the failure: {names}", style="yellow"))
    if not show_traceback:
        console.print(Text("(run with --traceback for the full traceback)", style="dim"))


def _failure_text(task_run: TaskRun) -> Text:
    from glacier.progress import error_line

    text = Text()
    text.append("error: ", style="bold red")
    text.append(f"task {task_run.name!r} failed")
    if task_run.attempts > 1:
        text.append(f" after {task_run.attempts} attempts")
    if task_run.location:
        text.append(f"\n  defined at {relative(task_run.location)}")
    error = task_run.error
    if error is not None:
        frame = raising_frame(error)
        if frame is not None:
            text.append(f"\n  raised at {relative(frame.filename)}:{frame.lineno} in {frame.name}")
            if frame.line:
                text.append(f"\n      {frame.line}", style="dim")
        text.append(f"\n  {error_line(error)}", style="red")
        cause = error.__cause__
        if cause is None and not error.__suppress_context__:
            cause = error.__context__
        if cause is not None:
            text.append(f"\n  caused by {error_line(cause)}", style="red")
    return text

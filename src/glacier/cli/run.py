"""``glacier run``: run a pipeline locally with live progress, then a summary and its failures.

A failed task does not stop the command early: the other tasks finish, the summary shows
every task, and each failure is reported with where the task is defined and the line of the
user's code that raised, so the exit code (1) comes with what to fix.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
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
    describe_environment,
    is_dataflow,
    load_pipeline,
    pipeline_environment,
    selected_environment,
)
from glacier.errors import ConfigError, GlacierError, OutputPathError, PipelineRunError
from glacier.redaction import redact, traceback_text
from glacier.task_logs import console_logging
from glacier.task_logs import log_level as check_log_options

if TYPE_CHECKING:
    from glacier.environment import Environment
    from glacier.pipeline import Pipeline
    from glacier.result import RunResult, TaskRun
    from glacier.run_options import RunOptions
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
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select",
            "-s",
            metavar="SELECTOR",
            help="Run only these tasks: TASK, DATASET or tag:NAME; +X adds what X needs, X+ "
            "what needs X. Repeatable.",
            show_default=False,
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude",
            metavar="SELECTOR",
            help="Leave out these tasks (selectors as for --select). Repeatable.",
            show_default=False,
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Rerun only the failed and not-yet-run tasks of this pipeline's last run; "
            "tasks that succeeded reuse their stored outputs unless their code, params or "
            "inputs changed since.",
        ),
    ] = False,
    resume_from: Annotated[
        str | None,
        typer.Option(
            "--resume-from",
            metavar="RUN_ID",
            help="As --resume, from this run of this pipeline (see `glacier runs list`).",
            show_default=False,
        ),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Ignore and do not fill the task cache.")
    ] = False,
    remote: Annotated[
        bool,
        typer.Option(
            "--remote",
            help="Start the deployed pipeline (its Step Functions state machine, GCP "
            "workflow or Azure Logic App) instead, and follow it.",
        ),
    ] = False,
    endpoint: Annotated[
        str | None,
        typer.Option(
            "--endpoint",
            metavar="URL",
            help="With --remote: the orchestrator's API at this address (an emulator or "
            "a stand-in), not the cloud's; on GCP and Azure it gets no credentials.",
            show_default=False,
        ),
    ] = None,
    follow: Annotated[
        float | None,
        typer.Option(
            "--follow",
            metavar="SECONDS",
            help="With --remote: how long to follow the run (default: 3600).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the run record as JSON on stdout (the display goes to stderr)."
        ),
    ] = False,
    junit_xml: Annotated[
        Path | None,
        typer.Option(
            "--junit-xml",
            metavar="PATH",
            help="Write a JUnit XML report: one test case per task.",
            show_default=False,
        ),
    ] = None,
    settings_dir: SettingsDirOpt = None,
    traceback: TracebackOpt = False,
    executor: Annotated[
        str | None,
        typer.Option(
            "--executor",
            metavar="KIND",
            help="Where tasks run: local (threads here) or dask. Default: the settings' "
            "[executor] kind.",
            show_default=False,
        ),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            metavar="tcp://HOST:PORT",
            help="Dask scheduler to run on (implies --executor dask).",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            metavar="N",
            help="Worker processes of the local Dask cluster started for the run (implies "
            "--executor dask; default: one per core).",
            show_default=False,
        ),
    ] = None,
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
    lineage: Annotated[
        str | None,
        typer.Option(
            "--lineage",
            metavar="FILE|URL",
            help="Emit OpenLineage events (a run and one per task, with the datasets read and "
            "written): appended to FILE as JSON lines, or posted to an OpenLineage server's "
            "http(s):// URL. Default: the settings' [lineage] section (off).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run a pipeline locally with live progress, then print a summary; with --remote,
    start the deployed pipeline and follow it.

    Exits 0 when every task succeeded, 1 if a task failed (after the other tasks finished),
    2 on a usage or configuration error (unknown task, selector, environment or run).
    """
    params = parse_params(param or [])
    err = console(stderr=True)
    # With --json, stdout carries the record only; what a person reads goes to stderr.
    out = err if as_json else console()
    try:
        check_log_options(log_level, log_format)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    logs = console_logging(log_level, log_format, sys.stderr)
    with handle_errors(err, traceback), logs, selected_environment(env, settings_dir):
        if resume and resume_from:
            raise typer.BadParameter(
                "give --resume (the last run) or --resume-from RUN_ID, not both",
                param_hint="'--resume'",
            )
        if endpoint is not None and not remote:
            raise typer.BadParameter(
                "--endpoint is where a deployed pipeline is started; add --remote, or drop it",
                param_hint="'--endpoint'",
            )
        if follow is not None and not remote:
            raise typer.BadParameter(
                "--follow is how long to follow a deployed run; add --remote, or drop it",
                param_hint="'--follow'",
            )
        if lineage is not None:
            check_lineage_target(lineage)
        if junit_xml is not None and junit_xml.is_dir():
            raise OutputPathError(
                f"--junit-xml {str(junit_xml)!r} is a directory; give the report's file path, "
                f"e.g. --junit-xml {junit_xml.as_posix().rstrip('/')}/glacier.xml."
            )
        selectors = [*(select or []), *(f"+{x}" for x in only or [])]
        from glacier.runner import noting_runs

        with noting_runs() as ran_at_import:
            pipeline = load_pipeline(target)
        if ran_at_import and not remote:
            _report_run_at_import(out, err, target, pipeline, ran_at_import[-1], traceback)
            return
        if remote:
            _run_remote(pipeline, out, endpoint, 3600 if follow is None else follow)
            return
        run_env = pipeline_environment(pipeline)
        out.print(_run_header(pipeline, run_env))
        if is_dataflow(pipeline) and (params or selectors or exclude):
            out.print(
                Text(
                    "--param/--select/--only run the traced graph of this data-flow pipeline: "
                    "its tasks run, the body's own code between task calls does not.",
                    style="dim",
                ),
                soft_wrap=True,
            )
        chosen = choose_executor(executor, address, workers)
        extra_hooks: list[object] = (
            [] if lineage is None else [_lineage_hook(lineage, pipeline, run_env)]
        )
        if run_env is not None:  # so that `glacier ui` shows the run while it runs
            from glacier.live import LiveRecord

            extra_hooks.append(LiveRecord(run_env.container.run_store()))
        result = execute(
            pipeline,
            out,
            params=params,
            only=[],
            use_cache=not no_cache,
            select=selectors,
            exclude=exclude or [],
            resume="last" if resume else resume_from,
            executor=chosen,
            hooks=extra_hooks,
        )
        print_summary(out, pipeline, run_env, result)
        if resume or resume_from:
            print_resumed(out, result)
        if junit_xml is not None:
            write_junit_xml(junit_xml, result)
        if as_json:
            typer.echo(json.dumps(_run_record(run_env, result), indent=2, default=str))
        if not result.ok:
            report_failures(err, result, show_traceback=traceback)
            raise typer.Exit(1)


def _report_run_at_import(
    out: Console, err: Console, target: str, pipeline: PipelineLike, result: Any, tb: bool
) -> None:
    """The file ran its pipeline itself when imported (a module-level ``pipeline.run()``):
    report that run instead of running the pipeline a second time."""
    out.print(
        Text(
            f"{target} ran its pipeline itself when it was imported (pipeline.run() at module "
            "level), so glacier run did not run it a second time, and this command's options "
            'did not apply to it. Put the call under if __name__ == "__main__": to let '
            "glacier run run it.",
            style="yellow",
        ),
        soft_wrap=True,
    )
    from glacier.result import RunResult

    if not isinstance(result, RunResult):
        return
    print_summary(out, pipeline, pipeline_environment(pipeline), result)
    if not result.ok:
        report_failures(err, result, show_traceback=tb)
        raise typer.Exit(1)


def print_resumed(out: Console, result: RunResult) -> None:
    """What a resumed run reused, and what it computed again because it changed."""
    reused = [r.name for r in result.tasks.values() if r.resumed]
    out.print(
        Text(
            f"reused from the earlier run: {', '.join(reused)}"
            if reused
            else "nothing reused: every task ran again",
            style="dim",
        ),
        soft_wrap=True,
    )
    for run in result.tasks.values():
        note = run.note or ""
        if "recomputed: " in note:
            why = note[note.index("recomputed: ") :].split("; ")[0]
            out.print(Text(f"{run.name}: {why}", style="yellow"), soft_wrap=True)


def _lineage_hook(target: str, pipeline: PipelineLike, env: Environment | None) -> object:
    """The hook of ``--lineage FILE|URL`` (a relative FILE is relative to where you stand)."""
    from glacier.lineage import lineage_hook, settings_from_target

    configured = getattr(getattr(env, "settings", None), "lineage", None)
    namespace = getattr(configured, "namespace", None)
    graph = None if is_dataflow(pipeline) else pipeline
    return lineage_hook(settings_from_target(target, namespace), pipeline=graph, env=env)


def _run_record(env: Environment | None, result: RunResult) -> dict[str, Any]:
    from glacier.cli.runs import record_json

    if env is not None:
        try:
            return record_json(env.container.run_store().load(result.run_id))
        except GlacierError:
            pass  # not recorded there (a data-flow pipeline's own environment): build it
    tasks = {name: run.as_dict(result.clock_ns) for name, run in result.tasks.items()}
    return record_json(
        {
            "run_id": result.run_id,
            "pipeline": result.pipeline,
            "started": result.started,
            "duration": result.duration,
            "ok": result.ok,
            "status": "succeeded" if result.ok else "failed",
            "tasks": tasks,
            "dataset_uris": result.dataset_uris,
        }
    )


def write_junit_xml(path: Path, result: RunResult) -> None:
    """A JUnit XML report of the run: one test case per task (failed tasks as failures,
    skipped ones as skipped), then one per data check, so a CI system shows each outcome.

    Example:
        >>> import tempfile, pathlib
        >>> from glacier.result import RunResult, TaskRun
        >>> run = TaskRun("clean", status="failed", attempts=2, error=ValueError("bad row"))
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "report.xml"
        >>> write_junit_xml(path, RunResult("etl", "r1", tasks={"clean": run}))
        >>> 'failures="1"' in path.read_text(), 'message="ValueError: bad row"' in path.read_text()
        (True, True)
    """
    import xml.etree.ElementTree as ET

    from glacier.checks.report import add_junit_cases
    from glacier.progress import error_line

    counts = result.counts()
    suite = ET.Element(
        "testsuite",
        name=result.pipeline,
        tests=str(len(result.tasks)),
        failures=str(counts.get("failed", 0)),
        skipped=str(counts.get("skipped", 0)),
        errors="0",
        time=f"{result.duration:.6f}",
        id=result.run_id,
    )
    for name, task_run in result.tasks.items():
        case = ET.SubElement(
            suite,
            "testcase",
            classname=result.pipeline,
            name=name,
            time=f"{task_run.duration:.6f}",
            file=task_run.location.rsplit(":", 1)[0],
        )
        if task_run.status == "failed":
            failure = ET.SubElement(
                case,
                "failure",
                message=error_line(task_run.error) if task_run.error else "failed",
                type=type(task_run.error).__name__ if task_run.error else "failed",
            )
            if task_run.error is not None:
                failure.text = traceback_text(task_run.error)
        elif task_run.status == "skipped":
            ET.SubElement(case, "skipped", message="an upstream task failed")
        elif task_run.status != "succeeded":
            ET.SubElement(case, "skipped", message=f"not run ({task_run.status})")
    add_junit_cases(
        suite, result.pipeline, (c for t in result.tasks.values() for c in t.checks or ())
    )
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


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
        if key in params:
            raise typer.BadParameter(
                f"{key} is given twice ({entry!r} after an earlier value); give each "
                "TASK.NAME once",
                param_hint="'--param'",
            )
        try:
            params[key] = json.loads(raw)
        except ValueError:
            params[key] = raw
    return params


def check_lineage_target(target: str) -> str:
    """``target`` if ``--lineage`` can use it: a file path, or an http(s):// URL.

    Raises:
        typer.BadParameter: another scheme (``ftp://...``), or an empty value (exit code 2).

    Example:
        >>> check_lineage_target("lineage.ndjson")
        'lineage.ndjson'
    """
    scheme, sep, _ = target.partition("://")
    if not target.strip() or (sep and scheme not in ("http", "https")):
        raise typer.BadParameter(
            f"{target!r} is neither a file path nor an http(s):// URL of an OpenLineage "
            "server; give e.g. --lineage lineage.ndjson or --lineage http://localhost:5000",
            param_hint="'--lineage'",
        )
    return target


def choose_executor(kind: str | None, address: str | None, workers: int | None) -> Any:
    """The executor the ``--executor/--address/--workers`` flags ask for (``None``: the
    settings' own).

    Raises:
        typer.BadParameter: An unknown kind, or Dask flags with ``--executor local``.

    Example:
        >>> choose_executor(None, None, None) is None, choose_executor("local", None, None)
        (True, 'local')
        >>> choose_executor(None, "tcp://scheduler:8786", None).address
        'tcp://scheduler:8786'
    """
    if kind not in (None, "local", "dask"):
        raise typer.BadParameter(
            f"{kind!r} is not an executor; use local or dask.", param_hint="'--executor'"
        )
    dask_flags = address is not None or workers is not None
    if kind == "local" and dask_flags:
        raise typer.BadParameter(
            "--address and --workers choose a Dask cluster; drop them or use --executor dask.",
            param_hint="'--executor'",
        )
    if kind == "dask" or dask_flags:
        from glacier.executors.dask import DaskExecutor

        try:
            return DaskExecutor(address, n_workers=workers)
        except ConfigError as exc:
            raise typer.BadParameter(str(exc), param_hint="'--address'") from None
    return kind


def execute(
    pipeline: PipelineLike,
    console: Console,
    *,
    params: Mapping[str, Any],
    only: Sequence[str],
    use_cache: bool,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    resume: str | None = None,
    executor: Any = None,
    hooks: Sequence[object] = (),
) -> RunResult:
    """Run ``pipeline`` with a :class:`~glacier.progress.RunProgress` display; never raises
    for a task failure (the result says).

    ``only`` names targets (each with what it needs), ``select``/``exclude`` are selectors
    (:mod:`glacier.selection`), ``resume`` a run id or ``"last"``; ``hooks`` run beside the
    display (``--lineage``).
    """
    from glacier.progress import RunProgress
    from glacier.run_options import RunOptions
    from glacier.runner import run_flow

    how = RunOptions(
        targets=list(only) or None,
        params=dict(params),
        executor=executor,
        use_cache=use_cache,
        raise_on_failure=False,
        hooks=tuple(hooks),
        resume=resume,
        select=tuple(select) or None,
        exclude=tuple(exclude) or None,
    )
    with RunProgress(console) as progress:
        if not is_dataflow(pipeline):
            return _run_graph(pipeline, how, progress)
        if params or only or select or exclude or resume:
            # Targets and parameters address the traced graph's tasks.
            return _run_graph(pipeline.trace(), how, progress)
        try:
            result: RunResult = run_flow(
                pipeline,
                "local",
                RunOptions(use_cache=use_cache, hooks=(progress, *hooks), executor=executor),
            )
        except PipelineRunError as exc:
            result = exc.result  # type: ignore[assignment]
            if not result.failed and exc.__cause__ is not None:
                # The body itself raised outside any task.
                raise exc.__cause__ from None
        return result


def _run_graph(pipeline: Pipeline, how: RunOptions, progress: object) -> RunResult:
    from glacier.runner import run_pipeline

    result: RunResult = run_pipeline(pipeline, "local", how.replace(hooks=(progress, *how.hooks)))
    return result


def _run_header(pipeline: PipelineLike, env: Environment | None) -> Text:
    kind = "data-flow pipeline" if is_dataflow(pipeline) else "pipeline"
    header = Text.assemble(("glacier run ", "bold"), f"{kind} ", (pipeline.name, "bold cyan"))
    if env is not None:
        header.append("  environment ")
        header.append(describe_environment(env), "bold")
        cloud = getattr(getattr(env, "provider", None), "kind", "local")
        if cloud != "local":
            # Easy to mistake for the deployed pipeline: say where the work happens.
            header.append(
                f"\n  runs on this machine, reading and writing {cloud} storage of "
                f"{env.name!r} with your credentials; --remote starts the deployed pipeline",
                "yellow",
            )
    return header


def _run_remote(pipeline: PipelineLike, out: Console, endpoint: str | None, follow: float) -> None:
    from glacier.infra import remote

    arn, _ = remote.state_machine_arn(pipeline)
    out.print(Text.assemble(("glacier run --remote ", "bold"), (arn, "bold cyan")))
    done = remote.start(
        pipeline, endpoint_url=endpoint, timeout=follow, on_event=lambda line: out.print(line)
    )
    still = "" if done.finished else f" (still running after {follow:g} s; it goes on)"
    out.print(f"execution {done.execution}: {done.status}{still}", soft_wrap=True)
    if done.status in ("FAILED", "TIMED_OUT", "ABORTED"):
        raise typer.Exit(1)


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
        elif task_run.note:  # uncached this run, or recomputed on resume: why it ran
            note = task_run.note
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
            console.print(Text(traceback_text(task_run.error).rstrip()), soft_wrap=True)
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
                text.append(f"\n      {redact(frame.line)}", style="dim")
        text.append(f"\n  {error_line(error)}", style="red")
        cause = error.__cause__
        if cause is None and not error.__suppress_context__:
            cause = error.__context__
        if cause is not None:
            text.append(f"\n  caused by {error_line(cause)}", style="red")
    return text

"""The ``glacier`` command: run, plan, generate, graph, envs, init.

::

    glacier run examples/medallion.py                       # dev, local files, live progress
    glacier run pipeline.py --env staging --param extract.rows=500 --only clean
    glacier plan examples/medallion.py --env prod           # offline plan of prod's resources
    glacier generate examples/medallion.py --env prod -o infra/
    glacier graph examples/medallion.py -o dag.png          # or .svg, .mmd; Mermaid on stdout
    glacier envs                                            # list | show NAME | validate
    glacier init my-pipeline                                # a new project that runs

A TARGET is ``path/to/file.py`` (when it defines one pipeline), ``file.py:NAME`` or
``package.module:NAME``. ``--env`` sets ``GLACIER_ENV`` before the target is imported, so a
module-level ``Environment.from_env()`` picks it up.

Exit codes: 0 success; 1 a failure (a task failed, invalid settings, an error in the target);
2 a usage error (bad option, unknown target, environment, task or parameter).
"""

from __future__ import annotations

import json
import os
import sys
import sysconfig
import traceback as tb
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from glacier.errors import (
    GlacierError,
    PipelineRunError,
    TargetNotFoundError,
    UnknownEnvironmentError,
    UnknownTaskError,
)

if TYPE_CHECKING:
    from glacier.environment import Environment
    from glacier.flow import FlowPipeline
    from glacier.pipeline import Pipeline
    from glacier.result import RunResult, TaskRun

    PipelineLike = Pipeline | FlowPipeline

#: Errors that mean the command line was wrong (exit code 2), not that work failed (1).
USAGE_ERRORS: tuple[type[BaseException], ...] = (
    TargetNotFoundError,
    UnknownEnvironmentError,
    UnknownTaskError,
)

#: A settings key containing one of these has its value masked by ``glacier envs show``.
SECRET_MARKERS = ("key", "secret", "token", "password", "credential")
MASK = "********"

_PACKAGE_DIR = str(Path(__file__).resolve().parent)

app = typer.Typer(
    name="glacier",
    help="Glacier: cloud-agnostic data pipelines over polars.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
envs_app = typer.Typer(
    help="Environments in the settings directory: list (default), show NAME, validate.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(envs_app, name="envs")


# -- shared options --------------------------------------------------------------------------

TargetArg = Annotated[
    str,
    typer.Argument(
        metavar="TARGET",
        help="The pipeline: path/to/file.py, file.py:NAME or package.module:NAME.",
        show_default=False,
    ),
]
EnvOpt = Annotated[
    str | None,
    typer.Option(
        "--env",
        "-e",
        metavar="NAME",
        help="Environment (sets GLACIER_ENV before the target is imported).",
        show_default=False,
    ),
]
SettingsDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--settings-dir",
        metavar="DIR",
        help="Where the environments' <name>.toml files are (default: $GLACIER_SETTINGS_DIR "
        "or ./containers).",
        show_default=False,
    ),
]
TracebackOpt = Annotated[
    bool, typer.Option("--traceback", help="Show the full exception chain on errors.")
]


def _version(value: bool) -> None:
    if value:
        from glacier import __version__

        typer.echo(f"glacier {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Glacier: cloud-agnostic data pipelines over polars.

    TARGET is path/to/file.py (one pipeline), file.py:NAME or package.module:NAME.
    Exit codes: 0 ok, 1 failure, 2 usage error.
    """


def main() -> None:
    """Entry point of the ``glacier`` console script and ``python -m glacier``."""
    app(prog_name="glacier")


# -- glacier run -----------------------------------------------------------------------------


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
) -> None:
    """Run a pipeline locally with live progress, then print a summary.

    Exits 1 if a task failed, after the other tasks finished.
    """
    params = parse_params(param or [])
    out, err = _console(), _console(stderr=True)
    with _handle_errors(err, traceback), selected_environment(env, settings_dir):
        pipeline = load_pipeline(target)
        run_env = pipeline_environment(pipeline)
        out.print(_run_header(pipeline, run_env))
        if _is_flow(pipeline) and (params or only):
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
    from glacier.flow import FlowPipeline
    from glacier.progress import RunProgress

    with RunProgress(console) as progress:
        if isinstance(pipeline, FlowPipeline):
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
        return _run_graph(pipeline, params, only, use_cache, progress)


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
    from glacier.flow import FlowPipeline

    kind = "data-flow pipeline" if isinstance(pipeline, FlowPipeline) else "pipeline"
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
    for run in result.tasks.values():
        status = display_status(run)
        note = ""
        if run.status == "failed":
            note = error_line(run.error)
        elif run.status == "skipped":
            note = "an upstream task failed"
        table.add_row(
            run.name,
            Text(status, style=styles.get(run.status, "blue")),
            str(run.attempts) if run.status != "skipped" else "",
            format_duration(run.duration) if run.status != "skipped" else "",
            Text(note, style="red" if run.status == "failed" else "dim"),
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
    from glacier.pipeline import Pipeline

    if not isinstance(pipeline, Pipeline):
        return []
    out = []
    for task in pipeline.dag.tasks:
        run = result.tasks.get(task.name)
        if run is None or not run.ok:
            continue
        for ds in task.outputs:
            if ds.is_stored:
                out.append((ds.name, storage_uri(ds, task.env or env)))
    return out


def report_failures(console: Console, result: RunResult, *, show_traceback: bool) -> None:
    """Each failed task: name, where it is defined, where it raised, the exception line."""
    for run in result.failed:
        console.print(_failure_text(run), soft_wrap=True)
        if show_traceback and run.error is not None:
            console.print(Text("".join(tb.format_exception(run.error)).rstrip()), soft_wrap=True)
    if result.skipped:
        names = ", ".join(r.name for r in result.skipped)
        console.print(Text(f"skipped because of the failure: {names}", style="yellow"))
    if not show_traceback:
        console.print(Text("(run with --traceback for the full traceback)", style="dim"))


def _failure_text(run: TaskRun) -> Text:
    from glacier.progress import error_line

    text = Text()
    text.append("error: ", style="bold red")
    text.append(f"task {run.name!r} failed")
    if run.attempts > 1:
        text.append(f" after {run.attempts} attempts")
    if run.location:
        text.append(f"\n  defined at {_relative(run.location)}")
    error = run.error
    if error is not None:
        frame = _raising_frame(error)
        if frame is not None:
            text.append(f"\n  raised at {_relative(frame.filename)}:{frame.lineno} in {frame.name}")
            if frame.line:
                text.append(f"\n      {frame.line}", style="dim")
        text.append(f"\n  {error_line(error)}", style="red")
        cause = error.__cause__
        if cause is None and not error.__suppress_context__:
            cause = error.__context__
        if cause is not None:
            text.append(f"\n  caused by {error_line(cause)}", style="red")
    return text


def _raising_frame(error: BaseException) -> tb.FrameSummary | None:
    """The innermost frame of the user's own code in the error's traceback."""
    frames = tb.extract_tb(error.__traceback__)
    library = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    for frame in reversed(frames):
        path = str(Path(frame.filename).resolve()) if frame.filename else ""
        if path.startswith(_PACKAGE_DIR) or any(path.startswith(p) for p in library):
            continue
        # Compiled extensions report source paths that are not on disk (``src/x.pxd``).
        if frame.filename.startswith("<") or not os.path.isfile(frame.filename):
            continue
        return frame
    return None


# -- glacier plan / generate -----------------------------------------------------------------


@app.command()
def plan(
    target: TargetArg,
    env: EnvOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the plan as JSON only (machine-readable).")
    ] = False,
    settings_dir: SettingsDirOpt = None,
    traceback: TracebackOpt = False,
) -> None:
    """Preview, offline, the cloud resources the pipeline needs in an environment.

    Runs the generated Pulumi program under Pulumi's mock engine: no cloud, no credentials.
    """
    out, err = _console(), _console(stderr=True)
    with _handle_errors(err, traceback), selected_environment(env, settings_dir):
        from glacier import infra

        pipeline = load_pipeline(target)
        run_env = pipeline_environment(pipeline)
        # With --env, that environment's share (what its stack deploys); else everything the
        # pipeline touches.
        planned = infra.plan(pipeline, env=run_env if env is not None else None)
        rows = [_resource_row(r) for r in _resources(planned)]
        if as_json:
            typer.echo(json.dumps(_plan_json(planned, rows), indent=2, default=str))
            return
        table = Table(show_edge=False, header_style="bold", pad_edge=False)
        for column in ("type", "name", "environment", "account", "region"):
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(
                short_type(str(row.get("type") or "")), str(row.get("name") or ""), *_where(row)
            )
        title = Text.assemble(
            ("glacier plan ", "bold"),
            ("pipeline ", ""),
            (pipeline.name, "bold cyan"),
        )
        if run_env is not None:
            title.append("  environment ")
            title.append(describe_environment(run_env), "bold")
        out.print(title)
        out.print(table)
        out.print(Text(_count_line(rows), style="bold"), soft_wrap=True)


def _resources(planned: Any) -> list[Any]:
    for attr in ("resources", "planned"):
        inner = getattr(planned, attr, None)
        if inner is not None and not callable(inner):
            return list(inner)
    if isinstance(planned, Mapping):
        return list(planned.get("resources", []))
    return list(planned)


def _resource_row(resource: Any) -> dict[str, Any]:
    if isinstance(resource, Mapping):
        data = dict(resource)
    else:
        to_dict = getattr(resource, "to_dict", None)
        data = dict(to_dict()) if callable(to_dict) else {}
        for key in ("type", "name", "provider", "environment", "account", "region", "inputs"):
            if key not in data and hasattr(resource, key):
                data[key] = getattr(resource, key)
    return data


def _where(row: Mapping[str, Any]) -> tuple[str, str, str]:
    return (
        str(row.get("environment") or ""),
        str(row.get("account") or ""),
        str(row.get("region") or ""),
    )


def _plan_json(planned: Any, rows: list[dict[str, Any]]) -> Any:
    to_json = getattr(planned, "to_json", None)
    if callable(to_json):
        data = to_json()
        return json.loads(data) if isinstance(data, str) else data
    return rows


def short_type(token: str) -> str:
    """A Pulumi type token as ``pulumi preview`` shows it: ``aws:s3/bucket:Bucket`` ->
    ``aws:s3:Bucket`` (``--json`` keeps the full token).

    Example:
        >>> short_type("aws:iam/rolePolicy:RolePolicy"), short_type("pulumi:providers:aws")
        ('aws:iam:RolePolicy', 'pulumi:providers:aws')
    """
    parts = token.split(":")
    if len(parts) == 3 and "/" in parts[1]:
        return f"{parts[0]}:{parts[1].split('/', 1)[0]}:{parts[2]}"
    return token


def _count_line(rows: Sequence[Mapping[str, Any]]) -> str:
    by_type: dict[str, int] = {}
    for row in rows:
        token = str(row.get("type", "?"))
        short = "provider" if token.startswith("pulumi:providers:") else token.rsplit(":", 1)[-1]
        by_type[short] = by_type.get(short, 0) + 1
    envs = sorted({str(r.get("environment")) for r in rows if r.get("environment")})
    parts = ", ".join(
        f"{n} {t}" for t, n in sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    where = f" in {', '.join(envs)}" if envs else ""
    return f"{len(rows)} resources{where}" + (f" ({parts})" if parts else "")


@app.command()
def generate(
    target: TargetArg,
    env: EnvOpt = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="DIR",
            help="Where to write the Pulumi project (default: infra/<pipeline>).",
            show_default=False,
        ),
    ] = None,
    settings_dir: SettingsDirOpt = None,
    traceback: TracebackOpt = False,
) -> None:
    """Write the pipeline's Pulumi project (Pulumi.yaml, stack file, program)."""
    out, err = _console(), _console(stderr=True)
    with _handle_errors(err, traceback), selected_environment(env, settings_dir):
        from glacier import infra

        pipeline = load_pipeline(target)
        run_env = pipeline_environment(pipeline)
        directory = output or Path("infra") / pipeline.name
        environments = [run_env] if run_env is not None else None
        written = infra.generate(pipeline, output_dir=directory, environments=environments)
        files = [
            Path(f) for f in (written.get("files", []) if isinstance(written, Mapping) else [])
        ]
        header = Text.assemble(("glacier generate ", "bold"), "wrote the Pulumi project of ")
        header.append(pipeline.name, "bold cyan")
        if run_env is not None:
            header.append(f" for {describe_environment(run_env)}")
        header.append(f" to {_relative(str(directory))}/")
        out.print(header, soft_wrap=True)
        for f in files:
            out.print(Text(f"  {_relative(str(f))}"), soft_wrap=True)
        out.print(
            Text(
                f"{len(files)} files. Next: cd {_relative(str(directory))} && pulumi preview",
                style="dim",
            ),
            soft_wrap=True,
        )


# -- glacier graph ---------------------------------------------------------------------------


class TextFormat(StrEnum):
    """What ``glacier graph`` prints on stdout."""

    mermaid = "mermaid"
    dot = "dot"


@app.command()
def graph(
    target: TargetArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the picture: .png or .svg (Graphviz), .mmd (Mermaid), .dot. "
            "Without it, Mermaid text goes to stdout.",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        TextFormat,
        typer.Option("--format", "-f", help="What to print on stdout when there is no --output."),
    ] = TextFormat.mermaid,
    env: EnvOpt = None,
    settings_dir: SettingsDirOpt = None,
    traceback: TracebackOpt = False,
) -> None:
    """Draw the DAG: tasks (with their compute) and datasets (with storage and environment)."""
    from glacier.graph import FORMATS

    if output is not None and output.suffix.lower() not in FORMATS:
        raise typer.BadParameter(
            f"{str(output)!r} has an unknown suffix; use one of {', '.join(FORMATS)}.",
            param_hint="'--output'",
        )
    err = _console(stderr=True)
    with _handle_errors(err, traceback), selected_environment(env, settings_dir):
        from glacier.graph import pipeline_graph, render, to_dot, to_mermaid

        pipeline = load_pipeline(target)
        picture = pipeline_graph(pipeline)
        if output is None:
            text = to_mermaid(picture) if fmt is TextFormat.mermaid else to_dot(picture)
            typer.echo(text, nl=False)
            return
        path = render(picture, output)
        tasks = sum(n.kind == "task" for n in picture.nodes)
        size = path.stat().st_size
        _console().print(
            Text.assemble(
                ("glacier graph ", "bold"),
                f"wrote {_relative(str(path))} ({_size(size)}: {tasks} tasks, "
                f"{len(picture.nodes) - tasks} datasets, {len(picture.edges)} edges)",
            ),
            soft_wrap=True,
        )


# -- glacier envs ----------------------------------------------------------------------------


@envs_app.callback()
def _envs_default(ctx: typer.Context, settings_dir: SettingsDirOpt = None) -> None:
    """Environments in the settings directory: list (default), show NAME, validate."""
    if ctx.invoked_subcommand is None:
        envs_list(settings_dir)


@envs_app.command("list")
def envs_list(settings_dir: SettingsDirOpt = None) -> None:
    """List the environments (one <name>.toml each) with their cloud, account and region."""
    from glacier.settings import GlacierSettings

    out, err = _console(), _console(stderr=True)
    with _handle_errors(err, False):
        directory, names = _environments(settings_dir)
        active = os.environ.get("GLACIER_ENV") or "dev"
        table = Table(show_edge=False, header_style="bold", pad_edge=False)
        for column in ("environment", "cloud", "account", "region", "prefix", "buckets", "note"):
            table.add_column(column)
        for name in names:
            mark = f"{name} *" if name == active else name
            try:
                s = GlacierSettings.load(name, directory)
            except GlacierError:
                note = Text("invalid: see glacier envs validate", style="red")
                table.add_row(mark, "", "", "", "", "", note)
                continue
            table.add_row(
                mark,
                s.provider.kind,
                str(getattr(s.provider, "account_id", None) or ""),
                str(
                    getattr(s.provider, "region", None)
                    or getattr(s.provider, "location", None)
                    or ""
                ),
                s.resolved_naming_prefix,
                str(len(s.buckets)),
                "",
            )
        out.print(Text(f"environments in {_relative(str(directory))}", style="bold"))
        out.print(table)
        out.print(Text(f"* active (GLACIER_ENV={active})", style="dim"))


@envs_app.command("show")
def envs_show(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The environment to show.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
    settings_dir: SettingsDirOpt = None,
) -> None:
    """Print an environment's resolved settings (file + GLACIER_* env vars), secrets masked."""
    from glacier.settings import GlacierSettings

    out, err = _console(), _console(stderr=True)
    with _handle_errors(err, False):
        directory = _settings_directory(settings_dir)
        settings = GlacierSettings.load(name, directory)
        data = mask_secrets(settings.model_dump(mode="json"))
        if as_json:
            typer.echo(json.dumps(data, indent=2, sort_keys=False))
            return
        table = Table(show_edge=False, header_style="bold", pad_edge=False)
        table.add_column("setting", no_wrap=True)
        table.add_column("value", overflow="fold")
        for key, value in _flatten(data):
            table.add_row(key, Text(json.dumps(value) if not isinstance(value, str) else value))
        out.print(
            Text.assemble(
                ("environment ", "bold"),
                (name, "bold cyan"),
                f"  ({_relative(str(directory / (name + '.toml')))})",
            )
        )
        out.print(table)


@envs_app.command("validate")
def envs_validate(settings_dir: SettingsDirOpt = None) -> None:
    """Load every environment and report all problems at once (exit 1 if any)."""

    out, err = _console(), _console(stderr=True)
    with _handle_errors(err, False):
        directory, names = _environments(settings_dir)
        out.print(Text(f"environments in {_relative(str(directory))}", style="bold"))
        invalid = []
        for name in names:
            problem = validate_environment(name, directory)
            if problem is None:
                out.print(Text.assemble(("✓ ", "green"), name))
                continue
            invalid.append(name)
            out.print(Text.assemble(("✗ ", "bold red"), (name, "bold")))
            out.print(Text(_indent(problem, "    "), style="red"), soft_wrap=True)
        if invalid:
            err.print(
                Text.assemble(
                    ("error: ", "bold red"),
                    f"{len(invalid)} of {len(names)} environments invalid: {', '.join(invalid)}",
                )
            )
            raise typer.Exit(1)
        out.print(Text(f"all {len(names)} environments valid", style="bold green"))


def validate_environment(name: str, directory: Path) -> str | None:
    """The problem with environment ``name`` (its settings, then its wiring), or ``None``."""
    from glacier.environment import Environment
    from glacier.settings import GlacierSettings

    try:
        settings = GlacierSettings.load(name, directory)
        Environment.from_settings(settings)
    except GlacierError as exc:
        return str(exc)
    except Exception as exc:  # a wiring bug is still a problem of this environment
        return f"{type(exc).__name__}: {exc}"
    return None


def mask_secrets(data: Any, key: str = "") -> Any:
    """``data`` with every value under a key that looks secret replaced by ``********``.

    A key is secret when it contains key, secret, token, password or credential; booleans
    and empty values stay (they reveal nothing and say whether the setting is on).

    Example:
        >>> mask_secrets({"kms_key_id": "arn:aws:kms:k", "profile": "prod", "api": {"token": "t"}})
        {'kms_key_id': '********', 'profile': 'prod', 'api': {'token': '********'}}
    """
    if isinstance(data, Mapping):
        return {k: mask_secrets(v, str(k)) for k, v in data.items()}
    if isinstance(data, list):
        return [mask_secrets(v, key) for v in data]
    secret = any(marker in key.lower() for marker in SECRET_MARKERS)
    if secret and data not in (None, "") and not isinstance(data, bool):
        return MASK
    return data


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _flatten(data: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(data, Mapping) and data:
        for k, v in data.items():
            yield from _flatten(v, f"{prefix}.{k}" if prefix else str(k))
    else:
        yield prefix, data


def _settings_directory(settings_dir: Path | None) -> Path:
    if settings_dir is not None:
        return settings_dir.expanduser().resolve()
    return Path(os.environ.get("GLACIER_SETTINGS_DIR") or Path.cwd() / "containers").resolve()


def _environments(settings_dir: Path | None) -> tuple[Path, list[str]]:
    """The settings directory and its environments; a GlacierError when it has none."""
    from glacier.settings import GlacierSettings

    directory = _settings_directory(settings_dir)
    names = GlacierSettings.available(directory)
    if names:
        return directory, names
    where = "does not exist" if not directory.is_dir() else "has no <name>.toml files"
    raise GlacierError(
        f"No environments: the settings directory {directory} {where}. Pass --settings-dir, "
        "set GLACIER_SETTINGS_DIR, or create containers/dev.toml (glacier init makes one)."
    )


# -- glacier init ----------------------------------------------------------------------------


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Where to create the project.")],
    name: Annotated[
        str | None,
        typer.Option("--name", help="The pipeline's name (default: the directory's name)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Write into a non-empty directory.")
    ] = False,
) -> None:
    """Create a new project: pipeline.py, containers/dev.toml and prod.toml, a test, a README."""
    from glacier.scaffold import ScaffoldError, scaffold

    out, err = _console(), _console(stderr=True)
    with _handle_errors(err, False, usage=(ScaffoldError,)):
        written = scaffold(directory, name=name, force=force)
        out.print(Text.assemble(("glacier init ", "bold"), f"created {_relative(str(directory))}/"))
        for path in written:
            out.print(Text(f"  {path.relative_to(directory)}"))
        out.print(
            Text(
                f"Next: cd {_relative(str(directory))} && glacier run pipeline.py && pytest",
                style="dim",
            ),
            soft_wrap=True,
        )


# -- helpers ---------------------------------------------------------------------------------


def load_pipeline(target: str) -> PipelineLike:
    """The pipeline ``target`` names, imported afresh.

    File targets are imported under a cached module name; dropping the cached modules makes
    each command see the environment it selected, as a new process would.
    """
    from glacier.targets import load_target

    for module in [m for m in sys.modules if m.startswith("glacier_target_")]:
        del sys.modules[module]
    return load_target(target)


def _is_flow(pipeline: PipelineLike) -> bool:
    from glacier.flow import FlowPipeline

    return isinstance(pipeline, FlowPipeline)


def pipeline_environment(pipeline: PipelineLike) -> Environment | None:
    """The environment the pipeline runs in (its own, or the local default)."""
    from glacier.flow import FlowPipeline

    if isinstance(pipeline, FlowPipeline):
        return pipeline.env
    return pipeline.environment()


def describe_environment(env: Environment) -> str:
    """``dev (local)``, ``prod (aws 999999999999 ca-central-1)``."""
    config = env.config
    kind = str(getattr(config, "kind", None) or "local")
    details = [kind]
    if env.account_id:
        details.append(str(env.account_id))
    if env.region:
        details.append(str(env.region))
    return f"{env.name} ({' '.join(details)})"


@contextmanager
def selected_environment(env: str | None, settings_dir: Path | None) -> Iterator[None]:
    """Within the block, ``GLACIER_ENV`` (and ``GLACIER_SETTINGS_DIR``) select ``env``.

    Raises:
        UnknownEnvironmentError: ``env`` has no settings file; lists the known ones.
    """
    changes: dict[str, str] = {}
    if settings_dir is not None:
        changes["GLACIER_SETTINGS_DIR"] = str(settings_dir.expanduser().resolve())
    if env is not None:
        from glacier.settings import GlacierSettings

        directory = settings_dir or os.environ.get("GLACIER_SETTINGS_DIR")
        if env not in GlacierSettings.available(directory):
            GlacierSettings.load(env, directory)  # raises with the known environments
        changes["GLACIER_ENV"] = env
    before = {k: os.environ.get(k) for k in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def _handle_errors(
    console: Console,
    show_traceback: bool,
    usage: tuple[type[BaseException], ...] = (),
) -> Iterator[None]:
    """Turn errors into a message and an exit code: 2 for usage errors, 1 for the rest."""
    try:
        yield
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise
    except GlacierError as exc:
        code = 2 if isinstance(exc, USAGE_ERRORS + usage) else 1
        _print_error(console, exc, show_traceback)
        raise typer.Exit(code) from None
    except Exception as exc:
        _print_error(console, exc, show_traceback, unexpected=True)
        raise typer.Exit(1) from None


def _print_error(
    console: Console, exc: BaseException, show_traceback: bool, *, unexpected: bool = False
) -> None:
    if show_traceback:
        console.print(Text("".join(tb.format_exception(exc)).rstrip()), soft_wrap=True)
    text = Text("error: ", style="bold red")
    if unexpected:
        text.append(f"{type(exc).__name__}: ")
    text.append(str(exc))
    frame = _raising_frame(exc) if unexpected else None
    if frame is not None:
        text.append(f"\n  at {_relative(frame.filename)}:{frame.lineno}")
        if frame.line:
            text.append(f"\n      {frame.line}", style="dim")
    console.print(text, soft_wrap=True)
    if not show_traceback and (unexpected or exc.__cause__ is not None):
        console.print(Text("(run with --traceback for the full traceback)", style="dim"))


def _console(*, stderr: bool = False) -> Console:
    """A console on stdout or stderr; wide when it is not a terminal, so logs do not wrap."""
    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(stderr=stderr, highlight=False, width=160)
    return console


def _relative(path: str) -> str:
    """``path`` relative to the current directory when it is inside it (``file:line`` too)."""
    cwd = str(Path.cwd())
    if path.startswith(cwd + os.sep):
        return path[len(cwd) + 1 :]
    return path


def _size(n: int) -> str:
    return f"{n} bytes" if n < 1024 else f"{n / 1024:.1f} KB"

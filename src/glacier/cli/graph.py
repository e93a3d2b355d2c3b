"""``glacier graph``: draw a pipeline's DAG, as Mermaid or DOT text or as a picture.

The picture itself (tasks with their compute, datasets with storage and environment) is
:mod:`glacier.graph`'s; this module picks where it goes.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from glacier.cli.app import EnvOpt, SettingsDirOpt, TargetArg, TracebackOpt, app, handle_errors
from glacier.cli.console import console, relative, size
from glacier.cli.loading import load_pipeline, selected_environment

if TYPE_CHECKING:
    from glacier.flow import PipelineLike


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
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            metavar="FILE",
            help="Write a self-contained HTML page of the DAG (panels, last run) to FILE.",
            show_default=False,
        ),
    ] = None,
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
    if html is not None and output is not None:
        raise typer.BadParameter(
            "give either --html (an interactive page) or --output (a picture), not both",
            param_hint="'--html'",
        )
    err = console(stderr=True)
    with handle_errors(err, traceback), selected_environment(env, settings_dir):
        from glacier.graph import pipeline_graph, render, to_dot, to_mermaid

        pipeline = load_pipeline(target)
        if html is not None:
            _write_html(pipeline, html)
            return
        picture = pipeline_graph(pipeline)
        if output is None:
            text = to_mermaid(picture) if fmt is TextFormat.mermaid else to_dot(picture)
            typer.echo(text, nl=False)
            return
        path = render(picture, output)
        tasks = sum(n.kind == "task" for n in picture.nodes)
        console().print(
            Text.assemble(
                ("glacier graph ", "bold"),
                f"wrote {relative(str(path))} ({size(path.stat().st_size)}: {tasks} tasks, "
                f"{len(picture.nodes) - tasks} datasets, {len(picture.edges)} edges)",
            ),
            soft_wrap=True,
        )


def _write_html(pipeline: PipelineLike, html: Path) -> None:
    from glacier.cli.ui import run_store_of
    from glacier.ui import Api, graph_report, write_report

    store = run_store_of(pipeline, None, None, None)
    path = write_report(graph_report(Api(pipeline, store)), html)
    console().print(
        Text.assemble(("glacier graph ", "bold"), f"wrote {relative(str(path))}"), soft_wrap=True
    )

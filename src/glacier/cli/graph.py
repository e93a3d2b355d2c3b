"""``glacier graph``: draw a pipeline's DAG, as Mermaid or DOT text or as a picture.

The picture itself (tasks with their compute, datasets with storage and environment) is
:mod:`glacier.graph`'s; this module picks where it goes.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from glacier.cli.app import EnvOpt, SettingsDirOpt, TargetArg, TracebackOpt, app, handle_errors
from glacier.cli.console import console, relative, size
from glacier.cli.loading import load_pipeline, selected_environment


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
    err = console(stderr=True)
    with handle_errors(err, traceback), selected_environment(env, settings_dir):
        from glacier.graph import pipeline_graph, render, to_dot, to_mermaid

        pipeline = load_pipeline(target)
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

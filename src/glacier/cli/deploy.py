"""``glacier deploy``: deploy (or preview) an environment's stack.

Writes the Pulumi project and runs ``pulumi up`` (or ``preview``) through the Automation API
(:func:`glacier.infra.up`), which needs the Pulumi CLI. Rehearse first: ``glacier rehearse``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from glacier.cli.app import EnvOpt, SettingsDirOpt, TargetArg, TracebackOpt, app, handle_errors
from glacier.cli.console import console
from glacier.cli.loading import load_pipeline, pipeline_environment, selected_environment


@app.command()
def deploy(
    target: TargetArg,
    env: EnvOpt = None,
    preview: Annotated[
        bool, typer.Option("--preview", help="Show what would change; change nothing.")
    ] = False,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir",
            "-o",
            metavar="DIR",
            help="Where to write the Pulumi project (default: a temp dir).",
        ),
    ] = None,
    settings_dir: SettingsDirOpt = None,
    traceback: TracebackOpt = False,
) -> None:
    """Deploy (or preview) an environment's stack with the Pulumi Automation API.

    Needs the Pulumi CLI on the PATH and a state backend ('pulumi login').
    """
    out, err = console(), console(stderr=True)
    with handle_errors(err, traceback), selected_environment(env, settings_dir):
        from glacier.infra.deploy import require_pulumi, up

        require_pulumi()  # before loading anything: the most likely failure, said first
        pipeline = load_pipeline(target)
        run_env = pipeline_environment(pipeline)
        done = up(
            pipeline,
            run_env,
            output_dir=output_dir,
            preview=preview,
            on_output=lambda line: out.print(Text(line.rstrip())),
        )
        verb = "previewed" if preview else "deployed"
        out.print(Text(f"stack {done['stack']} {verb}: {done['summary']}", style="bold"))

"""``glacier rehearse``: the deployment of an environment, run on emulators.

Every task's artifact runs in a clean process under its own IAM role on a moto server of its
own, in the state machine's order (:func:`glacier.infra.rehearse`); nothing reaches a cloud.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from glacier.cli.app import EnvOpt, SettingsDirOpt, TargetArg, TracebackOpt, app, handle_errors
from glacier.cli.console import console
from glacier.cli.loading import (
    load_pipeline,
    pipeline_environment,
    selected_environment,
    selected_environment_name,
)


@app.command()
def rehearse(
    target: TargetArg,
    env: EnvOpt = None,
    keep_server: Annotated[
        bool,
        typer.Option(
            "--keep-server",
            help="Leave the moto server running and print its URL (for glacier run --remote "
            "--endpoint URL); stop it with Ctrl-C.",
        ),
    ] = False,
    seed: Annotated[
        Path | None,
        typer.Option(
            "--seed",
            help="A directory of source data, <bucket>/<key> files (a local environment's "
            "base_path), put in the plan's buckets before the first task runs.",
            metavar="DIR",
            show_default=False,
        ),
    ] = None,
    settings_dir: SettingsDirOpt = None,
    traceback: TracebackOpt = False,
) -> None:
    """Rehearse the deployment on emulators: each task's packaged code, in a clean process
    under its own IAM role, in the state machine's order (GCP and Azure: on the GCS emulator
    or Azurite, every storage request checked against the plan's grants). Exits 1 if a task
    failed or a request was denied."""
    out, err = console(), console(stderr=True)
    with handle_errors(err, traceback), selected_environment(env, settings_dir):
        from glacier.infra.rehearse import rehearse as run_rehearsal
        from glacier.infra.rehearse import stop_server

        pipeline = load_pipeline(target)
        selected = selected_environment_name() is not None  # --env or GLACIER_ENV
        chosen = pipeline_environment(pipeline) if selected else None
        report = run_rehearsal(pipeline, chosen, keep_server=keep_server, seed=seed)
        out.print(Text(report.to_text()), soft_wrap=True)
        if keep_server:
            out.print(f"moto server left running at {report.endpoint} (Ctrl-C stops it)")
            try:
                typer.prompt("", default="", show_default=False, prompt_suffix="")
            except (KeyboardInterrupt, typer.Abort):
                pass
            finally:
                stop_server(report.endpoint)
        if not report.ok:
            raise typer.Exit(1)

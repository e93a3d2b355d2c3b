"""``glacier package``: write the artifacts a Terraform configuration refers to.

``glacier generate --target terraform`` writes configuration only; Terraform uploads files it
is given but builds nothing. This command writes them under each environment's directory
(``DIR/<environment>/artifacts/``): the Lambda code package and the dependencies layer, built
for the function's platform (:func:`glacier.infra.terraform.package`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from glacier.cli.app import EnvOpt, SettingsDirOpt, TargetArg, TracebackOpt, app, handle_errors
from glacier.cli.console import console, relative
from glacier.cli.loading import load_pipeline, pipeline_environment, selected_environment
from glacier.infra.project import check_output_directory


@app.command()
def package(
    target: TargetArg,
    env: EnvOpt = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="DIR",
            help="The directory `glacier generate --target terraform` wrote (default: "
            "infra/PIPELINE).",
            show_default=False,
        ),
    ] = None,
    settings_dir: SettingsDirOpt = None,
    traceback: TracebackOpt = False,
) -> None:
    """Write the Lambda code and layers a Terraform configuration refers to."""
    out, err = console(), console(stderr=True)
    with handle_errors(err, traceback), selected_environment(env, settings_dir):
        from glacier.infra.terraform import package as write_artifacts

        pipeline = load_pipeline(target)
        run_env = pipeline_environment(pipeline)
        directory = output or Path("infra") / pipeline.name
        check_output_directory(directory, "--output")
        environments = [run_env] if run_env is not None else None
        written = write_artifacts(pipeline, directory, environments)
        count = sum(len(files) for files in written.values())
        out.print(
            Text.assemble(
                ("glacier package ", "bold"),
                f"wrote {count} artifact(s) of {pipeline.name} to {relative(str(directory))}/",
            ),
            soft_wrap=True,
        )
        for files in written.values():
            for f in files:
                out.print(Text(f"  {relative(f)}"), soft_wrap=True)

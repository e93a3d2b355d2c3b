"""``glacier generate``: write the pipeline's Pulumi project (Pulumi.yaml, stacks, program),
or with ``--target terraform`` its Terraform JSON (one directory per environment).

The project is written by :func:`glacier.infra.generate`; this module picks the directory,
refuses one that cannot be a directory before anything is written, and lists what was written.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from glacier.cli.app import EnvOpt, SettingsDirOpt, TargetArg, TracebackOpt, app, handle_errors
from glacier.cli.console import console, relative, shell_path
from glacier.cli.loading import (
    describe_environment,
    load_pipeline,
    pipeline_environment,
    selected_environment,
)
from glacier.errors import OutputPathError


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
            help="Where to write the Pulumi project (default: infra/PIPELINE).",
            show_default=False,
        ),
    ] = None,
    target_kind: Annotated[
        str,
        typer.Option(
            "--target",
            "-t",
            metavar="TARGET",
            help="What to write: pulumi (a Pulumi project) or terraform (*.tf.json per "
            "environment; then `glacier package` writes its artifacts).",
        ),
    ] = "pulumi",
    settings_dir: SettingsDirOpt = None,
    traceback: TracebackOpt = False,
) -> None:
    """Write the pipeline's Pulumi project (Pulumi.yaml, stack file, program), or its
    Terraform JSON with --target terraform."""
    out, err = console(), console(stderr=True)
    with handle_errors(err, traceback), selected_environment(env, settings_dir):
        from glacier import infra
        from glacier.infra.terraform import check_target

        what = check_target(target_kind)
        pipeline = load_pipeline(target)
        run_env = pipeline_environment(pipeline)
        directory = output or Path("infra") / pipeline.name
        check_output_directory(directory)
        environments = [run_env] if run_env is not None else None
        written = infra.generate(
            pipeline, output_dir=directory, environments=environments, target=what
        )
        files = [
            Path(f) for f in (written.get("files", []) if isinstance(written, Mapping) else [])
        ]
        kind = "Terraform configuration" if what == "terraform" else "Pulumi project"
        header = Text.assemble(("glacier generate ", "bold"), f"wrote the {kind} of ")
        header.append(pipeline.name, "bold cyan")
        if run_env is not None:
            header.append(f" for {describe_environment(run_env)}")
        header.append(f" to {relative(str(directory))}/")
        out.print(header, soft_wrap=True)
        for f in files:
            out.print(Text(f"  {relative(str(f))}"), soft_wrap=True)
        step = f"cd {shell_path(str(directory))} && pulumi preview"
        if what == "terraform":
            step = (
                f"glacier package {shell_path(str(target))}"
                + (f" --env {env}" if env else "")
                + f" -o {shell_path(str(directory))}, then terraform init && terraform plan "
                "in each environment's directory"
            )
        out.print(Text(f"{len(files)} files. Next: {step}", style="dim"), soft_wrap=True)


def check_output_directory(directory: Path) -> None:
    """Refuse ``directory`` when it, or the nearest part of it that exists, is not a directory.

    Raises:
        OutputPathError: Names the path in the way and how to proceed (exit code 2).
    """
    existing = next((p for p in (directory, *directory.parents) if p.exists()), None)
    if existing is None or existing.is_dir():
        return
    where = "is" if existing == directory else f"is in the way of {str(directory)!r} and is"
    raise OutputPathError(
        f"--output {str(directory)!r}: {str(existing)!r} {where} a file, not a directory; "
        "pass a directory (new or existing) to -o, or move the file away."
    )

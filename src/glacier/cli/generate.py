"""``glacier generate``: write the pipeline's Pulumi project (Pulumi.yaml, stacks, program),
or with ``--target terraform`` its Terraform JSON (one directory per environment).

The project is written by :func:`glacier.infra.generate`, which refuses what ``glacier plan``
refuses and a directory that is a file, before anything is written; this module picks the
directory and lists what was written.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from glacier.cli.app import EnvOpt, SettingsDirOpt, TargetArg, TracebackOpt, app, handle_errors
from glacier.cli.console import console, relative, shell_path
from glacier.cli.loading import (
    describe_environment,
    load_pipeline,
    nothing_to_deploy,
    pipeline_environment,
    selected_environment,
)
from glacier.infra.project import check_output_directory


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
        check_output_directory(directory, "--output")
        environments = [run_env] if run_env is not None else None
        written = infra.generate(
            pipeline, output_dir=directory, environments=environments, target=what
        )
        files = [
            Path(f) for f in (written.get("files", []) if isinstance(written, Mapping) else [])
        ]
        if not files:
            out.print(
                Text(nothing_to_deploy("generate", target, pipeline, run_env) + " Wrote nothing."),
                soft_wrap=True,
            )
            return
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
            step = terraform_step(target, env, directory, written)
        out.print(Text(f"{len(files)} files. Next: {step}", style="dim"), soft_wrap=True)


def terraform_step(target: str, env: str | None, directory: Path, written: Any) -> str:
    """What to run after writing a Terraform configuration: ``glacier package`` when an
    environment refers to artifacts or runs images Terraform does not build (Lambda zips on
    AWS; a job image on GCP, with its ``images.sh``), then ``terraform``."""
    package = (
        f"glacier package {shell_path(str(target))}"
        + (f" --env {env}" if env else "")
        + f" -o {shell_path(str(directory))}"
    )
    artifacts = any(written.get("artifacts", {}).values())
    images = [k for k, found in written.get("images", {}).items() if found]
    if images:
        scripts = ", ".join(shell_path(str(directory / k / "images.sh")) for k in images)
        return (
            f"{package} (the image's Dockerfile and images.sh), then in each environment's "
            "directory: terraform init, terraform apply -target=<its registry> (named in "
            f"images.sh), {scripts} (builds and pushes the image), terraform plan"
        )
    if artifacts:
        return f"{package}, then terraform init && terraform plan in each environment's directory"
    return "terraform init && terraform plan in each environment's directory"

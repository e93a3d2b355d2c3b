"""``glacier init``: create a new project that runs, validates and passes its own tests.

What is written (pipeline.py, containers/dev.toml and prod.toml, a test, a README) is
:mod:`glacier.scaffold`'s; this module reports it and says what to do next.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from glacier.cli.app import app, handle_errors
from glacier.cli.console import console, relative, shell_path


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Where to create the project.")],
    name: Annotated[
        str | None,
        typer.Option(
            "--name", metavar="NAME", help="The pipeline's name (default: the directory's name)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Write into a non-empty directory.")
    ] = False,
) -> None:
    """Create a new project: pipeline.py, containers/dev.toml and prod.toml, a test, a README."""
    from glacier.scaffold import ScaffoldError, scaffold

    out, err = console(), console(stderr=True)
    with handle_errors(err, False, usage=(ScaffoldError,)):
        written = scaffold(directory, name=name, force=force)
        out.print(Text.assemble(("glacier init ", "bold"), f"created {relative(str(directory))}/"))
        for path in written:
            out.print(Text(f"  {path.relative_to(directory)}"))
        out.print(
            Text(
                f"Next: cd {shell_path(str(directory))} && glacier run pipeline.py && pytest",
                style="dim",
            ),
            soft_wrap=True,
        )

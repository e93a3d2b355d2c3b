"""``glacier shell``: an interactive Python shell inside an environment.

::

    $ glacier shell --env production
    glacier> env.list_resources()
    ['customer_data', 'sales_data']
    glacier> env.get("sales_data").scan().head().collect()

Bound in the shell: ``env`` (the environment), ``pl`` (polars), and with a TARGET its
``pipeline``, ``datasets`` (by name) and each dataset under its own name when that is a
free Python identifier. IPython is used when it is installed, else the standard library's
``code.interact``.

An environment marked production (``production=True``, a production template, or named
``prod``/``production``) is opened read-only: its registered buckets and the pipeline's
datasets refuse writes and deletes (``ReadOnlyError``) unless ``--writable`` is given.
"""

from __future__ import annotations

import code
import importlib.util
from enum import StrEnum
from typing import Annotated, Any

import typer

from glacier.cli.app import EnvOpt, SettingsDirOpt, TracebackOpt, app, handle_errors
from glacier.cli.console import console
from glacier.cli.loading import load_pipeline, pipeline_environment, selected_environment

PROMPT = "glacier> "


class Interface(StrEnum):
    """Which interactive interpreter runs the shell."""

    auto = "auto"
    ipython = "ipython"
    python = "python"


@app.command()
def shell(
    target: Annotated[
        str | None,
        typer.Argument(
            metavar="[TARGET]",
            help="A pipeline (file.py, file.py:NAME) to bind with its datasets; optional.",
            show_default=False,
        ),
    ] = None,
    env: EnvOpt = None,
    settings_dir: SettingsDirOpt = None,
    writable: Annotated[
        bool,
        typer.Option(
            "--writable", help="Allow writes in a production environment (read-only by default)."
        ),
    ] = False,
    interface: Annotated[
        Interface,
        typer.Option("--interface", help="ipython, python (code.interact), or auto."),
    ] = Interface.auto,
    traceback: TracebackOpt = False,
) -> None:
    """Open an interactive shell with ``env``, the pipeline and its datasets bound."""
    err = console(stderr=True)
    with handle_errors(err, traceback), selected_environment(env, settings_dir):
        namespace, banner = shell_namespace(target, writable=writable)
        use_ipython = interface is Interface.ipython or (
            interface is Interface.auto and importlib.util.find_spec("IPython") is not None
        )
        if use_ipython:
            _ipython(namespace, banner)
        else:
            _python(namespace, banner)


def shell_namespace(target: str | None, *, writable: bool) -> tuple[dict[str, Any], str]:
    """The names bound in the shell, and its banner."""
    import polars as pl

    from glacier.environment import Environment

    pipeline: Any = None
    environment: Environment | None = None
    if target is not None:
        pipeline = load_pipeline(target)
        environment = pipeline_environment(pipeline)
    if environment is None:
        environment = Environment.from_env()
    namespace: dict[str, Any] = {"env": environment, "pl": pl}
    read_only = environment.is_production and not writable
    datasets: dict[str, Any] = {}
    if pipeline is not None:
        namespace["pipeline"] = pipeline
        graph = pipeline.trace() if hasattr(pipeline, "trace") else pipeline
        datasets = {ds.name: ds for ds in graph.datasets}
        namespace["datasets"] = datasets
        for name, ds in datasets.items():
            if name.isidentifier() and name not in namespace:
                namespace[name] = ds
    if read_only:
        _make_read_only(environment, datasets.values())
    bound = ", ".join(sorted(namespace))
    mode = "read-only (production; --writable to write)" if read_only else "writable"
    banner = f"glacier shell: environment {environment.name!r}, storage {mode}. Bound: {bound}."
    return namespace, banner


def _make_read_only(environment: Any, datasets: Any) -> None:
    where = f"glacier shell: environment {environment.name!r} is production"
    registry: dict[str, Any] = environment.container.registry()
    for name, resource in list(registry.items()):
        with_options = getattr(resource, "with_options", None)
        if callable(with_options):
            registry[name] = with_options(read_only=True, where=where)
    for ds in datasets:
        ds.read_only = True


def _ipython(namespace: dict[str, Any], banner: str) -> None:
    import IPython

    print(banner)
    IPython.start_ipython(argv=["--no-banner"], user_ns=namespace)


def _python(namespace: dict[str, Any], banner: str) -> None:
    import sys

    sys.ps1 = PROMPT
    code.interact(banner=banner, local=namespace, exitmsg="")

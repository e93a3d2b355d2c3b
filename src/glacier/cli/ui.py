"""``glacier ui``: a local, read-only web page over the pipeline and its runs.

The page, its data and its server are :mod:`glacier.ui`'s; this module loads the target,
finds the run store and serves until Ctrl-C.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from glacier.cli.app import EnvOpt, SettingsDirOpt, TracebackOpt, app, handle_errors
from glacier.cli.console import console
from glacier.cli.loading import load_pipeline, pipeline_environment, selected_environment
from glacier.cli.runs import StateDirOpt, project_run_store

if TYPE_CHECKING:
    from glacier.flow import PipelineLike
    from glacier.runstore import RunStore


@app.command()
def ui(
    target: Annotated[
        str | None,
        typer.Argument(
            metavar="[TARGET]",
            help="The pipeline (path/to/file.py, file.py:NAME or package.module:NAME); "
            "without it, the runs only.",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int, typer.Option("--port", "-p", min=0, max=65535, help="Port (0: a free one).")
    ] = 8765,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            metavar="ADDRESS",
            help="Address to bind. The default serves this machine only; anything else "
            "shows your runs' logs to the network.",
        ),
    ] = "127.0.0.1",
    env: EnvOpt = None,
    settings_dir: SettingsDirOpt = None,
    state_dir: StateDirOpt = None,
    traceback: TracebackOpt = False,
) -> None:
    """Serve a local, read-only page: the DAG coloured by the last run, runs, logs, plans."""
    from glacier.ui import Api, UiServer

    out, err = console(), console(stderr=True)
    with handle_errors(err, traceback):
        pipeline: PipelineLike | None = None
        with selected_environment(env, settings_dir):
            if target is not None:
                pipeline = load_pipeline(target)
            store = run_store_of(pipeline, env, settings_dir, state_dir)
        try:
            server = UiServer(Api(pipeline, store), host, port)
        except OSError as exc:
            raise typer.BadParameter(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another "
                "with --port (0 picks a free one)",
                param_hint="'--port'",
            ) from None
        what = f"pipeline {pipeline.name}" if pipeline is not None else "runs"
        out.print(
            Text.assemble(
                ("glacier ui ", "bold"),
                f"{what}, runs in {store.directory}: ",
                (server.url, "bold cyan"),
                " (Ctrl-C stops)",
            ),
            soft_wrap=True,
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()


def run_store_of(
    pipeline: PipelineLike | None,
    env: str | None,
    settings_dir: Path | None,
    state_dir: Path | None,
) -> RunStore:
    """The store the pipeline records its runs in (its environment's), else the project's."""
    if state_dir is None and pipeline is not None:
        run_env = pipeline_environment(pipeline)
        if run_env is not None:
            store: RunStore = run_env.container.run_store()
            return store
    return project_run_store(env, settings_dir, state_dir)

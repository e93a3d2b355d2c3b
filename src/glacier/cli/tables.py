"""``glacier tables``: maintenance of a pipeline's Delta tables: history, vacuum, optimize,
convert.

::

    glacier tables history pipeline.py orders --env prod
    glacier tables vacuum pipeline.py orders --env prod              # keeps the retention
    glacier tables vacuum pipeline.py orders --retention-hours 1 --force
    glacier tables optimize pipeline.py orders --env prod
    glacier tables convert pipeline.py orders --env prod             # old _glacier/ layout

DATASET names a stored dataset of the pipeline in TARGET; its Bucket is the one the pipeline
reads and writes in that environment. Vacuum keeps the Bucket's retention (settings key
``retention_days``, default 7 days) and refuses a shorter one unless ``--force`` is given.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from glacier.cli.app import EnvOpt, SettingsDirOpt, TargetArg, TracebackOpt, app, handle_errors
from glacier.cli.console import console
from glacier.cli.loading import load_pipeline, pipeline_environment, selected_environment
from glacier.errors import ConfigError

if TYPE_CHECKING:
    from glacier.resources.bucket import Bucket

tables_app = typer.Typer(
    help="Delta tables of a pipeline's datasets: history, vacuum, optimize, convert.",
    no_args_is_help=True,
)
app.add_typer(tables_app, name="tables")

DatasetArg = Annotated[
    str, typer.Argument(metavar="DATASET", help="A stored dataset of the pipeline, by name.")
]


def _refuse_reversed(target: str, name: str) -> None:
    """The order was DATASET TARGET before every command took the target first: say so
    rather than report a missing file named after the dataset."""
    looks_like_file = name.endswith(".py") or (":" in name and name.split(":")[0].endswith(".py"))
    if looks_like_file and not Path(target.split(":")[0]).exists():
        raise typer.BadParameter(
            f"the target comes first, as in every glacier command: glacier tables ... {name} "
            f"{target}",
            param_hint="TARGET",
        )


def dataset_bucket(target: str, name: str) -> Bucket:
    """The Bucket of the pipeline's dataset ``name`` in the selected environment.

    Raises:
        ConfigError: if the pipeline has no stored dataset of that name.
    """
    from glacier.environment import Environment

    _refuse_reversed(target, name)
    pipeline = load_pipeline(target)
    env = pipeline_environment(pipeline) or Environment.from_env()
    datasets = getattr(pipeline, "datasets", [])
    found = {d.name: d for d in (datasets() if callable(datasets) else datasets)}
    dataset = found.get(name)
    if dataset is None or not dataset.is_stored:
        stored = sorted(n for n, d in found.items() if d.is_stored)
        raise ConfigError(
            f"{target} has no stored dataset {name!r}; its stored datasets are {stored}."
        )
    return env.bucket_for(dataset)


def _run(env: str | None, settings_dir: Any, traceback: bool) -> Any:
    """The error handling and the selected environment every tables command runs in."""
    return handle_errors(console(stderr=True), traceback), selected_environment(env, settings_dir)


@tables_app.command("history")
def history(
    target: TargetArg,
    dataset: DatasetArg,
    limit: Annotated[int | None, typer.Option(min=1, help="Show the newest N commits.")] = None,
    env: EnvOpt = None,
    settings_dir: SettingsDirOpt = None,
    traceback: TracebackOpt = False,
) -> None:
    """The table's commits, newest first (version, time, operation)."""
    errors, selected = _run(env, settings_dir, traceback)
    with errors, selected:
        for commit in dataset_bucket(target, dataset).history(limit):
            typer.echo(
                json.dumps(
                    {k: commit.get(k) for k in ("version", "timestamp", "operation")}
                    | {"parameters": commit.get("operationParameters", {})}
                )
            )


@tables_app.command("vacuum")
def vacuum(
    target: TargetArg,
    dataset: DatasetArg,
    retention_hours: Annotated[
        int | None,
        typer.Option(min=0, help="Keep files versions this young need (default: the settings')."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Allow a retention below the settings'.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list the files.")] = False,
    env: EnvOpt = None,
    settings_dir: SettingsDirOpt = None,
    traceback: TracebackOpt = False,
) -> None:
    """Delete data files no version within the retention needs (and orphaned files)."""
    errors, selected = _run(env, settings_dir, traceback)
    with errors, selected:
        retention = timedelta(hours=retention_hours) if retention_hours is not None else None
        removed = dataset_bucket(target, dataset).vacuum(retention, force=force, dry_run=dry_run)
        verb = "would remove" if dry_run else "removed"
        console().print(Text(f"{verb} {len(removed)} file(s)"))
        for path in removed:
            typer.echo(path)


@tables_app.command("optimize")
def optimize(
    target: TargetArg,
    dataset: DatasetArg,
    env: EnvOpt = None,
    settings_dir: SettingsDirOpt = None,
    traceback: TracebackOpt = False,
) -> None:
    """Compact the table's small files into larger ones (a new version)."""
    errors, selected = _run(env, settings_dir, traceback)
    with errors, selected:
        metrics = dataset_bucket(target, dataset).optimize()
        typer.echo(json.dumps(metrics, default=str))


@tables_app.command("convert")
def convert(
    target: TargetArg,
    dataset: DatasetArg,
    env: EnvOpt = None,
    settings_dir: SettingsDirOpt = None,
    traceback: TracebackOpt = False,
) -> None:
    """Convert a dataset in the old _glacier/ manifest layout into a Delta table."""
    errors, selected = _run(env, settings_dir, traceback)
    with errors, selected:
        converted = dataset_bucket(target, dataset).convert()
        console().print(Text("converted" if converted else "nothing to convert"))

"""The ``glacier`` command: run, runs, test, plan, generate, graph, envs, init, rehearse, deploy,
tables.

::

    glacier run examples/medallion.py                       # dev, local files, live progress
    glacier run pipeline.py --env staging --param extract.rows=500 --select +clean
    glacier run pipeline.py --resume --json                 # rerun what failed; the record
    glacier runs list --status failed                       # runs show RUN_ID [--json]
    glacier test examples/jaffle_shop.py --select 'stg_*'   # data checks on what is stored
    glacier plan examples/medallion.py --env prod           # offline plan of prod's resources
    glacier generate examples/medallion.py --env prod -o infra/
    glacier generate examples/medallion.py --env prod --target terraform -o tf/
    glacier package examples/medallion.py --env prod -o tf/ # the Terraform artifacts
    glacier graph examples/medallion.py -o dag.png          # or .svg, .mmd; Mermaid on stdout
    glacier envs                                            # list | show NAME | validate
    glacier init my-pipeline                                # a new project that runs
    glacier rehearse examples/medallion.py --env prod       # the deployment, run on moto
    glacier deploy examples/medallion.py --env prod         # pulumi up (needs its CLI)
    glacier run examples/medallion.py --env prod --remote   # start the deployed pipeline
    glacier tables vacuum pipeline.py orders --env prod     # history | optimize | convert

A TARGET is ``path/to/file.py`` (when it defines one pipeline), ``file.py:NAME`` or
``package.module:NAME``. ``--env`` sets ``GLACIER_ENV`` before the target is imported, so a
module-level ``Environment.from_env()`` picks it up.

Exit codes: 0 success; 1 a failure (a task failed, an error in the target's own code);
2 a usage or configuration error (bad option; unknown target, environment, task, selector or
parameter; an invalid settings file or config object).

One module per command group, each registering its commands on the one :data:`app`:
:mod:`~glacier.cli.app` (the typer app, shared options, error handling),
:mod:`~glacier.cli.loading` (how a target is loaded and its environment found),
:mod:`~glacier.cli.run`, :mod:`~glacier.cli.runs`, :mod:`~glacier.cli.test`,
:mod:`~glacier.cli.plan`,
:mod:`~glacier.cli.generate`, :mod:`~glacier.cli.graph`, :mod:`~glacier.cli.envs`,
:mod:`~glacier.cli.init`, :mod:`~glacier.cli.rehearse`, :mod:`~glacier.cli.deploy`,
:mod:`~glacier.cli.tables`, :mod:`~glacier.cli.package`. The commands
import what they need (the library's run machinery, infrastructure, Graphviz) when they run,
so ``glacier --help`` stays quick.
"""

from __future__ import annotations

# Importing a command module registers its commands on `app`, in the order `glacier --help`
# lists them; the names imported below are the package's API (the console script is
# `glacier.cli:main`).
# isort: off
from glacier.cli import run, runs, test, plan, generate, graph, init, envs, rehearse, deploy, tables  # noqa: F401
from glacier.cli import shell, ui  # noqa: F401
from glacier.cli import package  # noqa: F401

# isort: on
from glacier.cli.app import USAGE_ERRORS, app, main
from glacier.cli.envs import MASK, SECRET_MARKERS, envs_app, mask_secrets, validate_environment
from glacier.cli.loading import (
    describe_environment,
    is_dataflow,
    load_pipeline,
    pipeline_environment,
    selected_environment,
)
from glacier.cli.plan import short_type
from glacier.cli.run import execute, parse_params, print_summary, report_failures

__all__ = [
    "MASK",
    "SECRET_MARKERS",
    "USAGE_ERRORS",
    "app",
    "describe_environment",
    "envs_app",
    "execute",
    "is_dataflow",
    "load_pipeline",
    "main",
    "mask_secrets",
    "parse_params",
    "pipeline_environment",
    "print_summary",
    "report_failures",
    "selected_environment",
    "short_type",
    "validate_environment",
]

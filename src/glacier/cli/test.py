"""``glacier test``: run a pipeline's data checks against what is stored, like ``dbt test``.

No task runs: each stored dataset with checks (see :mod:`glacier.checks`) is read as it is
and its checks evaluated, with the severities of the environment's ``[checks]`` settings.
Exits 0 when no check of severity ``error`` failed, 1 when one did, 2 on a usage error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from glacier.cli.app import EnvOpt, SettingsDirOpt, TargetArg, TracebackOpt, app, handle_errors
from glacier.cli.console import console
from glacier.cli.loading import (
    is_dataflow,
    load_pipeline,
    pipeline_environment,
    selected_environment,
)
from glacier.errors import ConfigError, OutputPathError

#: How each check status is shown.
_STYLES = {"passed": "green", "warned": "yellow", "failed": "bold red"}


@app.command("test")
def test(
    target: TargetArg,
    env: EnvOpt = None,
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select",
            "-s",
            metavar="DATASET",
            help="Test only these datasets (names or shell patterns such as 'stg_*'); repeatable.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the check results as JSON on stdout.")
    ] = False,
    junit_xml: Annotated[
        Path | None,
        typer.Option(
            "--junit-xml",
            metavar="PATH",
            help="Write a JUnit XML report: one test case per check.",
            show_default=False,
        ),
    ] = None,
    settings_dir: SettingsDirOpt = None,
    traceback: TracebackOpt = False,
) -> None:
    """Run the data checks against the stored datasets without running any task.

    Exits 0 when no check of severity error failed, 1 when one did, 2 on a usage error.
    """
    from glacier.checks.gate import check_stored

    err = console(stderr=True)
    out = err if as_json else console()
    with handle_errors(err, traceback), selected_environment(env, settings_dir):
        if junit_xml is not None and junit_xml.is_dir():
            raise OutputPathError(
                f"--junit-xml {str(junit_xml)!r} is a directory; give the report's file path, "
                f"e.g. --junit-xml {junit_xml.as_posix().rstrip('/')}/checks.xml."
            )
        pipeline = load_pipeline(target)
        if is_dataflow(pipeline):
            raise ConfigError(
                "glacier test reads the checks of a pipeline's datasets; a data-flow pipeline "
                "(@env.pipeline) has no declared datasets to read. Declare the pipeline with "
                "Pipeline and @pipeline.task."
            )
        results, in_memory = check_stored(pipeline, pipeline_environment(pipeline), select or ())
        records = [r.as_dict() for r in results]
        print_checks(out, records)
        if in_memory:
            names = ", ".join(ds.name for ds in in_memory)
            out.print(
                Text(f"not tested (in memory only, nothing stored): {names}", style="dim"),
                soft_wrap=True,
            )
        if junit_xml is not None:
            _write_junit(junit_xml, pipeline.name, records)
        if as_json:
            typer.echo(json.dumps(records, indent=2, default=str))
        failed = sum(r["status"] == "failed" for r in records)
        warned = sum(r["status"] == "warned" for r in records)
        out.print(
            Text(
                f"{len(records)} check(s): {len(records) - failed - warned} passed, "
                f"{warned} warned, {failed} failed",
                style="bold red" if failed else "bold",
            )
        )
        if failed:
            raise typer.Exit(1)


def print_checks(out: Any, records: Iterable[Mapping[str, Any]]) -> None:
    """Check results as a table, then the failing rows of those that failed or warned."""
    records = list(records)
    if not records:
        return
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for column in ("dataset", "check", "severity", "status", "failing rows", "message"):
        table.add_column(column, no_wrap=column != "message")
    for r in records:
        failing = r.get("failing_rows")
        table.add_row(
            str(r["dataset"]),
            str(r["check"]),
            str(r["severity"]),
            Text(str(r["status"]), style=_STYLES.get(str(r["status"]), "")),
            "" if failing is None else str(failing),
            str(r.get("message") or ""),
        )
    out.print(table)
    for r in records:
        sample = r.get("sample") or []
        if sample and r["status"] != "passed":
            out.print(Text(f"failing rows of {r['dataset']}: {r['check']} (first {len(sample)}):"))
            for row in sample:
                out.print(Text(f"  {json.dumps(row, default=str)}"), soft_wrap=True)


def _write_junit(path: Path, pipeline: str, records: list[dict[str, Any]]) -> None:
    import xml.etree.ElementTree as ET

    from glacier.checks.report import add_junit_cases

    suite = ET.Element("testsuite", name=pipeline, tests="0", failures="0", errors="0")
    add_junit_cases(suite, pipeline, records)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)

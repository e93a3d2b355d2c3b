"""The ``glacier`` app as a user starts it: entry points, exit codes in a subprocess,
start-up imports."""

from __future__ import annotations

import doctest
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from .commands import GLACIER_SCRIPT, glacier, invoke
from .projects import ETL, envs_project, medallion_project, write


def test_console_script_and_module_entry_points(tmp_path: Path) -> None:
    write(tmp_path, {"etl.py": ETL})
    module = glacier("--version", cwd=tmp_path)
    assert module.returncode == 0 and module.stdout.startswith("glacier ")
    if GLACIER_SCRIPT.exists():
        script = glacier("run", "etl.py", cwd=tmp_path, script=True)
        assert script.returncode == 0, script.stderr
        assert "etl: 4 succeeded" in script.stdout
    helped = glacier("--help", cwd=tmp_path)
    assert helped.returncode == 0
    for command in ("run", "plan", "generate", "graph", "envs", "init"):
        assert command in helped.stdout


def test_subprocess_run_success_failure_and_usage_errors(tmp_path: Path) -> None:
    write(tmp_path, {"etl.py": ETL})
    ok = glacier("run", "etl.py", "-p", "extract.rows=4", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "✓ summarize" in ok.stdout and "4 succeeded" in ok.stdout
    failed = glacier("run", "etl.py", "-p", "transform.fail=true", cwd=tmp_path)
    assert failed.returncode == 1
    assert "error: task 'transform' failed" in failed.stderr
    assert "ValueError: boom: negative amounts" in failed.stderr
    assert "Traceback" not in failed.stderr
    usage = glacier("run", "etl.py", "-p", "oops", cwd=tmp_path)
    assert usage.returncode == 2 and "TASK.NAME=VALUE" in usage.stderr
    missing = glacier("run", "nope.py", cwd=tmp_path)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_subprocess_env_graph_envs(tmp_path: Path) -> None:
    envs_project(tmp_path)
    run = glacier("run", "by_env.py", "--env", "test", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "by-env-test" in run.stdout
    unknown = glacier("run", "by_env.py", "--env", "qa", cwd=tmp_path)
    assert unknown.returncode == 2 and "dev, prod, test" in unknown.stderr
    mermaid = glacier("graph", "by_env.py", cwd=tmp_path)
    assert mermaid.returncode == 0 and "flowchart LR" in mermaid.stdout
    listed = glacier("envs", cwd=tmp_path)
    assert listed.returncode == 0 and "123456789012" in listed.stdout
    shown = glacier("envs", "show", "prod", "--json", cwd=tmp_path)
    assert json.loads(shown.stdout)["name"] == "prod"


def test_subprocess_medallion_run(tmp_path: Path) -> None:
    medallion_project(tmp_path)
    run = glacier("run", "medallion.py", "-p", "ingest.rows=2000", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "environment dev (local)" in run.stdout
    assert "medallion: 4 succeeded" in run.stdout
    assert (tmp_path / "data" / "dev" / "dev-gold-zone" / "daily_revenue.parquet").exists()
    assert "daily_revenue" in run.stdout and "dev-gold-zone/daily_revenue.parquet" in run.stdout


def test_subprocess_plan_and_generate(tmp_path: Path) -> None:
    envs_project(tmp_path)
    plan = glacier("plan", "by_env.py", "--env", "prod", "--json", cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)["environments"] == ["prod"]
    table = glacier("plan", "by_env.py", "--env", "prod", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "123456789012" in table.stdout and "resources in prod" in table.stdout
    generated = glacier("generate", "by_env.py", "--env", "prod", "-o", "out", cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    assert (tmp_path / "out" / "Pulumi.yaml").exists()
    medallion_project(tmp_path / "medallion")
    demo_plan = glacier("plan", "medallion.py", "--env", "prod", cwd=tmp_path / "medallion")
    assert demo_plan.returncode == 0, demo_plan.stderr


def test_import_glacier_does_not_import_the_cli_stack() -> None:
    code = (
        "import sys, glacier; "
        "print(sorted(m for m in ('typer', 'rich', 'graphviz', 'glacier.cli') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_help_lists_every_command_in_order() -> None:
    code, out, _ = invoke("--help")
    assert code == 0
    positions = [out.find(f" {c} ") for c in ("run", "plan", "generate", "graph", "init", "envs")]
    assert -1 not in positions and positions == sorted(positions), out


@pytest.mark.parametrize(
    "module", ["glacier.cli.run", "glacier.cli.plan", "glacier.cli.envs", "glacier.cli.console"]
)
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0

"""The ``glacier`` command, driven in-process (typer's CliRunner) and as a subprocess.

Each test writes a small user project into ``tmp_path`` (a pipeline file, sometimes a
``containers/`` directory) and runs the command there, as a user would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from glacier.cli import app, mask_secrets, parse_params
from glacier.progress import RunProgress
from glacier.result import FAILED, SKIPPED, SUCCEEDED, RunResult, TaskRun

REPO = Path(__file__).resolve().parents[1]
GLACIER_SCRIPT = Path(sys.executable).parent / "glacier"

# -- user projects -------------------------------------------------------------------------------

ETL = """
import json
from pathlib import Path

import polars as pl

from glacier import Dataset, Pipeline

pipeline = Pipeline("etl")
raw = Dataset("raw")
clean = Dataset("clean")
total = Dataset("total")
sample = Dataset("sample")


@pipeline.task()
def extract(rows: int = 10, label: str = "x") -> raw:
    return pl.LazyFrame({"x": list(range(rows)), "label": [label] * rows})


@pipeline.task(retries=1, retry_delay=0)
def transform(data: raw, fail: bool = False) -> clean:
    if fail:
        raise ValueError("boom: negative amounts")
    return data.filter(pl.col("x") > 2)


@pipeline.task()
def summarize(data: clean, out: str = "", extra: list = []) -> total:
    frame = data.select(pl.col("x").sum(), pl.col("label").first()).collect()
    if out:
        Path(out).write_text(json.dumps({"sum": frame["x"][0], "label": frame["label"][0],
                                         "extra": extra}))
    return frame


@pipeline.task()
def peek(data: raw) -> sample:
    return data.head(1)
"""

CACHED = """
import polars as pl

from glacier import Dataset, Pipeline

pipeline = Pipeline("cachy")
raw = Dataset("raw")
out = Dataset("out")


@pipeline.task(cache=True)
def extract(rows: int = 3) -> raw:
    return pl.DataFrame({"x": list(range(rows))})


@pipeline.task()
def total(data: raw) -> out:
    return data.select(pl.col("x").sum())
"""

FLOW = """
from typing import Any

import polars as pl

from glacier import Environment

env = Environment.local(base_path="data", name="flowdev")


@env.task()
def extract(n: int) -> pl.DataFrame:
    return pl.DataFrame({"x": list(range(n))})


@env.task()
def double(df: pl.DataFrame, factor: int = 2) -> pl.DataFrame:
    if factor < 0:
        raise RuntimeError("negative factor")
    return df.with_columns(pl.col("x") * factor)


@env.pipeline(name="flowy")
def flowy() -> Any:
    return double(extract(5))
"""

# A module-level pipeline built from GLACIER_ENV, like examples/medallion.py.
BY_ENV = """
import polars as pl

from glacier import Dataset, Environment, Pipeline

env = Environment.from_env()
pipeline = Pipeline(f"by-env-{env.name}", env=env)
out = Dataset("out")


@pipeline.task(compute=env.compute.lambda_(memory=256))
def make() -> out:
    return pl.DataFrame({"env": [env.name]})
"""

LOCAL_ENV = """
name = "{name}"
[provider]
kind = "local"
base_path = "data/{name}"
"""

AWS_ENV = """
name = "{name}"
[provider]
kind = "aws"
region = "eu-west-1"
account_id = "123456789012"
profile = "{name}"
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


def envs_project(root: Path) -> Path:
    """A project whose pipeline picks its environment (dev, test: local; prod: AWS)."""
    return write(
        root,
        {
            "by_env.py": BY_ENV,
            "containers/dev.toml": LOCAL_ENV.format(name="dev"),
            "containers/test.toml": LOCAL_ENV.format(name="test"),
            "containers/prod.toml": AWS_ENV.format(name="prod"),
        },
    )


# -- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path`` as the current directory, with no environment selected from outside."""
    monkeypatch.chdir(tmp_path)
    for var in ("GLACIER_ENV", "GLACIER_SETTINGS_DIR", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def invoke(*args: str) -> tuple[int, str, str]:
    """Run ``glacier ARGS`` in this process: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def glacier(*args: str, cwd: Path, script: bool = False) -> subprocess.CompletedProcess[str]:
    """Run ``glacier ARGS`` as a subprocess (``python -m glacier``, or the console script)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLACIER_")}
    env.pop("COLUMNS", None)
    cmd = [str(GLACIER_SCRIPT)] if script else [sys.executable, "-m", "glacier"]
    return subprocess.run(
        [*cmd, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


# -- run -----------------------------------------------------------------------------------------


def test_run_prints_one_line_per_task_then_a_summary(project: Path) -> None:
    write(project, {"etl.py": ETL})
    code, out, err = invoke("run", "etl.py")
    assert code == 0, err
    assert "glacier run pipeline etl" in out
    for task in ("extract", "transform", "summarize", "peek"):
        assert f"✓ {task}" in out  # not a terminal: one line per finished task
    assert "etl: 4 succeeded" in out
    assert "task" in out and "status" in out and "duration" in out  # the summary table
    assert err == ""


def test_run_params_are_json_when_they_parse(project: Path) -> None:
    write(project, {"etl.py": ETL})
    report = project / "report.json"
    code, _, err = invoke(
        "run",
        "etl.py",
        "--param",
        "extract.rows=5",
        "-p",
        "extract.label=hello world",
        "-p",
        f"summarize.out={report}",
        "-p",
        'summarize.extra=[1, "a", true]',
    )
    assert code == 0, err
    assert json.loads(report.read_text()) == {
        "sum": 3 + 4,
        "label": "hello world",
        "extra": [1, "a", True],
    }


def test_parse_params() -> None:
    assert parse_params(["a.n=5", "a.f=1.5", "a.b=false", "a.s=text", "a.e=", "a.q=x=y"]) == {
        "a.n": 5,
        "a.f": 1.5,
        "a.b": False,
        "a.s": "text",
        "a.e": "",
        "a.q": "x=y",
    }


@pytest.mark.parametrize("bad", ["rows", "rows=5", ".rows=5", "extract.=5"])
def test_bad_param_syntax_is_a_usage_error(project: Path, bad: str) -> None:
    write(project, {"etl.py": ETL})
    code, out, err = invoke("run", "etl.py", "--param", bad)
    assert code == 2
    assert "TASK.NAME=VALUE" in err and "--param" in err
    assert out == ""


def test_unknown_param_name_is_a_usage_error(project: Path) -> None:
    write(project, {"etl.py": ETL})
    code, _, err = invoke("run", "etl.py", "-p", "transform.nope=1")
    assert code == 2
    assert "has no parameter 'nope'" in err and "Traceback" not in err


def test_only_runs_the_target_and_what_it_needs(project: Path) -> None:
    write(project, {"etl.py": ETL})
    code, out, err = invoke("run", "etl.py", "--only", "transform")
    assert code == 0, err
    assert "✓ extract" in out and "✓ transform" in out
    assert "summarize" not in out and "peek" not in out
    assert "2 succeeded" in out


def test_only_unknown_task_lists_the_tasks(project: Path) -> None:
    write(project, {"etl.py": ETL})
    code, _, err = invoke("run", "etl.py", "--only", "nope")
    assert code == 2
    assert "'nope'" in err and "extract, peek, summarize, transform" in err


def test_failure_exits_1_with_the_task_error_not_a_traceback(project: Path) -> None:
    write(project, {"etl.py": ETL})
    code, out, err = invoke("run", "etl.py", "-p", "transform.fail=true")
    assert code == 1
    assert "✗ transform" in out and "failed" in out
    assert "skipped" in out and "summarize" in out  # downstream of the failure
    assert "✓ peek" in out  # independent of the failure: still ran
    assert "2 succeeded, 1 failed, 1 skipped" in out
    assert "error: task 'transform' failed after 2 attempts" in err
    assert "defined at etl.py:" in err
    assert "raised at etl.py:" in err and 'raise ValueError("boom: negative amounts")' in err
    assert "ValueError: boom: negative amounts" in err
    assert "Traceback" not in err
    assert "--traceback" in err


def test_traceback_flag_shows_the_chain(project: Path) -> None:
    write(project, {"etl.py": ETL})
    code, _, err = invoke("run", "etl.py", "-p", "transform.fail=true", "--traceback")
    assert code == 1
    assert "Traceback (most recent call last)" in err
    assert "etl.py" in err and "in transform" in err


def test_no_cache_ignores_the_cache(project: Path) -> None:
    write(project, {"cached.py": CACHED})
    assert invoke("run", "cached.py")[0] == 0
    code, out, _ = invoke("run", "cached.py")
    assert code == 0 and "↺ extract" in out and "cached" in out
    code, out, _ = invoke("run", "cached.py", "--no-cache")
    assert code == 0 and "✓ extract" in out and "cached" not in out


@pytest.mark.parametrize(
    ("files", "target", "message"),
    [
        ({}, "missing.py", "'missing.py' does not exist"),
        ({"empty.py": "x = 1\n"}, "empty.py", "defines no pipeline"),
        (
            {"etl.py": ETL, "two.py": "from etl import pipeline as a, pipeline as b\n"},
            "two.py",
            "Found: a (pipeline 'etl'), b (pipeline 'etl')",
        ),
        ({"etl.py": ETL}, "etl.py:nope", "no pipeline named 'nope'. Found: pipeline"),
        ({}, "no_such_module:etl", "Cannot import module 'no_such_module'"),
    ],
)
def test_target_errors_are_usage_errors(
    project: Path, files: dict[str, str], target: str, message: str
) -> None:
    write(project, files)
    for command in ("run", "graph", "plan"):
        code, out, err = invoke(command, target)
        assert code == 2, (command, err)
        assert message in err and err.startswith("error: ")
        assert "Traceback" not in err and out == ""


def test_error_while_importing_the_target_is_concise(project: Path) -> None:
    write(project, {"broken.py": "x = 1\nraise RuntimeError('no database')\n"})
    code, _, err = invoke("run", "broken.py")
    assert code == 1
    assert "error: RuntimeError: no database" in err
    assert "at broken.py:2" in err and "Traceback" not in err
    code, _, err = invoke("run", "broken.py", "--traceback")
    assert code == 1 and "Traceback (most recent call last)" in err


def test_env_selects_the_environment_before_import(project: Path) -> None:
    envs_project(project)
    code, out, err = invoke("run", "by_env.py", "--env", "test")
    assert code == 0, err
    assert "by-env-test" in out and "environment test (local)" in out
    assert "GLACIER_ENV" not in os.environ  # restored after the command
    code, out, _ = invoke("run", "by_env.py")
    assert code == 0 and "by-env-dev" in out  # a fresh import, not the cached test module


def test_unknown_environment_lists_the_known_ones(project: Path) -> None:
    envs_project(project)
    for command in ("run", "plan", "graph"):
        code, _, err = invoke(command, "by_env.py", "--env", "qa")
        assert code == 2
        assert "'qa'" in err and "dev, prod, test" in err


def test_settings_dir_option(project: Path) -> None:
    envs_project(project / "elsewhere")
    shutil.move(project / "elsewhere" / "by_env.py", project / "by_env.py")
    code, out, err = invoke(
        "run", "by_env.py", "--env", "test", "--settings-dir", "elsewhere/containers"
    )
    assert code == 0, err
    assert "by-env-test" in out


def test_flow_pipeline_runs_and_fails_like_a_pipeline(project: Path) -> None:
    write(project, {"flow.py": FLOW})
    code, out, err = invoke("run", "flow.py")
    assert code == 0, err
    assert "data-flow pipeline flowy" in out and "✓ extract" in out and "✓ double" in out
    code, out, err = invoke("run", "flow.py", "-p", "double.factor=-1")
    assert code == 1
    assert "traced graph" in out
    assert "error: task 'double' failed" in err and "RuntimeError: negative factor" in err
    code, out, _ = invoke("run", "flow.py", "--only", "extract")
    assert code == 0 and "✓ extract" in out and "double" not in out.split("task ")[-1]


# -- the progress display ----------------------------------------------------------------------


def test_progress_live_display_tracks_every_state() -> None:
    buffer = StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    progress = RunProgress(console, refresh_per_second=50)
    assert progress.live_mode
    with progress:
        progress.on_run_start("demo", "run-1", ["a", "b", "c", "d"])
        a, b = TaskRun("a"), TaskRun("b")
        progress.on_task_start(a)
        progress.on_task_start(b)
        text = _render(progress)
        assert "running" in text and "pending" in text and "0/4 tasks done" in text
        a.status, a.attempts, a.duration = SUCCEEDED, 1, 0.25
        progress.on_task_end(a)
        b.status, b.attempts, b.error = FAILED, 3, ValueError("bad\nsecond line")
        progress.on_task_end(b)
        c = TaskRun("c", status=SUCCEEDED, cached=True, attempts=0)
        progress.on_task_start(c)
        progress.on_task_end(c)
        d = TaskRun("d", status=SKIPPED)
        progress.on_run_end(RunResult("demo", "run-1", {r.name: r for r in (a, b, c, d)}))
        text = _render(progress)
    assert "4/4 tasks done" in text
    assert "succeeded" in text and "250 ms" in text
    assert "failed" in text and "ValueError: bad" in text and "second line" not in text
    assert "cached" in text and "skipped" in text
    assert progress.tasks["d"].status == SKIPPED


def test_progress_without_a_terminal_prints_lines() -> None:
    buffer = StringIO()
    progress = RunProgress(Console(file=buffer, width=100))
    assert not progress.live_mode
    with progress:
        progress.on_run_start("demo", "r", ["a", "b"])
        a = TaskRun("a")
        progress.on_task_start(a)
        a.status, a.attempts, a.duration = FAILED, 2, 1.5
        a.error = KeyError("x")
        progress.on_task_end(a)
        b = TaskRun("b", status=SKIPPED)
        progress.on_run_end(RunResult("demo", "r", {"a": a, "b": b}))
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("✗ a") and "1.50 s" in lines[0] and "(2 attempts)" in lines[0]
    assert "KeyError" in lines[0]
    assert lines[1].startswith("↷ b") and "skipped" in lines[1]


def _render(progress: RunProgress) -> str:
    console = Console(file=StringIO(), width=100, color_system=None)
    console.print(progress.render())
    assert isinstance(console.file, StringIO)
    return console.file.getvalue()


# -- graph ---------------------------------------------------------------------------------------


def test_graph_prints_mermaid_without_output(project: Path) -> None:
    write(project, {"etl.py": ETL})
    code, out, err = invoke("graph", "etl.py")
    assert code == 0, err
    assert out.startswith("---\ntitle: pipeline etl")
    assert "flowchart LR" in out
    assert 't_extract["<b>extract</b>' in out
    assert "t_extract --> d_raw" in out and "d_raw --> t_transform" in out
    assert "d_raw --> t_peek" in out and "t_summarize --> d_total" in out


def test_graph_dot_on_stdout(project: Path) -> None:
    write(project, {"etl.py": ETL})
    code, out, _ = invoke("graph", "etl.py", "--format", "dot")
    assert code == 0
    assert out.startswith('digraph "etl" {') and "t_extract -> d_raw;" in out


def test_graph_png_is_a_real_picture(project: Path) -> None:
    assert shutil.which("dot"), "Graphviz's dot is missing: `python3 dev.py test` installs it"
    envs_project(project)
    code, out, err = invoke("graph", "by_env.py", "-o", "pictures/dag.png")
    assert code == 0, err
    png = (project / "pictures" / "dag.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    assert width > 200 and height > 50 and len(png) > 5_000
    assert "wrote pictures/dag.png" in out and "1 tasks, 1 datasets, 1 edges" in out
    code, _, _ = invoke("graph", "by_env.py", "-o", "pictures/dag.svg")
    svg = (project / "pictures" / "dag.svg").read_text()
    assert code == 0 and "<svg" in svg and "make" in svg and "lambda 256 MB" in svg


def test_graph_shows_compute_storage_and_environment(project: Path) -> None:
    envs_project(project)
    code, _, err = invoke("graph", "by_env.py", "--env", "prod", "-o", "dag.mmd")
    assert code == 0, err
    text = (project / "dag.mmd").read_text()
    assert "title: pipeline by-env-prod (env prod)" in text
    assert "lambda 256 MB" in text
    code, _, _ = invoke("graph", "by_env.py", "-o", "dag.dot")
    assert code == 0 and "digraph" in (project / "dag.dot").read_text()


def test_graph_of_the_medallion_example(project: Path) -> None:
    medallion_project(project)
    code, out, err = invoke("graph", "medallion.py")
    assert code == 0, err
    assert "lambda 512 MB, 120 s" in out and "ecs 512 cpu / 1024 MB" in out
    assert "daily_revenue" in out and "dev-gold-zone/daily_revenue.parquet" in out
    assert "env: dev" in out
    assert "t_clean --> d_orders" in out and "d_orders --> t_revenue" in out
    code, out, _ = invoke("graph", "medallion.py", "--env", "prod")
    assert code == 0
    assert "s3://finks-prod-gold-zone/daily_revenue.parquet" in out and "env: prod" in out


def test_graph_unknown_suffix_is_a_usage_error(project: Path) -> None:
    write(project, {"etl.py": ETL})
    code, _, err = invoke("graph", "etl.py", "-o", "dag.txt")
    assert code == 2 and "unknown suffix" in err


# -- plan and generate ---------------------------------------------------------------------------


def medallion_project(root: Path) -> Path:
    """examples/medallion.py with the reference containers/, in a fresh directory."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "examples" / "medallion.py", root / "medallion.py")
    shutil.copytree(REPO / "containers", root / "containers", ignore=_only_toml)
    return root


def _only_toml(directory: str, names: list[str]) -> list[str]:
    return [n for n in names if not n.endswith(".toml")]


def test_plan_prints_the_resources_of_an_environment(project: Path) -> None:
    envs_project(project)
    code, out, err = invoke("plan", "by_env.py", "--env", "prod")
    assert code == 0, err
    assert "glacier plan pipeline by-env-prod" in out
    assert "environment prod (aws 123456789012 eu-west-1)" in out
    for column in ("type", "name", "environment", "account", "region"):
        assert column in out
    assert "aws:lambda:Function" in out and "prod-make-function" in out
    assert "123456789012" in out and "eu-west-1" in out
    assert "resources in prod (" in out and "1 Function" in out


def test_plan_json_is_machine_readable(project: Path) -> None:
    envs_project(project)
    code, out, err = invoke("plan", "by_env.py", "--env", "prod", "--json")
    assert code == 0, err
    data = json.loads(out)  # JSON only: nothing else on stdout
    assert data["pipeline"] == "by-env-prod" and data["environments"] == ["prod"]
    functions = [r for r in data["resources"] if r["type"] == "aws:lambda/function:Function"]
    assert len(functions) == 1
    assert functions[0]["account"] == "123456789012" and functions[0]["region"] == "eu-west-1"
    assert functions[0]["inputs"]["memorySize"] == 256


def test_plan_of_the_medallion_example_in_prod(project: Path) -> None:
    medallion_project(project)
    code, out, err = invoke("plan", "medallion.py", "--env", "prod")
    assert code == 0, err
    assert "environment prod (aws 999999999999 ca-central-1)" in out
    assert "finks-prod-gold-zone" in out and "resources in prod" in out


def test_generate_writes_the_pulumi_project(project: Path) -> None:
    envs_project(project)
    code, out, err = invoke("generate", "by_env.py", "--env", "prod", "-o", "infra/prod")
    assert code == 0, err
    files = [p for p in (project / "infra" / "prod").rglob("*") if p.is_file()]
    assert any(p.name == "Pulumi.yaml" for p in files)
    for f in files:
        assert str(f.relative_to(project)) in out
    assert f"{len(files)} files" in out


def test_plan_and_generate_report_usage_errors(project: Path) -> None:
    envs_project(project)
    for command in ("plan", "generate"):
        code, _, err = invoke(command, "by_env.py", "--env", "qa")
        assert code == 2 and "dev, prod, test" in err
        code, _, err = invoke(command, "nope.py")
        assert code == 2 and "does not exist" in err


# -- envs ----------------------------------------------------------------------------------------


def test_envs_lists_the_environments(project: Path) -> None:
    envs_project(project)
    for args in (("envs",), ("envs", "list")):
        code, out, err = invoke(*args)
        assert code == 0, err
        assert "dev *" in out and "prod" in out and "test" in out
        assert "123456789012" in out and "eu-west-1" in out


def test_envs_show_masks_secrets(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    envs_project(project)
    monkeypatch.setenv("GLACIER_TAGS", '{"api_token": "t0ps3cret", "team": "data"}')
    code, out, err = invoke("envs", "show", "prod")
    assert code == 0, err
    assert "provider.account_id" in out and "123456789012" in out
    assert "tags.team" in out and "t0ps3cret" not in out and "********" in out
    code, out, _ = invoke("envs", "show", "prod", "--json")
    data = json.loads(out)
    assert data["provider"]["region"] == "eu-west-1"
    assert data["tags"] == {"api_token": "********", "team": "data"}


def test_mask_secrets() -> None:
    data = {
        "kms_key_id": "arn",
        "nested": [{"password": "p", "Secret_Name": 3, "user": "u"}],
        "bucket_key_enabled": True,
        "access_token": None,
    }
    assert mask_secrets(data) == {
        "kms_key_id": "********",
        "nested": [{"password": "********", "Secret_Name": "********", "user": "u"}],
        "bucket_key_enabled": True,
        "access_token": None,
    }


def test_envs_show_unknown_environment(project: Path) -> None:
    envs_project(project)
    code, _, err = invoke("envs", "show", "qa")
    assert code == 2 and "dev, prod, test" in err


def test_envs_validate_reports_every_problem(project: Path) -> None:
    envs_project(project)
    assert invoke("envs", "validate")[0] == 0
    write(
        project,
        {
            "containers/bad_region.toml": AWS_ENV.format(name="x").replace("eu-west-1", "mars-1"),
            "containers/bad_toml.toml": "name = [",
            "containers/creds.toml": 'secret_access_key = "abc"\n',
        },
    )
    code, out, err = invoke("envs", "validate")
    assert code == 1
    assert "✓ dev" in out and "✓ prod" in out
    assert "✗ bad_region" in out and "mars-1" in out
    assert "✗ bad_toml" in out and "not valid TOML" in out
    assert "✗ creds" in out and "secret_access_key" in out
    assert "3 of 6 environments invalid: bad_region, bad_toml, creds" in err


def test_envs_without_a_settings_directory(project: Path) -> None:
    code, _, err = invoke("envs", "--settings-dir", "nowhere")
    assert code == 1 and "does not exist" in err
    code, _, err = invoke("envs", "validate", "--settings-dir", "nowhere")
    assert code == 1 and "does not exist" in err


# -- init ----------------------------------------------------------------------------------------


def test_init_scaffolds_a_project(project: Path) -> None:
    code, out, err = invoke("init", "Sales Pipeline")
    assert code == 0, err
    root = project / "Sales Pipeline"
    for name in (
        "pipeline.py",
        "containers/dev.toml",
        "containers/prod.toml",
        "tests/test_pipeline.py",
        "README.md",
    ):
        assert (root / name).is_file()
        assert name in out
    assert 'Pipeline("sales-pipeline"' in (root / "pipeline.py").read_text()
    assert "Environment.from_env(" in (root / "pipeline.py").read_text()
    assert "glacier_memory_env" in (root / "tests" / "test_pipeline.py").read_text()
    assert 'account_id = "123456789012"' in (root / "containers" / "prod.toml").read_text()


def test_init_refuses_a_non_empty_directory(project: Path) -> None:
    (project / "taken").mkdir()
    (project / "taken" / "notes.txt").write_text("mine")
    code, _, err = invoke("init", "taken")
    assert code == 2 and "not empty" in err and "--force" in err
    assert not (project / "taken" / "pipeline.py").exists()
    code, _, _ = invoke("init", "taken", "--force", "--name", "mine")
    assert code == 0
    assert (project / "taken" / "notes.txt").read_text() == "mine"
    assert 'Pipeline("mine"' in (project / "taken" / "pipeline.py").read_text()


def test_initialised_project_runs_validates_and_passes_its_tests(tmp_path: Path) -> None:
    assert glacier("init", "shop", cwd=tmp_path).returncode == 0
    root = tmp_path / "shop"
    validate = glacier("envs", "validate", cwd=root)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    run = glacier("run", "pipeline.py", "-p", "extract.rows=200", cwd=root)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 succeeded" in run.stdout
    assert (root / "data" / "dev" / "gold" / "revenue.parquet").exists()
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        env={k: v for k, v in os.environ.items() if not k.startswith("GLACIER_")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "3 passed" in tests.stdout


# -- as a subprocess -----------------------------------------------------------------------------


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

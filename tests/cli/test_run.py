"""``glacier run``: progress, summary, parameters, ``--only``, failures, the cache,
data-flow pipelines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glacier.cli import parse_params

from .commands import invoke
from .projects import CACHED, ETL, FLOW, envs_project, write


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


# A pipeline built without an environment; ``from_env`` appears only under __main__.
NO_ENV_FOLLOWING = """
import polars as pl

from glacier import Dataset, Environment, Pipeline

pipeline = Pipeline("plain")
out = Dataset("out")


@pipeline.task()
def make() -> out:
    return pl.DataFrame({"x": [1]})


if __name__ == "__main__":
    pipeline.run(env=Environment.from_env())
"""


def test_env_rebinds_a_pipeline_whose_module_uses_from_env(project: Path) -> None:
    envs_project(project)
    write(project, {"plain.py": NO_ENV_FOLLOWING})
    code, out, err = invoke("run", "plain.py", "--env", "dev", "--settings-dir", "containers")
    assert code == 0, err
    assert "dev" in out.splitlines()[0]  # the header names the rebound environment


def test_env_on_a_pipeline_without_an_environment_selects_its_environment(
    project: Path,
) -> None:
    envs_project(project)
    write(project, {"etl.py": ETL})
    code, out, err = invoke("run", "etl.py", "--env", "dev", "--settings-dir", "containers")
    assert code == 0, err
    assert "environment dev" in out.splitlines()[0]  # as GLACIER_ENV=dev would


LOGGING = """
import logging

import polars as pl

from glacier import Dataset, Pipeline

pipeline = Pipeline("logging")
out = Dataset("out")


@pipeline.task()
def make() -> out:
    logging.getLogger("etl").info("made %d rows", 1)
    logging.getLogger("etl").debug("hidden at INFO")
    return pl.DataFrame({"x": [1]})
"""


def test_run_shows_task_logs_tagged_with_the_task(project: Path) -> None:
    write(project, {"logging_etl.py": LOGGING})
    code, _, err = invoke("run", "logging_etl.py")
    assert code == 0, err
    assert "INFO make [etl]: made 1 rows" in err
    assert "hidden at INFO" not in err


def test_run_log_format_json_writes_one_object_per_line(project: Path) -> None:
    write(project, {"logging_etl.py": LOGGING})
    code, _, err = invoke("run", "logging_etl.py", "--log-format", "json", "--log-level", "debug")
    assert code == 0, err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [(r["task"], r["attempt"], r["message"]) for r in lines] == [
        ("make", 1, "made 1 rows"),
        ("make", 1, "hidden at INFO"),
    ]
    assert all(r["run_id"] and r["environment"] for r in lines)


def test_run_refuses_an_unknown_log_level(project: Path) -> None:
    write(project, {"logging_etl.py": LOGGING})
    code, _, err = invoke("run", "logging_etl.py", "--log-level", "loud")
    assert code == 2 and "loud" in err


def test_a_file_that_runs_its_pipeline_at_import_runs_once(project: Path) -> None:
    # As getting-started's first script did: `pipeline.run()` at module level, then
    # `glacier run first.py`. One run, one record, and the command says why it did not run.
    (project / "first.py").write_text(
        "import polars as pl\n"
        "from glacier import Dataset, Pipeline\n"
        "pipeline = Pipeline('first')\n"
        "out = Dataset('out')\n"
        "@pipeline.task()\n"
        "def make() -> out:\n"
        "    print('make ran')\n"
        "    return pl.DataFrame({'v': [1]})\n"
        "result = pipeline.run()\n"
    )
    code, out, err = invoke("run", "first.py")
    assert code == 0, err
    assert out.count("make ran") == 1
    said = " ".join(out.split())
    assert "ran its pipeline itself when it was imported" in said
    assert 'if __name__ == "__main__":' in said
    code, listed, _ = invoke("runs", "list", "--json")
    assert code == 0
    assert [r["pipeline"] for r in json.loads(listed)] == ["first"]

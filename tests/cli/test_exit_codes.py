"""Exit codes, one class of error at a time: 0 ok, 1 the work failed, 2 the command line or
the configuration was wrong (docs/cli.md, "Exit codes")."""

from __future__ import annotations

from pathlib import Path

import pytest

from .commands import invoke
from .projects import ETL, envs_project, write

# A pipeline whose module refuses its own configuration at import.
BAD_TASK_OPTION = """
from glacier import Dataset, Pipeline

pipeline = Pipeline("opts")
out = Dataset("out")


@pipeline.task(retries=-1)
def make() -> out:
    return None
"""

BAD_CONFIG_OBJECT = """
from glacier import Environment, Pipeline
from glacier.settings import AwsConfig

env = Environment(config=AwsConfig(region="mars-1", account_id="123456789012"))
pipeline = Pipeline("cfg", env=env)
"""

RAISES_AT_IMPORT = "import glacier\nraise RuntimeError('no database')\n"


@pytest.mark.parametrize(
    ("files", "args", "code", "message"),
    [
        # 1: the work failed
        ({"etl.py": ETL}, ["run", "etl.py", "-p", "transform.fail=true"], 1, "boom"),
        ({"broken.py": RAISES_AT_IMPORT}, ["run", "broken.py"], 1, "no database"),
        # 2: the command line was wrong
        ({"etl.py": ETL}, ["run", "etl.py", "-p", "oops"], 2, "TASK.NAME=VALUE"),
        ({}, ["run", "missing.py"], 2, "does not exist"),
        ({"etl.py": ETL}, ["run", "etl.py", "--select", "transfrom"], 2, "transform"),
        ({"etl.py": ETL}, ["run", "etl.py", "--executor", "spark"], 2, "spark"),
        ({"etl.py": ETL}, ["runs", "show", "20990101T000000-nope"], 2, "No run"),
        # 2: the configuration was wrong
        ({"opts.py": BAD_TASK_OPTION}, ["run", "opts.py"], 2, "retries=-1"),
        ({"cfg.py": BAD_CONFIG_OBJECT}, ["graph", "cfg.py"], 2, "mars-1"),
        ({"cfg.py": BAD_CONFIG_OBJECT}, ["run", "cfg.py"], 2, "mars-1"),
    ],
    ids=[
        "task-failed",
        "target-raised",
        "param-syntax",
        "unknown-target",
        "unknown-selector",
        "unknown-executor",
        "unknown-run",
        "invalid-task-option",
        "invalid-config-object-graph",
        "invalid-config-object-run",
    ],
)
def test_exit_code_per_class_of_error(
    project: Path, files: dict[str, str], args: list[str], code: int, message: str
) -> None:
    write(project, files)
    got, _, err = invoke(*args)
    assert got == code, err
    assert message in err


@pytest.mark.parametrize("command", ["run", "graph", "plan"])
def test_an_invalid_settings_file_is_a_configuration_error(project: Path, command: str) -> None:
    envs_project(project)
    prod = project / "containers" / "prod.toml"
    prod.write_text(prod.read_text().replace("eu-west-1", "mars-1"))
    code, _, err = invoke(command, "by_env.py", "--env", "prod")
    assert code == 2, err
    assert err.startswith("error: ") and "mars-1" in err and "Traceback" not in err
    # The other environments still run: the code says which input is wrong.
    assert invoke(command, "by_env.py", "--env", "test")[0] == 0


def test_a_settings_file_that_is_not_toml_is_a_configuration_error(project: Path) -> None:
    envs_project(project)
    (project / "containers" / "test.toml").write_text("name = [")
    code, _, err = invoke("run", "by_env.py", "--env", "test")
    assert code == 2, err
    assert "not valid TOML" in err

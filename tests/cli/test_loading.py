"""How a command finds its pipeline: targets, importing the target, ``--env`` and
``--settings-dir``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from glacier.cli import is_dataflow, load_pipeline, pipeline_environment

from .commands import invoke
from .projects import ETL, FLOW, envs_project, write


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


# A module-level raise of a class that derives from BaseException but not from Exception.
STOPS_AT_IMPORT = """
x = 1
class Stop(BaseException):
    pass
raise Stop("halt at import")
"""


def test_base_exception_at_import_is_one_error_line_naming_the_file(project: Path) -> None:
    write(project, {"stops.py": STOPS_AT_IMPORT})
    for command in ("run", "graph", "plan", "generate"):
        code, out, err = invoke(command, "stops.py")
        assert code == 1, (command, err)
        errors = [line for line in err.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, err
        assert "stops.py:4" in errors[0] and "Stop: halt at import" in errors[0]
        assert "derives from BaseException, not Exception" in errors[0]
        assert "Traceback" not in err and out == ""
        assert len(err.splitlines()) == 2 and "--traceback" in err.splitlines()[1]
    code, _, err = invoke("run", "stops.py", "--traceback")
    assert code == 1
    assert "Traceback (most recent call last)" in err and 'raise Stop("halt at import")' in err


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit])
def test_interrupt_and_exit_at_import_still_stop_the_command(
    project: Path, stop: type[BaseException]
) -> None:
    write(project, {"stops.py": f"raise {stop.__name__}()\n"})
    with pytest.raises(stop):
        load_pipeline("stops.py")


def test_is_dataflow_tells_the_two_styles_apart(project: Path) -> None:
    write(project, {"etl.py": ETL, "flow.py": FLOW})
    graph, flow = load_pipeline("etl.py"), load_pipeline("flow.py")
    assert not is_dataflow(graph) and is_dataflow(flow)
    flow_env = pipeline_environment(flow)
    assert flow_env is not None and flow_env.name == "flowdev"
    graph_env = pipeline_environment(graph)
    assert graph_env is not None and graph_env is not flow_env

"""Typed tasks: the decorators keep the function's signature, so a type checker reports a
wrong argument in a direct call (seed 001, "Type-Safe Throughout"); the package ships
``py.typed`` so checkers read its annotations at all."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import polars as pl

from glacier import Environment, Task, task
from glacier.task import TypedTask

REPO = Path(__file__).resolve().parents[1]
CASE = REPO / "tests" / "typing_cases" / "wrong_task_calls.py"


def test_mypy_reports_each_wrong_task_call(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(CASE),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = CASE.read_text(encoding="utf-8").splitlines()
    expected = {n for n, line in enumerate(lines, 1) if re.search(r"# E\d+:", line)}
    reported = {
        int(m.group(1)) for m in re.finditer(r"wrong_task_calls\.py:(\d+): error:", done.stdout)
    }
    assert len(expected) == 6
    assert reported == expected, done.stdout + done.stderr


def test_the_package_ships_py_typed() -> None:
    assert (resources.files("glacier") / "py.typed").is_file()
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in project["tool"]["setuptools"]["package-data"]["glacier"]


def test_typed_tasks_are_tasks_and_stay_typed_when_bound(tmp_path: Path) -> None:
    env = Environment.local(tmp_path, name="dev")

    @task
    def count(df: pl.DataFrame) -> int:
        return df.height

    bound = env.bind(count)
    assert isinstance(count, TypedTask) and isinstance(count, Task)
    assert isinstance(bound, TypedTask) and bound.env is env
    assert bound(pl.DataFrame({"a": [1, 2]})) == 2

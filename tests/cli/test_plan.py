"""``glacier plan``: the offline plan of an environment's resources, as a table and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from .commands import invoke
from .projects import envs_project, medallion_project


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

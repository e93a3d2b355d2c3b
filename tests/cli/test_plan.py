"""``glacier plan``: the offline plan of an environment's resources, as a table and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .commands import invoke
from .projects import envs_project, medallion_project


def test_plan_prints_the_resources_of_an_environment(project: Path) -> None:
    envs_project(project)
    code, out, err = invoke("plan", "by_env.py", "--env", "prod")
    assert code == 0, err
    assert "glacier plan pipeline by-env-prod" in out
    assert "environment prod (aws 123456789012 eu-west-1)" in out
    # the environment, account and region head their table once; the rows are type and name
    assert "prod · 123456789012 eu-west-1" in out
    row = next(line for line in out.splitlines() if "prod-make-function" in line)
    assert row.split() == ["aws:lambda:Function", "prod-make-function"]
    assert "resources in prod (" in out and "1 Function" in out
    assert "--policies" in out  # where the per-task grants are


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


def test_plan_is_readable_at_80_columns_and_prints_each_tasks_policy(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # a terminal 80 characters wide
    medallion_project(project)
    code, out, err = invoke("plan", "medallion.py", "--env", "prod", "--policies")
    assert code == 0, err
    lines = out.splitlines()
    table = lines[lines.index(next(x for x in lines if x.startswith("type"))) :]
    rows = [x for x in table if x.startswith(("aws:", "pulumi:"))]
    assert rows and all(len(x.rstrip()) <= 80 for x in rows)
    policies = "\n".join(lines[lines.index("Policies (one IAM role per task):") :])
    assert "aws:iam:RolePolicy prod-clean-policy" in policies
    assert "Allow s3:GetObject" in policies and "on arn:aws:s3:::" in policies
    assert "sts:AssumeRole" not in policies  # trust policies stay in --json


def test_plan_and_generate_of_a_local_environment_say_what_to_do(project: Path) -> None:
    medallion_project(project)
    for command in ("plan", "generate"):
        code, out, err = invoke(command, "medallion.py")
        assert code == 0, err
        said = " ".join(out.split())
        assert f"Nothing to {command}: pipeline 'medallion' runs in dev (local)" in said
        assert f"glacier {command} medallion.py --env NAME" in said and "prod" in said
    assert not (project / "infra").exists()  # generate wrote nothing

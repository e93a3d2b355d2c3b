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


DATABRICKS_PIPELINE = """
import polars as pl
from glacier import AWSEnvironment, Dataset, Pipeline

env = AWSEnvironment(account_id="123456789012", region="us-east-1", environment="prod")
pipeline = Pipeline("workspace-jobs", env=env)
raw = Dataset("raw", storage=env.storage.s3(bucket="prod-raw", path="raw.parquet"))
out = Dataset("out", storage=env.storage.s3(bucket="prod-out", path="out.parquet"))


@pipeline.task()
def land() -> raw:
    return pl.DataFrame({"x": [1]})


@pipeline.task(compute=env.compute.databricks(
    "spark", instance_type="m5.large", workspace_host="https://dbc-1234abcd-5678.cloud.databricks.com",
    token_secret="prod/databricks/token",
))
def transform(data: raw) -> out:
    return data
"""


def test_plan_lists_databricks_resources_under_their_environment(project: Path) -> None:
    """The workspace's provider is named after the environment, not bound to it: its job,
    policy and files were listed under "(default provider)"."""
    (project / "databricks_plan.py").write_text(DATABRICKS_PIPELINE)
    code, out, err = invoke("plan", "databricks_plan.py")
    assert code == 0, err
    assert "(default provider)" not in out
    assert out.count("prod · 123456789012 us-east-1") == 1
    assert "databricks:index:Job" in out
    code, out, err = invoke("plan", "databricks_plan.py", "--json")
    assert code == 0, err
    databricks = [r for r in json.loads(out)["resources"] if r["type"].startswith("databricks:")]
    assert len(databricks) == 5  # policy, profile, job, code and runner files
    assert {(r["environment"], r["account"]) for r in databricks} == {("prod", "123456789012")}

"""First pipelines with a database and with a secret, on the defaults (no ``[network]``, no
compute named): each through ``plan``, ``generate`` (the generated project plans the same
resources) and ``rehearse`` where the rehearsal can run it (issue 22's matrix, its database
and secret cells; the other cells are in their own files).

- **A database**: ``env.database.rds(...)`` used by a task. The plan creates the VPC the
  instance lives in, and the task runs in it; the rehearsal refuses it up front, naming the
  task and the database (moto runs no database engine), rather than failing inside the task.
- **A secret**: one the plan declares (``declare = true``) and one that exists outside the
  plan. The rehearsal creates both with a generated test value, grants the ARN the emulator
  gave the declared one, and the tasks read them under their own roles.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import polars as pl
import pytest

from glacier.errors import InfraError
from glacier.infra import Plan, plan
from glacier.infra.mocks import plan_project
from glacier.infra.rehearse import rehearse, stop_server
from glacier.targets import load_target
from infra.plans import FUNCTION, statement, task_policy

PROVIDER = """
[provider]
kind = "aws"
region = "us-east-1"
account_id = "123456789012"
"""

SECRET_SETTINGS = f"""
name = "probe"
naming_prefix = "probe"
{PROVIDER}
[buckets.keyed]
bucket_name = "probe-first-keyed"
path = "keyed.parquet"

[buckets.tokened]
bucket_name = "probe-first-tokened"
path = "tokened.parquet"

[secrets]
api_key = {{ aws = "/probe/api_key", declare = true }}
vendor_token = {{ aws = "/probe/vendor_token" }}
"""

SECRET_PIPELINE = """
from pathlib import Path

import polars as pl
from pydantic import SecretStr

from glacier import Dataset, Environment, Pipeline

env = Environment.from_env("probe", settings_dir=Path(__file__).parent / "containers")
pipeline = Pipeline("first-secret", env=env)
keyed = Dataset("keyed", storage=env.get("keyed"))
tokened = Dataset("tokened", storage=env.get("tokened"))


@pipeline.task()
def fetch(api_key: SecretStr) -> keyed:
    return pl.DataFrame({"key_prefix": [api_key.get_secret_value()[:10]]})


@pipeline.task()
def enrich(data: keyed, vendor_token: SecretStr) -> tokened:
    return data.with_columns(token_prefix=pl.lit(vendor_token.get_secret_value()[:10]))
"""

DATABASE_SETTINGS = f"""
name = "probe"
naming_prefix = "probe"
{PROVIDER}
[buckets.summary]
bucket_name = "probe-first-summary"
path = "summary.parquet"

[databases.warehouse]
identifier = "probe-warehouse"
rds = {{}}
"""

DATABASE_PIPELINE = """
from pathlib import Path

import polars as pl

from glacier import Dataset, Environment, Pipeline

env = Environment.from_env("probe", settings_dir=Path(__file__).parent / "containers")
pipeline = Pipeline("first-database", env=env)
orders = Dataset("orders", storage=env.get("warehouse").table("orders"))
summary = Dataset("summary", storage=env.get("summary"))


@pipeline.task()
def load() -> orders:
    return pl.DataFrame({"order_id": [1, 2], "amount": [3.5, 4.0]})


@pipeline.task()
def summarize(data: orders) -> summary:
    return data.select(pl.col("amount").sum())
"""


def project(root: Path, module: str, settings: str, pipeline: str) -> str:
    """A project directory: ``<module>.py`` and ``containers/probe.toml``; its target. (Each
    cell's module has a name of its own: one process loads them all.)"""
    root.mkdir(parents=True, exist_ok=True)
    (root / "containers").mkdir()
    (root / "containers" / "probe.toml").write_text(textwrap.dedent(settings))
    (root / f"{module}.py").write_text(textwrap.dedent(pipeline))
    return f"{root / module}.py:pipeline"


def generated_plans_the_same(target: str, out: Path, planned: Plan) -> None:
    written = load_target(target).run(mode="generate", output_dir=out)
    assert written["stacks"] == ["probe"]
    again = plan_project(out, "probe")
    assert again.counts() == planned.counts()


@pytest.fixture(scope="module")
def database_target(tmp_path_factory: pytest.TempPathFactory) -> str:
    return project(tmp_path_factory.mktemp("db"), "first_db", DATABASE_SETTINGS, DATABASE_PIPELINE)


@pytest.fixture(scope="module")
def database_plan(database_target: str) -> Plan:
    return plan(database_target, "probe")


def test_a_database_pipeline_plans_on_the_defaults(database_plan: Plan) -> None:
    counts = database_plan.counts()
    assert counts["aws:rds/instance:Instance"] == 1
    assert counts["aws:ec2/vpc:Vpc"] == 1 and counts["aws:ec2/subnet:Subnet"] == 2
    subnets = [s.outputs["id"] for s in database_plan.of_type("aws:ec2/subnet:Subnet")]
    for task in ("load", "summarize"):  # both reach the database (write, then read its table)
        fn = database_plan.get(FUNCTION, f"probe-{task}-function")
        assert fn.inputs["vpcConfig"]["subnetIds"] == subnets
        assert statement(task_policy(database_plan, "probe", task), "DatabaseProbeWarehouse")


def test_a_database_pipeline_generates_what_it_plans(
    database_target: str, database_plan: Plan, tmp_path: Path
) -> None:
    generated_plans_the_same(database_target, tmp_path / "infra", database_plan)


def test_a_database_pipeline_is_refused_by_the_rehearsal_up_front(database_target: str) -> None:
    with pytest.raises(InfraError, match=r"Task 'load'.*RDS database 'probe-warehouse'.*moto"):
        rehearse(database_target, "probe")


@pytest.fixture(scope="module")
def secret_target(tmp_path_factory: pytest.TempPathFactory) -> str:
    return project(
        tmp_path_factory.mktemp("secret"), "first_secret", SECRET_SETTINGS, SECRET_PIPELINE
    )


@pytest.fixture(scope="module")
def secret_plan(secret_target: str) -> Plan:
    return plan(secret_target, "probe")


def test_a_secret_pipeline_plans_on_the_defaults(secret_plan: Plan) -> None:
    (declared,) = secret_plan.of_type("aws:secretsmanager/secret:Secret")
    assert declared.inputs["name"] == "/probe/api_key"
    assert "secretString" not in declared.inputs  # no value in a plan
    fetch = statement(task_policy(secret_plan, "probe", "fetch"), "Secrets")
    assert fetch["Resource"] == [declared.outputs["arn"]]
    enrich = statement(task_policy(secret_plan, "probe", "enrich"), "Secrets")
    assert enrich["Resource"] == [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:/probe/vendor_token-??????"
    ]
    assert not secret_plan.of_type("aws:ec2/vpc:Vpc")  # nothing here needs a network


def test_a_secret_pipeline_generates_what_it_plans(
    secret_target: str, secret_plan: Plan, tmp_path: Path
) -> None:
    generated_plans_the_same(secret_target, tmp_path / "infra", secret_plan)


def test_a_secret_pipeline_rehearses_with_generated_values(secret_target: str) -> None:
    import boto3

    report = rehearse(secret_target, "probe", keep_server=True)
    try:
        assert report.ok, report.to_text()
        assert [(t.task, t.status) for t in report.tasks] == [
            ("fetch", "succeeded"),
            ("enrich", "succeeded"),
        ]
        assert any("/probe/api_key, /probe/vendor_token" in n for n in report.notes)
        s3 = boto3.client(
            "s3",
            endpoint_url=report.endpoint,
            region_name="us-east-1",
            aws_access_key_id="reader",
            aws_secret_access_key="reader",
        )
        body = s3.get_object(Bucket="probe-first-tokened", Key="tokened.parquet")["Body"]
        read = pl.read_parquet(io.BytesIO(body.read()))
        # each task read the test value the rehearsal put in its secret
        assert read.to_dicts() == [{"key_prefix": "rehearsal-", "token_prefix": "rehearsal-"}]
    finally:
        stop_server(report.endpoint)

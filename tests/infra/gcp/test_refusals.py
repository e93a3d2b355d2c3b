"""What Glacier does not generate on GCP is refused at plan time, naming what to do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier import Database, Dataset, Pipeline
from glacier.errors import ConfigError, InfraError
from glacier.infra import plan
from glacier.infra.gcp.labels import labels_of
from glacier.infra.gcp.orchestration import unix_cron
from glacier.provider import Provider
from glacier.settings import CloudRunConfig, CloudSqlConfig, GcsConfig
from infra.gcp.pipelines import gcp_env


def _one_task(env: object, **task: object) -> Pipeline:
    out = Dataset("out", storage=env.storage.gcs("acme-gcp-out", "o.parquet"))  # type: ignore[attr-defined]
    pipe = Pipeline("refused", env=env)

    @pipe.task(**task)
    def make() -> out:
        return pl.DataFrame({"x": [1]})

    return pipe


def _database_pipeline(make_db: Any) -> Pipeline:
    env = gcp_env()
    env.register("orders_db", make_db(env))  # type: ignore[attr-defined]
    pipe = Pipeline("shop", env=env)
    out = Dataset("out", storage=env.storage.gcs("acme-shop-out", "o.parquet"))  # type: ignore[attr-defined]

    @pipe.task()
    def load(orders_db: Database) -> out:
        return pl.DataFrame({"x": [1]})

    return pipe


@pytest.mark.parametrize(
    ("make_db", "words"),
    [
        # an RDS config on GCP: Cloud SQL is what GCP gets
        (lambda env: env.database.rds("orders-db"), ["RdsConfig", "env.database.cloud_sql"]),
        # MySQL: Glacier creates Cloud SQL for PostgreSQL only
        (
            lambda env: env.provider.database("orders-db", "mysql", config=CloudSqlConfig()),
            ["mysql", "PostgreSQL only", "existing server"],
        ),
    ],
)
def test_a_database_gcp_cannot_create_is_refused_naming_the_task_and_the_alternative(
    make_db: Any, words: list[str]
) -> None:
    with pytest.raises(InfraError) as caught:
        plan(_database_pipeline(make_db))
    for part in ("Task 'load'", "'orders-db'", *words):
        assert part in str(caught.value)


def test_aws_compute_on_gcp_is_refused_naming_cloud_run() -> None:
    env = gcp_env()
    with pytest.raises(InfraError, match=r"env\.compute\.cloud_run"):
        plan(_one_task(env, compute=env.compute.ecs()))  # type: ignore[attr-defined]


def test_a_bucket_without_uniform_access_is_refused() -> None:
    env = gcp_env()
    legacy = GcsConfig(uniform_bucket_level_access=False)
    out = Dataset("out", storage=env.storage.gcs("acme-legacy", "o.parquet", config=legacy))  # type: ignore[attr-defined]
    pipe = Pipeline("legacy", env=env)

    @pipe.task()
    def make() -> out:
        return pl.DataFrame({"x": [1]})

    with pytest.raises(InfraError, match="uniform_bucket_level_access"):
        plan(pipe)


def test_cloud_run_sizes_follow_the_cpu() -> None:
    assert CloudRunConfig(cpu=4, memory=16384).memory == 16384
    with pytest.raises(ConfigError, match="2048 to 16384"):
        CloudRunConfig(cpu=4, memory=1024)


def test_labels_are_sanitized_or_refused() -> None:
    assert labels_of({"Owner": "Jane Doe", "a.b": "x" * 70}, "env 'p'") == {
        "owner": "jane_doe",
        "a_b": labels_of({"k": "x" * 70}, "p")["k"],
    }
    assert len(labels_of({"k": "x" * 70}, "p")["k"]) == 63
    with pytest.raises(InfraError, match="64 labels"):
        labels_of({f"k{i}": "v" for i in range(65)}, "env 'p'")


@pytest.mark.parametrize(
    ("schedule", "cron"),
    [
        ("rate(1 minute)", "* * * * *"),
        ("rate(6 hours)", "0 */6 * * *"),
        ("cron(30 2 * * ? *)", "30 2 * * *"),
        ("cron(0 8 ? * 1 *)", "0 8 * * 0"),  # AWS Sunday is 1, unix cron's is 0
    ],
)
def test_schedules_become_unix_cron(schedule: str, cron: str) -> None:
    assert unix_cron(schedule) == cron


@pytest.mark.parametrize(
    "schedule", ["rate(7 minutes)", "cron(0 8 L * ? *)", "cron(0 8 * * ? 2027)"]
)
def test_schedules_without_a_unix_cron_twin_are_refused(schedule: str) -> None:
    with pytest.raises(InfraError, match="Cloud Scheduler"):
        unix_cron(schedule)


def test_the_terraform_target_refuses_a_gcp_type_it_has_no_mapping_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GCP is written (tests/infra/test_terraform.py proves it equal to the Pulumi plan); a
    # type the builder declares with no Terraform row is refused, named, nothing written.
    from glacier.errors import TerraformError
    from glacier.infra import terraform
    from glacier.infra.terraform import types
    from infra.gcp.pipelines import daily

    monkeypatch.delitem(types.RESOURCE_TYPES, "gcp:workflows/workflow:Workflow")  # type: ignore[attr-defined]
    with pytest.raises(TerraformError) as caught:
        terraform.generate(daily(), tmp_path / "tf")
    message = str(caught.value)
    assert "'gcp:workflows/workflow:Workflow'" in message and "--target pulumi" in message
    assert not (tmp_path / "tf").exists()


def test_a_gcp_task_reaching_s3_data_is_refused() -> None:
    from glacier.settings import AwsConfig

    aws = Provider(config=AwsConfig(region="eu-west-1", account_id="111111111111"))
    env = gcp_env(name="crossing")
    raw = Dataset("raw", storage=aws.bucket("acme-s3-raw", "raw.parquet"))
    out = Dataset("out", storage=env.storage.gcs("acme-gcs-out", "o.parquet"))  # type: ignore[attr-defined]
    pipe = Pipeline("crossing", env=env)

    @pipe.task(allow_cross_environment=True)
    def move(data: raw) -> out:
        return data

    with pytest.raises(InfraError, match=r"'raw' on aws.*GCS buckets only"):
        plan(pipe)


def test_a_function_hint_runs_as_a_cloud_run_job_of_its_size() -> None:
    # The same pipeline switches clouds by its settings: env.compute.lambda_(memory=6000,
    # timeout=120) on GCP is a Cloud Run job with the smallest CPU count that allows 6000 MiB
    # (glacier.infra.serverless_jobs); handler= is still refused (a function a task invokes).
    from glacier import Dataset, Environment, Pipeline, Provider
    from glacier.errors import InfraError
    from glacier.infra import plan
    from glacier.settings import GcpConfig

    env = Environment(Provider(config=GcpConfig(project="acme-switch")), name="gsw")
    out = Dataset("out", storage=env.provider.bucket("acme-switch-out", path="o.parquet"))
    pipeline = Pipeline("switched")

    @pipeline.task(compute=env.compute.lambda_(memory=6000, timeout=120))
    def make() -> out: ...

    (job,) = plan(pipeline, environments=[env]).of_type("gcp:cloudrunv2/job:Job")
    template = job.inputs["template"]["template"]
    limits = template["containers"][0]["resources"]["limits"]
    assert (limits["cpu"], limits["memory"]) == ("2", "6000Mi")
    assert template["timeout"] == "120s"

    other = Pipeline("invoked")

    @other.task(compute=env.provider.serverless("fn", handler="main"))
    def call() -> out: ...

    import pytest

    with pytest.raises(InfraError, match="handler="):
        plan(other, environments=[env])

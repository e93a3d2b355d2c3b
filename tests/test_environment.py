"""Environments and dependency injection: settings per environment, overrides, registry,
injection, data-flow pipelines, and two environments side by side."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from unittest.mock import Mock

import polars as pl
import pytest
from dependency_injector import providers
from dependency_injector.wiring import Provide

from glacier import (
    AWSEnvironment,
    Bucket,
    Dataset,
    Environment,
    GlacierEnv,
    Pipeline,
    Provider,
    Serverless,
    task,
)
from glacier.config import AwsConfig, GcsConfig, LambdaConfig, LocalConfig, S3Config, TaskConfig
from glacier.containers import CloudContainer
from glacier.errors import (
    ConfigError,
    InjectionError,
    NotSupportedError,
    TracingError,
    UnknownEnvironmentError,
    UnknownResourceError,
)
from glacier.testing import BucketRecorder, memory_filesystem, use_memory_filesystem

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def settings_dir(tmp_path: Path) -> Path:
    target = tmp_path / "containers"
    shutil.copytree(REPO / "containers", target, ignore=shutil.ignore_patterns("*.py"))
    return target


# -- GLACIER_ENV selects the environment's settings -----------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "bucket"),
    [
        ("dev", "local", "dev-bronze-zone"),
        ("test", "local", "test-bronze-zone"),
        ("staging", "aws", "finks-staging-bronze-zone"),
        ("prod", "aws", "finks-prod-bronze-zone"),
    ],
)
def test_glacier_env_selects_settings_file(
    settings_dir: Path, monkeypatch: pytest.MonkeyPatch, name: str, kind: str, bucket: str
) -> None:
    monkeypatch.setenv("GLACIER_ENV", name)
    env = Environment.from_env(settings_dir=settings_dir)
    assert env.name == name
    assert env.provider.kind == kind
    assert env.get("bronze_orders").bucket_name == bucket
    assert env.tags["Environment"] == name
    assert env.get("bronze_orders").tags["Environment"] == name


def test_unknown_environment_lists_known_ones(settings_dir: Path) -> None:
    with pytest.raises(UnknownEnvironmentError) as info:
        Environment.from_env("qa", settings_dir=settings_dir)
    msg = str(info.value)
    for known in ("dev", "prod", "staging", "test"):
        assert known in msg


def test_prod_settings_cascade_into_resources(settings_dir: Path) -> None:
    env = Environment.from_env("prod", settings_dir=settings_dir)
    gold = env.get("gold_daily_revenue")
    assert env.account_id == "999999999999"
    assert env.region == "ca-central-1"
    assert gold.config.encryption == "aws:kms"
    assert gold.tags["CostCenter"] == "analytics"
    assert env.task_config(_bare_task(env)).retries == 2


def _bare_task(env: Environment) -> Any:
    @env.task()
    def noop() -> None:
        return None

    return noop


# -- overriding container providers -------------------------------------------------------


def test_memory_filesystem_override_is_undone(glacier_env: Environment, tmp_path: Path) -> None:
    env = glacier_env  # its data lives under tmp_path / "data"
    bucket = env.provider.bucket("raw", path="x.parquet")
    frame = pl.DataFrame({"a": [1, 2]})
    with use_memory_filesystem(env) as fs:
        bucket.write(frame)
        assert bucket.exists()
        assert any(p.endswith("x.parquet") for p in fs.find("/"))
        assert not (tmp_path / "data" / "raw" / "x.parquet").exists()
    # Outside the block the bucket is back on local disk, where nothing was written.
    assert not bucket.exists()
    bucket.write(frame)
    assert (tmp_path / "data" / "raw" / "x.parquet").exists()


def test_two_memory_filesystems_are_isolated() -> None:
    a, b = memory_filesystem(), memory_filesystem()
    a.pipe("/k", b"1")
    assert a.exists("/k") and not b.exists("/k")


def test_override_with_a_mock_provider_and_registry() -> None:
    mock_bucket = Mock()
    mock_bucket.scan.return_value = pl.DataFrame({"id": [1, 2], "value": [10, 20]}).lazy()
    env = GlacierEnv(provider=Mock(), name="test")
    env.register("test_data", mock_bucket)

    @env.task()
    def process_data() -> pl.LazyFrame:
        return env.get("test_data").scan()

    assert process_data().collect().height == 2
    mock_bucket.scan.assert_called_once()


def test_custom_adapter_wired_by_overriding_a_container_provider(glacier_env: Environment) -> None:
    class UpperCaseUri:
        """A company-specific adapter: only get_uri, to show it is the one used."""

        def __init__(self, resource: Bucket) -> None:
            self.resource = resource

        def get_uri(self) -> str:
            return f"custom://{self.resource.bucket_name}/{self.resource.path}".upper()

    env = glacier_env
    bucket = env.provider.bucket("raw", path="a.parquet")
    with env.container.cloud.bucket_adapter.override(providers.Factory(UpperCaseUri)):
        assert bucket.get_uri() == "CUSTOM://RAW/A.PARQUET"
    assert bucket.get_uri().startswith("file://")


def test_class_level_override_of_the_cloud_container(tmp_path: Path) -> None:
    class Marker:
        def __init__(self, resource: Any) -> None:
            self.resource = resource

        def invoke(self, payload: dict[str, Any]) -> str:
            return f"wired:{payload['x']}"

    class CompanyCloud(CloudContainer):
        serverless_adapter = providers.Factory(Marker)

    provider = Provider(
        config=LocalConfig(base_path=tmp_path), cloud=CompanyCloud(config=providers.Object(None))
    )
    fn = provider.serverless("f", handler=lambda payload, ctx: "local")
    assert fn.invoke({"x": 1}) == "wired:1"


def test_recording_adapter_sees_pipeline_io(
    glacier_memory_env: Environment, glacier_recorder: BucketRecorder, tmp_path: Path
) -> None:
    env = glacier_memory_env
    out = env.provider.bucket("gold", path="out.parquet")
    pipeline = Pipeline("recorded", env=env)
    result_ds = Dataset("result", storage=out)

    @pipeline.task()
    def make() -> result_ds:
        return pl.DataFrame({"v": [1]})

    pipeline.run()
    assert glacier_recorder.operations("out.parquet")[:1] == ["write"]
    assert "scan" in glacier_recorder.operations("out.parquet")
    # The data went to the in-memory filesystem, not to the disk under the environment.
    assert not (tmp_path / "data" / "gold" / "out.parquet").exists()
    assert out.exists()


def test_serverless_unavailable_adapters_refuse_clearly() -> None:
    gcp = Provider(config=AwsConfig(region="us-east-1"))
    job = gcp.execution("emr", "nightly")  # Glue, ECS, Databricks: tests/test_execution_jobs.py
    with pytest.raises(NotSupportedError, match="submitting jobs of a 'emr' execution environment"):
        job.submit_job({})


# -- validation ----------------------------------------------------------------------------


def test_aws_environment_validates_at_construction() -> None:
    with pytest.raises(ConfigError, match="account_id"):
        AWSEnvironment(account_id="123", region="us-east-1")
    with pytest.raises(ConfigError, match="region"):
        AWSEnvironment(account_id="123456789012", region="invalid-region")


def test_provider_refuses_another_clouds_config() -> None:
    aws = Provider(config=AwsConfig(region="us-east-1"))
    with pytest.raises(ConfigError, match=r"GcsConfig.*takes S3Config"):
        aws.bucket("data-lake", config=GcsConfig())
    with pytest.raises(ConfigError, match="bucket"):
        aws.bucket("Not_A_Valid_Bucket")


def test_unknown_registry_name_lists_known(glacier_env: Environment) -> None:
    env = glacier_env
    env.register("sales", env.provider.bucket("sales"))
    with pytest.raises(UnknownResourceError, match=r"'salez'.*Known: sales"):
        env.get("salez")


@pytest.mark.parametrize("name", ["", "raw-sales", "1st", 7])
def test_resource_names_are_identifiers(glacier_env: Environment, name: object) -> None:
    env = glacier_env
    bucket = env.provider.bucket("raw", path="sales.parquet")
    with pytest.raises(ConfigError, match=r"Resource name .* is invalid: use a Python identifier"):
        env.register(name, bucket)  # type: ignore[arg-type]
    assert env.list_resources() == []


def test_task_options_are_validated(glacier_env: Environment) -> None:
    env = glacier_env
    with pytest.raises(ConfigError, match="retries"):

        @env.task(retries=-1)
        def f() -> None:
            return None

    with pytest.raises(ConfigError, match="unknown option"):

        @env.task(retry=1)
        def g() -> None:
            return None


# -- injection ---------------------------------------------------------------------------


def test_injection_by_type_by_name_and_by_marker(glacier_env: Environment) -> None:
    env = glacier_env
    sales = env.register("sales", env.provider.bucket("sales", path="s.parquet"))
    customers = env.register("customers", env.provider.bucket("customers", path="c.parquet"))
    fn = env.register("scorer", env.provider.serverless("scorer", handler=lambda p, c: p))

    @env.task()
    def by_type(f: Serverless) -> Serverless:
        return f

    @env.task()
    def by_name(customers: Bucket) -> Bucket:
        return customers

    @env.task()
    def by_marker(source: Bucket = Provide["sales"]) -> Bucket:
        return source

    @env.task()
    def ambiguous(source: Bucket) -> Bucket:
        return source

    assert by_type() is fn
    assert by_name() is customers
    assert by_marker() is sales
    assert by_name(sales) is sales  # an explicit argument wins
    with pytest.raises(InjectionError, match="several are registered"):
        ambiguous()


def test_annotation_style_tasks_get_resources_injected(glacier_env: Environment) -> None:
    env = glacier_env
    env.register("lookup", env.provider.bucket("ref", path="lookup.parquet"))
    env.get("lookup").write(pl.DataFrame({"k": [1], "label": ["one"]}))
    pipeline = Pipeline("inject", env=env)
    labels = Dataset("labels")

    @pipeline.task()
    def label(lookup: Bucket) -> labels:
        return lookup.read()

    assert pipeline.run()["labels"]["label"].to_list() == ["one"]


# -- data-flow pipelines -------------------------------------------------------------------


def _flow(env: Environment, calls: list[str]) -> Any:
    @env.task()
    def extract(source: Bucket) -> pl.LazyFrame:
        calls.append("extract")
        return source.scan()

    @env.task(retries=2)
    def transform(df: pl.LazyFrame, minimum: int = 0) -> pl.LazyFrame:
        calls.append("transform")
        return df.filter(pl.col("amount") > minimum)

    @env.task()
    def count(df: pl.LazyFrame) -> int:
        calls.append("count")
        return df.collect().height

    @env.pipeline(name="flow")
    def flow() -> Any:
        source = env.provider.bucket("raw", path="sales.parquet")
        return count(transform(extract(source), minimum=10))

    return flow


def test_analyze_traces_without_running_any_task(glacier_env: Environment) -> None:
    env = glacier_env
    calls: list[str] = []
    analysis = _flow(env, calls).run(mode="analyze")
    assert calls == []
    assert [t["name"] for t in analysis["tasks"]] == ["extract", "transform", "count"]
    assert [(e["from"], e["to"]) for e in analysis["dag"]] == [
        ("extract", "transform"),
        ("transform", "count"),
    ]
    assert any(r["kind"] == "bucket" and r["bucket_name"] == "raw" for r in analysis["resources"])


def test_local_mode_runs_the_body(glacier_env: Environment) -> None:
    env = glacier_env
    env.provider.bucket("raw", path="sales.parquet").write(pl.DataFrame({"amount": [5, 50, 500]}))
    calls: list[str] = []
    result = _flow(env, calls).run(mode="local")
    assert calls == ["extract", "transform", "count"]
    assert result.output == 2
    assert result["count"] == 2
    assert result.tasks["transform"].status == "succeeded"


def test_branching_on_a_traced_result_names_the_line(glacier_env: Environment) -> None:
    env = glacier_env

    @env.task()
    def check() -> bool:
        return True

    @env.pipeline()
    def branching() -> None:
        if check():  # the line the error must name
            pass

    with pytest.raises(TracingError) as info:
        branching.run(mode="analyze")
    assert f"{Path(__file__).name}:" in str(info.value)
    assert "cannot branch on the result of task 'check'" in str(info.value)


def test_deferred_binding_to_two_environments(tmp_path: Path) -> None:
    @task
    def describe(source: Bucket) -> str:
        return source.get_uri()

    dev = Environment.local(base_path=tmp_path / "dev", name="dev")
    prod = Environment.local(base_path=tmp_path / "prod", name="prod")
    dev.register("source", dev.provider.bucket("raw", path="a.csv", format="csv"))
    prod.register("source", prod.provider.bucket("raw", path="a.csv", format="csv"))
    assert "/dev/raw/a.csv" in dev.bind(describe)()
    assert "/prod/raw/a.csv" in prod.bind(describe)()


# -- two environments side by side ---------------------------------------------------------


def test_two_environments_share_nothing(tmp_path: Path) -> None:
    dev = Environment.local(base_path=tmp_path / "dev", name="dev", state_dir=tmp_path / "s1")
    prod = GlacierEnv(
        provider=Provider(config=AwsConfig(region="us-east-1", account_id="999999999999")),
        name="prod",
        tags={"Environment": "prod"},
        task_defaults=TaskConfig(retries=3),
    )
    dev.register("data", dev.provider.bucket("data"))
    assert prod.list_resources() == []
    assert dev.container.registry() is not prod.container.registry()
    assert dev.provider is not prod.provider
    with use_memory_filesystem(dev):
        assert dev.container.filesystem() is not prod.container.cloud.filesystem.last_overriding
    noop = _bare_task(prod)
    assert prod.task_config(noop).retries == 3
    assert dev.task_config(noop).retries == 0
    assert prod.provider.bucket("prod-data").tags == {"Environment": "prod"}
    assert prod.provider.bucket("prod-data").environment == "prod"


def test_aws_environment_namespaces_cascade_tags_and_configs() -> None:
    env = AWSEnvironment(
        account_id="123456789012",
        region="us-east-1",
        profile="production",
        environment="prod",
        naming_prefix="prod",
        tags={"Env": "prod"},
        vpc_id="vpc-123",
        subnet_ids=["subnet-a"],
        security_group_ids=["sg-prod"],
    )
    bucket = env.storage.s3(
        bucket="my-bucket", storage_class="INTELLIGENT_TIERING", encryption="aws:kms"
    )
    fn = env.compute.lambda_(memory=1024, timeout=300, runtime="python3.11")
    ecs = env.compute.ecs(image="myapp:latest", cpu=512, memory=1024)
    db = env.database.rds(instance_identifier="my-db", instance_class="db.t3.medium")
    table = env.database.dynamodb(table_name="my-table")
    efs = env.storage.efs(file_system_name="my-efs")
    assert isinstance(bucket.config, S3Config) and bucket.config.encryption == "aws:kms"
    assert bucket.tags == {"Env": "prod"}
    assert isinstance(fn.config, LambdaConfig) and fn.config.memory == 1024
    assert ecs.config.cpu == 512 and ecs.environment_type == "ecs"
    assert db.config.instance_class == "db.t3.medium" and table.engine == "dynamodb"
    assert efs.file_system_name == "my-efs"
    assert (env.environment, env.region, env.account_id, env.profile) == (
        "prod",
        "us-east-1",
        "123456789012",
        "production",
    )
    assert env.vpc_id == "vpc-123" and env.subnet_ids == ["subnet-a"]
    assert env.security_group_ids == ["sg-prod"] and env.naming_prefix == "prod"
    with pytest.raises(ConfigError, match="memory"):
        env.compute.lambda_(memory=20_000)

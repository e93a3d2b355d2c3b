"""Seed 001's environment spellings: provider.env(), Environment.from_provider(), environments
from variables alone, templates, composition, and an environment's state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from conftest import clear_cloud_variables
from glacier import Bucket, Dataset, Environment, GlacierEnv, Provider, infra
from glacier.config import AwsConfig, GcpConfig, LocalConfig
from glacier.errors import (
    ConfigError,
    CredentialsInCodeError,
    InfraError,
    PulumiNotInstalledError,
    UnknownEnvironmentError,
)
from glacier.templates import (
    DevelopmentLocalEnvironment,
    ProductionAWSEnvironment,
    ProductionAWSTemplate,
)

# -- provider.env() and Environment.from_provider() ------------------------------------------


def test_provider_env_wraps_the_provider_in_a_named_environment(tmp_path: Path) -> None:
    provider = Provider(config=LocalConfig(base_path=tmp_path))
    env = provider.env(name="production", tags={"team": "data"})
    assert isinstance(env, Environment)
    assert env.provider is provider
    assert env.name == "production"
    assert env.register("raw", provider.bucket("raw", path="a.parquet")).tags["team"] == "data"


def test_from_provider_builds_the_provider_of_that_type() -> None:
    env = GlacierEnv.from_provider(
        provider_type="aws", config=AwsConfig(region="eu-west-1"), name="production"
    )
    assert (env.name, env.provider.kind, env.region) == ("production", "aws", "eu-west-1")


def test_from_provider_refuses_a_config_of_another_type() -> None:
    with pytest.raises(ConfigError, match=r"provider_type='gcp'.*AwsConfig.*config is for 'aws'"):
        Environment.from_provider(provider_type="gcp", config=AwsConfig(region="us-east-1"))


# -- environments from variables alone ----------------------------------------------------


@pytest.fixture
def variables_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No cloud variables, and a settings directory with no files."""
    clear_cloud_variables(monkeypatch)
    settings = tmp_path / "containers"
    settings.mkdir()
    monkeypatch.setenv("GLACIER_SETTINGS_DIR", str(settings))
    monkeypatch.setenv("GLACIER_STATE_DIR", str(tmp_path / ".glacier"))
    return settings


def test_an_environment_from_variables_alone(
    variables_only: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GLACIER_PROVIDER", "aws")
    monkeypatch.setenv("AWS_REGION", "ap-southeast-1")
    monkeypatch.setenv("AWS_PROFILE", "analytics")
    monkeypatch.setenv("GLACIER_ENV", "staging")
    env = GlacierEnv.from_env()
    assert (env.name, env.provider.kind, env.region, env.profile) == (
        "staging",
        "aws",
        "ap-southeast-1",
        "analytics",
    )
    from_provider = Environment.from_provider(provider_type="aws")
    assert from_provider.region == "ap-southeast-1"


def test_the_settings_file_wins_over_the_provider_variable(
    variables_only: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (variables_only / "dev.toml").write_text(
        '[provider]\nkind = "aws"\nregion = "eu-central-1"\n', encoding="utf-8"
    )
    monkeypatch.setenv("GLACIER_PROVIDER", "local")
    monkeypatch.setenv("AWS_REGION", "ap-southeast-1")
    env = Environment.from_env()
    assert (env.provider.kind, env.region) == ("aws", "eu-central-1")


def test_a_provider_given_in_code_wins_over_the_provider_variable(
    variables_only: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # GCP without GOOGLE_CLOUD_PROJECT cannot be built from variables; it is not asked to.
    monkeypatch.setenv("GLACIER_PROVIDER", "gcp")
    env = Environment(Provider(config=LocalConfig(base_path=tmp_path)), name="dev")
    assert env.settings.provider.kind == "local"
    with pytest.raises(ConfigError, match="no GCP project is set"):
        Environment.from_env()


def test_without_file_or_provider_variable_the_environment_is_unknown(
    variables_only: Path,
) -> None:
    with pytest.raises(UnknownEnvironmentError, match="No settings file for environment 'dev'"):
        Environment.from_env()


def test_an_unknown_provider_kind_is_refused(
    variables_only: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GLACIER_PROVIDER", "ibm")
    with pytest.raises(ConfigError, match="GLACIER_PROVIDER='ibm' is not a provider kind; use"):
        Environment.from_env()


# -- templates ---------------------------------------------------------------------------


def test_production_template_sets_best_practice_defaults() -> None:
    prod = ProductionAWSEnvironment(region="us-east-1", profile="prod")
    assert prod.is_production
    assert prod.name == "production"
    assert prod.tags == {
        "environment": "production",
        "managed_by": "glacier",
        "data_classification": "internal",
    }
    bucket = prod.storage.s3("acme-prod-raw", "sales.parquet")
    assert bucket.config.encryption == "aws:kms"
    assert bucket.config.versioning is True
    assert bucket.config.public_access_block is True
    assert bucket.retention.days == 90
    assert prod.settings.task.retries == 2
    assert prod.settings.task.timeout == 3600


def test_production_template_defaults_can_be_overridden() -> None:
    prod = ProductionAWSEnvironment(
        region="eu-west-1",
        enable_encryption=False,
        retention_days=30,
        tags={"team": "finance"},
        name="prod-eu",
    )
    bucket = prod.storage.bucket("acme-prod-eu", "x.parquet", versioning=False)
    assert bucket.config.encryption == "AES256"
    assert bucket.config.versioning is False
    assert bucket.retention.days == 30
    assert prod.tags["team"] == "finance"
    assert prod.tags["environment"] == "prod-eu"


def test_a_template_is_pydantic_settings_read_from_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GLACIER_TEMPLATE_RETENTION_DAYS", "14")
    assert ProductionAWSTemplate(region="us-east-1").retention_days == 14


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"enable_monitoring": True}, r"enable_monitoring=True\): .*no monitoring resources"),
        ({"colour": "blue"}, r"colour='blue'\): Extra inputs are not permitted"),
        ({"retention_days": 0}, r"retention_days=0\): Input should be greater than"),
    ],
)
def test_a_template_refuses_what_it_cannot_honour(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ProductionAWSEnvironment(region="us-east-1", **values)


def test_a_template_refuses_credentials() -> None:
    with pytest.raises(CredentialsInCodeError):
        ProductionAWSEnvironment(region="us-east-1", aws_secret_access_key="x")


def test_production_template_plans_kms_encrypted_versioned_buckets() -> None:
    prod = ProductionAWSEnvironment(region="us-east-1", account_id="123456789012")
    sales = Dataset("sales", storage=prod.storage.s3("acme-prod-sales", "sales.parquet"))
    pipeline = prod_pipeline(prod, sales)
    planned = infra.plan(pipeline, env=prod)
    [sse] = planned.of_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    rule = sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert rule["sseAlgorithm"] == "aws:kms"
    [versioning] = planned.of_type("aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"


def prod_pipeline(env: Environment, sales: Dataset) -> Any:
    from glacier import Pipeline

    pipeline = Pipeline("sales", env=env)

    @pipeline.task()
    def load() -> sales:
        return pl.DataFrame({"amount": [1.0]})

    return pipeline


def test_development_template_is_local_and_caches(tmp_path: Path) -> None:
    dev = DevelopmentLocalEnvironment(base_path=tmp_path / "data")
    assert (dev.name, dev.provider.kind, dev.is_production) == ("development", "local", False)
    assert dev.settings.task.cache is True
    bucket = dev.storage.bucket("raw", "a.parquet")
    bucket.write(pl.DataFrame({"a": [1]}))
    assert (tmp_path / "data" / "raw" / "a.parquet").is_file()


# -- composition -------------------------------------------------------------------------


def test_composed_environment_runs_on_the_storage_provider(s3: Provider, bucket_name: str) -> None:
    gcp = Provider(config=GcpConfig(project_id="my-project"))
    env = Environment.compose(storage=s3, compute=gcp, name="hybrid")
    assert env.provider.kind == "aws"
    assert env.compute_provider is gcp
    raw = env.register("raw", env.storage.bucket(bucket_name, "in.parquet"))
    env.register("out", env.storage.bucket(bucket_name, "out.parquet"))
    raw.write(pl.DataFrame({"x": [1, 2]}))

    @env.task()
    def double(raw: Bucket, out: Bucket) -> None:
        out.write(raw.scan().with_columns(pl.col("x") * 2))

    @env.pipeline()
    def hybrid() -> None:
        double()

    hybrid.run()
    assert env.get("out").read()["x"].to_list() == [2, 4]


def test_composed_environment_with_compute_on_a_cloud_without_builder_is_refused_at_plan() -> None:
    aws = Provider(config=AwsConfig(region="us-east-1"))
    env = Environment.compose(
        storage=aws, compute=Provider(config=GcpConfig(project_id="my-project")), name="hybrid"
    )
    flow = _copy_flow(env)
    with pytest.raises(
        InfraError, match=r"storage on aws with compute on gcp.*cannot generate cross-cloud access"
    ):
        infra.plan(flow, env=env)
    # The caller's provider is not touched: another environment on it still plans.
    assert len(infra.plan(_copy_flow(Environment(aws, name="plain")), env="plain")) > 0


def test_composed_environment_with_aws_compute_plans() -> None:
    env = Environment.compose(
        storage=Provider(config=AwsConfig(region="us-east-1")),
        compute=Provider(config=AwsConfig(region="eu-west-1")),
        name="split",
    )
    planned = infra.plan(_copy_flow(env), env=env)
    assert planned.of_type("aws:iam/role:Role")


def _copy_flow(env: Environment) -> Any:
    env.register("raw", env.storage.bucket("acme-hybrid-raw", "in.parquet"))
    env.register("out", env.storage.bucket("acme-hybrid-raw", "out.parquet"))

    @env.task()
    def copy(raw: Bucket, out: Bucket) -> None:
        out.write(raw.scan())

    @env.pipeline()
    def copying() -> None:
        copy()

    return copying


def test_compose_refuses_what_is_not_a_provider() -> None:
    with pytest.raises(ConfigError, match=r"compose\(compute='gcp'\): give a Provider"):
        Environment.compose(storage=Provider(), compute="gcp")  # type: ignore[arg-type]


# -- state -------------------------------------------------------------------------------


def test_get_state_lists_what_the_environment_declares(tmp_path: Path) -> None:
    env = Environment(Provider(config=AwsConfig(region="us-east-1")), name="production")
    flow = _copy_flow(env)
    state = env.get_state()
    assert state["resources"] == ["out", "raw"]
    assert state["tasks"] == ["copy"]
    assert state["pipelines"] == [flow.name]
    assert state["resource_details"]["raw"]["bucket_name"] == "acme-hybrid-raw"
    planned = {(r["type"], r["name"]) for r in state["planned"]["copying"]}
    assert ("aws:iam/role:Role", "production-copy-role") in planned
    assert state["source"] == "plan"
    assert "Pulumi CLI" in state["note"]

    written = env.export_state(tmp_path / "state" / "production.json")
    assert json.loads(written.read_text()) == json.loads(json.dumps(state, default=str))


def test_deployed_state_without_the_pulumi_cli_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no 'pulumi' program anywhere
    env = Environment(Provider(config=AwsConfig(region="us-east-1")), name="production")
    _copy_flow(env)
    with pytest.raises(PulumiNotInstalledError, match="needs the Pulumi CLI"):
        env.get_state(deployed=True)
    assert not (tmp_path / "s.json").exists()
    with pytest.raises(PulumiNotInstalledError):
        env.export_state(tmp_path / "s.json", deployed=True)
    assert not (tmp_path / "s.json").exists()


def test_export_state_refuses_a_directory(tmp_path: Path) -> None:
    from glacier.errors import OutputPathError

    with pytest.raises(OutputPathError, match="that is a directory; give a file path"):
        Environment.local(tmp_path / "d", name="dev").export_state(tmp_path)


def test_the_seeds_provider_classes_are_refused_with_the_current_spelling() -> None:
    from glacier.errors import RenamedError

    with pytest.raises(
        RenamedError, match=r"AWSProvider is Provider\(config=AwsConfig\(\.\.\.\)\) now"
    ):
        from glacier.providers import AWSProvider  # noqa: F401
    with pytest.raises(RenamedError, match=r"LocalProvider is Provider\(config=LocalConfig"):
        from glacier.providers import LocalProvider  # noqa: F401

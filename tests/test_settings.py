"""Settings: every config validates at construction and says what is wrong and what is allowed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pydantic
import pytest

import glacier.config
import glacier.settings
from glacier.errors import (
    ConfigError,
    CredentialsInCodeError,
    GlacierError,
    UnknownEnvironmentError,
)
from glacier.settings import (
    CREDENTIAL_FIELDS,
    FARGATE_MEMORY,
    AwsConfig,
    AzureBlobConfig,
    AzureConfig,
    BlobConfig,
    BucketSettings,
    DatabricksConfig,
    DynamoDbConfig,
    EcsConfig,
    EfsConfig,
    ExecutorSettings,
    GcpConfig,
    GCSConfig,
    GcsConfig,
    GlacierSettings,
    GlueConfig,
    InvalidValueError,
    LambdaConfig,
    LifecycleRule,
    LocalConfig,
    Network,
    RdsConfig,
    S3Config,
    TaskConfig,
    validate_azure_container_name,
    validate_azure_storage_account_name,
    validate_gcp_project_id,
    validate_gcs_bucket_name,
    validate_lambda_function_name,
    validate_s3_bucket_name,
)

_CLOUD_ENV_PREFIXES = ("GLACIER_", "AWS_", "GOOGLE_", "GCP_", "GCLOUD_", "AZURE_")


@pytest.fixture(autouse=True, scope="module")
def clean_env() -> Iterator[None]:
    """No cloud or Glacier variable from the machine running the tests leaks into them.

    Cleared once for the module, not around every test: each change of the process's
    environment races native threads of earlier tests (polars, gRPC) that may read it.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(_CLOUD_ENV_PREFIXES) or name == "STORAGE_EMULATOR_HOST":
                patch.delenv(name)
        yield


def config_error(
    build: Callable[[], object], *fragments: str, kind: type[ConfigError] = ConfigError
) -> str:
    """Run ``build``, expect ``kind``, check each fragment is in the message, return it."""
    with pytest.raises(kind) as caught:
        build()
    message = str(caught.value)
    assert not isinstance(caught.value, pydantic.ValidationError)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    return message


# -- the shared base ---------------------------------------------------------------------------


def test_invalid_value_is_a_config_error_naming_model_field_value_and_rule() -> None:
    with pytest.raises(ConfigError) as caught:
        AwsConfig(region="us-east-1", account_id="123")

    assert str(caught.value) == (
        "AwsConfig: account_id='123' is invalid: an AWS account id is exactly 12 digits "
        "(e.g. '123456789012')."
    )
    assert isinstance(caught.value, GlacierError | ValueError)
    assert not isinstance(caught.value, pydantic.ValidationError)


def test_model_validate_raises_the_same_error_as_the_constructor() -> None:
    config_error(
        lambda: AwsConfig.model_validate({"region": "us-east-1", "account_id": "123"}),
        "AwsConfig: account_id='123' is invalid: an AWS account id is exactly 12 digits",
    )
    config_error(
        lambda: AwsConfig.model_validate_json('{"region": "us-east-1", "account_id": "123"}'),
        "AwsConfig: account_id='123' is invalid",
    )
    assert AwsConfig.model_validate({"region": "eu-west-1"}) == AwsConfig(region="eu-west-1")


def test_every_bad_field_is_reported_at_once() -> None:
    message = config_error(
        lambda: LambdaConfig(memory=20000, timeout=0), "LambdaConfig: 2 invalid settings"
    )
    assert "memory=20000 is invalid: allowed range is 128 to 10240 MB" in message
    assert "timeout=0 is invalid: allowed range is 1 to 900 seconds" in message


def test_unknown_field_suggests_the_closest_and_lists_allowed() -> None:
    config_error(
        lambda: S3Config(versionning=True),
        "S3Config: unknown field 'versionning' (did you mean 'versioning'?)",
        "allowed fields: cors, encryption, force_destroy, kms_key_id, lifecycle_rules,",
    )
    config_error(
        lambda: S3Config.model_validate({"versionning": True}),
        "unknown field 'versionning' (did you mean 'versioning'?)",
    )


def test_unknown_field_in_a_nested_config_names_its_path() -> None:
    config_error(
        lambda: BucketSettings(bucket_name="raw", s3={"versionning": True}),
        "BucketSettings: s3: unknown field 'versionning' (did you mean 'versioning'?)",
    )


def test_the_seeds_field_names_are_accepted() -> None:
    assert BlobConfig(replication_type="GRS").replication == "GRS"
    aws = AwsConfig(
        region="us-east-1",
        assume_role_arn="arn:aws:iam::123456789012:role/reader",
        session_duration=3600,
    )
    assert aws.role_arn == "arn:aws:iam::123456789012:role/reader"
    s3 = S3Config(
        replication_config={"destination_bucket": "backup", "destination_region": "us-west-2"},
        cors=[{"allowed_methods": ["GET"], "allowed_origins": ["*"]}],
    )
    assert s3.replication_config is not None
    assert s3.replication_config.destination_region == "us-west-2"
    config_error(
        lambda: S3Config(
            replication_config={"destination_bucket": "b", "destination_region": "mars-1"}
        ),
        "destination_region='mars-1'",
    )
    config_error(lambda: AwsConfig(region="us-east-1", session_duration=60), "session_duration")


def test_configs_are_frozen_hashable_and_replace_validates() -> None:
    config = AwsConfig(region="us-east-1", tags={"team": "data"})

    config_error(lambda: setattr(config, "region", "eu-west-1"), "frozen", "replace(region=")
    assert hash(config) == hash(AwsConfig(region="us-east-1", tags={"team": "data"}))
    assert {config: "prod"}[AwsConfig(region="us-east-1", tags={"team": "data"})] == "prod"
    assert config.replace(region="eu-west-1").region == "eu-west-1"
    config_error(lambda: config.replace(region="eu-west-9"), "region='eu-west-9'")
    s3 = S3Config(lifecycle_rules=[{"days": 30, "transition": "GLACIER"}])
    assert hash(s3) == hash(S3Config(lifecycle_rules=[{"days": 30, "transition": "GLACIER"}]))


# -- credentials -------------------------------------------------------------------------------

_CREDENTIAL_HOMES: list[tuple[Callable[..., object], dict[str, Any], tuple[str, ...]]] = [
    (AwsConfig, {"region": "us-east-1"}, ("AWS_PROFILE", "role")),
    (GcpConfig, {"project": "acme-data"}, ("GOOGLE_APPLICATION_CREDENTIALS",)),
    (AzureConfig, {}, ("az login", "AZURE_STORAGE_CONNECTION_STRING")),
    (LocalConfig, {}, ("AWS_PROFILE", "GOOGLE_APPLICATION_CREDENTIALS", "az login")),
    (S3Config, {}, ("AWS_PROFILE",)),
    (GcsConfig, {}, ("GOOGLE_APPLICATION_CREDENTIALS",)),
    (BlobConfig, {}, ("AZURE_STORAGE_CONNECTION_STRING",)),
    (LambdaConfig, {}, ("AWS_PROFILE",)),
    (TaskConfig, {}, ("AWS_PROFILE",)),
    (GlacierSettings, {}, ("AWS_PROFILE", "az login")),
]


@pytest.mark.parametrize("field", sorted(CREDENTIAL_FIELDS))
@pytest.mark.parametrize(
    ("model", "required", "hints"), _CREDENTIAL_HOMES, ids=lambda v: getattr(v, "__name__", "")
)
def test_credentials_are_refused_everywhere(
    model: Callable[..., object], required: dict[str, Any], hints: tuple[str, ...], field: str
) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    with pytest.raises(CredentialsInCodeError) as caught:
        model(**required, **{field: secret})

    message = str(caught.value)
    assert field in message
    for hint in hints:
        assert hint in message
    assert secret not in message
    # The pydantic error would repeat the input (the secret) in a traceback.
    assert caught.value.__cause__ is None


def test_credentials_in_env_vars_urls_and_settings_files_are_refused(tmp_path: Path) -> None:
    config_error(
        lambda: LambdaConfig(environment_vars={"AWS_SECRET_ACCESS_KEY": "x"}),
        "environment_vars",
        "AWS_SECRET_ACCESS_KEY",
        kind=CredentialsInCodeError,
    )
    config_error(
        lambda: AwsConfig(region="us-east-1", endpoint_url="http://key:secret@localhost:5000"),
        "endpoint_url",
        kind=CredentialsInCodeError,
    )
    (tmp_path / "prod.toml").write_text(
        '[provider]\nkind = "azure"\nconnection_string = "AccountKey=abc"\n'
    )
    message = config_error(
        lambda: GlacierSettings.load("prod", tmp_path),
        "prod.toml",
        "provider",
        "connection_string",
        "AZURE_STORAGE_CONNECTION_STRING",
        kind=CredentialsInCodeError,
    )
    assert "AccountKey=abc" not in message


# -- provider configs --------------------------------------------------------------------------


def test_local_config_defaults_and_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert LocalConfig() == LocalConfig(base_path=Path(".glacier/data"), create_dirs=True)
    assert LocalConfig(base_path="./data").base_path == Path("data")

    monkeypatch.setenv("GLACIER_BASE_PATH", "/srv/glacier")

    assert LocalConfig.from_env().base_path == Path("/srv/glacier")
    assert LocalConfig.from_env(base_path="/tmp/x").base_path == Path("/tmp/x")


@pytest.mark.parametrize(
    "region",
    [
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "ca-central-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "ap-southeast-1",
        "ap-northeast-1",
        "ap-south-1",
        "sa-east-1",
        "me-south-1",
        "me-central-1",
        "af-south-1",
        "il-central-1",
        "mx-central-1",
        "us-gov-west-1",
        "us-gov-east-1",
        "cn-north-1",
        "cn-northwest-1",
    ],
)
def test_aws_accepts_real_regions(region: str) -> None:
    assert AwsConfig(region=region).region == region


def test_aws_unknown_region_suggests_the_closest_and_lists_valid_ones() -> None:
    config_error(
        lambda: AwsConfig(region="us-est-1"),
        "AwsConfig: region='us-est-1' is invalid: not an AWS region",
        "did you mean 'us-east-1' or 'us-west-1'?",
        "valid values include us-east-1, us-west-2, eu-west-1",
    )
    config_error(lambda: AwsConfig(region="invalid-region"), "region='invalid-region'")


def test_aws_region_is_required() -> None:
    config_error(lambda: AwsConfig(), "AwsConfig: region is required.")


@pytest.mark.parametrize("account_id", ["123", "12345678901a", "1234567890123", ""])
def test_aws_account_id_is_12_digits(account_id: str) -> None:
    config_error(
        lambda: AwsConfig(region="us-east-1", account_id=account_id),
        f"account_id={account_id!r} is invalid",
        "exactly 12 digits",
    )


def test_aws_role_arn_format_and_partition() -> None:
    assert AwsConfig(region="us-east-1", role_arn="arn:aws:iam::123456789012:role/ops/deployer")
    assert AwsConfig(region="cn-north-1", role_arn="arn:aws-cn:iam::123456789012:role/deployer")
    config_error(
        lambda: AwsConfig(region="us-east-1", role_arn="arn:aws:iam::123:user/bob"),
        "role_arn='arn:aws:iam::123:user/bob' is invalid",
        "arn:aws:iam::123456789012:role/",
    )
    config_error(
        lambda: AwsConfig(region="cn-north-1", role_arn="arn:aws:iam::123456789012:role/x"),
        "partition 'aws'",
        "partition 'aws-cn'",
    )


@pytest.mark.parametrize("url", ["localhost:5000", "ftp://example.com", "http://"])
def test_aws_endpoint_url_is_http(url: str) -> None:
    config_error(
        lambda: AwsConfig(region="us-east-1", endpoint_url=url),
        f"endpoint_url={url!r} is invalid",
        "http://",
    )


def test_aws_endpoint_url_for_emulators() -> None:
    config = AwsConfig(region="us-east-1", endpoint_url="http://127.0.0.1:5000/")
    assert config.endpoint_url == "http://127.0.0.1:5000"


@pytest.mark.parametrize(
    ("region", "partition"),
    [("eu-west-1", "aws"), ("us-gov-west-1", "aws-us-gov"), ("cn-northwest-1", "aws-cn")],
)
def test_aws_partition_follows_region(region: str, partition: str) -> None:
    assert AwsConfig(region=region).partition == partition


def test_aws_tags_respect_aws_limits() -> None:
    config_error(
        lambda: AwsConfig(region="us-east-1", tags={"aws:owner": "me"}),
        "tags={'aws:owner': 'me'} is invalid",
        "'aws:' is reserved",
    )
    config_error(lambda: S3Config(tags={"k": "v" * 257}), "at most 256 characters")


def test_aws_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert AwsConfig.from_env() == AwsConfig(region="us-east-1")

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert AwsConfig.from_env().region == "eu-west-1"

    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_PROFILE", "prod")
    monkeypatch.setenv("AWS_ACCOUNT_ID", "123456789012")
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/deployer")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "never-copied")

    config = AwsConfig.from_env(tags={"team": "data"})

    assert config == AwsConfig(
        region="eu-central-1",
        profile="prod",
        account_id="123456789012",
        role_arn="arn:aws:iam::123456789012:role/deployer",
        endpoint_url="http://127.0.0.1:5000",
        tags={"team": "data"},
    )
    assert AwsConfig.from_env(region="ap-southeast-2").region == "ap-southeast-2"


def test_aws_from_env_reports_a_bad_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCOUNT_ID", "42")
    config_error(AwsConfig.from_env, "account_id='42' is invalid")


def test_gcp_accepts_project_id_alias() -> None:
    assert GcpConfig(project_id="acme-data-prod") == GcpConfig(project="acme-data-prod")
    assert GcpConfig(project="acme-data-prod").project_id == "acme-data-prod"
    config_error(
        lambda: GcpConfig(project="acme-data-prod", project_id="acme-data-dev"),
        "project_id='acme-data-dev' and project='acme-data-prod'",
    )


@pytest.mark.parametrize("project", ["abc", "My-Project", "1project", "project-", "a" * 31])
def test_gcp_project_format(project: str) -> None:
    config_error(
        lambda: GcpConfig(project=project),
        f"GcpConfig: project={project!r} is invalid",
        "6 to 30 lowercase letters, digits or hyphens",
        "'acme-data-prod'",
    )


def test_gcp_region_and_labels() -> None:
    assert GcpConfig(project="acme-data", region="europe-west4").region == "europe-west4"
    config_error(
        lambda: GcpConfig(project="acme-data", region="us-central"),
        "region='us-central' is invalid: not a GCP region",
        "did you mean 'us-central1'?",
    )
    config_error(
        lambda: GcpConfig(project="acme-data", labels={"Team": "data"}),
        "labels={'Team': 'data'} is invalid",
        "lowercase",
    )


def test_gcp_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    config_error(GcpConfig.from_env, "GOOGLE_CLOUD_PROJECT")

    monkeypatch.setenv("GCP_PROJECT", "acme-fallback")
    assert GcpConfig.from_env().project == "acme-fallback"

    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "acme-data-prod")
    monkeypatch.setenv("GCP_REGION", "europe-west1")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "localhost:9023")

    config = GcpConfig.from_env()

    assert config == GcpConfig(
        project="acme-data-prod",
        region="europe-west1",
        endpoint_url="http://localhost:9023",
        anonymous=True,
    )
    monkeypatch.setenv("GOOGLE_CLOUD_REGION", "asia-east1")
    assert GcpConfig.from_env().region == "asia-east1"


def test_azure_validation() -> None:
    assert AzureConfig(location="West Europe").location == "westeurope"
    config_error(
        lambda: AzureConfig(location="europe-west"),
        "location='europe-west' is invalid: not an Azure location",
        "eastus",
    )
    config_error(
        lambda: AzureConfig(subscription_id="1234"),
        "subscription_id='1234' is invalid",
        "GUID",
    )
    for account in ("ab", "My-Account", "a" * 25):
        config_error(
            lambda account=account: AzureConfig(storage_account=account),
            f"storage_account={account!r} is invalid",
            "3 to 24 lowercase letters or digits",
        )


def test_azure_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", "00000000-1111-2222-3333-444444444444")
    monkeypatch.setenv("AZURE_RESOURCE_GROUP", "data-engineering")
    monkeypatch.setenv("AZURE_LOCATION", "northeurope")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT", "devstoreaccount1")
    monkeypatch.setenv("AZURE_STORAGE_ENDPOINT", "http://127.0.0.1:10000/devstoreaccount1")

    assert AzureConfig.from_env() == AzureConfig(
        subscription_id="00000000-1111-2222-3333-444444444444",
        resource_group="data-engineering",
        location="northeurope",
        storage_account="devstoreaccount1",
        endpoint_url="http://127.0.0.1:10000/devstoreaccount1",
    )


# -- storage -----------------------------------------------------------------------------------


def test_s3_literals_suggest_the_closest_value() -> None:
    config_error(
        lambda: S3Config(encryption="aws:km"),
        "S3Config: encryption='aws:km' is invalid: allowed values are 'AES256' or 'aws:kms'",
        "did you mean 'aws:kms'?",
    )
    config_error(
        lambda: S3Config(storage_class="GLACIER_DEEP"),
        "storage_class='GLACIER_DEEP' is invalid",
        "'INTELLIGENT_TIERING'",
    )


def test_s3_kms_key_only_with_kms_encryption() -> None:
    assert S3Config(encryption="aws:kms", kms_key_id="alias/data").kms_key_id == "alias/data"
    config_error(
        lambda: S3Config(kms_key_id="alias/data"),
        "kms_key_id='alias/data' is only used with encryption='aws:kms'",
        "encryption='AES256'",
    )


def test_lifecycle_rules_accept_the_seed_shapes() -> None:
    config = S3Config(
        lifecycle_rules=[
            {"id": "archive", "transition": {"days": 30, "storage_class": "GLACIER"}},
            {"days": 60, "transition": "DEEP_ARCHIVE"},
            {"days": 90, "expiration": True},
            LifecycleRule(id="logs", prefix="logs/", expiration_days=7),
        ]
    )

    assert config.lifecycle_rules == [
        LifecycleRule(id="archive", transition_days=30, storage_class="GLACIER"),
        LifecycleRule(
            id="transition-deep-archive-60d", transition_days=60, storage_class="DEEP_ARCHIVE"
        ),
        LifecycleRule(id="expire-90d", expiration_days=90),
        LifecycleRule(id="logs", prefix="logs/", expiration_days=7),
    ]


@pytest.mark.parametrize(
    ("rule", "fragments"),
    [
        ({"days": 30}, ("lifecycle_rules[0]: days=30 needs an action",)),
        ({"days": 30, "transition": "FROZEN"}, ("storage_class='FROZEN' is invalid", "GLACIER")),
        (
            {"days": 30, "transition": "NEARLINE"},
            ("lifecycle_rules[0].storage_class='NEARLINE'", "STANDARD_IA, ONEZONE_IA"),
        ),
        (
            {"days": 10, "transition": "STANDARD_IA"},
            ("lifecycle_rules[0].transition_days=10", "after 30 days"),
        ),
        ({"days": -1, "transition": "GLACIER"}, ("transition_days=-1 is invalid", "0 or more")),
        ({"days": 0, "expiration": True}, ("expiration_days=0 is invalid", "1 or more")),
        (
            {"id": "x", "transition_days": 90, "storage_class": "GLACIER", "expiration_days": 30},
            ("expiration_days=30 must be greater than transition_days=90",),
        ),
        ({"id": "x", "prefix": "tmp/"}, ("lifecycle rule 'x' does nothing",)),
        (
            {"id": "x", "storage_class": "GLACIER", "expiration_days": 90},
            ("transition_days=None and storage_class='GLACIER' must be given together",),
        ),
        ({"transition": {"dayz": 30}}, ("unknown key 'dayz'",)),
    ],
)
def test_bad_lifecycle_rules(rule: dict[str, Any], fragments: tuple[str, ...]) -> None:
    config_error(lambda: S3Config(lifecycle_rules=[rule]), "S3Config: ", *fragments)


def test_lifecycle_rule_ids_are_unique() -> None:
    rules = [{"days": 90, "expiration": True}, {"days": 90, "expiration": True}]
    config_error(
        lambda: S3Config(lifecycle_rules=rules), "lifecycle_rules[1].id='expire-90d' is used twice"
    )


def test_gcs_config() -> None:
    assert GCSConfig is GcsConfig
    config = GcsConfig(
        storage_class="NEARLINE", lifecycle_rules=[{"days": 30, "transition": "COLDLINE"}]
    )
    assert config.lifecycle_rules[0].storage_class == "COLDLINE"
    config_error(
        lambda: GcsConfig(storage_class="GLACIER"),
        "storage_class='GLACIER' is invalid: allowed values are 'STANDARD', 'NEARLINE'",
    )
    config_error(
        lambda: GcsConfig(lifecycle_rules=[{"days": 30, "transition": "GLACIER"}]),
        "lifecycle_rules[0].storage_class='GLACIER'",
        "NEARLINE, COLDLINE, ARCHIVE",
    )


def test_blob_config() -> None:
    assert AzureBlobConfig is BlobConfig
    assert BlobConfig(tier="Cool", replication="RAGZRS").tier == "Cool"
    config_error(lambda: BlobConfig(tier="hot"), "tier='hot' is invalid", "'Hot'")
    config_error(lambda: BlobConfig(replication="RA-GRS"), "replication='RA-GRS'", "'RAGRS'")
    for days in (0, 366):
        config_error(
            lambda days=days: BlobConfig(soft_delete_retention_days=days),
            f"soft_delete_retention_days={days} is invalid: allowed range is 1 to 365 days",
        )


def test_bucket_settings() -> None:
    bucket = BucketSettings(bucket_name="acme-raw", path="sales/", partition_by=["day"])
    assert bucket.format == "parquet"
    config_error(lambda: BucketSettings(bucket_name="a/b"), "bucket_name='a/b' is invalid")
    config_error(lambda: BucketSettings(bucket_name="a", path="/abs"), "path='/abs' is invalid")
    config_error(
        lambda: BucketSettings(bucket_name="a", format="xlsx"),
        "format='xlsx' is invalid: allowed values are 'parquet', 'csv', 'json' or 'ndjson'",
    )


# -- compute and databases ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"memory": 127}, ("memory=127 is invalid: allowed range is 128 to 10240 MB",)),
        ({"memory": 10241}, ("memory=10241", "128 to 10240")),
        ({"timeout": 901}, ("timeout=901 is invalid: allowed range is 1 to 900 seconds",)),
        ({"runtime": "python3.9"}, ("runtime='python3.9' is invalid", "'python3.11'")),
        ({"architecture": "arm"}, ("architecture='arm'", "'arm64'")),
        (
            {"layers": ["arn:aws:lambda:us-east-1:123456789012:layer:polars:3"] * 6},
            ("at most 5 layers, got 6",),
        ),
        (
            {"layers": ["arn:aws:lambda:us-east-1:123456789012:layer:polars:3", "polars"]},
            ("layers[1]='polars' is invalid", "layer version ARN"),
        ),
        ({"reserved_concurrent_executions": -1}, ("reserved_concurrent_executions=-1",)),
        ({"ephemeral_storage": 511}, ("ephemeral_storage=511", "512 to 10240")),
        ({"function_name": "my function"}, ("function_name='my function'", "1 to 64")),
        ({"environment_vars": {"AWS_REGION": "x"}}, ("'AWS_REGION' is set by the Lambda",)),
        ({"environment_vars": {"1X": "x"}}, ("'1X' is not",)),
        ({"environment_vars": {"BIG": "x" * 5000}}, ("4 KB",)),
    ],
)
def test_lambda_limits(kwargs: dict[str, Any], fragments: tuple[str, ...]) -> None:
    config_error(lambda: LambdaConfig(**kwargs), "LambdaConfig: ", *fragments)


def test_lambda_config_from_the_seeds() -> None:
    config = LambdaConfig(
        memory=3008,
        timeout=900,
        runtime="python3.11",
        environment_vars={"LOG_LEVEL": "INFO"},
        reserved_concurrent_executions=10,
    )
    assert config.memory == 3008


@pytest.mark.parametrize(("cpu", "memories"), sorted(FARGATE_MEMORY.items()))
def test_ecs_fargate_sizes(cpu: int, memories: tuple[int, ...]) -> None:
    for memory in (memories[0], memories[-1]):
        assert EcsConfig(cpu=cpu, memory=memory).memory == memory
    config_error(
        lambda: EcsConfig(cpu=cpu, memory=memories[-1] + 1),
        f"memory={memories[-1] + 1} is not valid with cpu={cpu} on Fargate",
        f"allowed memory for cpu={cpu} is",
        str(memories[0]),
    )


def test_ecs_size_errors_list_what_is_allowed() -> None:
    config_error(
        lambda: EcsConfig(cpu=256, memory=4096), "allowed memory for cpu=256 is 512, 1024, 2048"
    )
    config_error(lambda: EcsConfig(cpu=4096, memory=4096), "8192 to 30720 in steps of 1024 (MiB)")
    config_error(lambda: EcsConfig(cpu=300), "cpu=300", "256, 512, 1024, 2048, 4096, 8192, 16384")
    assert EcsConfig(launch_type="EC2", cpu=300, memory=700).cpu == 300
    config_error(lambda: EcsConfig(launch_type="EC2", spot=True), "spot=True runs on Fargate Spot")


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"worker_type": "G.3X"}, ("worker_type='G.3X' is invalid", "'G.2X'")),
        ({"num_workers": 1}, ("num_workers=1", "2 to 299")),
        ({"num_workers": 300, "worker_type": "G.2X"}, ("num_workers=300", "2 to 299")),
        ({"glue_version": "2.0"}, ("glue_version='2.0'", "'5.0'")),
        ({"timeout_minutes": 10081}, ("timeout_minutes=10081", "1 to 10080")),
        ({"max_retries": 11}, ("max_retries=11", "0 to 10")),
    ],
)
def test_glue_limits(kwargs: dict[str, Any], fragments: tuple[str, ...]) -> None:
    config_error(lambda: GlueConfig(**kwargs), "GlueConfig: ", *fragments)


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"num_workers": 1001}, ("num_workers=1001", "0 to 1000")),
        ({"autotermination_minutes": 5}, ("autotermination_minutes=5", "10 to 10000")),
        ({"spark_version": "15.4"}, ("spark_version='15.4'", "'15.4.x-scala2.12'")),
        ({"instance_type": " "}, ("instance_type=' '", "'m5.xlarge'")),
    ],
)
def test_databricks_limits(kwargs: dict[str, Any], fragments: tuple[str, ...]) -> None:
    config_error(lambda: DatabricksConfig(**kwargs), "DatabricksConfig: ", *fragments)


def test_database_configs() -> None:
    assert RdsConfig(engine="mysql", engine_version="8.0.39").engine == "mysql"
    config_error(lambda: RdsConfig(engine="oracle"), "engine='oracle'", "'postgres'")
    config_error(lambda: RdsConfig(instance_class="t3.micro"), "instance_class='t3.micro'", "db.")
    config_error(lambda: RdsConfig(allocated_storage=19), "allocated_storage=19", "20 to 65536")
    config_error(lambda: RdsConfig(engine_version="latest"), "engine_version='latest'")
    config_error(lambda: DynamoDbConfig(billing_mode="ON_DEMAND"), "'PAY_PER_REQUEST'")
    config_error(lambda: DynamoDbConfig(range_key="id"), "range_key='id' is the same")
    config_error(lambda: EfsConfig(performance_mode="fast"), "performance_mode='fast'", "'maxIO'")


# -- execution ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"timeout": 0}, ("timeout=0 is invalid: must be greater than 0",)),
        ({"retries": -1}, ("retries=-1", "0 to 100")),
        ({"retries": 101}, ("retries=101", "0 to 100")),
        ({"retry_delay": -1}, ("retry_delay=-1", "greater than or equal to 0")),
        ({"backoff": 0.5}, ("backoff=0.5", "greater than or equal to 1")),
    ],
)
def test_task_config_limits(kwargs: dict[str, Any], fragments: tuple[str, ...]) -> None:
    config_error(lambda: TaskConfig(**kwargs), "TaskConfig: ", *fragments)


def test_task_config_refine_cascades_over_the_environment_defaults() -> None:
    defaults = TaskConfig(executor="local", retries=2, retry_delay=1, tags={"team": "data"})

    task = defaults.refine(
        timeout=300, retries=None, cache=True, tags={"team": "ml", "priority": "high"}
    )

    assert task == TaskConfig(
        executor="local",
        timeout=300,
        retries=2,
        retry_delay=1,
        cache=True,
        tags={"team": "ml", "priority": "high"},
    )
    assert defaults.tags == {"team": "data"}
    assert defaults.refine() == defaults


def test_task_config_refine_validates() -> None:
    config_error(lambda: TaskConfig().refine(retries=-1), "retries=-1")
    config_error(lambda: TaskConfig().refine(timeot=3), "unknown field 'timeot'", "'timeout'")


def test_executor_settings() -> None:
    assert ExecutorSettings(kind="dask", dask_address="tcp://scheduler:8786").kind == "dask"
    config_error(lambda: ExecutorSettings(kind="ray"), "kind='ray'", "'local' or 'dask'")
    config_error(lambda: ExecutorSettings(max_workers=0), "max_workers=0")


# -- names -------------------------------------------------------------------------------------

_NAME_CASES: list[tuple[Callable[[str], str], list[str], list[tuple[str, str]]]] = [
    (
        validate_s3_bucket_name,
        ["acme-raw", "acme.raw.v2", "a1b"],
        [
            ("ab", "3 to 63"),
            ("a" * 64, "3 to 63"),
            ("Acme_Raw", "lowercase letters, digits, dots and hyphens"),
            ("-acme", "starts and ends"),
            ("acme-", "starts and ends"),
            ("acme..raw", "adjacent dots"),
            ("192.168.5.4", "IP address"),
            ("xn--acme", "'xn--'"),
            ("acme-s3alias", "'-s3alias'"),
        ],
    ),
    (
        validate_gcs_bucket_name,
        ["acme_raw", "acme-raw", "acme.example.com"],
        [
            ("ab", "3 to 63"),
            ("Acme", "lowercase"),
            ("goog-data", "'goog'"),
            ("my-google-data", "'google'"),
            ("_acme", "starts and ends"),
        ],
    ),
    (
        validate_azure_container_name,
        ["acme-raw", "abc", "$web"],
        [
            ("ab", "3 to 63"),
            ("acme_raw", "lowercase letters, digits and hyphens"),
            ("acme--raw", "consecutive hyphens"),
            ("-acme", "starts and ends"),
        ],
    ),
    (
        validate_lambda_function_name,
        ["sales-etl_clean", "a"],
        [("", "1 to 64"), ("a" * 65, "1 to 64"), ("sales etl", "1 to 64")],
    ),
    (validate_gcp_project_id, ["acme-data"], [("acme", "6 to 30")]),
    (validate_azure_storage_account_name, ["acmedata"], [("acme-data", "3 to 24")]),
]


@pytest.mark.parametrize(("validate", "valid", "invalid"), _NAME_CASES, ids=lambda v: "")
def test_name_validators(
    validate: Callable[[str], str], valid: list[str], invalid: list[tuple[str, str]]
) -> None:
    for name in valid:
        assert validate(name) == name
    for name, rule in invalid:
        with pytest.raises(InvalidValueError) as caught:
            validate(name)
        message = str(caught.value)
        assert repr(name) in message and rule in message, message
        assert "e.g." in message or "example" in message, message
        assert isinstance(caught.value, ConfigError)


# -- GlacierSettings ---------------------------------------------------------------------------

_ENVIRONMENTS = {
    "dev": """
        [provider]
        kind = "local"
        base_path = "data"

        [executor]
        max_workers = 2
    """,
    "test": """
        state_dir = "build/state"

        [provider]
        kind = "local"
        base_path = "/tmp/glacier-test-data"
        create_dirs = false
    """,
    "staging": """
        naming_prefix = "acme-stg"
        tags = { environment = "staging" }

        [provider]
        kind = "gcp"
        project_id = "acme-data-staging"
        region = "europe-west1"

        [buckets.raw]
        bucket_name = "acme-stg-raw"
        gcs = { storage_class = "NEARLINE" }
    """,
    "prod": """
        name = "production"
        naming_prefix = "acme-prod"
        tags = { environment = "production", team = "data" }

        [provider]
        kind = "aws"
        region = "us-east-1"
        profile = "prod"
        account_id = "999999999999"

        [executor]
        kind = "dask"
        max_workers = 4

        [task]
        retries = 3
        timeout = 600

        [buckets.raw]
        bucket_name = "acme-prod-raw"
        path = "sales/"
        partition_by = ["day"]
        s3 = { storage_class = "INTELLIGENT_TIERING", lifecycle_rules = [
            { days = 30, transition = "GLACIER" },
            { days = 365, expiration = true },
        ] }
    """,
}


def _write(directory: Path, env: str, text: str) -> Path:
    path = directory / f"{env}.toml"
    path.write_text("\n".join(line.strip() for line in text.splitlines()) + "\n")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project root whose ``containers/`` holds dev, test, staging and prod settings."""
    settings_dir = tmp_path / "containers"
    settings_dir.mkdir()
    for env, text in _ENVIRONMENTS.items():
        _write(settings_dir, env, text)
    return tmp_path


@pytest.mark.parametrize(
    ("env", "kind", "name"),
    [
        ("dev", "local", "dev"),
        ("test", "local", "test"),
        ("staging", "gcp", "staging"),
        ("prod", "aws", "production"),
    ],
)
def test_glacier_env_selects_the_settings_file(
    project: Path, monkeypatch: pytest.MonkeyPatch, env: str, kind: str, name: str
) -> None:
    monkeypatch.chdir(project)
    monkeypatch.setenv("GLACIER_ENV", env)

    settings = GlacierSettings.load()

    assert settings.env == env
    assert settings.name == name
    assert settings.provider.kind == kind


def test_prod_settings_are_fully_typed(project: Path) -> None:
    settings = GlacierSettings.load("prod", project / "containers")

    assert settings.provider == AwsConfig(
        region="us-east-1", profile="prod", account_id="999999999999"
    )
    assert settings.executor == ExecutorSettings(kind="dask", max_workers=4)
    assert settings.task == TaskConfig(retries=3, timeout=600)
    assert settings.tags == {"environment": "production", "team": "data"}
    assert settings.resolved_naming_prefix == "acme-prod"
    raw = settings.buckets["raw"]
    assert raw.s3 is not None
    assert [rule.id for rule in raw.s3.lifecycle_rules] == ["transition-glacier-30d", "expire-365d"]
    assert settings.buckets["raw"].partition_by == ["day"]


def test_staging_uses_project_id_alias_and_gcs_buckets(project: Path) -> None:
    settings = GlacierSettings.load("staging", project / "containers")

    assert settings.provider == GcpConfig(project="acme-data-staging", region="europe-west1")
    assert settings.buckets["raw"].gcs == GcsConfig(storage_class="NEARLINE")


def test_settings_dir_comes_from_glacier_settings_dir(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    monkeypatch.setenv("GLACIER_SETTINGS_DIR", str(project / "containers"))

    assert GlacierSettings.load("staging").provider.kind == "gcp"
    assert GlacierSettings.available() == ["dev", "prod", "staging", "test"]


def test_env_defaults_to_dev(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)

    settings = GlacierSettings.load()

    assert settings.env == "dev"
    assert settings.resolved_naming_prefix == "dev"


def test_env_vars_override_nested_fields_of_the_file(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GLACIER_EXECUTOR__MAX_WORKERS", "8")
    monkeypatch.setenv("GLACIER_PROVIDER__REGION", "eu-west-1")
    monkeypatch.setenv("GLACIER_TASK__RETRIES", "5")

    settings = GlacierSettings.load("prod", project / "containers")

    assert settings.executor == ExecutorSettings(kind="dask", max_workers=8)
    assert settings.provider == AwsConfig(
        region="eu-west-1", profile="prod", account_id="999999999999"
    )
    assert settings.task.retries == 5
    assert settings.task.timeout == 600


def test_arguments_win_over_env_vars_and_the_file(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GLACIER_EXECUTOR__MAX_WORKERS", "8")

    settings = GlacierSettings.load(
        "prod", project / "containers", executor={"max_workers": 16}, naming_prefix="acme-x"
    )

    assert settings.executor.max_workers == 16
    assert settings.executor.kind == "dask"
    assert settings.naming_prefix == "acme-x"


def test_unrelated_glacier_env_vars_are_ignored(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GLACIER_BASE_PATH", "/elsewhere")
    monkeypatch.setenv("GLACIER_SETTINGS_DIR", str(project / "containers"))

    assert GlacierSettings.load("dev").provider.kind == "local"


def test_missing_environment_lists_the_known_ones(project: Path) -> None:
    settings_dir = project / "containers"

    with pytest.raises(UnknownEnvironmentError) as caught:
        GlacierSettings.load("qa", settings_dir)

    message = str(caught.value)
    assert "'qa'" in message
    assert str(settings_dir) in message
    assert "dev, prod, staging, test" in message
    assert isinstance(caught.value, KeyError | ConfigError)


def test_missing_settings_dir_says_how_to_point_at_one(tmp_path: Path) -> None:
    config_error(
        lambda: GlacierSettings.load("dev", tmp_path / "nowhere"),
        "nowhere",
        "GLACIER_SETTINGS_DIR",
        kind=UnknownEnvironmentError,
    )
    assert GlacierSettings.available(tmp_path / "nowhere") == []


def test_environment_names_cannot_escape_the_settings_dir(project: Path) -> None:
    config_error(lambda: GlacierSettings.load("../prod", project / "containers"), "'../prod'")


def test_bad_file_names_the_file_field_path_value_and_rule(project: Path) -> None:
    path = _write(project / "containers", "bad", '[provider]\nkind = "aws"\nregion = "us-east-9"')

    config_error(
        lambda: GlacierSettings.load("bad", project / "containers"),
        str(path),
        "provider.region='us-east-9' is invalid: not an AWS region",
        "us-east-1",
    )


def test_bad_nested_values_in_a_file_are_reported_with_their_path(project: Path) -> None:
    _write(
        project / "containers",
        "bad",
        """
        [provider]
        kind = "local"
        [executor]
        max_workers = 0
        [buckets.raw]
        bucket_name = "raw"
        s3 = { lifecycle_rules = [{ days = 30, transition = "FROZEN" }] }
        """,
    )

    message = config_error(
        lambda: GlacierSettings.load("bad", project / "containers"), "2 invalid settings"
    )
    assert "executor.max_workers=0 is invalid" in message
    assert "buckets.raw.s3.lifecycle_rules[0].storage_class='FROZEN' is invalid" in message


@pytest.mark.parametrize(
    ("values", "fragments"),
    [
        ({"vpc_id": "vpc 1"}, ["vpc_id='vpc 1' is invalid", "'vpc-' then letters and digits"]),
        ({"subnet_ids": ["sub-1"]}, ["subnet_ids[0]='sub-1' is invalid", "'subnet-'"]),
        (
            {"subnet_ids": ["subnet-1"], "security_group_ids": ["group-1"]},
            ["security_group_ids[0]='group-1' is invalid", "'sg-'"],
        ),
        ({"subnet_ids": ["subnet-1", "subnet-1"]}, ["each subnet is listed once"]),
        (
            {"subnet_ids": ["subnet-1"], "security_group_ids": [f"sg-{i}" for i in range(6)]},
            ["at most 5 security groups"],
        ),
        ({"security_group_ids": ["sg-1"]}, ["security_group_ids without subnet_ids"]),
    ],
)
def test_network_ids_are_checked(values: dict[str, object], fragments: list[str]) -> None:
    config_error(lambda: Network(**values), "Network", *fragments)  # type: ignore[arg-type]


def test_the_network_section_of_a_settings_file(project: Path) -> None:
    _write(
        project / "containers",
        "vpc",
        """
        [provider]
        kind = "aws"
        region = "us-east-1"
        [network]
        vpc_id = "vpc-123"
        subnet_ids = ["subnet-a", "subnet-b"]
        """,
    )
    settings = GlacierSettings.load("vpc", project / "containers")
    assert settings.network == Network(vpc_id="vpc-123", subnet_ids=("subnet-a", "subnet-b"))
    assert settings.network.configured
    assert GlacierSettings.load("prod", project / "containers").network == Network()

    bad = _write(project / "containers", "badvpc", '[network]\nsecurity_group_ids = ["sg-1"]\n')
    config_error(
        lambda: GlacierSettings.load("badvpc", project / "containers"),
        str(bad),
        "security_group_ids without subnet_ids",
    )


def test_bad_env_var_is_named(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLACIER_PROVIDER__REGION", "us-west-9")

    config_error(
        lambda: GlacierSettings.load("prod", project / "containers"),
        "provider.region='us-west-9' is invalid",
        "set by env var GLACIER_PROVIDER__REGION",
    )


def test_unknown_keys_and_missing_kind_in_a_file(project: Path) -> None:
    _write(project / "containers", "typo", "[executer]\nmax_workers = 2")
    config_error(
        lambda: GlacierSettings.load("typo", project / "containers"),
        "typo.toml",
        "unknown field 'executer' (did you mean 'executor'?)",
    )
    _write(project / "containers", "nokind", '[provider]\nregion = "us-east-1"')
    config_error(
        lambda: GlacierSettings.load("nokind", project / "containers"),
        "provider needs a kind",
        "'local', 'aws', 'gcp', 'azure'",
    )
    _write(project / "containers", "badkind", '[provider]\nkind = "awz"')
    config_error(
        lambda: GlacierSettings.load("badkind", project / "containers"),
        "provider.kind='awz' is invalid",
        "did you mean 'aws'?",
    )


def test_invalid_toml_names_the_file(project: Path) -> None:
    path = _write(project / "containers", "broken", "[provider")

    config_error(lambda: GlacierSettings.load("broken", project / "containers"), str(path), "TOML")


def test_bucket_names_are_checked_against_the_cloud(project: Path) -> None:
    _write(
        project / "containers",
        "aws",
        '[provider]\nkind = "aws"\nregion = "us-east-1"\n[buckets.raw]\nbucket_name = "Acme_Raw"\n',
    )
    config_error(
        lambda: GlacierSettings.load("aws", project / "containers"),
        "buckets.raw.bucket_name='Acme_Raw' is invalid",
        "lowercase letters",
    )
    _write(
        project / "containers",
        "aws",
        '[provider]\nkind = "aws"\nregion = "us-east-1"\n'
        '[buckets.raw]\nbucket_name = "acme-raw"\nblob = { tier = "Cool" }\n',
    )
    config_error(
        lambda: GlacierSettings.load("aws", project / "containers"),
        "buckets.raw.blob is set but the provider is 'aws'",
        "buckets.raw.s3",
    )


def test_relative_paths_in_a_file_are_relative_to_the_project_root(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("somewhere-else"))

    dev = GlacierSettings.load("dev", project / "containers")
    test = GlacierSettings.load("test", project / "containers")

    assert isinstance(dev.provider, LocalConfig)
    assert dev.provider.base_path == project.resolve() / "data"
    assert isinstance(test.provider, LocalConfig)
    assert test.provider.base_path == Path("/tmp/glacier-test-data")
    assert test.state_dir == project.resolve() / "build" / "state"
    assert dev.state_dir == Path(".glacier")


def test_relative_paths_from_env_vars_stay_relative(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GLACIER_PROVIDER__BASE_PATH", "scratch")

    settings = GlacierSettings.load("dev", project / "containers")

    assert isinstance(settings.provider, LocalConfig)
    assert settings.provider.base_path == Path("scratch")


def test_settings_without_a_file_read_env_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLACIER_ENV", "ci")
    monkeypatch.setenv("GLACIER_PROVIDER__KIND", "aws")
    monkeypatch.setenv("GLACIER_PROVIDER__REGION", "eu-north-1")

    settings = GlacierSettings()

    assert settings.env == "ci"
    assert settings.name == "ci"
    assert settings.provider == AwsConfig(region="eu-north-1")


def test_settings_defaults_and_validation() -> None:
    settings = GlacierSettings()

    assert settings.provider == LocalConfig()
    assert settings.executor == ExecutorSettings()
    assert settings.task == TaskConfig()
    assert settings.state_dir == Path(".glacier")
    config_error(lambda: setattr(settings, "env", "prod"), "frozen")
    config_error(lambda: GlacierSettings(naming_prefix="Acme Prod"), "naming_prefix='Acme Prod'")
    config_error(
        lambda: GlacierSettings.model_validate({"executor": {"max_workers": 0}}),
        "GlacierSettings: executor.max_workers=0 is invalid",
    )


# -- packaging ---------------------------------------------------------------------------------


def test_glacier_config_is_an_alias_of_glacier_settings() -> None:
    for name in glacier.settings.__all__:
        assert getattr(glacier.config, name) is getattr(glacier.settings, name)
    assert glacier.config.AwsConfig is AwsConfig


def test_importing_settings_does_not_import_cloud_sdks() -> None:
    code = (
        "import sys, glacier.settings\n"
        "heavy = [m for m in ('boto3', 'botocore', 'pulumi', 's3fs', 'gcsfs', 'adlfs') "
        "if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

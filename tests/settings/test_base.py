"""settings/base.py: every config validates at construction, reports every bad field at once
in a ConfigError (never a pydantic error), is frozen, and refuses credentials."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydantic
import pytest

from glacier.errors import ConfigError, CredentialsInCodeError
from glacier.settings import (
    CREDENTIAL_FIELDS,
    AwsConfig,
    AzureConfig,
    BlobConfig,
    BucketSettings,
    GcpConfig,
    GcsConfig,
    GlacierSettings,
    LambdaConfig,
    LocalConfig,
    S3Config,
    TaskConfig,
)

from .conftest import config_error


def test_invalid_value_is_a_config_error_naming_model_field_value_and_rule() -> None:
    with pytest.raises(ConfigError) as caught:
        AwsConfig(region="us-east-1", account_id="123")

    assert str(caught.value) == (
        "AwsConfig: account_id='123' is invalid: an AWS account id is exactly 12 digits "
        "(e.g. '123456789012')."
    )
    # A plain ConfigError (not a subclass such as CredentialsInCodeError), and still a
    # ValueError for code written against pydantic's errors.
    assert type(caught.value) is ConfigError
    assert isinstance(caught.value, ValueError)
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

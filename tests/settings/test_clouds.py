"""settings/clouds.py: the provider configs (local, AWS, GCP, Azure), their identifiers and
``from_env()``, which reads the variables each cloud's own tools read."""

from __future__ import annotations

from pathlib import Path

import pytest

from glacier.settings import AwsConfig, AzureConfig, GcpConfig, LocalConfig

from .conftest import config_error


def test_local_config_defaults_and_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert LocalConfig() == LocalConfig(base_path=Path(".glacier/data"), create_dirs=True)
    assert LocalConfig(base_path="./data").base_path == Path("data")

    monkeypatch.setenv("GLACIER_BASE_PATH", "/srv/glacier")

    assert LocalConfig.from_env().base_path == Path("/srv/glacier")
    assert LocalConfig.from_env(base_path="/tmp/x").base_path == Path("/tmp/x")


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

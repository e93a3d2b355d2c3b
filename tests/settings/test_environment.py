"""settings/environment.py: ``GlacierSettings`` from a settings file picked by
``GLACIER_ENV``, ``GLACIER_*`` variables and arguments, and the errors that name the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from glacier.errors import UnknownEnvironmentError
from glacier.settings import (
    AwsConfig,
    ExecutorSettings,
    GcpConfig,
    GcsConfig,
    GlacierSettings,
    LocalConfig,
    TaskConfig,
)

from .conftest import config_error, write_settings


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
    # A failed lookup by name: code catching KeyError sees it too.
    assert isinstance(caught.value, KeyError)


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
    path = write_settings(
        project / "containers", "bad", '[provider]\nkind = "aws"\nregion = "us-east-9"'
    )

    config_error(
        lambda: GlacierSettings.load("bad", project / "containers"),
        str(path),
        "provider.region='us-east-9' is invalid: not an AWS region",
        "us-east-1",
    )


def test_bad_nested_values_in_a_file_are_reported_with_their_path(project: Path) -> None:
    write_settings(
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


def test_bad_env_var_is_named(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLACIER_PROVIDER__REGION", "us-west-9")

    config_error(
        lambda: GlacierSettings.load("prod", project / "containers"),
        "provider.region='us-west-9' is invalid",
        "set by env var GLACIER_PROVIDER__REGION",
    )


def test_unknown_keys_and_missing_kind_in_a_file(project: Path) -> None:
    write_settings(project / "containers", "typo", "[executer]\nmax_workers = 2")
    config_error(
        lambda: GlacierSettings.load("typo", project / "containers"),
        "typo.toml",
        "unknown field 'executer' (did you mean 'executor'?)",
    )
    write_settings(project / "containers", "nokind", '[provider]\nregion = "us-east-1"')
    config_error(
        lambda: GlacierSettings.load("nokind", project / "containers"),
        "provider needs a kind",
        "'local', 'aws', 'gcp', 'azure'",
    )
    write_settings(project / "containers", "badkind", '[provider]\nkind = "awz"')
    config_error(
        lambda: GlacierSettings.load("badkind", project / "containers"),
        "provider.kind='awz' is invalid",
        "did you mean 'aws'?",
    )


def test_invalid_toml_names_the_file(project: Path) -> None:
    path = write_settings(project / "containers", "broken", "[provider")

    config_error(lambda: GlacierSettings.load("broken", project / "containers"), str(path), "TOML")


def test_bucket_names_are_checked_against_the_cloud(project: Path) -> None:
    write_settings(
        project / "containers",
        "aws",
        '[provider]\nkind = "aws"\nregion = "us-east-1"\n[buckets.raw]\nbucket_name = "Acme_Raw"\n',
    )
    config_error(
        lambda: GlacierSettings.load("aws", project / "containers"),
        "buckets.raw.bucket_name='Acme_Raw' is invalid",
        "lowercase letters",
    )
    write_settings(
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
    # Without state_dir, runs and cache stay with the project, not the current directory.
    assert dev.state_dir == project.resolve() / ".glacier"


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

"""The ``[secrets]`` section: a store per secret, never a value; and the seam a database's
password goes through (``password_secret`` names a declared secret)."""

from __future__ import annotations

from pathlib import Path

import pytest

from glacier.errors import ConfigError
from glacier.settings import GlacierSettings, SecretSource


def test_a_source_is_one_store_and_its_reference() -> None:
    assert (SecretSource(aws="/prod/fmp/api_key").store, SecretSource(env="X").store) == (
        "aws",
        "env",
    )
    arn = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:/prod/x-AbCdEf"
    assert SecretSource(aws=arn).reference == arn


def test_settings_remember_their_file(tmp_path: Path) -> None:
    (tmp_path / "qa.toml").write_text('[secrets]\napi_key = { aws = "/qa/api_key" }\n')
    loaded = GlacierSettings.load("qa", settings_dir=tmp_path)
    assert loaded.settings_file == tmp_path / "qa.toml"
    assert loaded.secrets["api_key"].reference == "/qa/api_key"
    assert GlacierSettings().settings_file is None


@pytest.mark.parametrize(
    ("secrets", "expected"),
    [
        ({"api key": {"env": "X"}}, r"secrets.api key is not a valid secret name"),
        ({"api_key": 12345}, r"secrets.api_key holds a value written in the settings file"),
        ({"api_key": {"aws": "bad name!"}}, r"Secrets Manager secret is named with"),
    ],
)
def test_bad_secrets_name_the_field_and_the_fix(secrets: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        GlacierSettings(secrets=secrets)


def test_a_database_password_names_a_declared_secret() -> None:
    db = {"identifier": "wh", "rds": {}, "password_secret": "warehouse_password"}
    with pytest.raises(ConfigError, match=r"databases.wh.password_secret='warehouse_password'"):
        GlacierSettings(databases={"wh": db})
    ok = GlacierSettings(
        databases={"wh": db}, secrets={"warehouse_password": {"aws": "/prod/wh/password"}}
    )
    assert ok.databases["wh"].password_secret == "warehouse_password"


def test_a_database_is_rds_or_dynamodb_at_most() -> None:
    with pytest.raises(ConfigError, match=r"both rds = \{ ... \} and dynamodb"):
        GlacierSettings(databases={"wh": {"identifier": "wh", "rds": {}, "dynamodb": {}}})
    with pytest.raises(ConfigError, match=r"needs its identifier"):
        GlacierSettings(databases={"wh": {"rds": {}}})
    existing = GlacierSettings(databases={"wh": {"url": "postgresql://etl@db/wh"}})
    assert existing.databases["wh"].config is None  # an existing server: nothing created
    with pytest.raises(ConfigError, match=r"password_secret and password_env"):
        GlacierSettings(
            databases={"wh": {"host": "db", "password_env": "PW", "password_secret": "pw"}},
            secrets={"pw": {"env": "PW"}},
        )
    with pytest.raises(ConfigError, match=r"unknown field 'instance_clas'"):
        GlacierSettings(databases={"wh": {"identifier": "wh", "rds": {"instance_clas": "x"}}})

"""``[databases.<name>]``: where a PostgreSQL database is, never its password."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from glacier.errors import ConfigError, CredentialsInCodeError
from glacier.settings import DatabaseConnection, GlacierSettings


def test_parts_make_a_libpq_url() -> None:
    conn = DatabaseConnection(host="db.internal", port=6543, dbname="analytics", user="etl")
    assert conn.libpq_url() == "postgresql://etl@db.internal:6543/analytics"
    # A password is inserted only for drivers that need it, percent-encoded.
    assert conn.libpq_url(SecretStr("p@ss/word")) == (
        "postgresql://etl:p%40ss%2Fword@db.internal:6543/analytics"
    )


def test_a_url_keeps_its_query_and_gains_a_password_only_when_asked() -> None:
    conn = DatabaseConnection(url="postgresql://etl@db:5432/analytics?sslmode=require")
    assert conn.libpq_url() == "postgresql://etl@db:5432/analytics?sslmode=require"
    assert conn.libpq_url(SecretStr("pw")) == (
        "postgresql://etl:pw@db:5432/analytics?sslmode=require"
    )


def test_nothing_set_leaves_everything_to_libpq() -> None:
    assert DatabaseConnection().libpq_url() == "postgresql:///"
    filled = DatabaseConnection().with_libpq_defaults(
        {"PGHOST": "pg.local", "PGPORT": "6000", "PGDATABASE": "d", "PGUSER": "u"}
    )
    assert filled.libpq_url() == "postgresql://u@pg.local:6000/d"
    # What the settings say wins over the variables.
    mine = DatabaseConnection(host="mine", port=5555).with_libpq_defaults({"PGHOST": "x"})
    assert (mine.host, mine.port) == ("mine", 5555)


def test_the_password_comes_from_the_named_variable() -> None:
    conn = DatabaseConnection(host="db", password_env="WAREHOUSE_PASSWORD")
    secret = conn.password({"WAREHOUSE_PASSWORD": "s3cret"})
    assert secret is not None and secret.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(secret)
    with pytest.raises(ConfigError, match=r"WAREHOUSE_PASSWORD.*not set"):
        conn.password({})
    assert DatabaseConnection(host="db").password({"PGPASSWORD": "x"}) is None  # libpq's


@pytest.mark.parametrize(
    ("values", "error", "says"),
    [
        ({"url": "postgresql://etl:s3cret@db/analytics"}, CredentialsInCodeError, "password_env"),
        ({"url": "mysql://etl@db/analytics"}, ConfigError, "postgresql://"),
        ({"url": "postgresql://etl@db/a", "host": "db"}, ConfigError, "both url and host"),
        ({"password": "s3cret"}, CredentialsInCodeError, "password"),
        ({"password_env": "not a name"}, ConfigError, "names an environment variable"),
        ({"port": 70000}, ConfigError, "port"),
        ({"reader": "odbc"}, ConfigError, "reader"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(
    values: dict[str, object], error: type[Exception], says: str
) -> None:
    with pytest.raises(error, match=says) as caught:
        DatabaseConnection(**values)  # type: ignore[arg-type]
    assert "s3cret" not in str(caught.value)


def test_the_settings_section_holds_named_databases() -> None:
    settings = GlacierSettings(
        databases={"warehouse": {"host": "db", "dbname": "analytics", "user": "etl"}}
    )
    assert settings.databases["warehouse"].libpq_url() == "postgresql://etl@db:5432/analytics"
    with pytest.raises(
        ConfigError, match=r"databases\.warehouse: unknown field 'hots' \(did you mean 'host'\?\)"
    ):
        GlacierSettings(databases={"warehouse": {"hots": "db"}})

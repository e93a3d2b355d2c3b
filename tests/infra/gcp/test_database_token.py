"""A deployed task signs in to Cloud SQL as its service account: the password of each new
connection is a fresh OAuth access token of the process's Google credentials."""

from __future__ import annotations

import json
from typing import Any

import pytest

from glacier.errors import SecretError
from glacier.secrets import CLOUD_SQL_LOGIN_SCOPE, Secrets, database_connection
from glacier.settings import GlacierSettings

USER = "prod-shop-load@acme-data-prod.iam"
WHERE = {"host": "10.20.0.3", "port": 5432, "dbname": "shop", "user": USER, "gcp_iam": True}


class FakeCredentials:
    """What ``google.auth.default`` hands back: a token set by each ``refresh``."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.refreshed = 0

    def refresh(self, request: Any) -> None:
        self.refreshed += 1
        self.token = f"ya29.token-{self.refreshed}"


def _connection(environ: dict[str, str]) -> Any:
    secrets = Secrets(GlacierSettings())
    return database_connection("shop", "prod-shop", None, lambda: secrets, environ)


def test_each_connection_gets_a_fresh_access_token_of_the_default_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import google.auth

    credentials = FakeCredentials()
    asked: list[Any] = []

    def default(scopes: Any = None, **_: Any) -> tuple[FakeCredentials, str]:
        asked.append(scopes)
        return credentials, "acme-data-prod"

    monkeypatch.setattr(google.auth, "default", default)
    environ = {"GLACIER_DATABASE_ENDPOINTS": json.dumps({"prod-shop": WHERE})}
    connection = _connection(environ)
    assert connection is not None
    assert connection.libpq_url() == f"postgresql://{USER.replace('@', '%40')}@10.20.0.3:5432/shop"
    first, second = connection.password(), connection.password()
    assert first is not None and second is not None
    assert first.get_secret_value() == "ya29.token-1"
    assert second.get_secret_value() == "ya29.token-2"  # refreshed, never cached
    assert asked == [[CLOUD_SQL_LOGIN_SCOPE]] * 2
    assert "ya29" not in repr(connection) and "ya29" not in connection.libpq_url()


def test_without_google_credentials_the_connection_is_refused_saying_where_they_come_from(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    def default(**_: Any) -> Any:
        raise DefaultCredentialsError("no credentials here")

    monkeypatch.setattr(google.auth, "default", default)
    environ = {"GLACIER_DATABASE_ENDPOINTS": json.dumps({"prod-shop": WHERE})}
    connection = _connection(environ)
    with pytest.raises(SecretError) as caught:
        connection.password()
    for part in (USER, "DefaultCredentialsError", "roles/cloudsql.instanceUser", "gcloud auth"):
        assert part in str(caught.value)


def test_a_password_secret_named_in_the_settings_wins_over_the_token() -> None:
    # Without gcp_iam (the plan writes it only when no password_secret is named) the
    # connection keeps what the settings say: no token is asked for.
    plain = {**WHERE, "gcp_iam": False}
    environ = {"GLACIER_DATABASE_ENDPOINTS": json.dumps({"prod-shop": plain})}
    connection = _connection(environ)
    assert connection is not None
    assert connection.password() is None  # libpq's own sources (PGPASSWORD, ~/.pgpass)

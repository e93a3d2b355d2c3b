"""A deployed task signs in to an Azure PostgreSQL flexible server with an Entra token from
its own managed identity: the one place Glacier turns GLACIER_DATABASE_ENDPOINTS into a
connection (glacier.secrets.database_connection), beside the AWS IAM-token path."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from glacier.errors import SecretError
from glacier.secrets import ENTRA_DATABASE_SCOPE, Secrets, database_connection
from glacier.settings import GlacierSettings

CLIENT_ID = "0f0f0f0f-1111-2222-3333-444444444444"
WHERE = {
    "acme-dev-warehouse": {
        "host": "acme-dev-warehouse.postgres.database.azure.com",
        "port": 5432,
        "dbname": "analytics",
        "user": "dev-shop-load",
        "entra_client_id": CLIENT_ID,
    }
}
ENVIRON = {"GLACIER_DATABASE_ENDPOINTS": json.dumps(WHERE)}


class FakeCredential:
    """Hands out numbered tokens and records the scopes asked for."""

    def __init__(self, client_id: str | None = None) -> None:
        self.client_id = client_id
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str) -> Any:
        self.scopes.append(scopes)
        return SimpleNamespace(token=f"entra-token-{len(self.scopes)}", expires_on=0)


def connect(secrets: Secrets) -> Any:
    return database_connection(
        "warehouse", "acme-dev-warehouse", None, lambda: secrets, environ=ENVIRON
    )


def test_the_password_is_a_fresh_entra_token_for_the_database_scope() -> None:
    credential = FakeCredential()
    connection = connect(Secrets(GlacierSettings(), azure_credential=credential))
    assert connection.libpq_url() == (
        "postgresql://dev-shop-load@acme-dev-warehouse.postgres.database.azure.com:5432/analytics"
    )
    assert credential.scopes == []  # nothing is asked for until a connection is made
    password = connection.password()
    assert password.get_secret_value() == "entra-token-1"
    assert "entra-token" not in repr(password)
    assert credential.scopes == [("https://ossrdbms-aad.database.windows.net/.default",)]
    assert ENTRA_DATABASE_SCOPE == "https://ossrdbms-aad.database.windows.net/.default"
    assert connection.password().get_secret_value() == "entra-token-2"


def test_the_token_comes_from_the_tasks_own_managed_identity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import azure.identity

    made: list[FakeCredential] = []

    def managed_identity(client_id: str | None = None) -> FakeCredential:
        made.append(FakeCredential(client_id))
        return made[-1]

    monkeypatch.setattr(azure.identity, "ManagedIdentityCredential", managed_identity)
    connection = connect(Secrets(GlacierSettings()))
    assert connection.password().get_secret_value() == "entra-token-1"
    assert [c.client_id for c in made] == [CLIENT_ID]
    # One credential per identity, asked again at each connection (it caches and renews).
    assert connection.password().get_secret_value() == "entra-token-2"
    assert len(made) == 1


def test_no_token_is_a_secret_error_naming_the_user_and_the_identity() -> None:
    class Refusing:
        def get_token(self, *scopes: str) -> Any:
            raise RuntimeError("ManagedIdentityCredential authentication unavailable")

    connection = connect(Secrets(GlacierSettings(), azure_credential=Refusing()))
    with pytest.raises(SecretError) as caught:
        connection.password()
    message = str(caught.value)
    assert "'dev-shop-load'" in message and CLIENT_ID in message
    assert "docs/databases.md" in message


def test_without_azure_identity_the_task_is_told_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    from glacier.errors import MissingExtraError

    monkeypatch.setitem(sys.modules, "azure.identity", None)  # as if it were not installed
    connection = connect(Secrets(GlacierSettings()))
    with pytest.raises(MissingExtraError, match=r"azure\.identity.*\[azure\]"):
        connection.password()

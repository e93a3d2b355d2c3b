"""The SQL the plan notes for a task of an Azure flexible server, run on the suite's
PostgreSQL: with it, the task's role connects the way a deployed task does (the facts of
GLACIER_DATABASE_ENDPOINTS, a token for password) and writes its table; without it, it is
refused. ``pgaadauth_create_principal`` exists only on Azure: a login role stands in for it.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import polars as pl
import pytest

from glacier import Database, Environment
from glacier.errors import DatabaseError
from glacier.infra.azure.postgres import role_sql
from glacier.secrets import Secrets, database_connection
from glacier.settings import GlacierSettings
from postgres import OS_USER, PostgresServer, _as_postgres, _binary

ROWS = pl.DataFrame({"id": [1, 2], "amount": [1.5, 2.5]})


class TokenIs:
    """A credential whose token is a role's password (what Entra's token is on Azure)."""

    def __init__(self, password: str) -> None:
        self.password = password

    def get_token(self, *scopes: str) -> Any:
        return SimpleNamespace(token=self.password, expires_on=0)


def as_superuser(server: PostgresServer, sql: str) -> None:
    _as_postgres(
        _binary("psql"), "-h", str(server.directory), "-p", str(server.port), "-U", OS_USER,
        "-d", server.database, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql,
    )  # fmt: skip


def task_role(server: PostgresServer, noted: bool) -> tuple[str, str]:
    """A login role standing in for a task's identity (and its password); with ``noted``,
    the rest of the plan's SQL for it run as the administrator."""
    user, password = f"dev-shop-load-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    as_superuser(server, f"CREATE ROLE \"{user}\" LOGIN PASSWORD '{password}'")
    if noted:
        sql = role_sql(user, server.database).splitlines()
        assert sql[0].startswith("SELECT * FROM pgaadauth_create_principal(")
        as_superuser(server, "\n".join(sql[1:]))
    return user, password


def deployed_database(server: PostgresServer, user: str, password: str, tmp: Path) -> Database:
    """The database as a deployed task reaches it: the plan's facts, a token for password."""
    facts = {
        "acme-dev-warehouse": {
            "host": server.host,
            "port": server.port,
            "dbname": server.database,
            "user": user,
            "entra_client_id": "0f0f0f0f-1111-2222-3333-444444444444",
        }
    }
    environ = {"GLACIER_DATABASE_ENDPOINTS": json.dumps(facts)}
    secrets = Secrets(GlacierSettings(), azure_credential=TokenIs(password))
    connection = database_connection(
        "warehouse", "acme-dev-warehouse", None, lambda: secrets, environ
    )
    env = Environment.local(base_path=tmp / "data", state_dir=tmp / "state")
    return env.database.postgres("warehouse", connection=connection)


def test_a_task_role_given_the_noted_sql_writes_and_reads_its_table(
    postgres_server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD"):
        monkeypatch.delenv(name, raising=False)  # nothing but the deployed facts
    user, password = task_role(postgres_server, noted=True)
    db = deployed_database(postgres_server, user, password, tmp_path)
    table = f"orders_{uuid.uuid4().hex[:8]}"
    db.table(table).write(ROWS)
    assert db.table(table).read().sort("id").equals(ROWS)


def test_a_task_role_without_it_cannot_create_its_table(
    postgres_server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD"):
        monkeypatch.delenv(name, raising=False)
    user, password = task_role(postgres_server, noted=False)
    db = deployed_database(postgres_server, user, password, tmp_path)
    with pytest.raises(DatabaseError) as caught:
        db.table(f"orders_{uuid.uuid4().hex[:8]}").write(ROWS)
    assert "permission denied" in str(caught.value).lower()


def test_a_table_another_task_wrote_is_read_after_the_grant_the_docs_name(
    postgres_server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD"):
        monkeypatch.delenv(name, raising=False)
    writer, writer_password = task_role(postgres_server, noted=True)
    reader, reader_password = task_role(postgres_server, noted=True)
    table = f"orders_{uuid.uuid4().hex[:8]}"
    deployed_database(postgres_server, writer, writer_password, tmp_path).table(table).write(ROWS)
    reading = deployed_database(postgres_server, reader, reader_password, tmp_path / "r")
    # Each task is its own role: the writer owns the table (docs/azure.md says so).
    with pytest.raises(DatabaseError, match=r"(?i)permission denied"):
        reading.table(table).read()
    as_superuser(postgres_server, f'GRANT SELECT ON public.{table} TO "{reader}"')
    assert reading.table(table).read().sort("id").equals(ROWS)

"""PostgreSQL databases as resources and as datasets' storage, against a real server.

The server is the session's (``postgres_server`` in conftest.py); ``postgres`` points libpq's
``PG*`` variables at it, which is how a database with no settings is reached.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from glacier import Database, Dataset, Environment, Pipeline
from glacier.errors import (
    ConfigError,
    CredentialsInCodeError,
    DatabaseError,
    InvalidTableNameError,
    PipelineDefinitionError,
    ReadOnlyError,
    TableKeyError,
    TableNotFoundError,
)
from glacier.settings import DatabaseConnection, GlacierSettings
from postgres import PostgresServer

ORDERS = pl.DataFrame(
    {"order_id": [1, 2, 3], "customer": ["ana", "bo", "cy"], "amount": [10.0, 20.5, 7.25]}
)


@pytest.fixture
def env(tmp_path: Path) -> Environment:
    return Environment.local(base_path=tmp_path / "data", state_dir=tmp_path / "state")


@pytest.fixture
def db(env: Environment, postgres: PostgresServer) -> Database:
    return env.database.postgres("warehouse")


@pytest.fixture
def table_name() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


def sorted_rows(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("order_id")


# -- queries and reads ------------------------------------------------------------------------


def test_query_returns_a_frame_and_a_lazy_frame(db: Database) -> None:
    frame = db.query("SELECT 1::bigint AS one, 'x'::text AS letter")
    assert isinstance(frame, pl.DataFrame)
    assert frame.to_dicts() == [{"one": 1, "letter": "x"}]
    lazy = db.query("SELECT generate_series(1, 5)::bigint AS n", lazy=True)
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.select(pl.col("n").sum()).collect().item() == 15


@pytest.mark.parametrize("reader", ["adbc", "connectorx"])
def test_both_readers_read_the_same_rows(
    env: Environment, postgres: PostgresServer, table_name: str, reader: str
) -> None:
    db = env.database.postgres("warehouse", connection=DatabaseConnection(reader=reader))  # type: ignore[arg-type]
    db.table(table_name).write(ORDERS)
    assert_frame_equal(sorted_rows(db.table(table_name).read()), ORDERS)
    got = db.query(f"SELECT order_id, amount FROM {table_name} WHERE amount > 8 ORDER BY 1")
    assert isinstance(got, pl.DataFrame)
    assert got["order_id"].to_list() == [1, 2]


@pytest.mark.parametrize("reader", ["adbc", "connectorx"])
def test_a_query_against_a_missing_table_names_the_database_and_table(
    env: Environment, postgres: PostgresServer, reader: str
) -> None:
    db = env.database.postgres("warehouse", connection=DatabaseConnection(reader=reader))  # type: ignore[arg-type]
    with pytest.raises(TableNotFoundError) as caught:
        db.query("SELECT * FROM no_such_orders")
    message = str(caught.value)
    assert "'warehouse'" in message and "'no_such_orders'" in message


def test_reading_a_missing_table_is_a_table_not_found_error(db: Database) -> None:
    with pytest.raises(TableNotFoundError, match="no_such_table"):
        db.table("no_such_table").read()


# -- writes -------------------------------------------------------------------------------------


def test_replace_append_and_upsert(db: Database, table_name: str) -> None:
    table = db.table(table_name)
    assert not table.exists()
    table.write(ORDERS)  # created from the frame
    assert table.exists()
    table.write(ORDERS.head(1), mode="replace")
    assert table.read()["order_id"].to_list() == [1]
    table.write(ORDERS.slice(1), mode="append")
    assert_frame_equal(sorted_rows(table.read()), ORDERS)

    db.execute(f"ALTER TABLE {table_name} ADD PRIMARY KEY (order_id)")  # the table's own key
    changes = pl.DataFrame({"order_id": [2, 4], "customer": ["bo", "dee"], "amount": [99.0, 1.0]})
    table.write(changes, mode="upsert")
    got = sorted_rows(table.read())
    assert got["order_id"].to_list() == [1, 2, 3, 4]
    assert got.filter(pl.col("order_id") == 2)["amount"].item() == 99.0
    assert got.filter(pl.col("order_id") == 1)["amount"].item() == 10.0


def test_the_fingerprint_changes_with_the_rows(db: Database, table_name: str) -> None:
    table = db.table(table_name)
    table.write(ORDERS)
    before = table.fingerprint()
    assert table.fingerprint() == before
    db.execute(f"UPDATE {table_name} SET amount = 1 WHERE order_id = 1")  # same count
    assert table.fingerprint() != before


def test_an_upsert_into_a_new_table_makes_its_key(db: Database, table_name: str) -> None:
    table = db.table(table_name)
    table.write(ORDERS, mode="upsert", on=["order_id"])
    table.write(ORDERS.with_columns(pl.col("amount") * 2), mode="merge", on=["order_id"])
    got = sorted_rows(table.read())
    assert got["amount"].to_list() == [20.0, 41.0, 14.5]
    key = db.query(
        "SELECT a.attname::text AS col FROM pg_index i JOIN pg_attribute a "
        "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        f"WHERE i.indrelid = '{table_name}'::regclass AND i.indisprimary"
    )
    assert key["col"].to_list() == ["order_id"]


def test_a_failed_replace_leaves_the_table_as_it_was(db: Database, table_name: str) -> None:
    table = db.table(table_name)
    table.write(ORDERS)
    wrong = pl.DataFrame({"order_id": ["not-a-number"], "customer": ["x"], "amount": [1.0]})
    with pytest.raises(DatabaseError, match="Nothing was written"):
        table.write(wrong, mode="replace")  # TRUNCATE ran, then COPY failed: rolled back
    assert_frame_equal(sorted_rows(table.read()), ORDERS)


def test_a_failed_upsert_leaves_the_table_as_it_was(db: Database, table_name: str) -> None:
    table = db.table(table_name)
    table.write(ORDERS, mode="upsert", on=["order_id"])
    db.execute(f"ALTER TABLE {table_name} ADD CHECK (amount >= 0)")
    # The first row would update, the second violates the check: none of it may land.
    changes = pl.DataFrame({"order_id": [1, 9], "customer": ["ana", "zed"], "amount": [5.0, -1.0]})
    with pytest.raises(DatabaseError, match="Nothing was written"):
        table.write(changes, mode="upsert")
    assert_frame_equal(sorted_rows(table.read()), ORDERS)


def test_statements_run_in_one_transaction(db: Database, table_name: str) -> None:
    table = db.table(table_name)
    table.write(ORDERS)
    db.execute(
        f"DELETE FROM {table_name} WHERE order_id = 1",
        f"UPDATE {table_name} SET amount = 0 WHERE order_id = 2",
    )
    assert table.read().sort("order_id")["amount"].to_list() == [0.0, 7.25]
    table.write(ORDERS)
    with pytest.raises(DatabaseError, match="Nothing was written"):
        db.execute(f"DELETE FROM {table_name} WHERE order_id = 1", "SELECT 1 / 0")
    assert_frame_equal(sorted_rows(table.read()), ORDERS)


def test_an_upsert_needs_a_key_the_table_has(db: Database, table_name: str) -> None:
    table = db.table(table_name)
    table.write(ORDERS)  # no primary key
    with pytest.raises(TableKeyError, match="no primary key") as caught:
        table.write(ORDERS, mode="upsert")
    assert "ADD PRIMARY KEY" in str(caught.value)
    with pytest.raises(TableKeyError, match="unique constraint"):
        table.write(ORDERS, mode="upsert", on=["order_id"])
    assert_frame_equal(sorted_rows(table.read()), ORDERS)


def test_upsert_key_columns_missing_from_the_frame_are_refused(
    db: Database, table_name: str
) -> None:
    table = db.table(table_name)
    table.write(ORDERS, mode="upsert", on=["order_id"])
    with pytest.raises(TableKeyError, match=r"\['order_id'\] are not in the frame"):
        table.write(ORDERS.drop("order_id"), mode="upsert", on=["order_id"])
    # Without `on`, the table's primary key is looked up and checked against the frame.
    with pytest.raises(TableKeyError, match=r"\['order_id'\] of the upsert are not in"):
        table.write(ORDERS.drop("order_id"), mode="upsert")
    assert_frame_equal(sorted_rows(table.read()), ORDERS)


@pytest.mark.parametrize("name", ["orders; drop table x", "1orders", "a.b.c", "or-ders", ""])
def test_a_table_name_that_is_not_an_identifier_is_refused(db: Database, name: str) -> None:
    with pytest.raises(InvalidTableNameError, match="not an identifier"):
        db.table(name)


def test_unknown_modes_and_delta_options_are_refused(db: Database, table_name: str) -> None:
    table = db.table(table_name)
    with pytest.raises(ConfigError, match="'upsert'"):
        table.write(ORDERS, mode="truncate")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="Delta tables"):
        table.write(ORDERS, delete_when="amount < 0")
    assert not table.exists()


# -- settings -----------------------------------------------------------------------------------


def _settings_file(tmp_path: Path, body: str) -> Path:
    directory = tmp_path / "containers"
    directory.mkdir(exist_ok=True)
    (directory / "dev.toml").write_text(f'[provider]\nkind = "local"\nbase_path = "data"\n\n{body}')
    return directory


def test_settings_name_the_server_and_the_password_variable(
    tmp_path: Path,
    postgres_server: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
    table_name: str,
) -> None:
    for name in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD"):
        monkeypatch.delenv(name, raising=False)
    directory = _settings_file(
        tmp_path,
        "[databases.warehouse]\n"
        f'host = "{postgres_server.host}"\nport = {postgres_server.port}\n'
        f'dbname = "{postgres_server.database}"\nuser = "{postgres_server.user}"\n'
        'password_env = "WAREHOUSE_PASSWORD"\n',
    )
    env = Environment.from_env("dev", settings_dir=directory)
    db = env.database.postgres("warehouse")
    with pytest.raises(ConfigError, match="WAREHOUSE_PASSWORD"):
        db.query("SELECT 1")  # the variable is not set yet
    monkeypatch.setenv("WAREHOUSE_PASSWORD", postgres_server.password)
    db.table(table_name).write(ORDERS)
    assert db.query(f"SELECT count(*) AS n FROM {table_name}")["n"].item() == 3
    # The AWS spelling reaches the same server from the same settings.
    rds = env.database.rds("warehouse", instance_class="db.t3.micro")
    assert len(rds.table(table_name).read()) == 3


def test_a_wrong_password_is_a_clear_connection_error(
    env: Environment, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGPASSWORD", "wrong")
    with pytest.raises(DatabaseError, match="could not connect") as caught:
        env.database.postgres("warehouse").query("SELECT 1")
    assert "wrong" not in str(caught.value)
    assert "[databases.warehouse]" in str(caught.value)


def test_a_url_with_a_password_in_a_settings_file_is_refused(tmp_path: Path) -> None:
    directory = _settings_file(
        tmp_path, '[databases.warehouse]\nurl = "postgresql://etl:s3cret@db:5432/analytics"\n'
    )
    with pytest.raises(CredentialsInCodeError) as caught:
        GlacierSettings.load("dev", settings_dir=directory)
    message = str(caught.value)
    assert "databases.warehouse.url" in message and "password_env" in message
    assert "s3cret" not in message


def test_a_password_field_in_database_settings_is_refused() -> None:
    with pytest.raises(CredentialsInCodeError, match="password"):
        DatabaseConnection(host="db", password="s3cret")  # type: ignore[call-arg]


# -- datasets and tasks -------------------------------------------------------------------------


def test_a_table_is_a_datasets_storage_in_a_pipeline(
    env: Environment, db: Database, table_name: str
) -> None:
    pipeline = Pipeline("orders")
    orders = Dataset(
        "orders", storage=db.table(table_name), write={"mode": "upsert", "on": ["order_id"]}
    )
    totals = Dataset("totals")

    @pipeline.task()
    def extract() -> orders:  # type: ignore[valid-type]
        return ORDERS.lazy()

    @pipeline.task()
    def total(rows: orders) -> totals:  # type: ignore[valid-type]
        return rows.select(pl.col("amount").sum())

    result = pipeline.run(env=env)
    assert result["totals"].collect().item() == pytest.approx(37.75)
    pipeline.run(env=env)  # an upsert again: the same three rows
    assert db.query(f"SELECT count(*) AS n FROM {table_name}")["n"].item() == 3


def test_a_dataset_given_a_whole_database_is_stored_in_the_table_of_its_name(
    env: Environment, db: Database, table_name: str
) -> None:
    # Seed 001's spelling: Dataset("orders", storage=database).
    pipeline = Pipeline("whole")
    orders = Dataset(table_name, storage=db)
    assert orders.storage.table == table_name and orders.storage.database is db

    @pipeline.task()
    def extract() -> orders:  # type: ignore[valid-type]
        return ORDERS

    pipeline.run(env=env)
    assert_frame_equal(sorted_rows(db.table(table_name).read()), ORDERS)


def test_a_dataset_name_that_is_no_table_name_is_refused_naming_the_table_call(
    db: Database,
) -> None:
    with pytest.raises(InvalidTableNameError, match=r"storage=warehouse\.table\('raw_orders'\)"):
        Dataset("raw-orders", storage=db)


def test_a_read_only_table_dataset_refuses_writes(db: Database, table_name: str) -> None:
    dataset = Dataset("orders", storage=db.table(table_name), read_only=True)
    table = dataset.refine(dataset.storage)
    with pytest.raises(ReadOnlyError, match="read_only"):
        table.write(ORDERS)
    with pytest.raises(ConfigError, match="database table takes none"):
        Dataset("x", storage=db.table(table_name), read_options={"columns": ["a"]})
    with pytest.raises(PipelineDefinitionError, match="'upsert'"):
        Dataset("x", storage=db.table(table_name), write={"mode": "overwrite_partitions"})


def test_a_task_takes_the_database_resource(
    env: Environment, db: Database, table_name: str
) -> None:
    db.table(table_name).write(ORDERS)
    env.register("warehouse", db)

    @env.task()
    def big_orders(warehouse: Database) -> pl.DataFrame:
        frame = warehouse.query(f"SELECT * FROM {table_name} WHERE amount > 8")
        assert isinstance(frame, pl.DataFrame)
        return frame

    assert sorted(big_orders()["order_id"].to_list()) == [1, 2]


# -- what the cloud would give a deployed task -------------------------------------------------


def deployed_module(tmp_path: Path, moto_endpoint: str, table: str) -> Path:
    """A pipeline whose task writes a Dataset stored in a table of the RDS database the
    settings declare (no host, no user, no password: the plan's variable says where)."""
    module = tmp_path / "shop.py"
    module.write_text(
        "import polars as pl\n"
        "from glacier import Dataset, Environment, Pipeline\n"
        "from glacier.settings import GlacierSettings\n"
        "settings = GlacierSettings(\n"
        f"    env='prod', state_dir={str(tmp_path / 'state')!r},\n"
        "    provider={'kind': 'aws', 'region': 'us-east-1',\n"
        f"              'endpoint_url': {moto_endpoint!r}}},\n"
        "    databases={'warehouse': {'identifier': 'prod-warehouse', 'rds': {}}},\n"
        ")\n"
        "env = Environment.from_settings(settings)\n"
        f"orders = Dataset('orders', storage=env.get('warehouse').table({table!r}))\n"
        "pipeline = Pipeline('shop', env=env)\n"
        "@pipeline.task()\n"
        "def load() -> orders:\n"
        "    return pl.DataFrame({'order_id': [1, 2], 'amount': [9.5, 3.0]})\n"
    )
    return module


def run_deployed(module: Path, endpoints: dict[str, object]) -> subprocess.CompletedProcess[str]:
    """Run task ``load`` as a deployed task does, in a process of its own whose only way to
    the database is the plan's variable (no PG* variables, no password anywhere)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GLACIER_", "PG"))}
    environ.update(
        GLACIER_DEPLOYED="1",
        GLACIER_DATABASE_ENDPOINTS=json.dumps(endpoints),
        PGPASSFILE=os.devnull,
    )
    code = (
        "from glacier.infra.runtime import run_task\n"
        f"print(run_task({f'{module}:pipeline'!r}, 'load', run_id='r1')['written'])\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=300
    )


def test_a_deployed_task_connects_with_the_plans_variables_and_the_managed_secret(
    tmp_path: Path, moto_endpoint: str, postgres_server: PostgresServer, table_name: str
) -> None:
    client = boto3.client("secretsmanager", endpoint_url=moto_endpoint, region_name="us-east-1")
    # What RDS keeps for an instance whose master password it manages.
    credentials = {"username": postgres_server.user, "password": postgres_server.password}
    arn = client.create_secret(Name=f"rds!db-{table_name}", SecretString=json.dumps(credentials))[
        "ARN"
    ]
    where = {
        "host": postgres_server.host,
        "port": postgres_server.port,
        "dbname": postgres_server.database,
        "user": postgres_server.user,
        "secret_arn": arn,
    }
    module = deployed_module(tmp_path, moto_endpoint, table_name)
    done = run_deployed(module, {"prod-warehouse": where})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "['orders']"
    import adbc_driver_postgresql.dbapi as dbapi

    with dbapi.connect(postgres_server.url_with_password) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT order_id, amount FROM {table_name} ORDER BY order_id")
        assert cur.fetchall() == [(1, 9.5), (2, 3.0)]

    # The same task told a secret with another password is refused by the server: the
    # password came from the secret, and no message shows it.
    wrong = client.create_secret(
        Name=f"rds!db-{table_name}-wrong",
        SecretString=json.dumps({**credentials, "password": "not-the-password-42"}),
    )["ARN"]
    refused = run_deployed(module, {"prod-warehouse": {**where, "secret_arn": wrong}})
    assert refused.returncode != 0
    assert "could not connect" in refused.stderr
    assert "not-the-password-42" not in refused.stderr + refused.stdout


def test_an_iam_database_user_connects_with_a_fresh_token_per_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from glacier.secrets import Secrets, database_connection
    from glacier.settings import GlacierSettings

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example-secret-key")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    where = {"host": "wh.abc.ca-central-1.rds.amazonaws.com", "user": "etl"}
    environ = {
        "GLACIER_DATABASE_ENDPOINTS": json.dumps(
            {"prod-wh": {**where, "iam_region": "ca-central-1"}}
        )
    }
    secrets = Secrets(GlacierSettings())
    connection = database_connection("wh", "prod-wh", None, lambda: secrets, environ)
    assert connection is not None
    first = connection.password()
    assert first is not None
    token = first.get_secret_value()
    # RDS's token: a presigned connect request for that user and host, signed for the region
    assert token.startswith("wh.abc.ca-central-1.rds.amazonaws.com:5432/?Action=connect")
    assert "DBUser=etl" in token and "ca-central-1%2Frds-db" in token
    assert connection.libpq_url().startswith("postgresql://etl@wh.abc.ca-central-1")
    assert token not in connection.libpq_url() and token not in repr(connection)
    # not cached: each connection signs its own (a token is valid for 15 minutes)
    assert connection.password() is not None


def test_a_mangled_endpoints_variable_is_refused_naming_it() -> None:
    from glacier.settings.database_connection import deployed_databases

    variable = "GLACIER_DATABASE_ENDPOINTS"
    assert deployed_databases({}) == {}
    with pytest.raises(ConfigError, match=rf"{variable} is not what the plan writes.*regenerate"):
        deployed_databases({variable: "{not json"})
    with pytest.raises(ConfigError, match=rf"{variable} is not what the plan writes.*host"):
        deployed_databases({variable: '{"prod-warehouse": {"port": 5432}}'})


# -- SQLite files, where the user chooses them ------------------------------------------------


@pytest.fixture
def notes_env(tmp_path: Path) -> Environment:
    settings = GlacierSettings(
        state_dir=tmp_path / "state",
        databases={"notes": {"url": f"sqlite:///{tmp_path}/notes.db"}},
    )
    return Environment.from_settings(settings)


@pytest.fixture
def notes(notes_env: Environment) -> Database:
    found = notes_env.get("notes")
    assert isinstance(found, Database)
    return found


def test_a_sqlite_file_is_a_database_with_the_same_modes(notes: Database, tmp_path: Path) -> None:
    assert notes.engine == "sqlite"
    table = notes.table("orders")
    table.write(ORDERS)
    assert (tmp_path / "notes.db").is_file()
    assert_frame_equal(sorted_rows(table.read()), ORDERS)
    table.write(ORDERS.head(1), mode="append")
    assert table.read().height == 4
    table.write(ORDERS.head(2), mode="replace")
    assert sorted(table.read()["order_id"].to_list()) == [1, 2]
    upserted = pl.DataFrame({"order_id": [2, 9], "customer": ["bo", "zed"], "amount": [1.0, 2.0]})
    keyed = notes.table("keyed")
    keyed.write(ORDERS, mode="upsert", on=["order_id"])
    keyed.write(upserted, mode="upsert")  # the table's primary key, made by the first upsert
    got = sorted_rows(keyed.read())
    assert got["order_id"].to_list() == [1, 2, 3, 9]
    assert got.filter(pl.col("order_id") == 2)["amount"].item() == 1.0
    assert notes.query("SELECT count(*) AS n FROM keyed")["n"].item() == 4


def test_a_sqlite_table_is_a_datasets_storage_in_a_pipeline(
    notes_env: Environment, notes: Database
) -> None:
    pipeline = Pipeline("notes")
    stored = Dataset("stored", storage=notes.table("stored"))
    total = Dataset("total")

    @pipeline.task()
    def make() -> stored:
        return ORDERS

    @pipeline.task()
    def add(rows: stored) -> total:
        return rows.select(pl.col("amount").sum())

    result = pipeline.run(env=notes_env)
    assert result["total"].collect().item() == 37.75


def test_sqlite_bad_input_is_refused_and_a_failed_write_leaves_the_table(
    notes: Database, tmp_path: Path
) -> None:
    table = notes.table("orders")
    table.write(ORDERS)
    with pytest.raises(TableKeyError, match=r"'orders'.*has no primary key.*on="):
        table.write(ORDERS, mode="upsert")
    with pytest.raises(TableKeyError, match=r"key column\(s\) \['sku'\] are not in the frame"):
        table.write(ORDERS, mode="upsert", on=["sku"])
    with pytest.raises(TableNotFoundError, match="'missing'"):
        notes.table("missing").read()
    with pytest.raises(DatabaseError, match="Nothing was written"):
        notes.execute("DELETE FROM orders", "INSERT INTO nowhere VALUES (1)")
    assert_frame_equal(sorted_rows(table.read()), ORDERS)  # the DELETE was rolled back
    with pytest.raises(ConfigError, match=r"sqlite:///relative/path\.db"):
        DatabaseConnection(url="sqlite://host/x.db")
    with pytest.raises(ConfigError, match="no password"):
        DatabaseConnection(url=f"sqlite:///{tmp_path}/x.db", password_env="X")
    with pytest.raises(ConfigError, match="url = 'sqlite:///path"):
        DatabaseConnection(engine="sqlite")

"""Databases refuse at write time what they could not read back (issue 31.7): column types
checked against the table's schema before the transaction, ``on=`` validated, PostgreSQL's
refusals named by column and type. Each case leaves the table as it was."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from glacier import Database, Environment
from glacier.errors import ColumnTypeError, TableKeyError
from glacier.settings import GlacierSettings
from postgres import PostgresServer

ORDERS = pl.DataFrame({"id": [1, 2, 3], "who": ["ana", "bo", "cy"], "amount": [1.0, 2.5, 3.0]})


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Database:
    settings = GlacierSettings(
        state_dir=tmp_path / "state", databases={"notes": {"url": f"sqlite:///{tmp_path}/n.db"}}
    )
    found = Environment.from_settings(settings).get("notes")
    assert isinstance(found, Database)
    return found


@pytest.fixture
def postgres_db(tmp_path: Path, postgres: PostgresServer) -> Database:
    env = Environment.local(base_path=tmp_path / "data", state_dir=tmp_path / "state")
    return env.database.postgres("warehouse")


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest) -> Iterator[Database]:
    yield request.getfixturevalue(f"{request.param}_db")


@pytest.fixture
def table() -> str:
    return f"t_{uuid.uuid4().hex[:10]}"


def stored(db: Database, table: str) -> pl.DataFrame:
    return db.table(table).read().sort("id")


@pytest.mark.parametrize("mode", ["append", "replace", "upsert"])
def test_a_string_into_a_number_column_is_refused_naming_column_and_types(
    db: Database, table: str, mode: str
) -> None:
    db.table(table).write(ORDERS, mode="upsert", on=["id"])
    bad = ORDERS.with_columns(pl.col("amount").cast(pl.String) + "x", id=pl.col("id") + 10)
    with pytest.raises(ColumnTypeError) as caught:
        db.table(table).write(bad, mode=mode)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "'amount'" in message and "String" in message and "Nothing was written" in message
    assert_frame_equal(stored(db, table), ORDERS)  # still readable, as it was


def test_a_column_the_table_lacks_is_refused_before_writing(db: Database, table: str) -> None:
    db.table(table).write(ORDERS, mode="upsert", on=["id"])
    with pytest.raises(ColumnTypeError, match=r"'extra'.*not in the table"):
        db.table(table).write(ORDERS.with_columns(extra=pl.lit(1)), mode="append")
    assert_frame_equal(stored(db, table), ORDERS)


def test_an_int64_into_an_int4_column_names_the_column_on_postgres(
    postgres_db: Database, table: str
) -> None:
    postgres_db.execute(f"CREATE TABLE {table} (id int4 PRIMARY KEY, who text, amount float8)")
    with pytest.raises(ColumnTypeError) as caught:
        postgres_db.table(table).write(ORDERS, mode="append")
    message = str(caught.value)
    assert "'id'" in message and "Int64" in message and "integer" in message
    assert "cast" in message and "insufficient data" not in message
    assert postgres_db.table(table).read().height == 0
    # the fix the message gives works
    postgres_db.table(table).write(ORDERS.with_columns(pl.col("id").cast(pl.Int32)), "append")
    assert postgres_db.table(table).read().height == 3


@pytest.mark.parametrize(
    ("on", "words"),
    [
        ([], "on=[] names no column"),
        ("id", "on=['id']"),
        (["id", "id"], "more than once"),
        (["nope"], "['nope']"),
    ],
    ids=["empty", "a string", "duplicated", "unknown"],
)
def test_on_is_validated(db: Database, table: str, on: object, words: str) -> None:
    db.table(table).write(ORDERS, mode="upsert", on=["id"])
    with pytest.raises(TableKeyError) as caught:
        db.table(table).write(ORDERS, mode="upsert", on=on)  # type: ignore[arg-type]
    assert words in str(caught.value)
    assert_frame_equal(stored(db, table), ORDERS)


def test_on_with_a_mode_that_takes_no_key_is_refused(db: Database, table: str) -> None:
    with pytest.raises(TableKeyError, match="mode='append'"):
        db.table(table).write(ORDERS, mode="append", on=["id"])
    assert not db.table(table).exists()


def test_null_keys_in_an_upsert_are_refused(db: Database, table: str) -> None:
    db.table(table).write(ORDERS, mode="upsert", on=["id"])
    nulls = pl.DataFrame({"id": [None, 7], "who": ["x", "y"], "amount": [0.0, 1.0]})
    with pytest.raises(TableKeyError, match=r"null.*'id'"):
        db.table(table).write(nulls.cast({"id": pl.Int64}), mode="upsert")
    assert_frame_equal(stored(db, table), ORDERS)


def test_duplicate_keys_in_one_upsert_are_refused_unless_asked(db: Database, table: str) -> None:
    db.table(table).write(ORDERS, mode="upsert", on=["id"])
    twice = pl.DataFrame({"id": [2, 2], "who": ["first", "last"], "amount": [5.0, 6.0]})
    with pytest.raises(TableKeyError, match=r"\[2\].*duplicates='last'"):
        db.table(table).write(twice, mode="upsert")
    assert_frame_equal(stored(db, table), ORDERS)
    db.table(table).write(twice, mode="upsert", duplicates="last")
    assert stored(db, table).filter(pl.col("id") == 2)["who"].item() == "last"


def test_a_datasets_write_options_are_checked_where_it_is_declared(
    sqlite_db: Database, table: str
) -> None:
    from glacier import Dataset
    from glacier.errors import PipelineDefinitionError

    storage = sqlite_db.table(table)
    for on in ("id", [], None):
        with pytest.raises(PipelineDefinitionError, match="not a list of key columns"):
            Dataset("orders", storage=storage, write={"mode": "upsert", "on": on})
    keep_last = Dataset(
        "orders", storage=storage, write={"mode": "upsert", "on": ["id"], "duplicates": "last"}
    )
    assert keep_last.write["duplicates"] == "last"
    with pytest.raises(PipelineDefinitionError, match="'duplicates'"):
        Dataset("files", storage="files.parquet", write={"duplicates": "last"})

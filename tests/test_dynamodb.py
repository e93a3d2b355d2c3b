"""DynamoDB tables read and written as polars frames, against the session's moto server."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import boto3
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from glacier import Dataset, Environment, Pipeline, Provider
from glacier.adapters import dynamodb
from glacier.errors import (
    ConfigError,
    DatabaseError,
    NotSupportedError,
    TableKeyError,
    TableNotFoundError,
)
from glacier.resources import Database
from glacier.settings import AwsConfig

EVENTS = pl.DataFrame(
    {
        "customer": ["ana", "ana", "bo", "cy"],
        "seq": [1, 2, 1, 1],
        "amount": [10.5, 3.0, 99.0, 0.25],
        "channel": ["web", "shop", "web", None],
    }
)


@pytest.fixture
def env(moto_endpoint: str, tmp_path: Path) -> Environment:
    config = AwsConfig(region="us-east-1", endpoint_url=moto_endpoint)
    return Environment(Provider(config=config), name="test", state_dir=tmp_path / "state")


@pytest.fixture
def table_name(moto_endpoint: str) -> str:
    """A fresh table keyed by customer (hash) and seq (range), created on moto."""
    name = f"events-{uuid.uuid4().hex[:8]}"
    client = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1")
    client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "customer", "KeyType": "HASH"},
            {"AttributeName": "seq", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "customer", "AttributeType": "S"},
            {"AttributeName": "seq", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


@pytest.fixture
def events(env: Environment, table_name: str) -> Database:
    return env.database.dynamodb(table_name, hash_key="customer", range_key="seq")


def by_key(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(EVENTS.columns).sort("customer", "seq")


def test_a_frame_is_written_and_scanned_back(events: Database) -> None:
    table = events.table()
    table.write(EVENTS)
    assert_frame_equal(by_key(table.read()), EVENTS)
    # A put replaces the item with the same key: writing again is an upsert.
    table.write(EVENTS.with_columns(pl.col("amount") * 2).head(1))
    again = by_key(table.read())
    assert again.height == 4
    assert again["amount"].to_list() == [21.0, 3.0, 99.0, 0.25]


def test_a_dataset_given_the_whole_table_database_is_stored_in_its_one_table(
    env: Environment, events: Database
) -> None:
    pipeline = Pipeline("whole", env=env)
    stored = Dataset("events", storage=events)  # a DynamoDB database is one table

    @pipeline.task()
    def land() -> stored:  # type: ignore[valid-type]
        return EVENTS

    pipeline.run()
    assert_frame_equal(by_key(events.table().read()), EVENTS)


def test_the_fingerprint_changes_with_the_items(events: Database) -> None:
    table = events.table()
    table.write(EVENTS)
    before = table.fingerprint()
    assert table.fingerprint() == before
    table.write(EVENTS.head(1).with_columns(pl.lit(1.5).alias("amount")))  # same count
    assert table.fingerprint() != before


def test_a_scan_with_a_filter(events: Database) -> None:
    events.table().write(EVENTS)
    big = events.table().read("amount > :least", {":least": 5})
    assert sorted(big["customer"].to_list()) == ["ana", "bo"]


def test_more_items_than_one_batch(events: Database) -> None:
    many = pl.DataFrame({"customer": [f"c{i}" for i in range(60)], "seq": [0] * 60})
    events.table().write(many)
    assert events.table().read().height == 60


def test_a_key_missing_from_the_frame_is_refused_before_writing(events: Database) -> None:
    with pytest.raises(TableKeyError, match=r"no key column\(s\) \['seq'\]") as caught:
        events.table().write(EVENTS.drop("seq"))
    assert "Nothing was written" in str(caught.value)
    assert events.table().read().height == 0


def test_a_null_key_is_refused_before_writing(events: Database) -> None:
    rows = pl.DataFrame({"customer": ["ana", None], "seq": [1, 2]})
    with pytest.raises(TableKeyError, match="hold nulls"):
        events.table().write(rows)
    assert events.table().read().height == 0


def test_replace_is_refused_and_sql_is_refused(events: Database) -> None:
    with pytest.raises(ConfigError, match="upsert"):
        events.table().write(EVENTS, mode="replace")
    with pytest.raises(ConfigError, match="no SQL"):
        events.query("SELECT 1")


def test_a_missing_table_is_named(env: Environment) -> None:
    missing = env.database.dynamodb("no-such-table")
    with pytest.raises(TableNotFoundError, match="'no-such-table'"):
        missing.table().read()
    with pytest.raises(TableNotFoundError, match="'no-such-table'"):
        missing.table().write(pl.DataFrame({"id": [1]}))


def test_a_dynamodb_table_is_a_datasets_storage(events: Database, env: Environment) -> None:
    pipeline = Pipeline("events")
    stored = Dataset("events", storage=events.table())
    totals = Dataset("totals")

    @pipeline.task()
    def collect() -> stored:  # type: ignore[valid-type]
        return EVENTS

    @pipeline.task()
    def total(rows: stored) -> totals:  # type: ignore[valid-type]
        return rows.group_by("customer").agg(pl.col("amount").sum()).sort("customer")

    result = pipeline.run(env=env)
    assert result["totals"].collect()["amount"].to_list() == [13.5, 99.0, 0.25]


def test_dynamodb_needs_aws(tmp_path: Path) -> None:
    local = Environment.local(tmp_path / "data", state_dir=tmp_path / "state")
    with pytest.raises(NotSupportedError, match="DynamoDB"):
        local.database.dynamodb("events").table().read()


class Throttling:
    """A DynamoDB client that leaves the first ``refuse`` items of each request unprocessed
    ``times`` times: what a throttled table answers."""

    def __init__(self, table: str, times: int) -> None:
        self.table = table
        self.times = times
        self.requests: list[int] = []
        self.written: list[Any] = []
        self.exceptions = boto3.client("dynamodb", region_name="us-east-1").exceptions

    def batch_write_item(self, RequestItems: dict[str, list[Any]]) -> dict[str, Any]:
        items = RequestItems[self.table]
        self.requests.append(len(items))
        if self.times > 0:
            self.times -= 1
            self.written.extend(items[2:])
            return {"UnprocessedItems": {self.table: items[:2]}}
        self.written.extend(items)
        return {"UnprocessedItems": {}}


def test_unprocessed_items_are_sent_again(
    events: Database, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamodb, "FIRST_BACKOFF", 0.0)
    client = Throttling(table_name, times=2)
    adapter = events.table().adapter
    monkeypatch.setattr(type(adapter), "client", lambda self: client)
    events.table().write(EVENTS)
    assert client.requests == [4, 2, 2]  # all four, then the two left unprocessed, twice
    assert len(client.written) == 4


def test_items_still_unprocessed_after_the_last_attempt_fail_the_write(
    events: Database, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamodb, "FIRST_BACKOFF", 0.0)
    client = Throttling(table_name, times=100)
    monkeypatch.setattr(type(events.table().adapter), "client", lambda self: client)
    with pytest.raises(DatabaseError, match="2 item\\(s\\) were still unprocessed"):
        events.table().write(EVENTS)
    assert len(client.requests) == dynamodb.MAX_ATTEMPTS

"""Datasets are Delta Lake tables: write modes, versions, maintenance, bad input, interop with
other engines, concurrent writers and the migration of the old ``_glacier/`` layout.

Every test of Glacier's own behaviour runs on the five stores (``store``); memory and the GCS
emulator take the local-mirror fallback (``glacier.adapters.table_mirror``). Interop and
concurrency run where delta-rs reaches the store itself: local files, S3 (moto), Azurite.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from conftest import StoreCase, make_store_case
from glacier.errors import (
    ConcurrentWriteError,
    GlacierError,
    LegacyLayoutError,
    MergeKeyError,
    NotSupportedError,
    RetentionError,
    SchemaEvolutionError,
    VersionNotFoundError,
)
from stress import trials

ORDERS = pl.DataFrame(
    {
        "order_id": [1, 2, 3, 4],
        "day": ["mon", "mon", "tue", "wed"],
        "amount": [10.0, 20.0, 30.0, 40.0],
    }
)
CHANGES = pl.DataFrame({"order_id": [2, 5], "day": ["mon", "thu"], "amount": [25.0, 50.0]})

DELTA_STORES = ["local", "s3", "azure"]


def sort(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("order_id")


def orders(store: StoreCase, **kwargs: Any) -> Any:
    return store.bucket("orders/", **kwargs)


# -- write modes ---------------------------------------------------------------------------


def test_merge_updates_matching_rows_and_inserts_the_others(store: StoreCase) -> None:
    bucket = orders(store)
    bucket.write(ORDERS)

    bucket.write(CHANGES, mode="merge", on=["order_id"])

    expected = pl.DataFrame(
        {
            "order_id": [1, 2, 3, 4, 5],
            "day": ["mon", "mon", "tue", "wed", "thu"],
            "amount": [10.0, 25.0, 30.0, 40.0, 50.0],
        }
    )
    assert_frame_equal(sort(bucket.read()), expected)
    assert bucket.history()[0]["operation"] == "MERGE"


def test_merge_deletes_rows_marked_for_deletion(store: StoreCase) -> None:
    bucket = orders(store, partition_by=["day"])
    bucket.write(ORDERS)
    changes = CHANGES.with_columns(gone=pl.Series([True, False]))

    bucket.write(changes, mode="merge", on=["order_id"], delete_when="gone")

    result = sort(bucket.read())
    assert result["order_id"].to_list() == [1, 3, 4, 5]
    assert "gone" not in result.columns


def test_overwrite_partitions_replaces_only_the_partitions_present(store: StoreCase) -> None:
    bucket = orders(store, partition_by=["day"])
    bucket.write(ORDERS)
    monday = pl.DataFrame({"order_id": [9], "day": ["mon"], "amount": [90.0]})

    bucket.write(monday, mode="overwrite_partitions")

    result = sort(bucket.read())
    assert result["order_id"].to_list() == [3, 4, 9]
    assert set(result["day"]) == {"mon", "tue", "wed"}


def test_versions_and_history(store: StoreCase) -> None:
    bucket = orders(store)
    bucket.write(ORDERS)
    bucket.write(CHANGES, mode="append")
    bucket.write(CHANGES)

    assert [c["version"] for c in bucket.history()] == [2, 1, 0]
    assert_frame_equal(sort(bucket.read(version=0)), ORDERS)
    assert bucket.read(version=1).height == 6
    assert_frame_equal(sort(bucket.scan(version=2).collect()), CHANGES)
    assert_frame_equal(sort(bucket.read()), CHANGES)


def test_schema_merge_adds_nullable_columns(store: StoreCase) -> None:
    bucket = orders(store)
    bucket.write(ORDERS)
    wider = CHANGES.with_columns(note=pl.lit("new"))

    bucket.write(wider, mode="append", schema="merge")

    result = bucket.read()
    assert result.height == 6 and result["note"].null_count() == 4
    assert sorted(result.filter(pl.col("note") == "new")["order_id"]) == [2, 5]


def test_optimize_compacts_and_keeps_the_rows(store: StoreCase) -> None:
    bucket = orders(store)
    for i in range(4):
        bucket.write(ORDERS.with_columns(order_id=pl.col("order_id") + 10 * i), mode="append")
    files_before = len(bucket.list())

    bucket.optimize()

    assert len(bucket.list()) < files_before
    assert bucket.read().height == 16


# -- bad input: a GlacierError naming the table and the fix, the table unchanged -------------


def _unchanged(bucket: Any) -> None:
    assert_frame_equal(sort(bucket.read()), ORDERS)
    assert len(bucket.history()) == 1


def test_merge_without_keys_is_refused(store: StoreCase) -> None:
    bucket = orders(store)
    bucket.write(ORDERS)

    with pytest.raises(MergeKeyError, match=r"no key columns.*on=\['order_id'\]") as error:
        bucket.write(CHANGES, mode="merge")
    with pytest.raises(MergeKeyError, match=r"key column\(s\) \['sku'\] are not in the new data"):
        bucket.write(CHANGES, mode="merge", on=["sku"])

    assert bucket.get_uri() in str(error.value)
    _unchanged(bucket)


def test_type_changes_are_refused(store: StoreCase) -> None:
    bucket = orders(store)
    bucket.write(ORDERS)
    retyped = CHANGES.with_columns(pl.col("amount").cast(pl.String))

    for mode, extra in (("append", {}), ("merge", {"on": ["order_id"]})):
        with pytest.raises(SchemaEvolutionError, match=r"amount: stored Float64, new String"):
            bucket.write(retyped, mode=mode, schema="merge", **extra)
    with pytest.raises(
        SchemaEvolutionError, match=r"unexpected columns \['note'\].*schema='merge'"
    ):
        bucket.write(CHANGES.with_columns(note=pl.lit("x")), mode="append")

    _unchanged(bucket)


def test_a_version_that_does_not_exist_is_refused(store: StoreCase) -> None:
    bucket = orders(store)
    bucket.write(ORDERS)

    with pytest.raises(VersionNotFoundError, match=r"no version 7; its versions run from 0.* 0"):
        bucket.read(version=7)


@pytest.mark.parametrize("name", DELTA_STORES)
def test_vacuum_keeps_the_retention_and_refuses_less_without_force(
    request: pytest.FixtureRequest, name: str
) -> None:
    store = make_store_case(request, name)
    bucket = orders(store)
    bucket.write(ORDERS)
    bucket.write(CHANGES)

    with pytest.raises(RetentionError, match=r"retention 0 h is shorter than the configured 168"):
        bucket.vacuum(retention=timedelta(0))
    assert bucket.vacuum() == []  # nothing is 7 days old
    _ = sort(bucket.read(version=0))  # time travel still works

    removed = bucket.vacuum(retention=timedelta(0), force=True)

    assert len(removed) == 1  # the file of version 0
    assert_frame_equal(sort(bucket.read()), CHANGES)


def test_vacuum_on_the_mirror_fallback_says_why_it_cannot(
    request: pytest.FixtureRequest,
) -> None:
    store = make_store_case(request, "gcs")
    bucket = orders(store)
    bucket.write(ORDERS)

    with pytest.raises(NotSupportedError, match="delta-rs cannot reach this store"):
        bucket.vacuum()


# -- interop: what Glacier writes, other engines read the same ------------------------------


def _table_writes(bucket: Any) -> pl.DataFrame:
    """Plain, partitioned, appended, merged and overwritten: the table after all of it."""
    bucket.write(ORDERS)
    bucket.write(CHANGES, mode="append")
    bucket.write(CHANGES.with_columns(amount=pl.col("amount") * 2), mode="merge", on=["order_id"])
    bucket.write(pl.DataFrame({"order_id": [7], "day": ["mon"], "amount": [1.0]}), mode="append")
    return sort(bucket.read())


@pytest.mark.parametrize("partitioned", [False, True], ids=["plain", "partitioned"])
@pytest.mark.parametrize("name", DELTA_STORES)
def test_other_engines_read_what_glacier_writes(
    request: pytest.FixtureRequest, name: str, partitioned: bool
) -> None:
    import pyarrow.dataset as pads
    from deltalake import DeltaTable

    store = make_store_case(request, name)
    bucket = orders(store, partition_by=["day"] if partitioned else None)
    glacier = _table_writes(bucket)
    access = bucket.adapter._table_io()
    options = access.storage_options or None
    columns = list(ORDERS.columns)

    table = DeltaTable(access.uri, storage_options=options)
    by_deltalake = pl.from_arrow(table.to_pyarrow_table())
    by_polars = pl.scan_delta(access.uri, storage_options=options).collect()
    root = bucket.adapter._path(bucket.adapter.key)
    files = [store.fs._strip_protocol(uri) for uri in table.file_uris()]
    by_pyarrow = pl.from_arrow(
        pads.dataset(
            files,
            filesystem=store.fs,
            format="parquet",
            partitioning="hive" if partitioned else None,
            partition_base_dir=root,
        ).to_table()
    )
    by_pandas = pl.from_pandas(table.to_pandas())

    assert glacier.height == 7 and glacier["amount"].sum() == 281.0
    for frame in (by_deltalake, by_polars, by_pyarrow, by_pandas):
        assert isinstance(frame, pl.DataFrame)
        assert_frame_equal(sort(frame.select(columns)), glacier, check_dtypes=False)


@pytest.mark.parametrize("name", [*DELTA_STORES, "memory", "gcs"])
def test_glacier_reads_a_table_written_by_polars(request: pytest.FixtureRequest, name: str) -> None:
    store = make_store_case(request, name)
    bucket = orders(store, partition_by=["day"])
    if bucket.adapter._mirror is not None:  # delta-rs cannot reach it: write a local copy
        local = Path(request.getfixturevalue("tmp_path")) / "orders"
        ORDERS.write_delta(local, delta_write_options={"partition_by": ["day"]})
        root = bucket.adapter._path(bucket.adapter.key)
        for path in local.rglob("*"):
            if path.is_file():
                store.fs.pipe_file(
                    f"{root}/{path.relative_to(local).as_posix()}", path.read_bytes()
                )
    else:
        access = bucket.adapter._table_io()
        ORDERS.write_delta(
            access.uri,
            storage_options=access.storage_options or None,
            delta_write_options={"partition_by": ["day"]},
        )

    assert_frame_equal(sort(bucket.read()), ORDERS)
    assert bucket.scan().filter(pl.col("day") == "tue").collect()["order_id"].to_list() == [3]
    bucket.write(CHANGES, mode="merge", on=["order_id"])
    assert sort(bucket.read())["order_id"].to_list() == [1, 2, 3, 4, 5]


# -- concurrent writers ---------------------------------------------------------------------

APPENDER = textwrap.dedent(
    """
    import json, sys
    import polars as pl
    from glacier.errors import ConcurrentWriteError
    from glacier.provider import Provider
    from glacier.settings import AwsConfig, LocalConfig

    spec = json.loads(sys.argv[1])
    kinds = {"local": LocalConfig, "aws": AwsConfig}
    config = kinds[spec["kind"]].model_validate(spec["config"])
    bucket = Provider(config=config).bucket(spec["bucket"], "events/")
    conflicts = 0
    for i in range(spec["count"]):
        row = pl.DataFrame({"writer": [spec["writer"]], "i": [i]})
        while True:
            try:
                bucket.write(row, mode="append")
                break
            except ConcurrentWriteError:
                conflicts += 1  # nothing was committed: retrying cannot duplicate the row
    print(json.dumps({"conflicts": conflicts}))
    """
)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", ["local", "s3"])
def test_two_processes_appending_lose_nothing(request: pytest.FixtureRequest, name: str) -> None:
    store = make_store_case(request, name)
    bucket = store.bucket("events/")
    bucket.write(pl.DataFrame({"writer": ["seed"], "i": [-1]}))
    config = store.provider.config
    count = trials(15, 50)  # appends per writer

    def spec(writer: str) -> str:
        return json.dumps(
            {
                "kind": config.kind,
                "config": config.model_dump(mode="json", exclude_defaults=True),
                "bucket": store.bucket_name,
                "writer": writer,
                "count": count,
            }
        )

    writers = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, spec(w)], stdout=subprocess.PIPE, text=True
        )
        for w in ("a", "b")
    ]
    outputs = [w.communicate(timeout=540)[0] for w in writers]

    assert [w.returncode for w in writers] == [0, 0], outputs
    rows = bucket.read()
    assert rows.height == 2 * count + 1
    for writer in ("a", "b"):
        assert sorted(rows.filter(pl.col("writer") == writer)["i"]) == list(range(count))
    assert bucket.history(1)[0]["version"] == 2 * count


@pytest.mark.parametrize("name", ["memory", "gcs"])
def test_the_fallback_refuses_a_commit_another_writer_made_first(
    request: pytest.FixtureRequest, name: str
) -> None:
    store = make_store_case(request, name)
    bucket = orders(store)
    bucket.write(ORDERS)
    mirror = bucket.adapter._mirror

    losing = pytest.raises(ConcurrentWriteError, match=r"another writer committed .*retry it")
    with losing, mirror.writing(with_data=False) as table:
        table.write(CHANGES, "append", (), exists=True)
        orders(store).write(CHANGES, mode="append")  # commits version 1 first

    assert bucket.read().height == 6 and len(bucket.history()) == 2
    data = [k for k in store.objects() if k.endswith(".parquet")]
    assert sorted(data) == sorted(bucket.list())  # the loser's file was removed


# -- migration of the old _glacier/ manifest layout ------------------------------------------


def _legacy_dataset(store: StoreCase) -> Any:
    """A dataset in the manifest layout of earlier releases, as they wrote it."""
    from glacier.adapters.manifest import Manifest

    root = store.bucket().adapter.root
    key = "orders/_glacier/v/20250101T000000000000Z-0/part-00000.parquet"
    store.fs.makedirs(f"{root}/orders/_glacier/v/20250101T000000000000Z-0", exist_ok=True)
    data = io.BytesIO()
    ORDERS.write_parquet(data)
    store.fs.pipe_file(f"{root}/{key}", data.getvalue())
    manifest = Manifest("20250101T000000000000Z-0", "parquet", (), (key,), (), ORDERS.schema)
    store.fs.pipe_file(f"{root}/orders/_glacier/manifest.json", manifest.to_json())
    return orders(store)


def test_the_old_layout_is_refused_with_how_to_convert_it(store: StoreCase) -> None:
    bucket = _legacy_dataset(store)

    for attempt in (bucket.read, lambda: bucket.write(CHANGES, mode="append"), bucket.history):
        with pytest.raises(LegacyLayoutError, match=r"glacier tables convert") as error:
            attempt()
        assert isinstance(error.value, GlacierError) and bucket.get_uri() in str(error.value)

    assert bucket.convert() is True

    assert_frame_equal(sort(bucket.read()), ORDERS)
    assert not [k for k in store.objects() if "_glacier" in k]
    assert bucket.convert() is False


# -- a task's output option ------------------------------------------------------------------


def test_a_dataset_can_upsert_each_run_into_its_table(local: Any) -> None:
    from glacier import Dataset, Pipeline

    table = local.bucket("lake", "orders/")
    pipeline = Pipeline("shop")
    out = Dataset("orders", storage=table, write={"mode": "merge", "on": ["order_id"]})
    batches = iter([ORDERS, CHANGES])

    @pipeline.task()
    def load() -> out:  # type: ignore[valid-type]
        return next(batches)

    pipeline.run()
    pipeline.run()

    assert sort(table.read())["amount"].to_list() == [10.0, 25.0, 30.0, 40.0, 50.0]
    assert [c["operation"] for c in table.history()] == ["MERGE", "WRITE"]


def test_dataset_write_options_are_checked_where_declared(local: Any) -> None:
    from glacier import Dataset
    from glacier.errors import PipelineDefinitionError

    table = local.bucket("lake", "orders/")
    with pytest.raises(PipelineDefinitionError, match=r"unknown option\(s\) \['key'\]"):
        Dataset("a", storage=table, write={"mode": "merge", "key": ["id"]})
    with pytest.raises(PipelineDefinitionError, match=r"needs the key columns"):
        Dataset("b", storage=table, write={"mode": "merge"})
    with pytest.raises(PipelineDefinitionError, match=r"needs storage"):
        Dataset("c", write={"mode": "append"})


# -- transport failures ---------------------------------------------------------------------


def test_a_table_read_broken_in_transport_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    from glacier.adapters import tables

    monkeypatch.setattr(tables, "TRANSPORT_RETRY_WAITS", (0.0, 0.0))
    failures = [OSError("Generic S3 error: error sending request: invalid HTTP version")] * 2
    calls: list[int] = []

    def read() -> str:
        calls.append(1)
        if failures:
            raise failures.pop()
        return "table"

    assert tables._retrying_transport(read) == "table"
    assert len(calls) == 3


def test_a_table_read_fails_at_once_on_other_errors_and_after_the_last_retry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from glacier.adapters import tables

    monkeypatch.setattr(tables, "TRANSPORT_RETRY_WAITS", (0.0, 0.0))
    calls: list[int] = []

    def denied() -> None:
        calls.append(1)
        raise OSError("Generic S3 error: 403 Access Denied")

    with pytest.raises(OSError, match="Access Denied"):
        tables._retrying_transport(denied)
    assert len(calls) == 1

    def broken() -> None:
        calls.append(1)
        raise OSError("error sending request")

    with pytest.raises(OSError, match="error sending request"):
        tables._retrying_transport(broken)
    assert len(calls) == 1 + 3


def test_vacuum_removes_the_staging_file_a_killed_local_writer_left(tmp_path: Path) -> None:
    from glacier.provider import Provider
    from glacier.settings import LocalConfig

    bucket = Provider(config=LocalConfig(base_path=str(tmp_path))).bucket("lake", "events/")
    bucket.write(pl.DataFrame({"i": [1, 2]}))
    table = tmp_path / "lake" / "events"
    staged = table / "part-00000-killed-c000.snappy.parquet#1"  # delta-rs' local staging name
    staged.write_bytes(b"PAR1 half written")

    assert "events/part-00000-killed-c000.snappy.parquet#1" in bucket.vacuum(
        timedelta(0), force=True, dry_run=True
    )
    assert staged.exists()  # a dry run removes nothing
    kept = bucket.vacuum(timedelta(days=7))  # younger than the retention: a writer may be live
    assert staged.exists() and not any("#1" in k for k in kept)
    bucket.vacuum(timedelta(0), force=True)
    assert not staged.exists()
    assert bucket.read()["i"].to_list() == [1, 2]

"""One Bucket suite, run against every store: local disk, memory, S3 (moto), GCS (emulator)
and Azure Blob (Azurite). See ``conftest.py`` for the fixtures."""

from __future__ import annotations

import asyncio
import errno
import gc
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.io.plugins import register_io_source
from polars.testing import assert_frame_equal

from conftest import GCP_PROJECT, StoreCase, azurite_connection, free_port, make_store_case
from glacier.adapters.uploads import S3MultipartUpload
from glacier.errors import (
    BucketNotFoundError,
    ConfigError,
    EndpointUnreachableError,
    InvalidDataError,
    ObjectNotFoundError,
    SchemaMismatchError,
    StorageError,
    StoragePermissionError,
    UnknownFormatError,
)

PEOPLE = pl.DataFrame(
    {
        "id": [1, 2, 3, 4],
        "name": ["ada", "bob", "cyd", "dee"],
        "score": [0.5, 1.5, 2.5, 3.5],
        "active": [True, False, True, None],
    }
)
DAYS = pl.DataFrame({"day": ["mon", "mon", "tue", "wed"], "n": [1, 2, 3, 4]})
MORE_DAYS = pl.DataFrame({"day": ["wed", "thu"], "n": [5, 6]})

#: Bucket layouts: one object, a directory dataset, a hive-partitioned directory.
LAYOUTS = {
    "object": ("data/days.parquet", {}),
    "directory": ("data/days/", {}),
    "partitioned": ("data/days", {"partition_by": ["day"]}),
}


def bucket_for(store: StoreCase, layout: str) -> Any:
    path, kwargs = LAYOUTS[layout]
    return store.bucket(path, **kwargs)


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def slow_frame(
    batches: int, fail_after: int | None = None, calls: list[int] | None = None
) -> pl.LazyFrame:
    """A LazyFrame produced batch by batch (``DAYS`` rows), raising after ``fail_after``."""

    def produce(*_: Any) -> Iterator[pl.DataFrame]:
        if calls is not None:
            calls.append(1)
        for i in range(batches):
            if fail_after is not None and i == fail_after:
                raise RuntimeError("boom: the upstream query failed")
            yield DAYS.with_columns(pl.col("n") + 10 * (i + 1))

    return register_io_source(produce, schema=DAYS.schema)


# -- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json", "ndjson"])
@pytest.mark.parametrize("directory", [False, True], ids=["object", "directory"])
def test_round_trip_per_format(store: StoreCase, fmt: str, directory: bool) -> None:
    path = "tables/people/" if directory else f"tables/people.{fmt}"
    bucket = store.bucket(path, format=fmt)

    bucket.write(PEOPLE)

    assert_frame_equal(bucket.read(), PEOPLE)
    assert_frame_equal(bucket.scan().collect(), PEOPLE)
    assert_frame_equal(bucket.scan().filter(pl.col("id") > 2).collect(), PEOPLE[2:])
    keys = bucket.list()
    assert len(keys) == 1 and keys[0].startswith(path) and keys[0].endswith(f".{fmt}")


def test_whole_bucket_as_a_dataset(store: StoreCase) -> None:
    bucket = store.bucket()  # path "": the bucket itself is the dataset directory

    bucket.write(DAYS)
    bucket.write(MORE_DAYS, mode="append")

    assert_frame_equal(bucket.read().sort("n"), pl.concat([DAYS, MORE_DAYS]))
    keys = bucket.list()  # a Delta table's data files: plain parquet, no hidden directory
    assert len(keys) == 2 and all(k.endswith(".parquet") and k[0] not in "_." for k in keys)
    assert any(key.startswith("_delta_log/") for key in store.objects())
    bucket.delete()
    assert not bucket.exists()
    assert store.objects() == []


def test_partitioned_directory(store: StoreCase) -> None:
    bucket = store.bucket("events", partition_by=["day"])

    bucket.write(DAYS)

    assert bucket.get_uri().endswith(f"{store.bucket_name}/events/")
    assert_frame_equal(bucket.read().sort("n"), DAYS)
    assert sorted({key.split("/")[-2] for key in bucket.list()}) == [
        "day=mon",
        "day=tue",
        "day=wed",
    ]
    tuesday = bucket.scan().filter(pl.col("day") == "tue").select("n").collect()
    assert tuesday["n"].to_list() == [3]


def test_partition_values_keep_their_types_and_nulls(store: StoreCase) -> None:
    frame = pl.DataFrame({"year": [2024, 2025, None], "city": ["a/b c", "x", "y"], "v": [1, 2, 3]})
    bucket = store.bucket("typed/", partition_by=["year", "city"])

    bucket.write(frame)

    assert_frame_equal(bucket.read().sort("v"), frame)
    assert bucket.scan().filter(pl.col("year") == 2025).collect()["v"].to_list() == [2]


def test_reads_plain_directories_written_by_other_tools(store: StoreCase) -> None:
    """A directory without a Glacier manifest is read as its data files, hidden ones skipped;
    appending adopts the files into a manifest."""
    root = store.bucket().adapter.root
    store.fs.makedirs(f"{root}/plain", exist_ok=True)
    for i, part in enumerate((DAYS[:2], DAYS[2:])):
        store.fs.pipe_file(f"{root}/plain/part-{i}.parquet", parquet_bytes(part))
    store.fs.pipe_file(f"{root}/plain/_SUCCESS", b"")
    store.fs.pipe_file(f"{root}/plain/.part-9.parquet", parquet_bytes(MORE_DAYS))
    bucket = store.bucket("plain/")

    assert bucket.list() == ["plain/part-0.parquet", "plain/part-1.parquet"]
    assert_frame_equal(bucket.read().sort("n"), DAYS)

    bucket.write(MORE_DAYS, mode="append")

    assert_frame_equal(bucket.read().sort("n"), pl.concat([DAYS, MORE_DAYS]))


# -- append --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kwargs"),
    [
        *LAYOUTS.values(),
        ("data/days.csv", {"format": "csv"}),
        ("data/days.ndjson", {"format": "ndjson"}),
    ],
    ids=[*LAYOUTS, "csv", "ndjson"],
)
def test_append_adds_rows(store: StoreCase, path: str, kwargs: dict[str, Any]) -> None:
    bucket = store.bucket(path, **kwargs)
    bucket.write(DAYS, mode="append")  # appending to nothing writes

    bucket.write(MORE_DAYS, mode="append")
    bucket.write(MORE_DAYS.lazy(), mode="append")

    expected = pl.concat([DAYS, MORE_DAYS, MORE_DAYS])
    assert_frame_equal(bucket.read().sort("n", "day"), expected.sort("n", "day"))


@pytest.mark.parametrize(
    ("path", "kwargs"),
    [*LAYOUTS.values(), ("data/days.csv", {"format": "csv"})],
    ids=[*LAYOUTS, "csv"],
)
def test_append_with_another_schema_is_refused(
    store: StoreCase, path: str, kwargs: dict[str, Any]
) -> None:
    bucket = store.bucket(path, **kwargs)
    bucket.write(DAYS)

    with pytest.raises(SchemaMismatchError) as wrong_type:
        bucket.write(pl.DataFrame({"day": ["fri"], "n": ["many"]}), mode="append")
    with pytest.raises(SchemaMismatchError) as extra_column:
        bucket.write(MORE_DAYS.with_columns(extra=pl.lit(1)), mode="append")

    assert bucket.get_uri() in str(wrong_type.value)
    assert "n: stored Int64, new String" in str(wrong_type.value)
    assert "unexpected columns ['extra']" in str(extra_column.value)
    assert_frame_equal(bucket.read().sort("n"), DAYS)


def test_append_refuses_another_partitioning(store: StoreCase) -> None:
    store.bucket("data/days", partition_by=["day"]).write(DAYS)

    with pytest.raises(SchemaMismatchError, match=r"partitioned by \['day'\]"):
        store.bucket("data/days/").write(MORE_DAYS, mode="append")


# -- exists / list / delete / get_uri / fingerprint ---------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_exists_list_delete(store: StoreCase, layout: str) -> None:
    bucket = bucket_for(store, layout)
    neighbour = store.bucket("data/days2/")  # shares the prefix "data/days"
    neighbour.write(DAYS)
    assert not bucket.exists()
    assert bucket.list() == []

    bucket.write(DAYS)
    assert bucket.exists()
    assert bucket.list() and all(k.startswith(LAYOUTS[layout][0]) for k in bucket.list())

    bucket.delete()
    assert not bucket.exists()
    assert bucket.list() == []
    assert not [
        k for k in store.objects() if k.startswith("data/days/") or k == "data/days.parquet"
    ]
    assert_frame_equal(neighbour.read(), DAYS)
    with pytest.raises(ObjectNotFoundError):
        bucket.delete()


def test_get_uri(store: StoreCase) -> None:
    root = {
        "local": f"file://{Path(getattr(store.provider.config, 'base_path', '.')).resolve()}",
        "memory": "memory:/",
        "s3": "s3:/",
        "gcs": "gs:/",
        "azure": "abfs:/",
    }[store.name]
    expected = f"{root}/{store.bucket_name}/"

    assert store.bucket("a/b.parquet").get_uri() == f"{expected}a/b.parquet"
    assert store.bucket("a/b/").get_uri() == f"{expected}a/b/"
    assert store.bucket("a/b", partition_by=["k"]).get_uri() == f"{expected}a/b/"
    assert store.bucket().get_uri() == expected


@pytest.mark.parametrize("layout", LAYOUTS)
def test_fingerprint_changes_with_the_data(store: StoreCase, layout: str) -> None:
    bucket = bucket_for(store, layout)
    bucket.write(DAYS)
    first = bucket.fingerprint()

    assert bucket_for(store, layout).fingerprint() == first
    bucket.write(MORE_DAYS)
    assert bucket.fingerprint() != first
    bucket.delete()
    with pytest.raises(ObjectNotFoundError):
        bucket.fingerprint()


# -- pushdown: a filtered scan reads less -------------------------------------------------


def test_scan_pushes_filter_and_projection_into_the_read(store: StoreCase) -> None:
    bucket = store.bucket("people.parquet")
    bucket.write(PEOPLE.select("id", "name", "score"))

    query = bucket.scan().filter(pl.col("id") > 2).select("name")
    plan = query.explain()

    assert 'SELECTION: [(col("id")) > (2)]' in plan or 'SELECTION: col("id") > 2' in plan
    assert "PROJECT 2/3 COLUMNS" in plan
    assert "FILTER" not in plan
    assert query.collect()["name"].to_list() == ["cyd", "dee"]


def test_partition_filter_reads_fewer_bytes(store: StoreCase) -> None:
    rng = np.random.default_rng(7)
    frame = pl.DataFrame(
        {"region": np.repeat(["eu", "us", "ap", "sa"], 400_000), "v": rng.random(1_600_000)}
    )
    bucket = store.bucket("metrics", partition_by=["region"])
    bucket.write(frame)

    start = store.bytes_read()
    everything = bucket.read()
    full = store.bytes_read() - start
    start = store.bytes_read()
    europe = bucket.scan().filter(pl.col("region") == "eu").collect()
    filtered = store.bytes_read() - start

    assert everything.height == 1_600_000 and europe.height == 400_000
    assert filtered < full / 2, (filtered, full)


@pytest.mark.parametrize("name", ["local", "s3", "azure"])
def test_row_group_filter_reads_fewer_bytes_where_polars_reads_natively(
    request: pytest.FixtureRequest, name: str
) -> None:
    store = make_store_case(request, name)
    rng = np.random.default_rng(3)
    frame = pl.DataFrame({"id": np.arange(1_000_000), "a": rng.random(1_000_000)})
    bucket = store.bucket("wide.parquet")
    bucket.write(frame.with_columns(b=pl.col("a") * 2))

    start = store.bytes_read()
    bucket.scan().collect()
    full = store.bytes_read() - start
    start = store.bytes_read()
    few = bucket.scan().filter(pl.col("id") < 1000).select("a").collect()
    filtered = store.bytes_read() - start

    assert few.height == 1000
    assert filtered < full / 5, (filtered, full)


# -- big objects ---------------------------------------------------------------------------

#: The request that proves a chunked upload (S3 multipart, Azure blocks, GCS resumable).
CHUNKED_UPLOAD = {"s3": "partNumber=", "azure": "comp=block", "gcs": "uploadType=resumable"}


def test_tens_of_megabytes_round_trip(store: StoreCase) -> None:
    rng = np.random.default_rng(11)
    frame = pl.DataFrame({"x": rng.random(2_500_000), "y": rng.random(2_500_000)})  # 40 MB
    bucket = store.bucket("big/data.parquet")
    seen = len(store.proxy.requests) if store.proxy else 0

    bucket.write(frame)

    assert_frame_equal(bucket.read(), frame)
    if store.proxy is not None:
        chunks = [r for r in store.proxy.requests[seen:] if CHUNKED_UPLOAD[store.name] in r]
        assert len(chunks) >= 2, store.proxy.requests[seen:]
    bucket.delete()


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_missing_object(store: StoreCase, layout: str) -> None:
    bucket = bucket_for(store, layout)

    for operation in (bucket.read, bucket.scan, bucket.delete, bucket.fingerprint):
        with pytest.raises(ObjectNotFoundError) as error:
            operation()
        assert bucket.get_uri() in str(error.value)
    assert not bucket.exists()


@pytest.fixture
def strict_local(tmp_path: Any) -> Any:
    """A local provider that does not create bucket directories."""
    from glacier.provider import Provider
    from glacier.settings import LocalConfig

    return Provider(config=LocalConfig(base_path=tmp_path / "strict", create_dirs=False))


@pytest.mark.parametrize("name", ["strict_local", "s3", "gcs", "azure"])
def test_missing_bucket(request: pytest.FixtureRequest, name: str) -> None:
    provider = request.getfixturevalue(name)
    bucket = provider.bucket("no-such-bucket-here", path="x.parquet")
    dataset = provider.bucket("no-such-bucket-here", path="x/")

    for operation in (bucket.read, lambda: bucket.write(DAYS), dataset.read, dataset.list):
        with pytest.raises(BucketNotFoundError) as error:
            operation()
        assert "'no-such-bucket-here' does not exist" in str(error.value)
    assert not bucket.exists() and not dataset.exists()


@pytest.mark.parametrize("path", ["../other/x.parquet", "a/../../b/", ".."])
def test_a_path_leaving_the_bucket_is_refused(store: StoreCase, path: str) -> None:
    with pytest.raises(ConfigError, match=r"leaves the bucket; give a path inside it"):
        store.bucket(path)


def test_unknown_format_fails_when_the_bucket_is_declared(store: StoreCase) -> None:
    with pytest.raises(UnknownFormatError) as error:
        store.bucket("sheet.xls", format="xls")

    assert "'xls'" in str(error.value)
    assert "parquet, csv, ndjson, json, xlsx" in str(error.value)
    with pytest.raises(ConfigError, match="partitionable format"):
        store.bucket("events/", format="json", partition_by=["day"])


@pytest.mark.parametrize("layout", LAYOUTS)
def test_bad_writes_are_refused_before_anything_is_written(store: StoreCase, layout: str) -> None:
    bucket = bucket_for(store, layout)
    bucket.write(DAYS)
    before = sorted(bucket.list())

    with pytest.raises(ConfigError, match=r"mode='upsert' is not a write mode; use 'overwrite'"):
        bucket.write(MORE_DAYS, mode="upsert")
    with pytest.raises(InvalidDataError, match=r"got builtins.dict; Bucket.write takes a polars"):
        bucket.write({"day": ["thu"], "n": [5]})
    with pytest.raises(InvalidDataError, match=r"column\(s\) \['o'\] hold Python objects"):
        bucket.write(
            pl.DataFrame({"day": ["x"], "o": [object()]}, schema_overrides={"o": pl.Object})
        )
    if layout == "partitioned":
        with pytest.raises(SchemaMismatchError, match=r"no column\(s\) \['day'\] to partition by"):
            bucket.write(pl.DataFrame({"n": [1]}))

    assert sorted(bucket.list()) == before
    assert_frame_equal(bucket.read().sort("n").select(DAYS.columns), DAYS)


def test_csv_refuses_nested_columns_and_keeps_the_old_data(store: StoreCase) -> None:
    bucket = store.bucket("tags.csv", format="csv")
    bucket.write(DAYS)
    with pytest.raises(
        InvalidDataError, match=r"csv cannot hold the nested column\(s\) \['tags'\]"
    ):
        bucket.write(pl.DataFrame({"tags": [["a", "b"]], "n": [1]}))
    assert_frame_equal(bucket.read(), DAYS)
    ndjson = store.bucket("tags.ndjson", format="ndjson")
    ndjson.write(pl.DataFrame({"tags": [["a", "b"]], "n": [1]}))
    assert ndjson.read()["tags"].to_list() == [["a", "b"]]


WRONG_AZURITE_KEY = "d3Jvbmcta2V5LWZvci1henVyaXRl" * 3  # well-formed base64, not the key


class FailingFileSystem:
    """An fsspec stand-in whose every operation raises a given error, for the errors no
    emulator produces: the GCS emulator checks no credentials, and none raises Glacier's own."""

    protocol = ("memory",)

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise self.error

        return fail


@pytest.fixture(params=["s3", "gcs", "azure"])
def denied_bucket(request: pytest.FixtureRequest, bucket_name: str) -> tuple[Any, str]:
    """A bucket whose store refuses every operation, and words of the store's refusal: moto
    checking credentials it does not know, Azurite given a wrong account key, and (the GCS
    emulator checks no credentials) a filesystem raising what gcsfs raises on a 403."""
    from dependency_injector import providers

    from glacier.provider import Provider
    from glacier.settings import AzureConfig

    if request.param == "s3":
        provider = request.getfixturevalue("s3")  # creates the bucket while moto lets it
        request.getfixturevalue("moto_checks_credentials")
        refusal = "PermissionError: "
    elif request.param == "azure":
        request.getfixturevalue("azure")
        port = request.getfixturevalue("azurite_server").port
        monkeypatch = request.getfixturevalue("monkeypatch")
        monkeypatch.setenv(
            "AZURE_STORAGE_CONNECTION_STRING", azurite_connection(port, WRONG_AZURITE_KEY)
        )
        provider = Provider(config=AzureConfig(storage_account="devstoreaccount1"))
        refusal = "Server failed to authenticate the request"
    else:
        provider = request.getfixturevalue("memory")
        forbidden = OSError("Forbidden: b/glacier/o/x\nanonymous caller")
        provider.cloud.filesystem.override(providers.Object(FailingFileSystem(forbidden)))
        refusal = "Forbidden: b/glacier/o/x"
    return provider.bucket(bucket_name, path="x.parquet"), refusal


def test_permission_denied(denied_bucket: tuple[Any, str]) -> None:
    bucket, refusal = denied_bucket

    for operation in (bucket.read, lambda: bucket.write(DAYS), bucket.list, bucket.delete):
        with pytest.raises(StoragePermissionError) as raised:
            operation()
        assert bucket.get_uri() in str(raised.value)
        assert ": permission denied (" in str(raised.value)
        assert refusal in str(raised.value)


def test_permission_denied_by_azurite(
    azure: Any, bucket_name: str, azurite_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glacier.provider import Provider
    from glacier.settings import AzureConfig

    monkeypatch.setenv(
        "AZURE_STORAGE_CONNECTION_STRING",
        azurite_connection(azurite_server.port, WRONG_AZURITE_KEY),
    )
    bucket = Provider(config=AzureConfig(storage_account="devstoreaccount1")).bucket(
        bucket_name, path="x.parquet"
    )

    with pytest.raises(StoragePermissionError, match="permission denied"):
        bucket.write(DAYS)


def test_connection_lost_mid_operation(s3: Any, bucket_name: str, moto_server: Any) -> None:
    from conftest import ByteCountingProxy
    from glacier.provider import Provider
    from glacier.settings import AwsConfig

    # A link of its own to moto: closing it is the endpoint going away after it answered
    # (so the up-front probe passes and the SDK's own error has to be translated).
    link = ByteCountingProxy(moto_server.target_port)
    provider = Provider(config=AwsConfig(region="us-east-1", endpoint_url=link.url))
    bucket = provider.bucket(bucket_name, path="x.parquet")
    bucket.write(DAYS)
    link.close()

    with pytest.raises(EndpointUnreachableError) as raised:
        bucket.read()
    assert bucket.get_uri() in str(raised.value)
    assert f"{link.url} did not answer" in str(raised.value)


def test_glacier_errors_raised_below_the_adapter_pass_through(memory: Any) -> None:
    from dependency_injector import providers

    error = StorageError("raised by a wrapping filesystem")
    memory.cloud.filesystem.override(providers.Object(FailingFileSystem(error)))
    bucket = memory.bucket("b", path="x.parquet")

    with pytest.raises(StorageError) as raised:
        bucket.read()
    assert raised.value is error


@pytest.mark.parametrize("kind", ["aws", "gcp", "azure"])
def test_unreachable_endpoint(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from glacier.provider import Provider
    from glacier.settings import AwsConfig, AzureConfig, GcpConfig

    closed = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite_connection(free_port()))
    config = {
        "aws": lambda: AwsConfig(region="us-east-1", endpoint_url=closed),
        "gcp": lambda: GcpConfig(project=GCP_PROJECT, endpoint_url=closed, anonymous=True),
        "azure": lambda: AzureConfig(storage_account="devstoreaccount1", endpoint_url=closed),
    }[kind]()
    bucket = Provider(config=config).bucket("unreachable", path="x.parquet")

    for operation in (bucket.read, lambda: bucket.write(DAYS), bucket.exists):
        with pytest.raises(EndpointUnreachableError) as raised:
            operation()
        assert closed in str(raised.value) and bucket.get_uri() in str(raised.value)
        # Refused by Glacier's one TCP connect before any SDK request: no SDK retry loop
        # with backoff ran (said by the error, not by a clock).
        assert "Nothing answers at" in str(raised.value)


# -- atomicity -----------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_failed_write_keeps_the_previous_version(store: StoreCase, layout: str) -> None:
    bucket = bucket_for(store, layout)
    bucket.write(DAYS)
    keys, listed = store.objects(), bucket.list()

    with pytest.raises(RuntimeError, match="boom"):
        bucket.write(slow_frame(batches=50, fail_after=20))

    assert_frame_equal(bucket.read().sort("n"), DAYS)
    assert bucket.list() == listed
    assert store.objects() == keys  # no temporary object or half-written version left behind


@pytest.mark.parametrize("layout", LAYOUTS)
def test_leftovers_of_crashed_writes_are_invisible_and_swept(store: StoreCase, layout: str) -> None:
    bucket = bucket_for(store, layout)
    bucket.write(DAYS)
    root, listed = bucket.adapter.root, bucket.list()
    junk = parquet_bytes(MORE_DAYS)
    stale_tmp = "_glacier/tmp/20000101T000000000000Z-deadbeef-days.parquet"
    fresh_tmp = f"_glacier/tmp/{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}000000Z-0-x.parquet"
    stale_version = "data/days/_glacier/v/20000101T000000000000Z-deadbeef/part-00000.parquet"
    for key in (stale_tmp, fresh_tmp, stale_version, "data/days.parquet.partial"):
        store.fs.makedirs(f"{root}/{key}".rsplit("/", 1)[0], exist_ok=True)
        store.fs.pipe_file(f"{root}/{key}", junk)

    assert bucket.list() == listed
    assert_frame_equal(bucket.read().sort("n"), DAYS)

    bucket.write(MORE_DAYS)

    keys = store.objects()
    assert fresh_tmp in keys
    # Stores that write temporary objects (local, memory) sweep old ones when they write one;
    # a table's writes stage nothing there (its commit log makes them atomic).
    swept = layout == "object" and bucket.adapter.store.renames
    assert (stale_tmp in keys) == (not swept)
    # Files a table's log does not name are invisible to every reader; vacuum removes them.
    assert stale_version in keys
    assert all("_glacier" not in k for k in bucket.list())
    assert_frame_equal(bucket.read().sort("n"), MORE_DAYS)


KILLED_WRITER = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    import polars as pl
    from polars.io.plugins import register_io_source
    from glacier.provider import Provider
    from glacier.settings import AwsConfig, AzureConfig, GcpConfig, LocalConfig

    spec = json.loads(sys.argv[1])
    kinds = {"local": LocalConfig, "aws": AwsConfig, "gcp": GcpConfig, "azure": AzureConfig}
    config = kinds[spec["kind"]].model_validate(spec["config"])
    bucket = Provider(config=config).bucket(spec["bucket"], spec["path"], **spec["kwargs"])

    def produce(*_):
        rng = np.random.default_rng(0)
        for i in range(100_000):  # never finishes: the test kills it
            yield pl.DataFrame({"day": f"d{i % 3}", "x": rng.random(1 << 17)})  # 1 MB
            print(f"batch {i}", flush=True)
            time.sleep(0.005)

    bucket.write(register_io_source(produce, schema={"day": pl.String, "x": pl.Float64}))
    print("finished", flush=True)
    """
)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("layout", ["object", "partitioned"])
@pytest.mark.parametrize("name", ["local", "s3", "gcs", "azure"])
def test_killed_write_keeps_the_previous_version(
    request: pytest.FixtureRequest, name: str, layout: str, tmp_path: Path
) -> None:
    store = make_store_case(request, name)
    path, kwargs = LAYOUTS[layout]
    bucket = store.bucket(path, **kwargs)
    old = pl.DataFrame({"day": ["d0", "d1"], "x": [0.5, 1.5]})
    bucket.write(old)
    listed, before = bucket.list(), set(store.objects())
    seen = len(store.proxy.requests) if store.proxy else 0
    config = store.provider.config
    spec = {
        "kind": config.kind,
        "config": config.model_dump(mode="json", exclude_defaults=True),
        "bucket": store.bucket_name,
        "path": path,
        "kwargs": kwargs,
    }

    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, json.dumps(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp_path)},  # its local spool dies with it here
    )
    try:
        assert child.stdout is not None
        for line in child.stdout:  # 80 MB handed to the writer: mid-upload on S3 and Azure
            if line.startswith("batch 80"):
                break
        else:
            pytest.fail(f"the writer stopped early: {child.stderr.read() if child.stderr else ''}")
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()

    assert child.returncode == -signal.SIGKILL
    assert bucket.list() == listed
    assert_frame_equal(bucket.read().sort("day"), old)
    leftovers = set(store.objects()) - before
    assert all(key.startswith("_glacier/") or "/_glacier/" in key for key in leftovers)
    # Proof the writer died mid-write (polars buffers partitioned sinks until the end).
    if layout == "object" and name == "local":
        assert leftovers  # the partial temporary file, hidden
    if layout == "object" and name != "local":  # the upload was streaming
        assert [r for r in store.proxy.requests[seen:] if CHUNKED_UPLOAD[name] in r]
    bucket.write(old.with_columns(day=pl.lit("d2")))  # the next write is not hindered
    assert bucket.read()["day"].to_list() == ["d2", "d2"]


# -- S3 multipart uploads ------------------------------------------------------------------

MIB = 2**20


def pending_uploads(store: StoreCase) -> list[str]:
    """Keys of the bucket's multipart uploads that were neither completed nor aborted."""
    listing = store.fs.call_s3("list_multipart_uploads", Bucket=store.bucket_name)
    return [upload["Key"] for upload in listing.get("Uploads", [])]


def count_part_uploads(store: StoreCase, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count how many ``upload_part`` calls of the store's filesystem run at once (``most``)
    and in all (``parts``). The first part stays in flight until a second one starts (an
    event, not a delay: on a busy machine a fixed delay may end before the next part
    starts); if parts went one at a time, the first would wait in vain and fail the write."""
    fs = store.fs
    call_s3 = fs._call_s3
    counts = {"now": 0, "most": 0, "parts": 0}
    second = asyncio.Event()  # a second part is in flight

    async def slow_parts(method: str, *args: Any, **kwargs: Any) -> Any:
        if method != "upload_part":
            return await call_s3(method, *args, **kwargs)
        counts["now"] += 1
        counts["parts"] += 1
        counts["most"] = max(counts["most"], counts["now"])
        if counts["now"] >= 2:
            second.set()
        try:
            if counts["parts"] == 1:
                await asyncio.wait_for(second.wait(), timeout=120)
            return await call_s3(method, *args, **kwargs)
        finally:
            counts["now"] -= 1

    monkeypatch.setattr(fs, "_call_s3", slow_parts)
    return counts


def test_s3_upload_sends_parts_concurrently_and_completes_at_close(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store_case(request, "s3")
    counts = count_part_uploads(store, monkeypatch)
    path = f"{store.bucket_name}/big.bin"
    data = np.random.default_rng(3).bytes(26 * MIB)
    upload = S3MultipartUpload(store.fs, path, part_size=5 * MIB, in_flight=2)

    for start in range(0, len(data), MIB + 7):  # writes that do not fall on part borders
        upload.write(data[start : start + MIB + 7])
    assert not store.fs.exists(path)  # parts uploaded so far are invisible
    upload.close()

    assert store.fs.cat_file(path) == data  # every part, in order
    assert counts["parts"] == 6  # five of 5 MiB (and a few bytes), then the rest
    assert counts["most"] == 2  # concurrent, and never more than in_flight
    assert pending_uploads(store) == []


def test_s3_small_upload_is_one_put(request: pytest.FixtureRequest) -> None:
    store = make_store_case(request, "s3")
    assert store.proxy is not None
    path = f"{store.bucket_name}/small.bin"
    seen = len(store.proxy.requests)

    with S3MultipartUpload(store.fs, path, part_size=5 * MIB) as upload:
        upload.write(b"tiny")

    assert store.fs.cat_file(path) == b"tiny"
    assert not [r for r in store.proxy.requests[seen:] if "uploadId" in r or "uploads" in r]


def test_s3_discarded_or_dropped_upload_never_completes(request: pytest.FixtureRequest) -> None:
    store = make_store_case(request, "s3")
    path = f"{store.bucket_name}/kept.bin"
    store.fs.pipe_file(path, b"previous")
    data = np.random.default_rng(4).bytes(12 * MIB)

    discarded = S3MultipartUpload(store.fs, path, part_size=5 * MIB)
    discarded.write(data)  # two parts on their way
    discarded.discard()
    with pytest.raises(ValueError, match="discarded"):
        discarded.close()
    with pytest.raises(ValueError, match="discarded"):
        discarded.write(b"more")
    assert pending_uploads(store) == []  # aborted

    dropped = S3MultipartUpload(store.fs, path, part_size=5 * MIB)
    dropped.write(data)
    del dropped  # an fsspec file would complete the upload here (its __del__ closes it)
    gc.collect()

    assert store.fs.cat_file(path) == b"previous"


def test_s3_failed_part_fails_the_write_and_aborts_the_upload(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store_case(request, "s3")
    bucket = store.bucket("big/data.parquet")
    bucket.write(DAYS)
    fs = store.fs
    call_s3 = fs._call_s3

    async def lose_part_two(method: str, *args: Any, **kwargs: Any) -> Any:
        if method == "upload_part" and kwargs["PartNumber"] == 2:
            raise OSError(errno.EIO, "part 2 lost")
        return await call_s3(method, *args, **kwargs)

    monkeypatch.setattr(fs, "_call_s3", lose_part_two)
    rng = np.random.default_rng(5)
    big = pl.DataFrame({"x": rng.random(8_000_000)})  # 64 MB: four parts of 16 MiB

    with pytest.raises(StorageError, match="part 2 lost"):
        bucket.write(big)

    assert_frame_equal(bucket.read(), DAYS)
    assert pending_uploads(store) == []


def test_s3_query_failing_mid_upload_aborts_it(request: pytest.FixtureRequest) -> None:
    store = make_store_case(request, "s3")
    assert store.proxy is not None
    bucket = store.bucket("big/data.parquet")
    bucket.write(DAYS)
    keys = store.objects()
    seen = len(store.proxy.requests)

    def produce(*_: Any) -> Iterator[pl.DataFrame]:
        rng = np.random.default_rng(6)
        for i in range(60):
            if i == 50:  # 50 MB handed to the writer: parts are uploaded
                raise RuntimeError("boom: the upstream query failed")
            yield pl.DataFrame({"day": "d", "n": rng.integers(0, 1 << 62, 1 << 17)})

    with pytest.raises(RuntimeError, match="boom"):
        bucket.write(register_io_source(produce, schema={"day": pl.String, "n": pl.Int64}))

    assert [r for r in store.proxy.requests[seen:] if CHUNKED_UPLOAD["s3"] in r]
    assert_frame_equal(bucket.read(), DAYS)
    assert store.objects() == keys
    assert pending_uploads(store) == []


def test_spools_of_killed_processes_are_removed(
    memory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process killed while spooling data locally leaves its spool; the next one removes
    it once its owner is gone."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    orphan = tmp_path / f"glacier-spool-{gone.stdout.strip()}-abc"
    mine = tmp_path / f"glacier-spool-{os.getpid()}-def"
    for spool in (orphan, mine):
        (spool / "day=mon").mkdir(parents=True)
        (spool / "day=mon" / "00000000.parquet").write_bytes(b"partial")

    memory.bucket("b", "days/", partition_by=["day"]).write(DAYS)  # spools: memory is not native

    assert not orphan.exists()
    assert mine.exists()


# -- streaming writes ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["parquet", "csv", "ndjson", "json"])
@pytest.mark.parametrize("directory", [False, True], ids=["object", "directory"])
def test_lazyframe_write_runs_the_query_once(store: StoreCase, fmt: str, directory: bool) -> None:
    calls: list[int] = []
    bucket = store.bucket("stream/" if directory else f"stream.{fmt}", format=fmt)

    bucket.write(slow_frame(batches=5, calls=calls))

    assert len(calls) == 1
    assert bucket.read().height == 5 * DAYS.height

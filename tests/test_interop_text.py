"""Text-format dataset directories (csv, ndjson, json) as other engines see them.

Glacier writes a directory of csv/ndjson so that an engine that knows nothing of Glacier —
``pyarrow.dataset`` with hive partitioning, ``pyarrow.csv`` or ``pandas`` over the files a
``dir/**/*.csv`` glob finds (what DuckDB's ``read_csv`` reads) — reads exactly Glacier's
rows after any sequence of overwrites and appends (layout: ``glacier.adapters.manifest``).
DuckDB itself is not installed in the project's environment; the glob it would expand is
what the pandas and pyarrow.csv readers here are given.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.dataset as pa_ds
import pyarrow.json as pa_json
import pytest
from polars.testing import assert_frame_equal

from conftest import StoreCase, make_store_case
from glacier.adapters.manifest import LEGACY_FORMAT, Manifest, data_file_name, new_version

EXTENSIONS = {"csv": ".csv", "ndjson": ".ndjson", "json": ".json"}

FIRST = pl.DataFrame({"day": ["mon", "tue", "tue"], "id": [1, 2, 3], "x": [1.5, 2.5, 3.5]})
SECOND = pl.DataFrame({"day": ["tue", "wed"], "id": [10, 11], "x": [10.5, 11.5]})
THIRD = pl.DataFrame({"day": ["wed", "thu", "mon"], "id": [20, 21, 22], "x": [20.5, 21.5, 0.5]})


def _store(request: pytest.FixtureRequest, name: str) -> StoreCase:
    return make_store_case(request, name)


def _files(store: StoreCase, prefix: str, extension: str) -> list[str]:
    """What a glob ``<prefix>**/*<extension>`` finds: every matching key, hidden ones too."""
    return [k for k in store.objects() if k.startswith(prefix) and k.endswith(extension)]


def _hive(key: str) -> dict[str, str]:
    return dict(segment.split("=", 1) for segment in key.split("/")[:-1] if "=" in segment)


def _pandas_rows(store: StoreCase, prefix: str, fmt: str) -> pd.DataFrame:
    """pandas over the glob's files, hive values taken from the path (as DuckDB does)."""
    frames = []
    for key in _files(store, prefix, EXTENSIONS[fmt]):
        data = store.fs.cat_file(f"{store.bucket().adapter.root}/{key}")
        if fmt == "csv":
            frame = pd.read_csv(io.BytesIO(data))
        else:
            frame = pd.read_json(io.BytesIO(data), lines=fmt == "ndjson")
        frames.append(frame.assign(**_hive(key)))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _pyarrow_file_rows(store: StoreCase, prefix: str, fmt: str) -> pa.Table:
    """pyarrow.csv / pyarrow.json over the glob's files, hive values from the path."""
    tables = []
    for key in _files(store, prefix, EXTENSIONS[fmt]):
        data = io.BytesIO(store.fs.cat_file(f"{store.bucket().adapter.root}/{key}"))
        table = pa_csv.read_csv(data) if fmt == "csv" else pa_json.read_json(data)
        for column, value in _hive(key).items():
            table = table.append_column(column, pa.array([value] * table.num_rows))
        tables.append(table)
    return pa.concat_tables(tables)


def _pyarrow_dataset_rows(store: StoreCase, prefix: str, fmt: str) -> pa.Table:
    """pyarrow.dataset over the directory, through the store's own fsspec filesystem."""
    root = store.bucket().adapter.root
    dataset = pa_ds.dataset(
        f"{root}/{prefix}".rstrip("/"),
        filesystem=store.fs,
        format="csv" if fmt == "csv" else "json",
        partitioning="hive",
    )
    return dataset.to_table()


def _same_rows(frame: pl.DataFrame, expected: pl.DataFrame) -> None:
    columns = list(expected.columns)
    got = frame.select(columns).with_columns(pl.col("day").cast(pl.String)).sort("id")
    assert_frame_equal(got, expected.sort("id"), check_dtypes=False)


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
@pytest.mark.parametrize("partitioned", [False, True], ids=["plain", "partitioned"])
@pytest.mark.parametrize("name", ["local", "memory", "s3"])
def test_other_engines_read_exactly_glaciers_rows_after_overwrites_and_appends(
    request: pytest.FixtureRequest, name: str, fmt: str, partitioned: bool
) -> None:
    store = _store(request, name)
    kwargs: dict[str, Any] = {"format": fmt}
    if partitioned:
        kwargs["partition_by"] = ["day"]
    bucket = store.bucket("events/", **kwargs)

    bucket.write(FIRST)
    bucket.write(SECOND)  # supersedes FIRST
    bucket.write(THIRD, mode="append")
    expected = pl.concat([SECOND, THIRD])

    _same_rows(bucket.read(), expected)
    _same_rows(pl.from_pandas(_pandas_rows(store, "events/", fmt)), expected)
    _same_rows(pl.from_arrow(_pyarrow_file_rows(store, "events/", fmt)), expected)  # type: ignore[arg-type]
    _same_rows(pl.from_arrow(_pyarrow_dataset_rows(store, "events/", fmt)), expected)  # type: ignore[arg-type]
    data_files = _files(store, "events/", EXTENSIONS[fmt])
    assert sorted(data_files) == sorted(bucket.list())  # nothing superseded left to misread
    assert all(not part.startswith(("_", ".")) for k in data_files for part in k.split("/"))
    if partitioned:
        assert {k.split("/")[1] for k in data_files} == {"day=tue", "day=wed", "day=thu", "day=mon"}
        # Hive convention: the partition value is in the path, not in the file.
        assert all("day" not in _pandas_header(store, k, fmt) for k in data_files)

    bucket.write(FIRST)  # an overwrite after appends leaves FIRST alone
    _same_rows(pl.from_arrow(_pyarrow_dataset_rows(store, "events/", fmt)), FIRST)  # type: ignore[arg-type]
    _same_rows(bucket.read(), FIRST)


def _pandas_header(store: StoreCase, key: str, fmt: str) -> list[str]:
    data = store.fs.cat_file(f"{store.bucket().adapter.root}/{key}")
    if fmt == "csv":
        return list(pd.read_csv(io.BytesIO(data), nrows=1).columns)
    return list(pd.read_json(io.BytesIO(data), lines=True).columns)


def test_a_partition_predicate_reads_the_partitions_values(store: StoreCase) -> None:
    bucket = store.bucket("events/", format="csv", partition_by=["day"])
    bucket.write(pl.concat([FIRST, SECOND]))

    tuesday = bucket.scan().filter(pl.col("day") == "tue").collect()

    assert sorted(tuesday["id"].to_list()) == [2, 3, 10]
    assert bucket.read().columns == ["day", "id", "x"]  # the order the data was written in


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_a_directory_partitioned_by_a_boolean_reads_back(store: StoreCase, fmt: str) -> None:
    """polars names the partitions flag=true and flag=false; reading them back cast those
    names to Boolean, which polars refuses (it failed for csv: "casting from Utf8View to
    Boolean not supported")."""
    bucket = store.bucket("flags/", format=fmt, partition_by=["flag"])
    rows = pl.DataFrame({"id": [1, 2, 3, 4], "flag": [True, False, True, None]})
    bucket.write(rows)

    assert sorted(_hive(k)["flag"] for k in _files(store, "flags/", EXTENSIONS[fmt])) == [
        "__HIVE_DEFAULT_PARTITION__",
        "false",
        "true",
    ]
    assert_frame_equal(bucket.read(), rows, check_row_order=False)
    kept = bucket.scan().filter(pl.col("flag")).collect()
    assert sorted(kept["id"].to_list()) == [1, 3]


def test_a_json_directory_keeps_one_visible_file_per_write(store: StoreCase) -> None:
    bucket = store.bucket("docs/", format="json")
    bucket.write(FIRST)
    bucket.write(SECOND, mode="append")
    bucket.write(THIRD)

    _same_rows(bucket.read(), THIRD)
    keys = _files(store, "docs/", ".json")
    assert keys == bucket.list() and len(keys) == 1
    _same_rows(pl.from_pandas(_pandas_rows(store, "docs/", "json")), THIRD)


# -- failures and leftovers ------------------------------------------------------------------


def _failing_frame() -> pl.LazyFrame:
    from polars.io.plugins import register_io_source

    def produce(*_: Any) -> Any:
        for i in range(20):
            if i == 5:
                raise RuntimeError("boom: the upstream query failed")
            yield FIRST.with_columns(pl.col("id") + 100 * i)

    return register_io_source(produce, schema=FIRST.schema)


@pytest.mark.parametrize("partitioned", [False, True], ids=["plain", "partitioned"])
@pytest.mark.parametrize("name", ["local", "memory", "s3"])
def test_a_failed_write_leaves_no_file_another_engine_would_read(
    request: pytest.FixtureRequest, name: str, partitioned: bool
) -> None:
    store = _store(request, name)
    kwargs: dict[str, Any] = {"format": "csv"}
    if partitioned:
        kwargs["partition_by"] = ["day"]
    bucket = store.bucket("events/", **kwargs)
    bucket.write(FIRST)
    before = _files(store, "events/", ".csv")

    with pytest.raises(RuntimeError, match="boom"):
        bucket.write(_failing_frame())

    assert _files(store, "events/", ".csv") == before
    _same_rows(bucket.read(), FIRST)


def test_orphans_of_dead_writers_go_with_the_next_write_and_live_ones_stay(
    store: StoreCase,
) -> None:
    bucket = store.bucket("events/", format="csv")
    bucket.write(FIRST)
    root = bucket.adapter.root
    live_version = new_version()  # <stamp>-<random>-w<host>.<this pid>
    dead_version = f"{live_version.rsplit('.', 1)[0]}.{_dead_pid()}"
    dead = f"events/{data_file_name(dead_version, 0, '.csv')}"
    live = f"events/{data_file_name(live_version, 0, '.csv')}"
    for key in (dead, live):
        store.fs.pipe_file(f"{root}/{key}", b"day,id,x\nmon,99,9.5\n")

    _same_rows(bucket.read(), FIRST)  # Glacier reads through the manifest: no orphan
    bucket.write(SECOND, mode="append")

    keys = store.objects()
    assert dead not in keys  # a killed writer's file: its process is gone
    assert live in keys  # could be a write in flight in this process: kept (VERSION_GRACE)
    _same_rows(bucket.read(), pl.concat([FIRST, SECOND]))


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    import polars as pl
    from polars.io.plugins import register_io_source
    from glacier.provider import Provider
    from glacier.settings import LocalConfig

    bucket = Provider(config=LocalConfig(base_path=sys.argv[1])).bucket(
        "lake", "events/", format="csv"
    )

    def produce(*_):
        for i in range(1_000_000):  # never finishes: the test kills it
            yield pl.DataFrame({"day": ["mon"] * 5000, "id": range(5000), "x": [0.5] * 5000})
            print(f"batch {i}", flush=True)
            time.sleep(0.002)

    schema = {"day": pl.String, "id": pl.Int64, "x": pl.Float64}
    bucket.write(register_io_source(produce, schema=schema))
    """
)


@pytest.mark.timeout(120)
def test_a_killed_writer_leaves_only_hidden_files_and_the_next_write_removes_them(
    tmp_path: Path,
) -> None:
    from glacier.provider import Provider
    from glacier.settings import LocalConfig

    base = tmp_path / "data"
    bucket = Provider(config=LocalConfig(base_path=str(base))).bucket(
        "lake", "events/", format="csv"
    )
    bucket.write(FIRST)
    listed = bucket.list()
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(base)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("batch 200"):
                break
        else:
            pytest.fail(f"the writer stopped early: {child.stderr.read() if child.stderr else ''}")
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL

    lake = base / "lake"
    files = sorted(p.relative_to(lake).as_posix() for p in lake.rglob("*") if p.is_file())
    staged = [f for f in files if "/_glacier/staging/" in f"/{f}"]
    assert staged and os.path.getsize(lake / staged[0]) > 0  # it died mid-write
    visible = [f for f in files if f.endswith(".csv") and "_glacier" not in f]
    assert visible == listed  # another engine's glob finds the old version only
    assert bucket.list() == listed
    _same_rows(bucket.read(), FIRST)

    bucket.write(SECOND)

    files = sorted(p.relative_to(lake).as_posix() for p in lake.rglob("*") if p.is_file())
    assert files == sorted([*bucket.list(), "events/_glacier/manifest.json"])
    _same_rows(pl.read_csv(lake / bucket.list()[0]), SECOND)


# -- the old _glacier/v layout -----------------------------------------------------------------


def _legacy_dataset(store: StoreCase, path: str, frame: pl.DataFrame, fmt: str = "csv") -> str:
    """A dataset as earlier releases wrote it: files under ``_glacier/v/``."""
    root = store.bucket().adapter.root
    version = "20250101T000000000000Z-0"
    key = f"{path}_glacier/v/{version}/part-00000{EXTENSIONS[fmt]}"
    store.fs.makedirs(posixpath.dirname(f"{root}/{key}"), exist_ok=True)
    data = frame.write_csv() if fmt == "csv" else frame.write_json()
    store.fs.pipe_file(f"{root}/{key}", data.encode())
    manifest = Manifest(version, fmt, (), (key,), (), frame.schema, spec=LEGACY_FORMAT)
    store.fs.pipe_file(f"{root}/{path}_glacier/manifest.json", manifest.to_json())
    raw = json.loads(store.fs.cat_file(f"{root}/{path}_glacier/manifest.json"))
    assert raw["format"] == "glacier-dataset/1"
    return key


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_the_old_layout_is_read_and_the_next_append_moves_it_into_view(
    store: StoreCase, fmt: str
) -> None:
    legacy = _legacy_dataset(store, "events/", FIRST, fmt)
    bucket = store.bucket("events/", format=fmt)
    extension = EXTENSIONS[fmt]

    _same_rows(bucket.read(), FIRST)
    assert legacy in _files(store, "events/", extension)  # what other engines misread

    bucket.write(SECOND, mode="append")

    expected = pl.concat([FIRST, SECOND])
    _same_rows(bucket.read(), expected)
    assert legacy not in store.objects()
    # No manifest a json glob would read either: only the data files match.
    assert sorted(_files(store, "events/", extension)) == sorted(bucket.list())
    _same_rows(pl.from_pandas(_pandas_rows(store, "events/", fmt)), expected)


def test_convert_rewrites_an_old_text_dataset_in_view(store: StoreCase) -> None:
    legacy = _legacy_dataset(store, "events/", FIRST)
    bucket = store.bucket("events/", format="csv")

    assert bucket.convert() is True

    assert legacy not in store.objects()
    assert not [k for k in store.objects() if "/_glacier/v/" in k]
    _same_rows(bucket.read(), FIRST)
    _same_rows(pl.from_arrow(_pyarrow_dataset_rows(store, "events/", "csv")), FIRST)  # type: ignore[arg-type]
    assert bucket.convert() is False  # already in the current layout


def test_a_read_that_an_overwrite_overtakes_reads_the_new_version(
    store: StoreCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glacier.adapters.bucket import FsspecBucketAdapter

    bucket = store.bucket("events/", format="csv", partition_by=["day"])
    bucket.write(FIRST)
    original = FsspecBucketAdapter._snapshot
    overtaken: list[bool] = []

    def snapshot_then_overwrite(self: Any, **kwargs: Any) -> Any:
        seen = original(self, **kwargs)
        if not overtaken:  # the read has its list of files; an overwrite commits now
            overtaken.append(True)
            store.bucket("events/", format="csv", partition_by=["day"]).write(SECOND)
        return seen

    monkeypatch.setattr(FsspecBucketAdapter, "_snapshot", snapshot_then_overwrite)

    _same_rows(bucket.read(), SECOND)  # the old files are gone: the new version, whole
    assert overtaken == [True]

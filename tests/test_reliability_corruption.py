"""Corrupt state is healed or named, never fatal in a raw form (issue 17, item 5).

A truncated cache entry is discarded and recomputed; a truncated manifest, Delta log entry
or data file is a CorruptDataError naming the file and the repair (and an overwrite still
works); a run store whose file or rows are damaged is skipped with a warning.
"""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from glacier import Dataset, Pipeline
from glacier.cache import CacheEntryWarning
from glacier.errors import CorruptDataError
from glacier.provider import Provider
from glacier.result import RunResult, TaskRun
from glacier.runstore import RunRecordWarning, RunStore
from glacier.settings import LocalConfig
from glacier.testing import local_environment


def _truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


@pytest.fixture
def provider(tmp_path: Path) -> Provider:
    return Provider(config=LocalConfig(base_path=tmp_path / "data"))


# -- the task cache --------------------------------------------------------------------------


@pytest.mark.parametrize("output", ["lazy", "frame", "value"])
def test_a_truncated_cache_entry_is_discarded_and_recomputed(tmp_path: Path, output: str) -> None:
    env = local_environment(tmp_path)
    calls: list[int] = []

    def build() -> Pipeline:
        pipeline = Pipeline("cached", env=env)
        out = Dataset("out")

        @pipeline.task(cache=True)
        def compute() -> out:
            calls.append(1)
            frame = pl.DataFrame({"v": list(range(1000))})
            if output == "lazy":
                return frame.lazy()
            return frame if output == "frame" else frame["v"].to_list()

        return pipeline

    first = build().run()
    entries = [p for p in (tmp_path / ".glacier" / "cache").rglob("0000.*")]
    assert len(entries) == 1
    _truncate(entries[0])
    with pytest.warns(CacheEntryWarning, match=r"task 'compute'.*removed.*runs again"):
        second = build().run()
    assert calls == [1, 1]  # recomputed, not failed
    assert second.tasks["compute"].cached is False
    expected, got = first["out"], second["out"]
    if isinstance(expected, pl.LazyFrame):
        expected, got = expected.collect(), got.collect()
    if isinstance(expected, pl.DataFrame):
        assert_frame_equal(got, expected)
    else:
        assert got == expected
    third = build().run()  # the recomputed entry was stored again, whole
    assert third.tasks["compute"].cached is True and calls == [1, 1]


# -- manifests, Delta logs, data files -------------------------------------------------------


def test_a_truncated_manifest_is_named_and_an_overwrite_repairs_it(
    provider: Provider, tmp_path: Path
) -> None:
    bucket = provider.bucket("lake", "events/", format="csv")
    bucket.write(pl.DataFrame({"x": [1, 2]}))
    manifest = tmp_path / "data" / "lake" / "events" / "_glacier" / "manifest.json"
    _truncate(manifest)
    with pytest.raises(CorruptDataError) as caught:
        bucket.read()
    message = str(caught.value)
    assert "events/_glacier/manifest.json" in message and "mode='overwrite'" in message
    with pytest.raises(CorruptDataError):
        bucket.write(pl.DataFrame({"x": [3]}), mode="append")  # appending to what? refused
    assert bucket.exists()
    bucket.write(pl.DataFrame({"x": [7]}), mode="overwrite")
    assert bucket.read()["x"].to_list() == [7]
    bucket.delete()
    assert not bucket.exists()


def test_a_corrupt_manifest_can_be_deleted(provider: Provider, tmp_path: Path) -> None:
    bucket = provider.bucket("lake", "events/", format="json")
    bucket.write(pl.DataFrame({"x": [1]}))
    (tmp_path / "data" / "lake" / "events" / "_glacier" / "manifest.json").write_text("")
    bucket.delete()
    assert not bucket.exists()


def test_a_truncated_delta_log_entry_is_named_and_an_overwrite_repairs_it(
    provider: Provider, tmp_path: Path
) -> None:
    bucket = provider.bucket("lake", "t/")
    bucket.write(pl.DataFrame({"x": [1]}))
    bucket.write(pl.DataFrame({"x": [2]}), mode="append")
    table = tmp_path / "data" / "lake" / "t"
    _truncate(table / "_delta_log" / "00000000000000000001.json")
    for action in (bucket.read, lambda: bucket.write(pl.DataFrame({"x": [3]}), mode="append")):
        with pytest.raises(CorruptDataError) as caught:
            action()
        message = str(caught.value)
        assert "t/_delta_log/00000000000000000001.json" in message
        assert "mode='overwrite'" in message and "delete that commit file" in message
    bucket.write(pl.DataFrame({"x": [9, 8]}), mode="overwrite")
    assert sorted(bucket.read()["x"].to_list()) == [8, 9]
    # The old table's data files went with it: only the new version's file is left.
    data_files = [p for p in table.rglob("*.parquet")]
    assert len(data_files) == 1
    bucket.write(pl.DataFrame({"x": [7]}), mode="append")  # a healthy table again
    assert sorted(bucket.read()["x"].to_list()) == [7, 8, 9]


def test_a_truncated_parquet_object_is_named(provider: Provider, tmp_path: Path) -> None:
    bucket = provider.bucket("lake", "sales.parquet")
    bucket.write(pl.DataFrame({"x": list(range(1000))}))
    _truncate(tmp_path / "data" / "lake" / "sales.parquet")
    with pytest.raises(CorruptDataError) as caught:
        bucket.read()
    assert "lake/sales.parquet is corrupt" in str(caught.value)
    assert "mode='overwrite'" in str(caught.value)
    bucket.write(pl.DataFrame({"x": [1]}))
    assert bucket.read()["x"].to_list() == [1]


def test_a_truncated_data_file_of_a_table_is_named(provider: Provider, tmp_path: Path) -> None:
    bucket = provider.bucket("lake", "t/", partition_by=["k"])
    bucket.write(pl.DataFrame({"k": ["a", "b"], "x": [1, 2]}))
    broken = next((tmp_path / "data" / "lake" / "t").glob("k=b/*.parquet"))
    _truncate(broken)
    with pytest.raises(CorruptDataError) as caught:
        bucket.read()
    assert f"k=b/{broken.name} is corrupt" in str(caught.value)


@pytest.mark.parametrize("layout", ["object", "table", "partitioned table"])
@pytest.mark.parametrize("name", ["local", "memory"])
def test_a_scan_over_a_truncated_data_file_is_refused_naming_it(
    request: pytest.FixtureRequest, name: str, layout: str
) -> None:
    """scan() is lazy: the data files' footers are checked when it is built, so a truncated
    file is a CorruptDataError naming it, not polars' ComputeError at collect time."""
    from conftest import make_store_case

    store = make_store_case(request, name)
    path = "sales.parquet" if layout == "object" else "t/"
    partition_by = ["k"] if layout == "partitioned table" else []
    bucket = store.bucket(path, partition_by=partition_by)
    bucket.write(pl.DataFrame({"k": ["a", "b"], "x": list(range(2))}))
    keys = bucket.list()
    victim = store.bucket().adapter._path(keys[-1])
    data = store.fs.cat_file(victim)
    store.fs.pipe_file(victim, data[: len(data) // 2])
    with pytest.raises(CorruptDataError) as caught:
        bucket.scan()
    message = str(caught.value)
    assert f"{keys[-1]} is corrupt" in message and "mode='overwrite'" in message
    bucket.write(pl.DataFrame({"k": ["c"], "x": [9]}))  # the repair the message names
    assert bucket.scan().collect()["x"].to_list() == [9]


@pytest.mark.parametrize("name", ["s3", "gcs", "azure"])
def test_a_scan_over_a_truncated_object_on_an_object_store_is_refused_naming_it(
    request: pytest.FixtureRequest, name: str
) -> None:
    """On object stores the footer of a single-object dataset is checked when the scan is
    built, after an overwrite in place too (the listing cache must not answer its size)."""
    from conftest import make_store_case

    store = make_store_case(request, name)
    bucket = store.bucket("sales.parquet")
    bucket.write(pl.DataFrame({"x": list(range(10))}))
    assert bucket.scan().collect()["x"].to_list() == list(range(10))
    bucket.write(pl.DataFrame({"x": list(range(5000))}))  # a larger object, same key
    assert bucket.scan().collect().height == 5000
    victim = store.bucket().adapter._path("sales.parquet")
    data = store.fs.cat_file(victim)
    store.fs.pipe_file(victim, data[: len(data) // 2])
    with pytest.raises(CorruptDataError) as caught:
        bucket.scan()
    assert "sales.parquet is corrupt" in str(caught.value)
    bucket.write(pl.DataFrame({"x": [9]}))  # the repair the message names
    assert bucket.scan().collect()["x"].to_list() == [9]


def test_a_scan_of_healthy_files_collects_as_before(provider: Provider) -> None:
    bucket = provider.bucket("lake", "t/")
    for n in range(3):
        bucket.write(pl.DataFrame({"x": [n]}), mode="append")
    assert sorted(bucket.scan().collect()["x"].to_list()) == [0, 1, 2]
    assert bucket.scan(version=0).collect()["x"].to_list() == [0]


# -- the run store ---------------------------------------------------------------------------


def _result(run_id: str, pipeline: str = "etl") -> RunResult:
    run = TaskRun("t", status="succeeded", attempts=1, started_ns=1, duration_ns=1)
    return RunResult(pipeline, run_id, tasks={"t": run}, clock_ns=0)


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage"])
def test_a_damaged_run_store_file_is_skipped_then_replaced(tmp_path: Path, damage: str) -> None:
    store = RunStore(tmp_path / "runs")
    for i in range(50):
        store.record(_result(f"r{i}"))
    store._conn.close()  # type: ignore[union-attr]
    path = store.path
    for extra in ("-wal", "-shm"):
        Path(f"{path}{extra}").unlink(missing_ok=True)
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "truncated":
        _truncate(path, 0.4)
    else:
        path.write_bytes(b"\x00garbage" * 512)
    fresh = RunStore(tmp_path / "runs")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        listed = fresh.list()
        with pytest.raises(Exception) as missing:
            fresh.load("r1")
        fresh.record(_result("after"))
        after = fresh.list()
    # Whatever could still be read is listed; the damage never raises a raw sqlite3 error.
    assert all(r["run_id"].startswith("r") for r in listed)
    assert type(missing.value).__name__ == "UnknownRunError" or damage == "truncated"
    assert "after" in [r["run_id"] for r in after]
    if damage != "empty":  # an empty file is a valid, empty database
        assert any(w.category is RunRecordWarning for w in caught)


def test_resume_last_skips_an_empty_record(tmp_path: Path) -> None:
    env = local_environment(tmp_path)
    pipeline = Pipeline("sturdy", env=env)
    out = Dataset("out", storage=str(tmp_path / "out.parquet"))

    @pipeline.task()
    def make() -> out:
        return pl.DataFrame({"x": [1]})

    good = pipeline.run()
    store = env.container.run_store()
    with sqlite3.connect(store.path) as conn:
        conn.execute("INSERT INTO runs VALUES ('empty', 'sturdy', 9e99, 0, 'failed', 1, '')")
        conn.execute("INSERT INTO runs VALUES ('list', 'sturdy', 9e99, 0, 'failed', 1, '[]')")
    with pytest.warns(RunRecordWarning, match="'empty' is corrupt"):
        resumed = pipeline.run(resume="last")
    assert resumed.ok and resumed.tasks["make"].resumed
    assert store.last("sturdy")["run_id"] in (good.run_id, resumed.run_id)  # type: ignore[index]

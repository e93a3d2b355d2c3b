"""Row counts per dataset written (issue 29): every run records, for each dataset it wrote,
the rows of that write, counted without reading the data again; ``glacier runs show``
(text and ``--json``), the UI and lineage show them; a run store of an earlier version,
whose records have none, still opens."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from cli.commands import invoke
from glacier import Dataset, Environment, Pipeline
from glacier.runstore import DATABASE, RunStore
from glacier.settings import GlacierSettings, LocalConfig
from glacier.ui.model import dataset_history, run_data

SOURCE = pl.DataFrame({"id": list(range(10)), "amount": [float(i) for i in range(10)]})


def environment(tmp_path: Path) -> Environment:
    settings = GlacierSettings(
        env="dev",
        provider=LocalConfig(base_path=tmp_path / "data"),
        state_dir=tmp_path / "state",
        databases={"warehouse": {"url": f"sqlite:///{tmp_path}/warehouse.db"}},
    )
    return Environment.from_settings(settings)


def build(env: Environment, evaluations: list[int]) -> Pipeline:
    """One task per kind of output: eager and lazy objects, Delta append and merge, csv (an
    object and a directory), a database table, in-memory frames (eager and lazy)."""
    pipeline = Pipeline("rows", env=env)
    bucket = env.provider.bucket

    def lake(name: str, path: str, **options: Any) -> Dataset:
        return Dataset(name, storage=bucket("lake", path=path), **options)

    raw = lake("raw", "raw.parquet")
    lazy = lake("lazy", "lazy.parquet")
    appended = lake("appended", "appended/", write={"mode": "append"})
    merged = lake("merged", "merged/", write={"mode": "merge", "on": ["id"]})
    text = Dataset("text", storage=bucket("lake", path="text.csv", format="csv"))
    text_dir = Dataset("text_dir", storage=bucket("lake", path="text_dir/", format="csv"))
    table = Dataset("table", storage=env.get("warehouse").table("orders"))
    eager_memory = Dataset("eager_memory")
    lazy_memory = Dataset("lazy_memory")

    def counted(batch: pl.Series) -> pl.Series:
        evaluations.append(len(batch))
        return batch

    @pipeline.task()
    def extract() -> raw:
        return SOURCE  # eager: 10 rows

    @pipeline.task()
    def large(data: raw) -> lazy:
        # Lazy: 7 rows, computed once however it is counted (the UDF records each pass).
        return data.filter(pl.col("id") >= 3).with_columns(
            pl.col("id").map_batches(counted, return_dtype=pl.Int64)
        )

    @pipeline.task()
    def history(data: lazy) -> appended:
        return data.filter(pl.col("id") >= 5)  # 5 rows appended per run

    @pipeline.task()
    def upsert(data: raw) -> merged:
        # 4 rows: on the second run 2 update and 2 insert.
        return data.filter(pl.col("id") >= 6).with_columns(pl.col("amount") * 2)

    @pipeline.task()
    def export(data: lazy) -> text:
        return data.head(4)

    @pipeline.task()
    def export_dir(data: lazy) -> text_dir:
        return data.tail(2)

    @pipeline.task()
    def load(data: raw) -> table:
        return data.filter(pl.col("id") < 6)  # 6 rows into the database

    @pipeline.task()
    def sample(data: raw) -> eager_memory:
        return data.collect().head(3)

    @pipeline.task()
    def plan(data: raw) -> lazy_memory:
        return data.head(1)  # lazy and in memory: not computed only to be counted

    return pipeline


EXPECTED = {
    "raw": 10,
    "lazy": 7,
    "appended": 5,
    "merged": 4,
    "text": 4,
    "text_dir": 2,
    "table": 6,
    "eager_memory": 3,
}


def test_a_run_records_the_rows_it_wrote_per_dataset(tmp_path: Path) -> None:
    env = environment(tmp_path)
    evaluations: list[int] = []
    pipeline = build(env, evaluations)
    first = pipeline.run()
    assert first.ok, first.failure_report()
    assert first.dataset_rows == EXPECTED
    assert evaluations == [7]  # the lazy output was computed once: counted as it was written

    second = pipeline.run()  # appends 5 more, merges 2 updates and 2 inserts
    assert second.dataset_rows == EXPECTED
    assert pl.read_delta(str(tmp_path / "data" / "lake" / "appended")).height == 10
    assert pl.read_delta(str(tmp_path / "data" / "lake" / "merged")).height == 4

    store = env.container.run_store()
    record = store.load(second.run_id)
    assert record["dataset_rows"] == EXPECTED

    code, out, _ = invoke("runs", "show", second.run_id, "--state-dir", str(tmp_path / "state"))
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert "7 rows" in lines["lazy"] and "10 rows" in lines["raw"]
    assert "(in memory)" in lines["eager_memory"] and "3 rows" in lines["eager_memory"]
    assert "lazy_memory" not in lines
    code, out, _ = invoke(
        "runs", "show", second.run_id, "--json", "--state-dir", str(tmp_path / "state")
    )
    assert code == 0 and json.loads(out)["dataset_rows"] == EXPECTED

    page = run_data(record)
    assert {d["name"]: d["rows"] for d in page["datasets"]}["merged"] == 4
    versions = dataset_history(store, "rows")
    assert [v["rows"] for v in versions["appended"]] == [5, 5]


def test_a_run_store_of_an_earlier_version_opens_and_takes_new_records(tmp_path: Path) -> None:
    # The store as versions before row counts wrote it: the same table, records without
    # dataset_rows.
    runs = tmp_path / "state" / "runs"
    runs.mkdir(parents=True)
    body = {
        "task_columns": {"name": ["extract"], "status": "succeeded", "attempts": 1},
        "dataset_versions": {"raw": "v1"},
        "dataset_uris": {"raw": "file:///lake/raw.parquet"},
    }
    conn = sqlite3.connect(runs / DATABASE)
    conn.execute(
        "CREATE TABLE runs (run_id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, started REAL "
        "NOT NULL, duration REAL NOT NULL, status TEXT NOT NULL, tasks INTEGER NOT NULL, "
        "record TEXT NOT NULL)"
    )
    conn.execute(
        "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)",
        ("old-run", "rows", 1.0, 0.5, "succeeded", 1, json.dumps(body)),
    )
    conn.commit()
    conn.close()

    store = RunStore(runs)
    old = store.load("old-run")
    assert old["dataset_versions"] == {"raw": "v1"} and "dataset_rows" not in old
    code, out, _ = invoke("runs", "show", "old-run", "--state-dir", str(tmp_path / "state"))
    assert code == 0 and "raw" in out and "rows" not in out.split("datasets written:")[1]
    code, out, _ = invoke(
        "runs", "show", "old-run", "--json", "--state-dir", str(tmp_path / "state")
    )
    assert code == 0 and json.loads(out)["dataset_rows"] == {}
    assert run_data(old)["datasets"][0]["rows"] is None

    env = environment(tmp_path)
    new = build(env, []).run()
    assert new.ok
    assert [r["run_id"] for r in store.list()] == ["old-run", new.run_id]
    assert store.load(new.run_id)["dataset_rows"] == EXPECTED


@pytest.mark.parametrize("how", ["eager", "lazy"])
def test_a_failed_write_records_no_rows_for_it(tmp_path: Path, how: str) -> None:
    env = environment(tmp_path)
    pipeline = Pipeline("broken", env=env)
    out = Dataset("out", storage=env.provider.bucket("lake", path="out.csv", format="csv"))

    @pipeline.task()
    def nested() -> out:
        frame = pl.DataFrame({"x": [[1, 2]]})  # csv cannot hold a list column
        return frame if how == "eager" else frame.lazy()

    result = pipeline.run(raise_on_failure=False)
    assert not result.ok and result.dataset_rows == {}
    assert "dataset_rows" not in env.container.run_store().load(result.run_id)


@pytest.mark.parametrize(
    ("path", "options"),
    [
        ("counts/object.parquet", {}),
        ("counts/object.csv", {}),
        ("counts/text/", {"format": "ndjson"}),
        ("counts/table/", {}),
        ("counts/parts/", {"format": "csv", "partition_by": ["even"]}),
    ],
    ids=["parquet-object", "csv-object", "ndjson-directory", "delta-table", "csv-partitioned"],
)
def test_a_lazy_write_reports_its_rows_on_every_store(
    store: Any, path: str, options: dict[str, Any]
) -> None:
    bucket = store.bucket(path, **options)
    frame = (
        pl.LazyFrame({"id": list(range(50)), "v": ["x"] * 50})
        .filter(pl.col("id") % 3 == 0)
        .with_columns(even=pl.col("id") % 2)
    )
    assert bucket.write(frame) == 17
    appended = "append" if path.endswith("/") else "overwrite"
    assert bucket.write(frame.head(5), mode=appended) == 5  # the rows of this write
    assert bucket.read().height == (22 if appended == "append" else 5)
    eager = frame.collect()
    assert bucket.write(eager) == eager.height  # eager: its height

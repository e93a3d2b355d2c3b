"""A task's outputs land together or not at all where the stores allow (issue 31.5): every
output is checked before any is written, database tables are written last (one transaction
each), and when a store fails after another output landed, the error and the run record name
what was left written."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from glacier import Database, Dataset, Environment, Pipeline
from glacier.errors import ColumnTypeError, OutputsPartlyWrittenError, ReadOnlyError
from glacier.runstore import RunStore
from glacier.settings import GlacierSettings

ROWS = pl.DataFrame({"id": [1, 2], "amount": [1.0, 2.0]})
NEW = pl.DataFrame({"id": [3, 4], "amount": [3.0, 4.0]})


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Environment:
    monkeypatch.chdir(tmp_path)  # a dataset's storage path is relative to the working directory
    settings = GlacierSettings(
        state_dir=tmp_path / "state",
        provider={"kind": "local", "base_path": str(tmp_path / "data")},
        databases={"notes": {"url": f"sqlite:///{tmp_path}/notes.db"}},
    )
    return Environment.from_settings(settings)


@pytest.fixture
def notes(env: Environment) -> Database:
    db = env.get("notes")
    assert isinstance(db, Database)
    db.table("orders").write(ROWS, mode="append")
    return db


def two_outputs(first: Dataset, second: Dataset, values: tuple[object, object]) -> Pipeline:
    pipeline = Pipeline("both")

    @pipeline.task()
    def make() -> tuple[first, second]:  # type: ignore[valid-type]
        return values

    return pipeline


def test_a_blocked_second_output_leaves_the_table_as_it_was(
    env: Environment, notes: Database, tmp_path: Path
) -> None:
    # The trials' case: (table, blocked); the blocked path is a file where a directory goes.
    (tmp_path / "blocked").write_text("a file, not a directory")
    table = Dataset("orders", storage=notes.table("orders"), write={"mode": "append"})
    blocked = Dataset("blocked", storage="blocked/out.parquet")
    result = two_outputs(table, blocked, (NEW, NEW)).run(env=env, raise_on_failure=False)
    assert not result.ok
    assert sorted(notes.table("orders").read()["id"].to_list()) == [1, 2]


@pytest.mark.parametrize("table_first", [True, False])
def test_a_bad_table_output_is_refused_before_the_other_is_written(
    env: Environment, notes: Database, tmp_path: Path, table_first: bool
) -> None:
    table = Dataset("orders", storage=notes.table("orders"), write={"mode": "append"})
    side = Dataset("side", storage="side.parquet")
    bad = NEW.with_columns(pl.col("amount").cast(pl.String))
    pipeline = (
        two_outputs(table, side, (bad, NEW))
        if table_first
        else two_outputs(side, table, (NEW, bad))
    )
    result = pipeline.run(env=env, raise_on_failure=False)
    assert isinstance(result.tasks["make"].error, ColumnTypeError)
    assert not (tmp_path / "side.parquet").exists()
    assert sorted(notes.table("orders").read()["id"].to_list()) == [1, 2]


def test_a_read_only_output_is_refused_before_any_is_written(
    env: Environment, notes: Database
) -> None:
    table = Dataset("orders", storage=notes.table("orders"), write={"mode": "append"})
    frozen = Dataset("frozen", storage="frozen.parquet", read_only=True)
    result = two_outputs(table, frozen, (NEW, NEW)).run(env=env, raise_on_failure=False)
    assert isinstance(result.tasks["make"].error, ReadOnlyError)
    assert sorted(notes.table("orders").read()["id"].to_list()) == [1, 2]


def test_a_table_refusing_at_commit_names_the_output_left_written(
    env: Environment, notes: Database, tmp_path: Path
) -> None:
    # A CHECK constraint only the database knows: the file landed first and stays; the error
    # and the run record say so.
    notes.execute("CREATE TABLE strict_orders (id INTEGER, amount REAL CHECK (amount < 0))")
    table = Dataset("strict", storage=notes.table("strict_orders"), write={"mode": "append"})
    side = Dataset("side", storage="side.parquet")
    result = two_outputs(table, side, (NEW, NEW)).run(env=env, raise_on_failure=False)
    error = result.tasks["make"].error
    assert isinstance(error, OutputsPartlyWrittenError)
    assert error.written == ("side",) and error.failed == "strict"
    assert (tmp_path / "side.parquet").exists()
    assert notes.table("strict_orders").read().height == 0
    record = RunStore(tmp_path / "state" / "runs").load(result.run_id)
    assert "left written: ['side']" in record["tasks"]["make"]["error"]
    # The output left written keeps its row count; the refused one has none.
    assert record["dataset_rows"] == {"side": NEW.height}


def test_a_cached_task_whose_output_was_not_written_runs_again(
    env: Environment, tmp_path: Path
) -> None:
    # The cache keeps a result only once its outputs landed: else the next run would take
    # the cached result and never write the output.
    (tmp_path / "blocked").write_text("a file, not a directory")
    out = Dataset("out", storage="blocked/out.parquet")
    pipeline = Pipeline("cached")
    calls: list[int] = []

    @pipeline.task(cache=True)
    def make() -> out:  # type: ignore[valid-type]
        calls.append(1)
        return NEW

    assert not pipeline.run(env=env, raise_on_failure=False).ok
    (tmp_path / "blocked").unlink()
    result = pipeline.run(env=env, raise_on_failure=False)
    assert result.ok and not result.tasks["make"].cached and len(calls) == 2
    assert pl.read_parquet(tmp_path / "blocked" / "out.parquet").height == 2

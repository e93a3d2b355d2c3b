"""The run store's encoding of task records: what is stored reads back unchanged."""

from __future__ import annotations

from pathlib import Path

from glacier.result import RunResult, TaskRun
from glacier.runstore import RunStore


def _result(run_id: str, names: list[str]) -> RunResult:
    tasks = {
        name: TaskRun(
            name,
            status="succeeded" if i % 3 else "skipped",
            attempts=1 if i % 3 else 0,
            started_ns=None if i % 3 == 0 else 1_000 + i,
            duration_ns=7 * i,
            cached=i == 1,
            error=ValueError("bad row") if i == 2 else None,
            logs=[{"message": "hi"}] if i == 4 else None,
        )
        for i, name in enumerate(names)
    }
    return RunResult("etl", run_id, tasks=tasks, clock_ns=100)


def test_a_record_reads_back_task_by_task_whatever_its_columns_hold(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    result = _result("r1", [f"t{i}" for i in range(7)])

    store.record(result)

    record = store.load("r1")["tasks"]
    assert list(record) == [f"t{i}" for i in range(7)]
    for name, run in result.tasks.items():
        assert record[name] == run.as_dict(100)
    assert record["t0"]["offset_ns"] is None and record["t5"]["offset_ns"] == 905
    assert record["t1"]["cached"] is True and record["t4"]["logs"] == [{"message": "hi"}]


def test_each_pipeline_records_its_own_task_names(tmp_path: Path) -> None:
    # The store encodes a pipeline's names once and reuses them: a different pipeline (or
    # the same names in another order) must not get the cached ones.
    store = RunStore(tmp_path)
    store.record(_result("a", ["x", "y", "z"]))
    store.record(_result("b", ["z", "y", "x"]))
    store.record(_result("c", ["p", "q"]))

    assert list(store.load("a")["tasks"]) == ["x", "y", "z"]
    assert list(store.load("b")["tasks"]) == ["z", "y", "x"]
    assert list(store.load("c")["tasks"]) == ["p", "q"]

"""The DAG's builds pause the cyclic garbage collector, and only while they build."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from glacier import Dataset, Pipeline
from glacier.dag import DAG, collector_paused
from glacier.errors import MissingInputError


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def _chain(n: int) -> Pipeline:
    pipeline = Pipeline("chain")
    previous = Dataset("d0")

    @pipeline.task(name="t0")
    def first() -> previous:  # type: ignore[valid-type]
        return 0

    for i in range(1, n):
        out = Dataset(f"d{i}")

        def step(x: int) -> int:
            return x

        step.__annotations__ = {"x": previous, "return": out}
        pipeline.task(name=f"t{i}")(step)
        previous = out
    return pipeline


def test_a_build_runs_with_the_collector_paused_and_restores_it(collector_on: None) -> None:
    seen: list[bool] = []

    @collector_paused
    def probe() -> None:
        seen.append(gc.isenabled())

    probe()
    assert seen == [False]
    assert gc.isenabled()


def test_the_collector_comes_back_when_a_build_fails(collector_on: None) -> None:
    pipeline = Pipeline("broken")
    missing = Dataset("missing")
    out = Dataset("out")

    @pipeline.task()
    def consume(x: missing) -> out:  # type: ignore[valid-type]
        return x

    with pytest.raises(MissingInputError):
        pipeline.validate()
    assert gc.isenabled()


def test_a_collector_the_user_switched_off_stays_off() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        dag = DAG.build(_chain(3).tasks.values())
        dag.selection(None)
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


def test_a_run_after_the_build_has_the_collector_on(collector_on: None) -> None:
    states: list[bool] = []
    pipeline = Pipeline("observed")
    out = Dataset("out")

    @pipeline.task()
    def look() -> out:  # type: ignore[valid-type]
        states.append(gc.isenabled())
        return 1

    assert pipeline.run()["out"] == 1
    assert states == [True]
    assert len(_chain(50).validate().dag) == 50

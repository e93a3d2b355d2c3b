"""The run context: executors, eager data-flow runs and deployed tasks run through it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier import Dataset, Environment, Pipeline
from glacier.cache import TaskCache
from glacier.context import RunContext
from glacier.errors import ConfigError
from glacier.executors.local import LocalExecutor
from glacier.infra.runtime import DeployedContext, run_task
from glacier.node import Node
from glacier.result import RunResult, new_run_id
from glacier.settings import TaskConfig
from glacier.task import Task


class _Minimal:
    """A run context that is not an environment: defaults, no resources, no storage."""

    name = "minimal"

    def __init__(self, directory: Path) -> None:
        self.recorded: list[RunResult] = []
        self.cache = TaskCache(directory)

    def task_config(self, task: Task) -> TaskConfig:
        return TaskConfig(retries=1)

    def resolve_resources(self, task: Task, given: Sequence[str] = ()) -> dict[str, Any]:
        return {}

    def buckets_for(self, datasets: Iterable[Dataset]) -> dict[Dataset, Any]:
        return {}

    def record_run(self, result: RunResult, versions: dict[str, str]) -> None:
        self.recorded.append(result)


def test_an_environment_is_a_run_context(tmp_path: Path) -> None:
    assert isinstance(Environment.local(tmp_path), RunContext)


def test_executors_need_only_a_run_context(tmp_path: Path) -> None:
    context = _Minimal(tmp_path)
    assert isinstance(context, RunContext)
    pipeline = Pipeline("ctx")
    a, b = Dataset("a"), Dataset("b")
    calls: list[int] = []

    @pipeline.task()
    def make() -> a:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first attempt fails")
        return 20

    @pipeline.task()
    def add(x: a) -> b:
        return x + 1

    result = LocalExecutor().execute(pipeline, env=context)
    assert result["b"] == 21
    assert result.tasks["make"].attempts == 2  # the context's retries=1
    assert context.recorded == [result]


def test_one_run_id_function() -> None:
    first, second = new_run_id(), new_run_id()
    assert re.fullmatch(r"\d{8}T\d{6}-[0-9a-f]{8}", first)
    assert first != second


def test_eager_calls_run_through_the_shared_task_path(tmp_path: Path) -> None:
    env = Environment.local(tmp_path / "data", state_dir=tmp_path / "state")
    attempts: list[int] = []
    seen: list[str] = []

    class Hook:
        def on_task_end(self, run: Any) -> None:
            seen.append(f"{run.name}:{run.status}:{run.attempts}")

    @env.task(retries=2)
    def flaky(n: int) -> int:
        attempts.append(n)
        if len(attempts) < 3:
            raise RuntimeError("not yet")
        return n * 2

    @env.task(cache=True)
    def double(n: int) -> int:
        return n * 2

    @env.pipeline()
    def flow() -> int:
        return double(flaky(5))  # type: ignore[no-any-return]

    result = flow.run(hooks=[Hook()])
    assert result.output == 20
    assert seen == ["flaky:succeeded:3", "double:succeeded:1"]
    again = flow.run()
    assert again.tasks["double"].cached is True


def test_a_traced_call_is_a_node_of_its_task(tmp_path: Path) -> None:
    env = Environment.local(tmp_path)

    @env.task()
    def inc(n: int) -> int:
        return n + 1

    @env.pipeline()
    def twice() -> int:
        return inc(inc(1))  # type: ignore[no-any-return]

    graph = twice.trace()
    nodes = list(graph.tasks.values())
    assert [n.name for n in nodes] == ["inc", "inc_2"]
    assert all(isinstance(n, Node) and n.task is inc for n in nodes)
    assert nodes[0].params == {"n": 1}
    assert [ds.name for ds in nodes[1].input_datasets] == ["inc"]
    assert isinstance(inc, Task)  # a TypedTask (the signature kept for type checkers)


PIPELINE = """
import polars as pl
from glacier import Dataset, Environment, Pipeline

env = Environment.local({data!r}, name="dev")
pipeline = Pipeline("deployed", env=env)
raw = Dataset("raw")
clean = Dataset("clean")

@pipeline.task()
def extract() -> raw:
    return pl.DataFrame({{"v": [1, -2, 3]}})

@pipeline.task(retries=1)
def transform(data: raw) -> clean:
    return data.filter(pl.col("v") > 0)
"""


def test_a_deployed_task_runs_through_a_run_context(tmp_path: Path) -> None:
    file = tmp_path / "deployed_pipeline.py"
    file.write_text(PIPELINE.format(data=str(tmp_path / "data")))
    artifacts = {
        "raw": str(tmp_path / "artifacts" / "lake" / "raw"),
        "clean": str(tmp_path / "artifacts" / "lake" / "clean"),
    }
    first = run_task(f"{file}:pipeline", "extract", run_id="r1", artifacts=artifacts)
    assert first["written"] == ["raw"]
    second = run_task(f"{file}:pipeline", "transform", run_id="r1", artifacts=artifacts)
    assert second["read"] == ["raw"] and second["written"] == ["clean"]
    out = pl.read_parquet(tmp_path / "artifacts" / "lake" / "clean" / "r1.parquet")
    assert out["v"].to_list() == [1, 3]
    assert json.dumps(second)  # what the handler returns is JSON


def test_the_deployed_context_is_a_run_context(tmp_path: Path) -> None:
    env = Environment.local(tmp_path)
    context = DeployedContext(env, {"raw": str(tmp_path / "a" / "b" / "raw")}, "r1", "t")
    assert isinstance(context, RunContext)
    raw, stored = Dataset("raw"), Dataset("kept", storage=str(tmp_path / "x" / "k.parquet"))
    buckets = context.buckets_for([raw, stored, Dataset("elsewhere")])
    assert set(buckets) == {raw, stored}
    assert buckets[raw].get_uri().endswith("raw/r1.parquet")
    with pytest.raises(Exception, match="GLACIER_ARTIFACTS"):
        context.require(Dataset("missing"))


def test_an_executor_without_the_runs_context_says_how_to_give_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the local default environment lives under ./.glacier
    pipeline = Pipeline("bare")
    out = Dataset("out")

    @pipeline.task()
    def make() -> out:
        return 1

    with pytest.raises(ConfigError, match=r"LocalExecutor.*'bare'.*pass env="):
        LocalExecutor().execute(pipeline)
    # The runner gives the pipeline's environment (its own, else the local default).
    assert pipeline.run()["out"] == 1


def test_an_executor_is_handed_the_runs_options_as_one_record(tmp_path: Path) -> None:
    from glacier.run_options import RunOptions

    env = Environment.local(tmp_path / "data", state_dir=tmp_path / "state")
    pipeline = Pipeline("handed", env=env)
    out = Dataset("out")

    @pipeline.task()
    def make(n: int = 1) -> out:
        return n

    handed: list[Any] = []

    class Recording:
        def execute(self, pipeline: Pipeline, options: RunOptions) -> Any:
            handed.append(options)
            return LocalExecutor().execute(pipeline, options)

    result = pipeline.run(executor=Recording(), params={"make.n": 3}, use_cache=False)
    assert result["out"] == 3
    (options,) = handed
    assert isinstance(options, RunOptions)
    assert (options.env, dict(options.params or {}), options.use_cache) == (
        env,
        {"make.n": 3},
        False,
    )
    with pytest.raises(ConfigError, match=r"Unknown run option\(s\) \['colour'\]"):
        LocalExecutor().execute(pipeline, env=env, colour="blue")

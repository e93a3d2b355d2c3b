"""The pipeline core: DAG inference, validation errors, and local execution."""

from __future__ import annotations

import inspect
import json
import re
import sqlite3
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier import Dataset, Environment, LocalExecutor, Pipeline
from glacier.errors import (
    ConfigError,
    CycleError,
    DuplicateProducerError,
    DuplicateTaskError,
    GlacierError,
    InvalidAnnotationError,
    MissingInputError,
    PipelineDefinitionError,
    PipelineRunError,
    TaskTimeoutError,
    UnknownTaskError,
)
from glacier.result import RunResult, TaskRun
from glacier.runstore import RunRecordWarning, RunStore

HERE = Path(__file__).name


@pytest.fixture
def env(glacier_env: Environment) -> Environment:
    """The plugin's local environment in ``tmp_path`` (``glacier_env``), by a shorter name."""
    return glacier_env


def test_annotations_build_the_dag_and_run(env: Environment) -> None:
    pipeline = Pipeline("etl", env=env)
    raw, clean = Dataset("raw"), Dataset("clean")

    @pipeline.task()
    def extract() -> raw:
        return pl.DataFrame({"amount": [5, -1, 7]})

    @pipeline.task()
    def transform(data: raw) -> clean:
        return data.filter(pl.col("amount") > 0)

    assert pipeline.dag.edges() == [("extract", "transform", "raw")]
    result = pipeline.run()
    assert result["clean"]["amount"].to_list() == [5, 7]
    assert result[clean].height == 2
    assert result.tasks["transform"].status == "succeeded"
    assert result.tasks["transform"].attempts == 1
    assert result.tasks["transform"].duration >= 0


def test_postponed_annotations_and_tuple_outputs(env: Environment) -> None:
    from helpers_future import build

    pipeline = build()
    result = pipeline.run(env=env)
    assert result["train"]["x"].to_list() == [0, 2]
    assert result["test"]["x"].to_list() == [1, 3]
    assert result.outputs_by_task["split"][0]["x"].to_list() == [0, 2]


def test_run_params_override_defaults(env: Environment) -> None:
    from helpers_future import build

    result = build().run(env=env, params={"extract.rows": 6})
    assert result["test"]["x"].to_list() == [1, 3, 5]
    with pytest.raises(UnknownTaskError, match=r"task 'extract' .* has no parameter 'nope'"):
        build().run(env=env, params={"extract.nope": 1})
    with pytest.raises(UnknownTaskError, match=r"names task 'missing'"):
        build().run(env=env, params={"missing.rows": 1})


def test_lazyframes_pass_between_tasks_unmaterialised(env: Environment) -> None:
    pipeline = Pipeline("lazy", env=env)
    a, b = Dataset("a"), Dataset("b")
    seen: list[type] = []

    @pipeline.task()
    def make() -> a:
        return pl.LazyFrame({"v": [1, 2, 3]})

    @pipeline.task()
    def double(x: a) -> b:
        seen.append(type(x))
        return x.with_columns(pl.col("v") * 2)

    result = pipeline.run()
    assert seen == [pl.LazyFrame]
    assert isinstance(result["b"], pl.LazyFrame)
    assert result["b"].collect()["v"].to_list() == [2, 4, 6]


def test_stored_dataset_is_written_once_and_read_lazily(env: Environment, tmp_path: Path) -> None:
    pipeline = Pipeline("stored", env=env)
    target = tmp_path / "out" / "clean.parquet"
    raw = Dataset("raw")
    clean = Dataset("clean", storage=str(target))
    got: list[type] = []

    @pipeline.task()
    def extract() -> raw:
        return pl.DataFrame({"v": [1, 2]})

    @pipeline.task()
    def transform(data: raw) -> clean:
        return data.lazy().with_columns(w=pl.col("v") + 1)

    @pipeline.task()
    def report(data: clean) -> None:
        got.append(type(data))

    pipeline.run()
    assert pl.read_parquet(target)["w"].to_list() == [2, 3]
    assert got == [pl.LazyFrame]


def test_only_what_targets_need_runs(env: Environment) -> None:
    pipeline = Pipeline("targets", env=env)
    a, b, c = Dataset("a"), Dataset("b"), Dataset("c")
    ran: list[str] = []

    @pipeline.task()
    def first() -> a:
        ran.append("first")
        return 1

    @pipeline.task()
    def second(x: a) -> b:
        ran.append("second")
        return x + 1

    @pipeline.task()
    def other() -> c:
        ran.append("other")
        return 0

    result = pipeline.run(targets=["second"])
    assert sorted(ran) == ["first", "second"]
    assert set(result.tasks) == {"first", "second"}
    with pytest.raises(UnknownTaskError, match="neither a task nor a produced dataset"):
        pipeline.run(targets=["nope"])


def test_retries_with_backoff(env: Environment) -> None:
    pipeline = Pipeline("retry", env=env)
    out = Dataset("out")
    calls: list[float] = []

    @pipeline.task(retries=3, retry_delay=0.01, backoff=2.0)
    def flaky() -> out:
        calls.append(time.perf_counter())
        if len(calls) < 3:
            raise ConnectionError("transient")
        return "ok"

    result = pipeline.run()
    assert result["out"] == "ok"
    assert result.tasks["flaky"].attempts == 3
    assert len(calls) == 3


def test_retries_exhausted_reports_attempts_and_chain(env: Environment) -> None:
    pipeline = Pipeline("fail", env=env)
    out = Dataset("out")

    @pipeline.task(retries=1)
    def broken() -> out:
        try:
            raise KeyError("inner")
        except KeyError as exc:
            raise RuntimeError("outer") from exc

    with pytest.raises(PipelineRunError) as info:
        pipeline.run()
    msg = str(info.value)
    assert "broken" in msg and "after 2 attempt(s)" in msg
    assert "RuntimeError: outer" in msg and "KeyError: 'inner'" in msg
    assert info.value.result.tasks["broken"].status == "failed"  # type: ignore[attr-defined]


def test_timeout(env: Environment) -> None:
    pipeline = Pipeline("slow", env=env)
    out = Dataset("out")
    release = threading.Event()

    @pipeline.task(timeout=0.05)
    def slow() -> out:
        release.wait(5)
        return 1

    result = pipeline.run(raise_on_failure=False)
    release.set()
    err = result.tasks["slow"].error
    assert isinstance(err, TaskTimeoutError)
    assert "exceeded its timeout of 0.05s" in str(err)
    assert result.tasks["slow"].status == "failed"


def _counting_pipeline(env: Environment, source_version: int, counter: list[str]) -> Pipeline:
    pipeline = Pipeline("cached", env=env)
    raw, out = Dataset("raw"), Dataset("out")

    @pipeline.task()
    def extract(n: int = 3) -> raw:
        return pl.DataFrame({"v": list(range(n))})

    if source_version == 1:

        @pipeline.task(cache=True)
        def expensive(data: raw) -> out:
            counter.append("v1")
            return data.with_columns(w=pl.col("v") * 10)

    else:

        @pipeline.task(cache=True)
        def expensive(data: raw) -> out:
            counter.append("v2")
            return data.with_columns(w=pl.col("v") * 100)

    return pipeline


def test_cache_skips_reruns_and_invalidates(env: Environment) -> None:
    calls: list[str] = []
    first = _counting_pipeline(env, 1, calls).run()
    assert first.tasks["expensive"].cached is False
    second = _counting_pipeline(env, 1, calls).run()
    assert second.tasks["expensive"].cached is True
    assert calls == ["v1"]
    assert second["out"]["w"].to_list() == [0, 10, 20]

    changed_source = _counting_pipeline(env, 2, calls).run()
    assert changed_source.tasks["expensive"].cached is False
    assert changed_source["out"]["w"].to_list() == [0, 100, 200]

    changed_input = _counting_pipeline(env, 2, calls).run(params={"extract.n": 4})
    assert changed_input.tasks["expensive"].cached is False
    assert calls == ["v1", "v2", "v2"]
    no_cache = _counting_pipeline(env, 2, calls).run(use_cache=False)
    assert no_cache.tasks["expensive"].cached is False


def test_independent_tasks_overlap_in_time(env: Environment) -> None:
    pipeline = Pipeline("parallel", env=env)
    a, b = Dataset("a"), Dataset("b")
    # Each task waits for the other: they can only both pass if they run at the same time.
    barrier = threading.Barrier(2, timeout=10)

    @pipeline.task()
    def left() -> a:
        barrier.wait()
        return threading.get_ident()

    @pipeline.task()
    def right() -> b:
        barrier.wait()
        return threading.get_ident()

    result = pipeline.run(executor=LocalExecutor(max_workers=2))
    assert result["a"] != result["b"]
    assert result.ok


def _fan_out(env: Environment, width: int, body: Any) -> Pipeline:
    """``root -> part0..part{width-1} -> total``: each part calls ``body(i, root)``."""
    pipeline = Pipeline("fan", env=env)
    root, total = Dataset("root"), Dataset("total")
    parts = [Dataset(f"p{i}") for i in range(width)]

    @pipeline.task()
    def start() -> root:
        return 1

    for i, ds in enumerate(parts):

        def part(x: Any, i: int = i) -> Any:
            return body(i, x)

        part.__annotations__ = {"x": root, "i": int, "return": ds}
        pipeline.task(name=f"part{i}")(part)

    def add(**values: Any) -> Any:
        return sum(values.values())

    add.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(f"v{i}", inspect.Parameter.KEYWORD_ONLY) for i in range(width)]
    )
    add.__annotations__ = {**{f"v{i}": ds for i, ds in enumerate(parts)}, "return": total}
    pipeline.task(name="add")(add)
    return pipeline


def test_slow_independent_tasks_get_threads_and_dependencies_hold(env: Environment) -> None:
    lock = threading.Lock()
    running = [0]
    peak = [0]
    threads: set[int] = set()
    # Two parts meet before either finishes: they pass only when they run at once, so the
    # parallelism asserted below never depends on how fast the machine is.
    meet = threading.Barrier(2, timeout=60)

    def slow(i: int, x: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            threads.add(threading.get_ident())
        if i < 2:
            meet.wait()
        with lock:
            running[0] -= 1
        return i + x

    result = _fan_out(env, 8, slow).run(executor=LocalExecutor(max_workers=4))

    assert result.ok
    assert result["total"] == sum(range(8)) + 8  # the join ran after every part
    assert 2 <= peak[0] <= 4  # parallel, and never more threads than max_workers
    assert len(threads) > 1


def test_one_worker_runs_everything_on_the_calling_thread(env: Environment) -> None:
    def where(i: int, x: int) -> int:
        time.sleep(0.005)  # slow enough that more workers would start
        return threading.get_ident()

    result = _fan_out(env, 5, where).run(executor=LocalExecutor(max_workers=1))
    assert {result[f"p{i}"] for i in range(5)} == {threading.get_ident()}


def test_failure_after_the_switch_to_threads_skips_only_its_dependants(env: Environment) -> None:
    caller = threading.get_ident()
    switched = threading.Event()  # a part ran on a worker thread: the run is parallel

    def body(i: int, x: int) -> int:
        # The calling thread's part waits for the switch (its wait is what makes the run
        # slow enough to switch); a worker's part is proof of it.
        if threading.get_ident() == caller:
            assert switched.wait(timeout=60), "the run never switched to threads"
        else:
            switched.set()
        if i == 3:
            raise ValueError("part 3 is broken")
        return i

    result = _fan_out(env, 6, body).run(
        executor=LocalExecutor(max_workers=3), raise_on_failure=False
    )

    assert [t.name for t in result.failed] == ["part3"]
    assert [t.name for t in result.skipped] == ["add"]
    assert all(result.tasks[f"part{i}"].ok for i in (0, 1, 2, 4, 5))


def test_without_a_gil_runs_start_in_parallel_mode(
    env: Environment, monkeypatch: pytest.MonkeyPatch
) -> None:
    import glacier.executors.local as local

    monkeypatch.setattr(local, "_GIL", False)
    barrier = threading.Barrier(3, timeout=10)

    def body(i: int, x: int) -> int:
        if i < 3:
            barrier.wait()  # three parts at once, from the start
        return i * x

    result = _fan_out(env, 6, body).run(executor=LocalExecutor(max_workers=3))
    assert result.ok and result["total"] == sum(range(6))


def test_the_overseer_starts_afresh_after_a_fork(env: Environment) -> None:
    # What a forked child inherits: the lock possibly held by a thread that does not exist
    # there, and a dead thread. (Forking the test process itself is not safe: gRPC, loaded
    # by the Pulumi tests, does not survive forks with its threads running.)
    from glacier.executors import local

    overseer = local._OVERSEER
    assert overseer.lock.acquire(timeout=5)
    overseer.reset()  # what os.register_at_fork runs in a child

    def meet(barrier: threading.Barrier) -> Any:
        def body(i: int, x: int) -> int:
            barrier.wait()  # passes only when both parts run at once: the overseer works
            return i

        return body

    result = _fan_out(env, 2, meet(threading.Barrier(2, timeout=10))).run()
    assert result.ok and result["total"] == 1


def test_an_interrupt_in_a_task_stops_the_run(env: Environment) -> None:
    def body(i: int, x: int) -> int:
        if i == 0:
            raise KeyboardInterrupt
        time.sleep(0.01)
        return i

    with pytest.raises(KeyboardInterrupt):
        _fan_out(env, 4, body).run(executor=LocalExecutor(max_workers=4))


@pytest.mark.parametrize("workers", [0, -2])
def test_local_executor_refuses_fewer_than_one_thread(workers: int) -> None:
    with pytest.raises(ConfigError, match=rf"max_workers={workers} is invalid: use 1 or more"):
        LocalExecutor(max_workers=workers)


def test_dask_executor_refuses_fewer_than_one_worker() -> None:
    from glacier.executors.dask import DaskExecutor

    with pytest.raises(ConfigError, match="n_workers=0 is invalid"):
        DaskExecutor(n_workers=0)


def test_failure_stops_dependants_but_independent_branches_finish(env: Environment) -> None:
    pipeline = Pipeline("branches", env=env)
    a, b, c, d = Dataset("a"), Dataset("b"), Dataset("c"), Dataset("d")

    @pipeline.task()
    def bad() -> a:
        raise ValueError("no data")

    @pipeline.task()
    def after_bad(x: a) -> b:
        return x

    @pipeline.task()
    def good() -> c:
        return 1

    @pipeline.task()
    def after_good(x: c) -> d:
        return x + 1

    result = pipeline.run(raise_on_failure=False)
    assert result.tasks["bad"].status == "failed"
    assert result.tasks["after_bad"].status == "skipped"
    assert result.tasks["after_good"].status == "succeeded"
    assert result["d"] == 2
    assert [t.name for t in result.failed] == ["bad"]
    report = result.failure_report()
    assert "ValueError: no data" in report and "skipped because an upstream task failed" in report


def test_one_target_may_be_given_alone_and_params_must_be_a_mapping(env: Environment) -> None:
    pipeline = Pipeline("single", env=env)
    a, b = Dataset("a"), Dataset("b")

    @pipeline.task()
    def first() -> a:
        return 1

    @pipeline.task()
    def second(x: a) -> b:
        return x + 1

    assert list(pipeline.run(targets="first").tasks) == ["first"]  # not 'f', 'i', ...
    assert list(pipeline.run(targets=a).tasks) == ["first"]
    assert list(pipeline.run(targets=second).tasks) == ["first", "second"]
    with pytest.raises(ConfigError, match=r"Run params are a mapping of 'task.param' to value"):
        pipeline.run(params=[("first.n", 1)])  # type: ignore[arg-type]


def test_run_is_recorded(env: Environment) -> None:
    pipeline = Pipeline("recorded", env=env)
    out = Dataset("out")

    @pipeline.task()
    def make() -> out:
        return 1

    result = pipeline.run()
    store = env.container.run_store()
    record = store.load(result.run_id)
    assert record["pipeline"] == "recorded"
    assert record["tasks"]["make"]["status"] == "succeeded"
    # One SQLite file under the state directory; a field with one value for every task is
    # stored once, not as a list of it.
    assert store.path == env.container.state_dir() / "runs" / "runs.sqlite"
    with sqlite3.connect(store.path) as conn:
        status, body = conn.execute(
            "SELECT status, record FROM runs WHERE run_id = ?", (result.run_id,)
        ).fetchone()
    assert status == "succeeded"
    assert json.loads(body)["task_columns"]["status"] == "succeeded"
    assert store.list(status="failed") == []
    assert [r["run_id"] for r in store.list(pipeline="recorded", status="succeeded")] == [
        result.run_id
    ]


def test_the_record_keeps_every_field_of_every_task(env: Environment) -> None:
    pipeline = Pipeline("recorded", env=env)
    a, b, c = Dataset("a"), Dataset("b"), Dataset("c")
    calls = []

    @pipeline.task(retries=1)
    def flaky() -> a:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("first try")
        return 1

    @pipeline.task()
    def broken(x: a) -> b:
        raise ValueError('bad "row"')

    @pipeline.task()
    def after(y: b) -> c:
        return y

    result = pipeline.run(raise_on_failure=False)
    store = env.container.run_store()
    record = store.load(result.run_id)

    assert record["ok"] is False
    assert list(record) == [
        "run_id", "pipeline", "started", "duration", "ok", "status", "tasks",
        "tracebacks", "dataset_versions", "dataset_uris",
    ]  # fmt: skip
    assert list(record["tracebacks"]) == ["broken"]  # only the task that failed
    tasks = record["tasks"]
    assert list(tasks) == ["flaky", "broken", "after"]
    assert tasks["flaky"]["attempts"] == 2 and tasks["flaky"]["status"] == "succeeded"
    assert tasks["broken"]["error"] == 'ValueError: bad "row"'
    assert tasks["after"] == {
        "name": "after",
        "status": "skipped",
        "attempts": 0,
        "offset_ns": None,
        "duration_ns": 0,
        "cached": False,
        "resumed": False,
        "error": None,
        "logs": None,
    }
    for name, run in result.tasks.items():
        assert tasks[name] == run.as_dict(result.clock_ns)
    assert (
        tasks["broken"]["offset_ns"] >= tasks["flaky"]["offset_ns"] + tasks["flaky"]["duration_ns"]
    )
    assert store.last("recorded") == record


def test_records_written_before_task_columns_still_load(env: Environment) -> None:
    store = env.container.run_store()
    store.directory.mkdir(parents=True, exist_ok=True)
    old = {
        "run_id": "20260101T000000-abcd1234",
        "pipeline": "legacy",
        "started": 1.0,
        "duration": 0.5,
        "ok": True,
        "tasks": {"t": {"name": "t", "status": "succeeded", "attempts": 1}},
        "dataset_versions": {},
    }
    (store.directory / f"{old['run_id']}.json").write_text(json.dumps(old))
    # Read in place, not migrated; the status a query filters on is derived from "ok".
    assert store.load(old["run_id"]) == {**old, "status": "succeeded"}
    assert store.list("legacy") == [{**old, "status": "succeeded"}]
    assert store.list("legacy", status="failed") == []


def test_a_corrupt_record_is_skipped_with_a_warning(env: Environment, tmp_path: Path) -> None:
    pipeline = Pipeline("sturdy", env=env)
    out = Dataset("out")

    @pipeline.task()
    def make() -> out:
        return 1

    good = pipeline.run()
    store = env.container.run_store()
    (store.directory / "20250101T000000-deadbeef.json").write_text("")
    (store.directory / "20250101T000001-deadbeef.json").write_text('{"run_id": "x", "tas')
    with sqlite3.connect(store.path) as conn:
        conn.execute("INSERT INTO runs VALUES ('broken', 'sturdy', 0, 0, 'failed', 1, '{not json')")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = store.list("sturdy")
        last = store.last("sturdy")
        resumed = pipeline.run(resume="last")
    assert [r["run_id"] for r in runs] == [good.run_id]
    assert last is not None and last["run_id"] == good.run_id
    assert resumed.ok
    messages = {str(w.message) for w in caught if w.category is RunRecordWarning}
    assert any("20250101T000000-deadbeef" in m for m in messages)
    assert any("20250101T000001-deadbeef" in m for m in messages)
    assert any("'broken' is corrupt" in m for m in messages)


def test_a_corrupt_database_is_moved_aside(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs")
    store.directory.mkdir()
    store.path.write_bytes(b"this is not a database" * 100)
    with pytest.warns(RunRecordWarning, match="cannot be read"):
        assert store.list() == []
    run = TaskRun("t", status="succeeded", attempts=1)
    with pytest.warns(RunRecordWarning, match="moved to runs.sqlite.corrupt-"):
        RunStore(store.directory).record(RunResult("p", "r1", tasks={"t": run}))
    assert [r["run_id"] for r in RunStore(store.directory).list()] == ["r1"]


# -- validation errors: each names the task, its file:line and the fix ----------------------


def test_two_producers_of_one_dataset() -> None:
    pipeline = Pipeline("dup")
    out = Dataset("out")

    @pipeline.task()
    def one() -> out:
        return 1

    with pytest.raises(DuplicateProducerError) as info:

        @pipeline.task()
        def two() -> out:
            return 2

    msg = str(info.value)
    assert "'one'" in msg and "'two'" in msg and re.search(rf"{HERE}:\d+", msg)
    assert "different output Dataset" in msg


def test_cycle_is_printed() -> None:
    pipeline = Pipeline("cycle")
    a, b, c = Dataset("a"), Dataset("b"), Dataset("c")

    @pipeline.task()
    def f(x: c) -> a:
        return x

    @pipeline.task()
    def g(x: a) -> b:
        return x

    @pipeline.task()
    def h(x: b) -> c:
        return x

    with pytest.raises(CycleError) as info:
        pipeline.validate()
    msg = str(info.value)
    assert "f --a--> g --b--> h --c--> f" in msg
    assert re.search(rf"{HERE}:\d+", msg) and "Break the cycle" in msg


def test_input_nobody_produces() -> None:
    pipeline = Pipeline("missing")
    orphan, out = Dataset("orphan"), Dataset("out")

    @pipeline.task()
    def use(x: orphan) -> out:
        return x

    with pytest.raises(MissingInputError) as info:
        pipeline.run()
    msg = str(info.value)
    assert "'use'" in msg and "'orphan'" in msg and re.search(rf"{HERE}:\d+", msg)
    assert "storage" in msg


def test_return_annotation_not_a_dataset() -> None:
    pipeline = Pipeline("bad-return")
    with pytest.raises(InvalidAnnotationError) as info:

        @pipeline.task()
        def f() -> pl.DataFrame:
            return pl.DataFrame()

    msg = str(info.value)
    assert "'f'" in msg and "not a Dataset" in msg and re.search(rf"{HERE}:\d+", msg)


def test_task_registered_twice() -> None:
    pipeline = Pipeline("twice")

    def f() -> None:
        return None

    pipeline.task()(f)
    with pytest.raises(DuplicateTaskError, match=r"registered twice.*decorate it once"):
        pipeline.task()(f)


def test_parameter_without_annotation_or_default() -> None:
    pipeline = Pipeline("bare")
    with pytest.raises(InvalidAnnotationError) as info:

        @pipeline.task()
        def f(x) -> None:  # type: ignore[no-untyped-def]
            return None

    msg = str(info.value)
    assert "'x'" in msg and "no annotation and no default" in msg
    assert re.search(rf"{HERE}:\d+", msg)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"retries": -1}, r"retries=-1 is invalid: allowed range is 0 to 100"),
        ({"timeout": 0}, r"timeout=0 is invalid: must be greater than 0"),
        ({"backoff": 0.5}, r"backoff=0.5 is invalid: must be greater than or equal to 1"),
        ({"retry_delay": -1}, r"retry_delay=-1 is invalid"),
        ({"tags": "team"}, r"tags='team' is invalid"),
    ],
)
def test_invalid_task_options_fail_when_the_task_is_defined(
    options: dict[str, object], expected: str
) -> None:
    pipeline = Pipeline("opts")
    out = Dataset("out")

    def f() -> out:
        return 1

    with pytest.raises(ConfigError, match=expected) as info:
        pipeline.task(**options)(f)  # type: ignore[arg-type]
    assert re.search(rf"Task 'f' \([^)]*{HERE}:\d+\)", str(info.value))
    assert not pipeline.tasks


@pytest.mark.parametrize("storage", [42, {"bucket": "raw"}, ["raw.parquet"]])
def test_storage_glacier_cannot_use_is_refused_when_the_dataset_is_declared(
    storage: object,
) -> None:
    with pytest.raises(PipelineDefinitionError, match=r"Dataset 'raw' has storage of type"):
        Dataset("raw", storage=storage)


@pytest.mark.parametrize("name", ["", "daily sales", "1st", 7])
def test_invalid_pipeline_name(name: object) -> None:
    with pytest.raises(PipelineDefinitionError, match=r"Pipeline name .* is invalid: use letters"):
        Pipeline(name)  # type: ignore[arg-type]


@pytest.mark.parametrize("schedule", ["every tuesday", "rate(1 fortnight)", "cron(0 6 * *)"])
def test_invalid_schedule(schedule: str) -> None:
    with pytest.raises(PipelineDefinitionError, match=r"not a schedule: write 'rate\(N"):
        Pipeline("nightly", schedule=schedule)


@pytest.mark.parametrize(
    ("schedule", "fixed"),
    [("rate(1 days)", "rate(1 day)"), ("rate(2 hour)", "rate(2 hours)")],
)
def test_a_rate_whose_unit_disagrees_with_its_number_is_refused_naming_the_fix(
    schedule: str, fixed: str
) -> None:
    # EventBridge refuses 'rate(1 days)' at deploy time; the pipeline refuses it when built.
    with pytest.raises(PipelineDefinitionError, match="AWS refuses") as caught:
        Pipeline("nightly", schedule=schedule)
    assert str(caught.value).endswith(f"Write schedule={fixed!r}.")


@pytest.mark.parametrize("schedule", ["rate(1 day)", "rate(15 minutes)", "cron(0 6 * * ? *)"])
def test_valid_schedules(schedule: str) -> None:
    assert Pipeline("nightly", schedule=schedule).schedule == schedule


def test_annotation_naming_nothing() -> None:
    source = (
        "from __future__ import annotations\n"
        "from glacier import Pipeline\n"
        "p = Pipeline('x')\n"
        "@p.task()\n"
        "def f(x: undefined_dataset) -> None:\n"
        "    pass\n"
    )
    with pytest.raises(InvalidAnnotationError, match=r"undefined_dataset.*does not name anything"):
        exec(compile(source, "user_pipeline.py", "exec"), {})


def test_resume_skips_what_succeeded_with_stored_outputs(env: Environment, tmp_path: Path) -> None:
    calls: list[str] = []
    fail = {"load": True}

    def build() -> Pipeline:
        pipeline = Pipeline("resumable", env=env)
        staged = Dataset("staged", storage=str(tmp_path / "zone" / "staged.parquet"))
        final = Dataset("final")

        @pipeline.task()
        def stage() -> staged:
            calls.append("stage")
            return pl.DataFrame({"v": [1, 2]})

        @pipeline.task()
        def load(data: staged) -> final:
            calls.append("load")
            if fail["load"]:
                raise RuntimeError("warehouse down")
            return data.collect().height

        return pipeline

    first = build().run(raise_on_failure=False)
    assert first.tasks["load"].status == "failed"
    fail["load"] = False
    resumed = build().run(resume="last")
    assert resumed.tasks["stage"].resumed is True
    assert resumed["final"] == 2
    assert calls == ["stage", "load", "load"]
    with pytest.raises(GlacierError, match="No run 'nope'"):
        build().run(resume="nope")


def test_a_task_named_like_its_output_dataset_gets_an_error_suggesting_name() -> None:
    # As when porting dbt models: `def stg_customers(...) -> stg_customers` rebinds the name.
    from glacier.errors import InvalidAnnotationError

    pipeline = Pipeline("dbt")
    raw, stg_customers, customers = Dataset("raw"), Dataset("stg_customers"), Dataset("c")

    @pipeline.task()
    def stg_customers(r: raw) -> stg_customers:  # type: ignore[no-redef, valid-type]  # noqa: F811
        return r

    with pytest.raises(InvalidAnnotationError) as caught:

        @pipeline.task()
        def make_customers(c: stg_customers) -> customers:  # type: ignore[valid-type]
            return c

    message = str(caught.value)
    assert "'stg_customers'" in message and "rebound" in message
    assert "@pipeline.task(name='stg_customers') def build_stg_customers" in message

    # The fix the message gives works: the task keeps its name, the dataset its variable.
    fixed = Pipeline("dbt-fixed")
    stg = Dataset("stg_customers")

    @fixed.task()
    def extract() -> raw:
        return pl.LazyFrame({"id": [1, 2]})

    @fixed.task(name="stg_customers")
    def build_stg_customers(r: raw) -> stg:
        return r

    @fixed.task()
    def make(c: stg) -> customers:
        return c

    assert "stg_customers" in fixed.tasks
    assert fixed.run()["c"].collect()["id"].to_list() == [1, 2]

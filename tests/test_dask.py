"""Pipelines on Dask: worker processes, hooks and records on the client, data on the workers.

One local cluster of two worker *processes* serves the module (starting one costs seconds);
the tests give the executor its address, a client or the cluster object, as users do.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import distributed
import polars as pl
import pytest

from glacier import Dataset, Environment, Pipeline
from glacier.errors import NotSerializableError
from glacier.executors.dask import DaskExecutor


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local


@pytest.fixture
def env(tmp_path: Path) -> Environment:
    return Environment.local(tmp_path / "data")


class Recorder:
    """A hook holding a lock, which does not pickle: it must never leave this process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[str, str, str, int]] = []

    def on_task_start(self, run: Any) -> None:
        with self.lock:
            self.events.append(("start", run.name, run.status, os.getpid()))

    def on_task_end(self, run: Any) -> None:
        with self.lock:
            self.events.append(("end", run.name, run.status, os.getpid()))


def chain(env: Environment) -> Pipeline:
    pipeline = Pipeline("chain", env=env)
    raw, doubled, total = Dataset("raw"), Dataset("doubled"), Dataset("total")

    @pipeline.task()
    def extract() -> raw:
        return pl.DataFrame({"v": [1, 2, 3], "pid": [os.getpid()] * 3})

    @pipeline.task()
    def double(frame: raw) -> doubled:
        return frame.with_columns(pl.col("v") * 2)

    @pipeline.task()
    def summarize(frame: doubled) -> total:
        return int(frame["v"].sum())

    return pipeline


def test_tasks_run_in_worker_processes_and_hooks_run_here(cluster: Any, env: Environment) -> None:
    recorder = Recorder()
    result = chain(env).run(executor=DaskExecutor(cluster.scheduler_address), hooks=[recorder])
    assert result["total"] == 12
    # Intermediates stayed on the workers: only the final output came back.
    assert "raw" not in result and "doubled" not in result
    assert {pid for kind, *_, pid in recorder.events} == {os.getpid()}
    ends = [(name, status) for kind, name, status, _ in recorder.events if kind == "end"]
    assert ends == [("extract", "succeeded"), ("double", "succeeded"), ("summarize", "succeeded")]
    starts = [name for kind, name, *_ in recorder.events if kind == "start"]
    assert starts == ["extract", "double", "summarize"]
    workers = set(cluster.scheduler_info["workers"])
    for record in result.tasks.values():
        assert len(record.workers) == 1 and record.workers[0] in workers
        assert record.started_ns is not None and record.started_ns >= result.clock_ns
    stored = env.container.run_store().load(result.run_id)
    assert stored["tasks"]["extract"]["workers"] in workers


def test_tasks_run_outside_the_client_process(cluster: Any, env: Environment) -> None:
    result = chain(env).run(executor=DaskExecutor(cluster), targets=["raw"])
    assert result["raw"]["pid"][0] != os.getpid()
    assert list(result.tasks) == ["extract"]


def test_a_client_or_any_object_with_a_scheduler_address_is_accepted(
    cluster: Any, env: Environment
) -> None:
    class Gateway:  # e.g. what dask-gateway or Coiled hand out
        scheduler_address = cluster.scheduler_address

    with distributed.Client(cluster, set_as_default=False) as client:
        assert chain(env).run(executor=DaskExecutor(client))["total"] == 12
        assert client.status == "running"  # a client given to the executor stays open
    assert chain(env).run(executor=DaskExecutor(Gateway()))["total"] == 12
    with pytest.raises(Exception, match="not a scheduler address"):
        DaskExecutor(42)


@contextmanager
def scheduler_placement_only(cluster: Any) -> Iterator[None]:
    """Work stealing off on ``cluster`` while inside: what runs where is then the scheduler's
    own placement, not stealing's later correction of it."""

    async def stop(dask_scheduler: Any) -> None:
        await dask_scheduler.extensions["stealing"].stop()

    async def start(dask_scheduler: Any) -> None:
        await dask_scheduler.extensions["stealing"].start()

    with distributed.Client(cluster, set_as_default=False) as client:
        client.run_on_scheduler(stop)
        try:
            yield
        finally:
            client.run_on_scheduler(start)


def test_independent_tasks_spread_over_the_workers(cluster: Any, env: Environment) -> None:
    # Every task needs the run's code and settings; where they are must not pull every task
    # to one worker (the run payload as a Dask dependency did: the scheduler sends a task to
    # a worker holding its dependencies, so all 4 went to one worker until stealing moved
    # some).
    pipeline = Pipeline("spread", env=env)
    for k in range(4):

        def busy() -> Any:
            time.sleep(0.3)
            return os.getpid()

        busy.__name__ = busy.__qualname__ = f"busy{k}"
        busy.__annotations__["return"] = Dataset(f"out{k}")
        pipeline.task()(busy)

    with scheduler_placement_only(cluster):
        result = pipeline.run(executor=DaskExecutor(cluster.scheduler_address))
    ran_on = [record.workers[-1] for record in result.tasks.values()]
    assert set(ran_on) == set(cluster.scheduler_info["workers"]), ran_on
    assert len({result[f"out{k}"] for k in range(4)}) == 2  # two worker processes


def test_unpicklable_closure_is_named_with_the_fix(cluster: Any, env: Environment) -> None:
    pipeline = Pipeline("locked", env=env)
    out = Dataset("out")
    lock = threading.Lock()

    @pipeline.task()
    def guarded() -> out:
        with lock:
            return 1

    with pytest.raises(NotSerializableError, match=r"Task 'guarded' .*closure.*inside the task"):
        pipeline.run(executor=DaskExecutor(cluster.scheduler_address))


def test_unpicklable_parameter_is_named(cluster: Any, env: Environment) -> None:
    pipeline = Pipeline("param", env=env)
    out = Dataset("out")

    @pipeline.task()
    def uses(handle: Any = None) -> out:
        return handle is not None

    with pytest.raises(NotSerializableError, match=r"Parameter 'handle' of task 'uses'"):
        pipeline.run(
            executor=DaskExecutor(cluster.scheduler_address),
            params={"uses.handle": threading.Lock()},
        )


def test_retries_timeouts_and_skipped_dependants(
    cluster: Any, env: Environment, tmp_path: Path
) -> None:
    pipeline = Pipeline("failures", env=env)
    a, b, c, d = Dataset("a"), Dataset("b"), Dataset("c"), Dataset("d")
    marker = tmp_path / "attempts"

    @pipeline.task(retries=2)
    def flaky() -> a:
        with marker.open("a") as f:
            f.write("x")
        if len(marker.read_text()) < 3:
            raise RuntimeError("not yet")
        return 1

    @pipeline.task(timeout=0.5)
    def slow(x: a) -> b:
        import time

        time.sleep(5)
        return x

    @pipeline.task()
    def after(x: b) -> c:
        return x

    @pipeline.task()
    def fine(x: a) -> d:
        return x + 1

    result = pipeline.run(executor=DaskExecutor(cluster.scheduler_address), raise_on_failure=False)
    assert result.tasks["flaky"].status == "succeeded"
    assert result.tasks["flaky"].attempts == 3
    # Retries run where the task's Dask task runs: one worker, named for each attempt.
    flaky_workers = result.tasks["flaky"].workers
    assert len(flaky_workers) == 3 and len(set(flaky_workers)) == 1
    assert result.tasks["slow"].status == "failed"
    assert "exceeded its timeout" in str(result.tasks["slow"].error)
    assert result.tasks["after"].status == "skipped"
    assert result["d"] == 2


def test_dataflow_pipeline_runs_on_dask(cluster: Any, env: Environment) -> None:
    @env.task()
    def extract(n: int) -> pl.DataFrame:
        return pl.DataFrame({"x": list(range(n)), "pid": [os.getpid()] * n})

    @env.task()
    def total(df: pl.DataFrame) -> tuple[int, int]:
        return int(df["x"].sum()), int(df["pid"][0])

    @env.pipeline(name="flow")
    def flow() -> Any:
        return total(extract(4))

    result = flow.run(executor=DaskExecutor(cluster.scheduler_address))
    total_x, pid = result["total"]
    assert total_x == 6
    assert pid != os.getpid()  # ran in a worker process, not here


def test_settings_choose_dask(tmp_path: Path) -> None:
    from glacier.settings import ExecutorSettings, GlacierSettings

    settings = GlacierSettings(
        executor=ExecutorSettings(
            kind="dask", address="tcp://scheduler:8786", n_workers=3, threads_per_worker=2
        ),
        state_dir=tmp_path,
    )
    executor = Environment(settings=settings).executor()
    assert isinstance(executor, DaskExecutor)
    assert (executor.address, executor.n_workers, executor.threads_per_worker) == (
        "tcp://scheduler:8786",
        3,
        2,
    )
    legacy = GlacierSettings(executor={"kind": "dask", "dask_address": "tcp://old:1"})
    assert legacy.executor.scheduler_address == "tcp://old:1"


def test_a_task_whose_worker_is_killed_runs_again_on_another(
    cluster: Any, env: Environment, tmp_path: Path
) -> None:
    pipeline = Pipeline("killed", env=env)
    out = Dataset("out")
    marker = tmp_path / "killed-once"

    @pipeline.task()
    def fragile() -> out:
        import signal

        if not marker.exists():
            marker.write_text("x")
            os.kill(os.getpid(), signal.SIGKILL)  # the worker process dies mid-task
        return os.getpid()

    with distributed.Client(cluster, set_as_default=False) as client:
        result = pipeline.run(executor=DaskExecutor(client))
        client.wait_for_workers(2, timeout=120)  # the nanny restarts the killed worker
        alive = set(client.scheduler_info()["workers"])
    record = result.tasks["fragile"]
    assert marker.exists()  # the first attempt did kill its worker
    assert record.status == "succeeded"
    # One entry per attempt: the killed one first, always (the scheduler reports the worker
    # it lost, whether or not the attempt's start event left it), then the live worker
    # whose attempt finished.
    assert len(record.workers) == record.attempts == 2, record.workers
    killed, finished = record.workers
    assert killed.endswith(" (lost)") and killed.removesuffix(" (lost)") not in alive
    assert finished in alive
    stored = env.container.run_store().load(result.run_id)
    assert stored["tasks"]["fragile"]["workers"] == ",".join(record.workers)
    assert result["out"] != os.getpid()


def test_a_worker_started_during_the_run_gets_the_run(env: Environment, tmp_path: Path) -> None:
    # One worker, killed by the task's first attempt: the retry runs on the worker its nanny
    # starts afterwards, which has the run only because the scheduler hands it over on joining.
    pipeline = Pipeline("restarted", env=env)
    out = Dataset("out")
    marker = tmp_path / "killed-once"

    @pipeline.task()
    def fragile() -> out:
        import signal

        if not marker.exists():
            marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return os.getpid()

    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as one:
        result = pipeline.run(executor=DaskExecutor(one))
    record = result.tasks["fragile"]
    assert record.status == "succeeded", record.error
    assert result["out"] != int(marker.read_text())  # a new worker process ran the retry
    assert record.workers[0].endswith(" (lost)")
    assert record.workers[0].removesuffix(" (lost)") != record.workers[-1]


CLI_PIPELINE = """

import polars as pl

from glacier import Dataset, Pipeline

pipeline = Pipeline("cli")
raw, total = Dataset("raw"), Dataset("total")


@pipeline.task()
def extract() -> raw:
    return pl.DataFrame({"x": [1, 2, 3]})


@pipeline.task()
def summarize(frame: raw) -> total:
    return int(frame["x"].sum())
"""


def test_glacier_run_on_dask_shows_progress_and_summary(
    cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from glacier.cli import app

    monkeypatch.chdir(tmp_path)
    for var in ("GLACIER_ENV", "GLACIER_SETTINGS_DIR", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "cli_pipe.py").write_text(CLI_PIPELINE)
    result = CliRunner().invoke(
        app, ["run", "cli_pipe.py", "--executor", "dask", "--address", cluster.scheduler_address]
    )
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert "✓ extract" in result.stdout and "✓ summarize" in result.stdout
    assert "cli: 2 succeeded" in result.stdout
    assert "serialize" not in result.stdout + result.stderr
    refused = CliRunner().invoke(
        app, ["run", "cli_pipe.py", "--executor", "local", "--workers", "2"]
    )
    assert refused.exit_code == 2
    assert "--executor dask" in refused.stderr


def test_glacier_run_on_its_own_cluster_prints_no_cluster_chatter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recwarn: pytest.WarningsRecorder
) -> None:
    import socket

    from typer.testing import CliRunner

    from glacier.cli import app

    monkeypatch.chdir(tmp_path)
    for var in ("GLACIER_ENV", "GLACIER_SETTINGS_DIR", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "cli_pipe.py").write_text(CLI_PIPELINE)
    with socket.socket() as taken:  # Dask's default HTTP port in use, as by another cluster
        try:
            taken.bind(("127.0.0.1", 8787))
            taken.listen()
        except OSError:
            pass  # already taken by something else: the same situation
        result = CliRunner().invoke(app, ["run", "cli_pipe.py", "--workers", "1"])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert "cli: 2 succeeded" in result.stdout
    # The scheduler and nannies of the cluster started for the run live in this process;
    # their INFO lines (about 35 a run) are not the user's business.
    assert "INFO [distributed" not in result.stderr, result.stderr
    assert not [w for w in recwarn if "already in use" in str(w.message)]


def test_an_attempt_lost_before_its_start_event_is_still_recorded(env: Environment) -> None:
    """The scheduler's word that a worker died holding a task is enough: the attempt is
    listed even when the worker died before its start event left it."""
    import pickle

    from glacier.executors.base import PreparedRun
    from glacier.executors.dask import _DaskRun
    from glacier.result import TaskRun

    pipeline = Pipeline("lost", env=env)
    out = Dataset("out")

    @pipeline.task()
    def only() -> out:
        return 1

    run = PreparedRun(pipeline, env, None, None, use_cache=False, hooks=[])
    dask_run = _DaskRun(None, run, run, set())
    dask_run._lost([0], "tcp://10.0.0.1:4001")  # died before any start event arrived
    dask_run._started(0, "tcp://10.0.0.2:4002", time.time_ns())
    record = TaskRun("only", status="succeeded", attempts=1)
    dask_run._ended(0, pickle.dumps(record), time.time_ns())
    done = run.table["only"]
    assert done.workers == ("tcp://10.0.0.1:4001 (lost)", "tcp://10.0.0.2:4002")
    assert done.attempts == 2


#: The intermediate handed from one task to the next: 40 million int64 values, 320 MB.
BIG_ROWS = 40_000_000
BIG_BYTES = BIG_ROWS * 8


class PeakRss:
    """Samples this process's resident memory on a thread; ``peak`` is the highest seen."""

    def __init__(self, every: float = 0.005) -> None:
        import psutil

        self.process = psutil.Process()
        self.every = every
        self.baseline = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self._stop.wait(self.every)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


def test_a_large_intermediate_never_passes_through_the_client(
    cluster: Any, env: Environment
) -> None:
    pipeline = Pipeline("big", env=env)
    big, total = Dataset("big"), Dataset("total")

    @pipeline.task()
    def make() -> big:
        import numpy as np

        return pl.DataFrame({"v": np.ones(BIG_ROWS, dtype=np.int64)})

    @pipeline.task()
    def reduce(frame: big) -> total:
        return int(frame["v"].sum()), frame.estimated_size()

    executor = DaskExecutor(cluster.scheduler_address)
    pipeline.run(executor=executor)  # warm: imports and connections are not the data
    import gc

    gc.collect()
    with PeakRss() as memory:
        result = pipeline.run(executor=executor)
    sum_, size = result["total"]
    assert sum_ == BIG_ROWS and size >= BIG_BYTES  # the intermediate was that big
    # The client's memory grew by far less than the intermediate: it stayed on the workers
    # (a tenth of its size leaves room for the client's own bookkeeping, not for the data).
    assert memory.growth < BIG_BYTES // 10, f"client RSS grew {memory.growth / 1e6:.0f} MB"


def handled_by_the_scheduler(client: Any) -> None:
    """Return once the scheduler has handled every message the client sent before.

    A client sends (un)subscriptions on its one ordered stream to the scheduler, which
    handles that stream's messages in order, while ``run_on_scheduler`` asks on another
    connection: asked at once, the scheduler may not have read the last unsubscription yet
    (the CI failure: ``{'all', 'print', 'warn'}``). A task is submitted on the same stream,
    after them: its result is the event that says they were handled.
    """
    assert client.submit(int, 1, pure=False).result() == 1


def test_runs_on_one_client_leave_no_subscription_behind(cluster: Any, env: Environment) -> None:
    """Each run listens to the cluster's events and stops listening after it; a handler the
    caller had on the topic "all" is kept. (A subscription left behind makes the scheduler
    log a closed comm at CRITICAL level when the client closes.)"""
    seen: list[Any] = []

    def subscribers(dask_scheduler: Any) -> dict[str, list[str]]:
        topics = dask_scheduler._broker._topics
        return {name: sorted(topic.subscribers) for name, topic in topics.items()}

    with distributed.Client(cluster, set_as_default=False) as client:
        for _ in range(2):
            assert chain(env).run(executor=DaskExecutor(client))["total"] == 12
        handled_by_the_scheduler(client)
        listening = client.run_on_scheduler(subscribers)
        ours = {name for name, ids in listening.items() if client.id in ids}
        assert ours <= {"print", "warn"}, ours  # distributed's own, nothing of the runs'
        left = [
            handler
            for name, handler in client._event_handlers.items()
            if name.startswith("glacier-") or name == "all"
        ]
        assert all(getattr(handler, "glacier_run", False) for handler in left)  # quiet ones
        client.subscribe_topic("all", seen.append)
        assert chain(env).run(executor=DaskExecutor(client))["total"] == 12
        assert client._event_handlers["all"] == seen.append  # the caller's handler is back
        handled_by_the_scheduler(client)
        assert client.id in client.run_on_scheduler(subscribers)["all"]
        client.unsubscribe_topic("all")


def test_what_a_task_logs_and_prints_on_a_worker_reaches_its_record(
    cluster: Any, env: Environment
) -> None:
    pipeline = Pipeline("chatty", env=env)
    out = Dataset("out")

    @pipeline.task()
    def talk() -> out:
        import logging

        logging.getLogger("etl.talk").info("read %d rows", 3)
        print("hello from", os.getpid())
        return 1

    result = pipeline.run(executor=DaskExecutor(cluster.scheduler_address))
    logs = result.tasks["talk"].logs or []
    messages = [(e["level"], e["logger"], e["message"]) for e in logs]
    assert ("INFO", "etl.talk", "read 3 rows") in messages
    printed = [m for level, logger, m in messages if logger == "stdout"]
    assert printed and printed[0].startswith("hello from ")
    assert printed[0] != f"hello from {os.getpid()}"  # printed on the worker, not here
    assert {(e["task"], e["run_id"], e["attempt"]) for e in logs} == {("talk", result.run_id, 1)}
    stored = env.container.run_store().load(result.run_id)
    assert "read 3 rows" in str(stored["tasks"]["talk"]["logs"])


def test_lineage_events_of_a_dask_run_come_from_the_client(
    cluster: Any, env: Environment, tmp_path: Path
) -> None:
    import json

    from glacier.lineage import lineage_hook
    from glacier.settings import LineageSettings

    pipeline = chain(env)
    path = tmp_path / "lineage.ndjson"
    hook = lineage_hook(LineageSettings(transport="file", path=path), pipeline=pipeline)
    pipeline.run(executor=DaskExecutor(cluster.scheduler_address), hooks=[hook])
    events = [json.loads(line) for line in path.read_text().splitlines()]
    runs: dict[str, set[str]] = {}
    for event in events:
        runs.setdefault(event["job"]["name"], set()).add(event["run"]["runId"])
    kinds = [(e["job"]["name"], e["eventType"]) for e in events]
    assert kinds[0] == ("chain", "START") and kinds[-1] == ("chain", "COMPLETE")
    for task in ("extract", "double", "summarize"):
        assert [k for n, k in kinds if n == f"chain.{task}"] == ["START", "COMPLETE"]
        assert len(runs[f"chain.{task}"]) == 1  # START and COMPLETE carry one run id
    (double_start,) = [e for e in events if e["job"]["name"] == "chain.double"][:1]
    assert [d["name"] for d in double_start["inputs"]] == ["raw"]
    assert [d["name"] for d in double_start["outputs"]] == ["doubled"]


def test_a_dataflow_pipeline_runs_on_an_environment_whose_executor_is_dask(
    cluster: Any, tmp_path: Path
) -> None:
    """The tasks of an ``@env.pipeline()`` hold their environment, whose run store keeps an
    open SQLite connection after a run: the tasks reach the workers without it."""
    from glacier.settings import ExecutorSettings, GlacierSettings

    settings = GlacierSettings(
        executor=ExecutorSettings(kind="dask", address=cluster.scheduler_address),
        state_dir=tmp_path / "state",
    )
    env = Environment(settings=settings)

    @env.task()
    def extract(n: int) -> pl.DataFrame:
        return pl.DataFrame({"x": list(range(n)), "pid": [os.getpid()] * n})

    @env.task()
    def total(df: pl.DataFrame) -> tuple[int, int]:
        return int(df["x"].sum()), int(df["pid"][0])

    @env.pipeline(name="flow")
    def flow() -> Any:
        return total(extract(4))

    runs = [flow.run(), flow.run()]  # the second after the run store is open
    for result in runs:
        total_x, pid = result["total"]
        assert total_x == 6 and pid != os.getpid()
    recorded = env.container.run_store().list(pipeline="flow")
    assert [r["run_id"] for r in recorded] == [r.run_id for r in runs]
    assert extract.env is env  # the task here keeps its environment


def test_a_dask_run_records_every_dataset_its_tasks_wrote(cluster: Any, env: Environment) -> None:
    pipeline = Pipeline("stored", env=env)
    lake = env.provider.bucket
    raw = Dataset("raw", storage=lake("lake", path="raw.parquet"))
    doubled = Dataset("doubled", storage=lake("lake", path="doubled.parquet"))
    total = Dataset("total", storage=lake("lake", path="total.parquet"))

    @pipeline.task()
    def extract() -> raw:
        return pl.DataFrame({"v": [1, 2, 3]})

    @pipeline.task()
    def double(frame: raw) -> doubled:
        return frame.with_columns(pl.col("v") * 2)

    @pipeline.task()
    def summarize(frame: doubled) -> total:
        return frame.select(pl.col("v").sum())

    result = pipeline.run(executor=DaskExecutor(cluster.scheduler_address))
    local = pipeline.run(executor="local")
    stored = env.container.run_store().load(result.run_id)
    assert set(stored["dataset_uris"]) == {"raw", "doubled", "total"}
    assert stored["dataset_uris"] == env.container.run_store().load(local.run_id)["dataset_uris"]
    assert set(stored["dataset_versions"]) == {"raw", "doubled", "total"}
    # Rows counted on the workers as they wrote travel back with each task's record.
    assert stored["dataset_rows"] == {"raw": 3, "doubled": 3, "total": 1}
    assert local.dataset_rows == stored["dataset_rows"]

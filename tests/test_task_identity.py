"""What "the same task" is: the cache key and resume share one identity.

A task's identity is its code (its source and the project code and module-level values it
reads), its params and its inputs' versions. The cache reuses outputs only for the same
identity; ``--resume`` reuses a succeeded task's stored outputs only for the same identity.
"""

from __future__ import annotations

import importlib
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest

from glacier import Dataset, Environment, Pipeline
from glacier.errors import ForeignRunError

# -- a user's project: a large module of classes, and a pipeline module using it ------------


def _pipeline_module(classes: int = 57, tasks: int = 10) -> str:
    """A pipeline module of about 1,800 lines: classes, module-level values, and cached tasks
    using them. ``inspect.getsource`` of a class parses its whole module, and from several
    threads at once CPython 3.11's ``ast`` broke at this size (gh-106905)."""
    parts = [
        "from glacier import Dataset, Pipeline\n\n"
        'PAYMENT_METHODS = ["credit_card", "coupon"]\nCALLS = []\n'
    ]
    for n in range(classes):
        methods = "".join(
            f"    def method_{m}(self, x):\n"
            f"        total = x\n"
            f"        for i in range({m + 1}):\n"
            f"            total = total + i * {n}\n"
            f"        return total\n\n"
            for m in range(5)
        )
        parts.append(f"class Model{n}:\n    factor = {n}\n\n{methods}")
    for n in range(tasks):
        parts.append(
            f"def task{n}():\n"
            f"    CALLS.append(1)\n"
            f"    return Model{n * 5}().method_0(1) + len(PAYMENT_METHODS)\n"
        )
    parts.append(
        "def build(env, tasks=10):\n"
        '    pipeline = Pipeline("identity", env=env)\n'
        "    for n in range(tasks):\n"
        "        fn = globals()[f'task{n}']\n"
        "        fn.__annotations__ = {'return': Dataset(f'out{n}')}\n"
        "        pipeline.task(cache=True)(fn)\n"
        "    return pipeline\n"
    )
    return "\n".join(parts)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "project"
    root.mkdir()
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))


def _import(root: Path, tag: str) -> ModuleType:
    (root / f"pipe_{tag}.py").write_text(_pipeline_module())
    sys.modules.pop(f"pipe_{tag}", None)
    return importlib.import_module(f"pipe_{tag}")


def test_the_large_module_is_the_size_that_broke(project: Path) -> None:
    assert 1_700 <= _pipeline_module().count("\n") <= 2_000


# -- 1. no failure from bookkeeping ---------------------------------------------------------


def test_independent_cached_tasks_using_classes_of_a_large_module_never_fail(
    project: Path, glacier_env: Environment
) -> None:
    """Six independent cached tasks run in parallel threads; computing their cache keys read
    class sources on each thread, and CPython 3.11 raised ``SystemError: AST constructor
    recursion depth mismatch`` in about one run of three. Each round builds the pipeline
    afresh (new task objects: nothing remembered from the last round)."""
    module = _import(project, "six")
    failures = []
    for _ in range(30):
        glacier_env.cache.clear()
        result = module.build(glacier_env, tasks=6).run(raise_on_failure=False)
        failures += [f"{n}: {r.error!r}" for n, r in result.tasks.items() if not r.ok]
    assert failures == []


def test_two_hundred_runs_of_a_ten_task_cached_pipeline_never_fail(
    project: Path, glacier_env: Environment
) -> None:
    module = _import(project, "ten")
    failures = []
    cached = 0
    for _ in range(200):
        result = module.build(glacier_env).run(raise_on_failure=False)
        failures += [f"{n}: {r.error!r}" for n, r in result.tasks.items() if not r.ok]
        cached += sum(r.cached for r in result.tasks.values())
    assert failures == []
    assert cached == 199 * 10  # the first run fills the cache, the others read it


# -- 2. no stale result ---------------------------------------------------------------------


def test_editing_a_module_level_list_a_task_reads_misses_the_cache(
    project: Path, glacier_env: Environment
) -> None:
    module = _import(project, "list")
    first = module.build(glacier_env, tasks=1).run()
    assert first["out0"] == 1 + 2 and module.CALLS == [1]

    assert module.build(glacier_env, tasks=1).run()["out0"] == 3
    assert module.CALLS == [1]  # unchanged: from the cache

    module.PAYMENT_METHODS.append("gift_card")  # edited in place
    assert module.build(glacier_env, tasks=1).run()["out0"] == 4
    assert module.CALLS == [1, 1]

    module.PAYMENT_METHODS = ["credit_card"]  # rebound
    assert module.build(glacier_env, tasks=1).run()["out0"] == 2
    assert module.CALLS == [1, 1, 1]


VALUES_MODULE = """
import dataclasses
import threading

import pydantic

from glacier import Dataset, Pipeline


@dataclasses.dataclass(frozen=True)
class Thresholds:
    low: int
    high: int


class Naming(pydantic.BaseModel, frozen=True):
    prefix: str


THRESHOLDS = Thresholds(1, 9)
NAMING = Naming(prefix="a")
CURRENCIES = {"usd", "cad", "eur"}
LOCK = threading.Lock()
CALLS = []


def build(env, reader):
    pipeline = Pipeline("values", env=env)
    pipeline.task(cache=True, name="read")(reader)
    return pipeline


def read_dataclass() -> Dataset("out"):
    CALLS.append(1)
    return THRESHOLDS.high


def read_model() -> Dataset("out"):
    CALLS.append(1)
    return NAMING.prefix


def read_set() -> Dataset("out"):
    CALLS.append(1)
    return sorted(CURRENCIES)


def read_lock() -> Dataset("out"):
    CALLS.append(1)
    with LOCK:
        return 1
"""


@pytest.fixture
def values(project: Path) -> ModuleType:
    (project / "values_mod.py").write_text(VALUES_MODULE)
    sys.modules.pop("values_mod", None)
    return importlib.import_module("values_mod")


def test_dataclasses_and_frozen_pydantic_models_count_by_their_fields(
    values: ModuleType, glacier_env: Environment
) -> None:
    run = lambda reader: values.build(glacier_env, reader).run()  # noqa: E731
    assert run(values.read_dataclass)["out"] == 9
    values.THRESHOLDS = values.Thresholds(1, 9)  # an equal value: the same task
    assert run(values.read_dataclass)["out"] == 9
    assert values.CALLS == [1]
    values.THRESHOLDS = values.Thresholds(1, 5)
    assert run(values.read_dataclass)["out"] == 5
    assert values.CALLS == [1, 1]

    values.CALLS.clear()
    assert run(values.read_model)["out"] == "a"
    values.NAMING = values.Naming(prefix="a")
    assert run(values.read_model)["out"] == "a"
    values.NAMING = values.Naming(prefix="b")
    assert run(values.read_model)["out"] == "b"
    assert values.CALLS == [1, 1]

    values.CALLS.clear()
    assert run(values.read_set)["out"] == ["cad", "eur", "usd"]
    values.CURRENCIES.discard("eur")
    assert run(values.read_set)["out"] == ["cad", "usd"]
    assert values.CALLS == [1, 1]


SET_DIGEST = """
import sys
sys.path.insert(0, {root!r})
import values_mod
from glacier.task_code import code_identity
values_mod.CURRENCIES = {{"usd", "cad", "eur", "gbp", "jpy", "chf", "aud"}}
print(code_identity(values_mod.read_set).digest)
"""


def test_a_set_hashes_the_same_whatever_its_iteration_order(
    values: ModuleType, project: Path
) -> None:
    """String hashes (so a set's order) differ between processes unless PYTHONHASHSEED says
    otherwise: a set's hash must not."""
    digests = set()
    orders = set()
    for seed in ("1", "2", "3", "4"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", SET_DIGEST.format(root=str(project))],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        digests.add(done.stdout.strip())
        order = subprocess.run(
            [sys.executable, "-c", "print(list({'usd','cad','eur','gbp','jpy','chf','aud'}))"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        orders.add(order.stdout)
    assert len(orders) > 1  # the orders did differ
    assert len(digests) == 1


def test_a_value_that_cannot_be_hashed_runs_the_task_uncached_and_says_so(
    values: ModuleType, glacier_env: Environment, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    first = values.build(glacier_env, values.read_lock).run()
    second = values.build(glacier_env, values.read_lock).run()

    assert values.CALLS == [1, 1]  # never reused
    assert not second.tasks["read"].cached
    note = second.tasks["read"].note or ""
    assert note.startswith("uncached this run: LOCK (lock: cannot be pickled")
    assert "task read runs uncached this run: LOCK (lock: cannot be pickled" in caplog.text
    record = glacier_env.container.run_store().load(first.run_id)
    assert record["tasks"]["read"]["note"].startswith("uncached this run: LOCK")


# -- 3. resume: the same identity --------------------------------------------------------


RESUME_MODULE = """
import polars as pl

from glacier import Dataset, Pipeline

FAIL = [True]


def build(env):
    pipeline = Pipeline("resumable", env=env)
    made = Dataset("made", storage={path!r})
    used = Dataset("used")

    @pipeline.task()
    def make(k: int = 3) -> made:
        return pl.DataFrame({{"v": [{factor} * k]}})

    @pipeline.task()
    def use(data: made) -> used:
        if FAIL[0]:
            raise RuntimeError("warehouse down")
        return data.collect()["v"].to_list()

    return pipeline
"""


def _resumable(root: Path, factor: int) -> ModuleType:
    path = str(root / "zone" / "made.parquet")
    (root / "resumable_mod.py").write_text(RESUME_MODULE.format(factor=factor, path=path))
    sys.modules.pop("resumable_mod", None)
    return importlib.import_module("resumable_mod")


def test_resume_recomputes_a_task_whose_code_or_params_changed(
    project: Path, glacier_env: Environment
) -> None:
    failed = _resumable(project, 1).build(glacier_env).run(raise_on_failure=False)
    assert failed.tasks["make"].ok and failed.tasks["make"].identity
    assert not failed.tasks["use"].ok

    same = _resumable(project, 1)
    same.FAIL[0] = False
    reused = same.build(glacier_env).run(resume=failed.run_id)
    assert reused["used"] == [3] and reused.tasks["make"].resumed

    edited = _resumable(project, 10)
    edited.FAIL[0] = False
    again = edited.build(glacier_env).run(resume=failed.run_id)
    assert again["used"] == [30]
    assert not again.tasks["make"].resumed
    assert again.tasks["make"].note == f"recomputed: its code changed since run {failed.run_id}"

    params = edited.build(glacier_env).run(resume=again.run_id, params={"make.k": 5})
    assert params["used"] == [50]
    assert params.tasks["make"].note == f"recomputed: its params changed since run {again.run_id}"
    recorded = glacier_env.container.run_store().load(params.run_id)["tasks"]["make"]
    assert recorded["note"] == params.tasks["make"].note
    assert recorded["identity"] == params.tasks["make"].identity


def test_resume_from_a_run_of_another_pipeline_is_refused(
    project: Path, glacier_env: Environment
) -> None:
    other = Pipeline("other", env=glacier_env)

    @other.task()
    def make() -> Dataset("made", storage=str(project / "other.parquet")):
        return pl.DataFrame({"v": [1]})

    foreign = other.run()
    with pytest.raises(ForeignRunError, match=r"a run of pipeline 'other', not of 'resumable'"):
        _resumable(project, 1).build(glacier_env).run(resume=foreign.run_id)


def test_resume_recomputes_a_stored_task_whose_input_was_computed_in_memory_again(
    tmp_path: Path, glacier_env: Environment
) -> None:
    """Its input's version is not known without computing it twice: never a silent reuse."""
    fail = [True]
    source = [1]

    def build() -> Pipeline:
        pipeline = Pipeline("in-memory-input", env=glacier_env)
        raw = Dataset("raw")
        kept = Dataset("kept", storage=str(tmp_path / "kept.parquet"))
        done = Dataset("done")

        @pipeline.task()
        def extract() -> raw:
            return pl.DataFrame({"v": list(source)})

        @pipeline.task()
        def keep(data: raw) -> kept:
            return data

        @pipeline.task()
        def finish(data: kept) -> done:
            if fail[0]:
                raise RuntimeError("down")
            return data.collect()["v"].to_list()

        return pipeline

    failed = build().run(raise_on_failure=False)
    assert failed.tasks["keep"].ok and failed.tasks["keep"].identity is None
    fail[0], source[0] = False, 2  # extract now gives other data
    resumed = build().run(resume=failed.run_id)
    assert resumed["done"] == [2]
    assert not resumed.tasks["keep"].resumed
    assert resumed.tasks["keep"].note == (
        "recomputed: whether it changed is unknown (input 'data' is computed in memory by "
        f"'extract') since run {failed.run_id}"
    )


def test_a_digest_read_in_another_process_spares_reading_sources_again(
    values: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a Dask worker does with the digest its client read: no ``inspect`` (so no
    ``ast``) on the worker's threads, while the values read still count."""
    import inspect

    from glacier.task_code import code_identity

    def refuse(obj: object) -> str:
        raise AssertionError("inspect.getsource was called")

    monkeypatch.setattr(inspect, "getsource", refuse)
    # read_model of a fresh import: no identity was computed for it in this process yet
    first = code_identity(values.read_model, sources="from-the-client")
    values.NAMING = values.Naming(prefix="z")
    second = code_identity(values.read_model, sources="from-the-client")
    assert first.digest and second.digest and first.digest != second.digest


def test_cached_tasks_on_dask_workers_see_the_values_they_read(tmp_path: Path) -> None:
    """On Dask the identity is computed on the worker (with the sources' digest the client
    read): an unchanged value is a hit, an edited one a miss, as in-process."""
    import distributed

    from glacier.executors.dask import DaskExecutor

    env = Environment.local(tmp_path / "data", state_dir=tmp_path / "state")
    settings = {"v": [1, 2]}

    def build() -> Pipeline:
        pipeline = Pipeline("dask-identity", env=env)
        out = Dataset("out")

        @pipeline.task(cache=True)
        def make() -> out:
            return list(settings["v"])

        return pipeline

    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None
    ) as cluster:
        runs = []
        for edit in (False, False, True):
            if edit:
                settings["v"].append(3)
            runs.append(build().run(executor=DaskExecutor(cluster)))
    assert [r["out"] for r in runs] == [[1, 2], [1, 2], [1, 2, 3]]
    assert [r.tasks["make"].cached for r in runs] == [False, True, False]

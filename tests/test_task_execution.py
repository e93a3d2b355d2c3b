"""How one task runs: the right task blamed, retries with intent, the cache key, logs."""

from __future__ import annotations

import importlib
import io
import json
import logging
import sys
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest

import glacier
from glacier import Dataset, Environment, LocalExecutor, Pipeline
from glacier.errors import (
    ConfigError,
    InvalidAnnotationError,
    SchemaMismatchError,
    UpstreamQueryError,
)
from glacier.task_code import in_project
from glacier.task_logs import JsonFormatter

# -- blame the right task ------------------------------------------------------------------


def test_a_lazy_query_naming_a_missing_column_fails_its_own_task_with_its_retries(
    glacier_env: Environment,
) -> None:
    pipeline = Pipeline("blame", env=glacier_env)
    raw, shaped = Dataset("raw"), Dataset("shaped")
    calls: list[int] = []

    @pipeline.task()
    def extract() -> raw:
        return pl.LazyFrame({"a": [1, 2]})

    @pipeline.task(retries=2, retry_on=pl.exceptions.ColumnNotFoundError)
    def shape(data: raw) -> shaped:
        calls.append(1)
        return data.select(pl.col("missing") * 2)

    @pipeline.task()
    def consume(data: shaped) -> None:
        data.collect()

    result = pipeline.run(raise_on_failure=False)

    assert result.tasks["extract"].status == "succeeded"
    assert result.tasks["shape"].status == "failed"
    assert isinstance(result.tasks["shape"].error, pl.exceptions.ColumnNotFoundError)
    assert result.tasks["shape"].attempts == 3 and len(calls) == 3
    assert result.tasks["consume"].status == "skipped"


def test_lazy_frames_stay_fused_across_tasks(glacier_env: Environment) -> None:
    pipeline = Pipeline("fused", env=glacier_env)
    raw, doubled = Dataset("raw"), Dataset("doubled")

    @pipeline.task()
    def extract() -> raw:
        return pl.LazyFrame({"a": [1, 2, 3]})

    @pipeline.task()
    def double(data: raw) -> doubled:
        return data.with_columns(b=pl.col("a") * 2)

    result = pipeline.run()

    assert isinstance(result[doubled], pl.LazyFrame)  # not collected between tasks
    assert result[doubled].collect()["b"].to_list() == [2, 4, 6]


def test_an_execution_error_in_a_fused_query_names_consumer_and_producer(
    glacier_env: Environment,
) -> None:
    pipeline = Pipeline("fused-error", env=glacier_env)
    raw, parsed = Dataset("raw"), Dataset("parsed")

    @pipeline.task()
    def extract() -> raw:
        return pl.LazyFrame({"s": ["1", "x"]})

    @pipeline.task()
    def parse(data: raw) -> parsed:
        # Plans fine (a string cast to an integer); fails only when executed.
        return data.select(pl.col("s").cast(pl.Int64, strict=True))

    @pipeline.task()
    def report(data: parsed) -> None:
        data.collect()

    result = pipeline.run(raise_on_failure=False)

    assert result.tasks["parse"].status == "succeeded"
    error = result.tasks["report"].error
    assert isinstance(error, UpstreamQueryError)
    assert "'report'" in str(error) and "'parse'" in str(error)
    assert isinstance(error.__cause__, pl.exceptions.PolarsError)


# -- retries with intent -------------------------------------------------------------------


def test_a_schema_mismatch_is_not_retried(glacier_env: Environment) -> None:
    pipeline = Pipeline("no-retry", env=glacier_env)
    out = Dataset("out", schema={"a": pl.Int64})
    calls: list[int] = []

    @pipeline.task(retries=3)
    def make() -> out:
        calls.append(1)
        return pl.DataFrame({"b": [1]})

    result = pipeline.run(raise_on_failure=False)

    assert isinstance(result.tasks["make"].error, SchemaMismatchError)
    assert len(calls) == 1 and result.tasks["make"].attempts == 1


def test_transient_errors_are_retried_by_default_and_retry_on_narrows(
    glacier_env: Environment,
) -> None:
    pipeline = Pipeline("retry-on", env=glacier_env)
    a, b = Dataset("a"), Dataset("b")
    calls = {"flaky": 0, "strict": 0}

    @pipeline.task(retries=2, retry_delay=0.001, backoff=2, max_delay=0.002, jitter=0.001)
    def flaky() -> a:
        calls["flaky"] += 1
        if calls["flaky"] < 3:
            raise ConnectionResetError("reset by peer")
        return 1

    @pipeline.task(retries=2, retry_on=(ConnectionError,))
    def strict() -> b:
        calls["strict"] += 1
        raise KeyError("a bug, not a blip")

    result = pipeline.run(raise_on_failure=False)

    assert result.tasks["flaky"].status == "succeeded" and result.tasks["flaky"].attempts == 3
    assert result.tasks["strict"].status == "failed" and calls["strict"] == 1


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("retry_on", ("not an exception",)),
        ("jitter", -1.0),
        ("max_delay", -2.0),
        ("backoff", 0.5),
    ],
)
def test_bad_retry_options_fail_at_the_decorator_naming_task_and_option(
    option: str, value: object
) -> None:
    pipeline = Pipeline("bad")
    with pytest.raises(ConfigError, match=rf"'oops'.*{option}"):

        @pipeline.task(**{option: value})  # type: ignore[arg-type]
        def oops() -> None:
            return None


# -- no silent ignoring -------------------------------------------------------------------


def test_a_task_asking_for_another_executor_is_refused(glacier_env: Environment) -> None:
    pipeline = Pipeline("per-task-executor", env=glacier_env)

    @pipeline.task(executor="dask")
    def elsewhere() -> None:
        return None

    with pytest.raises(ConfigError, match=r"'elsewhere'.*executor='dask'.*not supported yet"):
        pipeline.run()


def test_seed_executor_lambda_is_refused_naming_the_compute_hint_that_says_it(
    glacier_env: Environment,
) -> None:
    # Seed 001's task-level config: @env.task(executor="lambda", memory=3008, timeout=900).
    env = glacier_env
    with pytest.raises(ConfigError) as refused:

        @env.task(executor="lambda", memory=3008, timeout=900)
        def heavy() -> int:
            return 1

    message = str(refused.value)
    fix = "@env.task(compute=env.compute.lambda_(memory=3008, timeout=900))"
    assert fix in message and "local runs stay local" in message
    # The spelling the message gives runs here, locally, and carries the Lambda's sizes.
    hint = eval(fix.removeprefix("@env.task(").removesuffix(")").removeprefix("compute="))

    @env.task(compute=hint)
    def heavy_task() -> int:
        return 1

    assert heavy_task.compute.config.memory == 3008 and heavy_task.compute.config.timeout == 900
    assert heavy_task() == 1
    with pytest.raises(ConfigError, match=r"compute=env\.compute\.ecs\(memory=4096\)"):
        Pipeline("p").task(executor="ecs", memory=4096)
    with pytest.raises(InvalidAnnotationError, match=r"compute=env\.compute\.glue\(\)"):
        glacier.task(executor="glue")


def test_a_settings_file_naming_lambda_as_the_executor_names_compute() -> None:
    from glacier.settings import TaskConfig

    with pytest.raises(ConfigError, match=r"compute=env\.compute\.lambda_"):
        TaskConfig(executor="lambda")


def test_the_run_executor_named_on_a_task_is_accepted(glacier_env: Environment) -> None:
    pipeline = Pipeline("same-executor", env=glacier_env)

    @pipeline.task(executor="local")
    def here() -> None:
        return None

    assert pipeline.run().ok


def test_unknown_task_options_are_refused(glacier_env: Environment) -> None:
    with pytest.raises(ConfigError, match=r"unknown option\(s\) \['retires'\]"):

        @glacier_env.task(retires=2)
        def typo() -> None:
            return None


# -- a cache key that sees the code --------------------------------------------------------

PIPELINE_MODULE = """
from glacier import Dataset, Pipeline
import helpers_{tag} as helpers

scaled = Dataset("scaled")
CALLS = []

def build(env):
    pipeline = Pipeline("cached", env=env)

    @pipeline.task(cache=True, cache_version={version!r})
    def scale() -> scaled:
        CALLS.append(1)
        return helpers.scale(3)

    return pipeline
"""


def _load_project(tmp_path: Path, tag: str, factor: int, version: str | None) -> ModuleType:
    """A fresh import of a user's project: a helper module and a pipeline module using it."""
    (tmp_path / f"helpers_{tag}.py").write_text(
        f"FACTOR = {factor}\n\ndef scale(x):\n    return x * FACTOR\n"
    )
    (tmp_path / f"pipe_{tag}.py").write_text(PIPELINE_MODULE.format(tag=tag, version=version))
    for name in (f"helpers_{tag}", f"pipe_{tag}"):
        sys.modules.pop(name, None)
    sys.path.insert(0, str(tmp_path))
    try:
        return importlib.import_module(f"pipe_{tag}")
    finally:
        sys.path.remove(str(tmp_path))


def test_changing_a_constant_in_a_helper_module_reruns_the_cached_task(
    glacier_env: Environment, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()

    first = _load_project(project, "k", 2, None)
    assert first.build(glacier_env).run()[first.scaled] == 6
    again = _load_project(project, "k", 2, None)
    assert again.build(glacier_env).run()[again.scaled] == 6
    assert again.CALLS == []  # unchanged code: from the cache

    changed = _load_project(project, "k", 100, None)
    assert changed.build(glacier_env).run()[changed.scaled] == 300
    assert changed.CALLS == [1]

    bumped = _load_project(project, "k", 100, "2")
    assert bumped.build(glacier_env).run()[bumped.scaled] == 300
    assert bumped.CALLS == [1]  # cache_version is part of the key


def test_the_code_identity_leaves_out_installed_libraries_and_glacier() -> None:
    assert not in_project(pl.__file__)
    assert not in_project(glacier.__file__)
    assert not in_project(json.__file__)
    assert in_project(__file__)


# -- logs captured per task ----------------------------------------------------------------


def test_each_task_keeps_its_log_records_and_printed_lines(
    glacier_env: Environment, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    pipeline = Pipeline("logs", env=glacier_env)
    a, b = Dataset("a"), Dataset("b")
    attempts: list[int] = []

    @pipeline.task()
    def extract() -> a:
        logging.getLogger("etl.extract").info("read %d rows", 3)
        print("hello from extract")
        return 3

    @pipeline.task(retries=1)
    def load(x: a) -> b:
        attempts.append(1)
        logging.getLogger("etl.load").warning("attempt %d", len(attempts))
        if len(attempts) == 1:
            raise ConnectionResetError("blip")
        return x

    @pipeline.task()
    def quiet(x: b) -> None:
        return None

    result = pipeline.run()

    logs = result.tasks["extract"].logs
    assert logs is not None
    assert [(e["level"], e["logger"], e["message"]) for e in logs] == [
        ("INFO", "etl.extract", "read 3 rows"),
        ("stdout", "stdout", "hello from extract"),
    ]
    assert {e["run_id"] for e in logs} == {result.run_id}
    assert {(e["task"], e["attempt"], e["environment"]) for e in logs} == {
        ("extract", 1, glacier_env.name)
    }
    load_lines = [
        (e["attempt"], e["message"])
        for e in result.tasks["load"].logs or []
        if e["logger"] == "etl.load"
    ]
    assert load_lines == [(1, "attempt 1"), (2, "attempt 2")]
    assert result.tasks["quiet"].logs is None
    assert sys.stdout.__class__.__name__ != "_Tee"  # the tee is gone after the run


def test_capture_can_be_switched_off(glacier_env: Environment) -> None:
    pipeline = Pipeline("no-capture", env=glacier_env)

    @pipeline.task()
    def noisy() -> None:
        logging.getLogger("etl").warning("not kept")

    result = LocalExecutor(capture_logs=False).execute(pipeline, env=glacier_env)

    assert result.ok and result.tasks["noisy"].logs is None


def test_json_log_lines_carry_the_task_fields(glacier_env: Environment) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("etl.json")
    logger.addHandler(handler)
    try:
        pipeline = Pipeline("json-logs", env=glacier_env)

        @pipeline.task()
        def emit() -> None:
            logger.warning("done")

        result = pipeline.run()
    finally:
        logger.removeHandler(handler)

    line = json.loads(stream.getvalue().splitlines()[0])
    assert line["message"] == "done" and line["level"] == "WARNING"
    assert (line["run_id"], line["task"], line["attempt"]) == (result.run_id, "emit", 1)

"""Pipelines the UI's tests look at: a small shop whose run has every kind of task record
(logs, printed lines, retries, a failure with a traceback, a skipped task), a task whose name
is markup, and a large pipeline in namespaces."""

from __future__ import annotations

import logging
import threading
from typing import Any

import polars as pl

from glacier import Dataset, Environment, Pipeline

#: A task name that would run as script if the page ever parsed a name as HTML.
SCRIPT_NAME = "<script>window.pwned=1</script>"
#: A log line that would be an element if the page parsed logs as HTML.
MARKUP_LINE = "hello <img src=x onerror=window.pwned=2>"
#: (started, release) of GATED_TARGET's waiting task, for a `glacier run` in this process.
CLI_GATE = (threading.Event(), threading.Event())
#: A target file's source: a pipeline whose task waits on CLI_GATE.
GATED_TARGET = """
import ui_pipelines
from glacier import Dataset, Pipeline

p = Pipeline("gated_cli")
a = Dataset("a")


@p.task()
def wait() -> a:
    started, release = ui_pipelines.CLI_GATE
    started.set()
    release.wait()
    return 1
"""


def shop(env: Environment) -> Pipeline:
    """extract -> raw -> SCRIPT_NAME (fails twice, then succeeds) -> clean -> report (fails)
    -> summary -> publish (skipped)."""
    log = logging.getLogger("shop")
    p = Pipeline("shop", env=env)
    lake = env.provider.bucket
    raw = Dataset(
        "raw",
        storage=lake("lake", path="raw/orders.parquet"),
        schema={"id": pl.Int64, "amount": pl.Float64},
    )
    clean = Dataset("clean", storage=lake("lake", path="clean/orders.parquet"))
    summary = Dataset("summary")
    published = Dataset("published")
    tries = {"n": 0}

    @p.task(tags={"layer": "bronze"})
    def extract() -> raw:
        """Read the orders."""
        log.info("extracted %d rows", 3)
        print(MARKUP_LINE)
        return pl.DataFrame({"id": [1, 2, 3], "amount": [1.0, 2.0, 3.0]})

    @p.task(retries=2, retry_delay=0.01, name=SCRIPT_NAME)
    def flaky(data: raw) -> clean:
        tries["n"] += 1
        if tries["n"] < 3:
            raise RuntimeError(f"flaky failure {tries['n']}")
        return data

    @p.task()
    def report(data: clean) -> summary:
        raise ValueError("no summary today")

    @p.task()
    def publish(data: summary) -> published:
        return data

    return p


def gated(env: Environment, started: threading.Event, release: threading.Event) -> Pipeline:
    """first -> wait (sets ``started``, then waits for ``release``) -> last."""
    p = Pipeline("gated", env=env)
    a, b, c = Dataset("a"), Dataset("b"), Dataset("c")

    @p.task()
    def first() -> a:
        return 1

    @p.task()
    def wait(x: a) -> b:
        started.set()
        release.wait()
        return x

    @p.task()
    def last(x: b) -> c:
        return x

    return p


def large(env: Environment, namespaces: int = 20, per_namespace: int = 100) -> Pipeline:
    """``namespaces * per_namespace`` tasks named ``ns<i>.t<j>``: each namespace a chain whose
    head reads the previous namespace's second task's output."""
    p = Pipeline("large", env=env)
    out: dict[tuple[int, int], Dataset] = {}
    for i in range(namespaces):
        for j in range(per_namespace):
            upstream = out.get((i, j - 1)) if j > 0 else out.get((i - 1, 1))
            if upstream is None:

                def step() -> Any:
                    return 0

            else:

                def step(x: Any) -> Any:
                    return x

                step.__annotations__["x"] = upstream
            out[i, j] = Dataset(f"ns{i:02d}.d{j:03d}")
            step.__annotations__["return"] = out[i, j]
            p.task(name=f"ns{i:02d}.t{j:03d}")(step)
    return p

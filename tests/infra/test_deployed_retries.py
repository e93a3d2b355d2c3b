"""Retries do not multiply in the cloud (issue 22): the state machine's ``Retry`` retried every
failure ``retries`` times and the deployed handler's per-task path retried each attempt again,
so a task could run ``(retries + 1)²`` times. One layer retries now: the task's process; the
state retries only Lambda refusing to start the function."""

from __future__ import annotations

from pathlib import Path

from glacier.infra import plan, rehearse
from glacier.infra.aws.definition import SERVICE_RETRIES
from infra.plans import definition

COUNTED = """
from pathlib import Path

import polars as pl
from glacier import AWSEnvironment, Dataset, Pipeline

env = AWSEnvironment(account_id="444444444444", region="us-east-1", environment="rt")
pipeline = Pipeline("counted")
flaky_out = Dataset("flaky_out", storage=env.storage.s3(bucket="rt-out", path="flaky.parquet"))
broken_out = Dataset("broken_out", storage=env.storage.s3(bucket="rt-out", path="b.parquet"))
ATTEMPTS = Path({attempts!r})


def attempt(task: str) -> int:
    with (ATTEMPTS / task).open("a") as f:
        f.write("x")
    return len((ATTEMPTS / task).read_text())


@pipeline.task(compute=env.compute.lambda_(), retries=2)
def flaky() -> flaky_out:
    if attempt("flaky") < 3:
        raise ConnectionError("the store reset the connection")
    return pl.DataFrame({{"x": [1]}})


@pipeline.task(compute=env.compute.lambda_(), retries=1, timeout=60)
def broken() -> broken_out:
    attempt("broken")
    raise ConnectionError("the store is down")


long_out = Dataset("long_out", storage=env.storage.s3(bucket="rt-out", path="long.parquet"))
fatal_out = Dataset("fatal_out", storage=env.storage.s3(bucket="rt-out", path="fatal.parquet"))


# Three attempts of up to 50 s do not fit the function's 60 s: the state retries.
@pipeline.task(compute=env.compute.lambda_(timeout=60), retries=2, timeout=50)
def long() -> long_out:
    if attempt("long") < 3:
        raise ConnectionError("the store reset the connection")
    return pl.DataFrame({{"x": [1]}})


@pipeline.task(compute=env.compute.lambda_(timeout=60), retries=2, timeout=50)
def fatal() -> fatal_out:
    from glacier.errors import ConfigError

    attempt("fatal")
    raise ConfigError("a setting is wrong")
"""


def test_a_deployed_task_runs_at_most_retries_plus_one_times(tmp_path: Path) -> None:
    attempts = tmp_path / "attempts"
    attempts.mkdir()
    module = tmp_path / "counted.py"
    module.write_text(COUNTED.format(attempts=str(attempts)))
    states = definition(plan(f"{module}:pipeline"))["States"]["Level 1"]["Branches"]
    for branch in states[:2]:
        (state,) = branch["States"].values()
        # The state retries only Lambda's refusal to start the function; never the task.
        assert [r["ErrorEquals"] for r in state["Retry"]] == [list(SERVICE_RETRIES)]
    broken = next(b for b in states if b["StartAt"] == "broken")["States"]["broken"]
    assert broken["TimeoutSeconds"] == 120  # both attempts of 60 s (no wait between them)

    report = rehearse(f"{module}:pipeline", "rt")
    assert report.task("flaky").status == "succeeded", report.to_text()
    assert report.task("flaky").written == ("flaky_out",)
    assert report.task("broken").status == "failed"
    assert "ConnectionError: the store is down" in report.task("broken").error
    # Every attempt of the task's function, in all: retries + 1 at most (was 4 for broken).
    assert len((attempts / "flaky").read_text()) == 3
    assert len((attempts / "broken").read_text()) == 2
    assert report.task("flaky").attempts == report.task("broken").attempts == 1  # processes


def test_attempts_that_cannot_fit_one_invocation_are_retried_by_the_state(tmp_path: Path) -> None:
    attempts = tmp_path / "attempts"
    attempts.mkdir()
    module = tmp_path / "counted.py"
    module.write_text(COUNTED.format(attempts=str(attempts)))
    planned = plan(f"{module}:pipeline")
    branches = definition(planned)["States"]["Level 1"]["Branches"]
    long = next(b for b in branches if b["StartAt"] == "long")["States"]["long"]
    # One attempt per invocation (the function's 60 s), the task's retries as the state's;
    # a failure no retry can mend (NotRetriedError) is not retried.
    assert long["TimeoutSeconds"] == 60
    assert long["Retry"][1:] == [
        {"ErrorEquals": ["NotRetriedError"], "MaxAttempts": 0},
        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1.0},
    ]
    texts = [c.text for c in planned.choices]
    assert any(t.startswith("long: retried by the state machine") for t in texts), texts
    function = next(r for r in planned.of_type("aws:lambda/function:Function") if "long" in r.name)
    assert function.inputs["environment"]["variables"]["GLACIER_ONE_ATTEMPT"] == "1"

    report = rehearse(f"{module}:pipeline", "rt")
    assert report.task("long").status == "succeeded", report.to_text()
    assert report.task("long").attempts == 3  # three processes, one attempt each
    assert len((attempts / "long").read_text()) == 3
    assert report.task("fatal").status == "failed"
    assert "NotRetriedError: ConfigError: a setting is wrong" in report.task("fatal").error
    assert report.task("fatal").attempts == 1
    assert len((attempts / "fatal").read_text()) == 1

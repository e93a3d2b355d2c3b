"""SIGKILL trials of a writer, on the local disk and on S3 (moto): readers see a whole old or
whole new version, and the next write leaves no stray objects (issue 17, deliverable 3).
10 trials per store (one batch of writers), 40 in a stress run (``pytest --stress``);
``benchmarks/kill_trials.py`` runs more of them."""

from __future__ import annotations

from pathlib import Path

import boto3

from glacier.adapters.manifest import TMP_DIR, temp_name, writer_is_gone
from kill_trials import run_trials, summary, trials_for
from stress import trials

TRIALS = trials(10, 40)


def test_killed_local_writers_leave_whole_versions_and_nothing_stray(tmp_path: Path) -> None:
    outcomes = run_trials(trials_for("local", TRIALS, base=str(tmp_path)), parallel=10)
    assert len(outcomes) == TRIALS
    assert all(o.ok for o in outcomes), summary(outcomes)
    assert any(o.started > o.done for o in outcomes), summary(outcomes)  # some mid-write


def test_killed_s3_writers_leave_whole_versions_and_nothing_stray(
    moto_endpoint: str, bucket_name: str
) -> None:
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket_name
    )
    trials = trials_for("s3", TRIALS, endpoint=moto_endpoint, bucket=bucket_name)
    outcomes = run_trials(trials, parallel=10)
    assert len(outcomes) == TRIALS
    assert all(o.ok for o in outcomes), summary(outcomes)
    assert any(o.started > o.done for o in outcomes), summary(outcomes)


def test_a_dead_writers_temporary_object_is_recognised() -> None:
    import subprocess
    import sys

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    mine = temp_name("x.parquet")
    theirs = mine.replace(f".{__import__('os').getpid()}-", f".{gone.stdout.strip()}-")
    assert not writer_is_gone(mine)
    assert writer_is_gone(theirs)
    assert not writer_is_gone("20260101T000000000000Z-abcdef12-x.parquet")  # no writer tag
    assert TMP_DIR.endswith("tmp")

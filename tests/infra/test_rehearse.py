"""Rehearsing deployments on moto with IAM enforced: each task's real artifact, in a clean
process under its own role, in the order of the state machine's definition."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import infra_pipelines as seeds
from glacier.infra import rehearse
from infra.plans import ROOT


def test_the_seed_factory_pattern_runs_as_deployed_under_its_roles(moto_endpoint: str) -> None:
    import boto3

    # AWSEnvironment(..., profile="dev"): the profile is the deployer's; the tasks use roles.
    report = rehearse(seeds.dev_pipeline, "dev")
    assert report.ok, report.to_text()
    assert [(t.task, t.compute, t.status) for t in report.tasks] == [
        ("extract", "lambda", "succeeded"),
        ("clean", "lambda", "succeeded"),
    ]
    assert report.task("extract").written == ("raw_data",)
    assert report.task("clean").written == ("clean_data",)
    assert report.state_machine is not None
    assert report.state_machine.endswith(":stateMachine:dev-analytics-dev")
    assert any("trust the rehearsal's IAM user" in n for n in report.notes)
    # IAM was enforced on the rehearsal's own server only: the caller's moto is untouched.
    assert report.endpoint != moto_endpoint
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="after-a-rehearsal")
    assert "after-a-rehearsal" in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_the_medallion_example_runs_as_deployed_on_lambda_and_ecs(tmp_path: Path) -> None:
    code = (
        "import json, runpy\n"
        "from glacier.infra import rehearse\n"
        f"pipeline = runpy.run_path({str(ROOT / 'examples' / 'medallion.py')!r})['pipeline']\n"
        "r = rehearse(pipeline, 'prod')\n"
        "print(json.dumps([[t.task, t.compute, t.status, list(t.written), t.error,\n"
        "                   [str(d) for d in t.denied]] for t in r.tasks]))\n"
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT / "src"),
        "HOME": str(tmp_path),
        "GLACIER_ENV": "prod",
        "GLACIER_SETTINGS_DIR": str(ROOT / "containers"),
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    tasks = json.loads(done.stdout.strip().splitlines()[-1])
    assert tasks == [
        ["ingest", "ecs", "succeeded", ["raw_orders"], "", []],
        ["clean", "ecs", "succeeded", ["orders"], "", []],
        ["revenue", "lambda", "succeeded", ["daily_revenue"], "", []],
        ["customer_value", "ecs", "succeeded", ["customers"], "", []],
    ]


SNEAKY = """
import polars as pl
from glacier import AWSEnvironment, Dataset, Pipeline

env = AWSEnvironment(account_id="333333333333", region="us-east-1", environment="qa")
pipeline = Pipeline("sneaky")
out = Dataset("out", storage=env.storage.s3(bucket="qa-sneaky-out", path="out.parquet"))
secret = Dataset("secret", storage=env.storage.s3(bucket="qa-sneaky-secret", path="s.parquet"))
result = Dataset("result", storage=env.storage.s3(bucket="qa-sneaky-out", path="r.parquet"))


@pipeline.task(compute=env.compute.lambda_())
def make() -> out:
    return pl.DataFrame({"x": [1, 2]})


@pipeline.task(compute=env.compute.lambda_())
def keep() -> secret:
    return pl.DataFrame({"pin": [1234]})


@pipeline.task(compute=env.compute.lambda_())
def peek(data: out) -> result:
    # Reads a dataset it does not declare: its role must not allow it.
    stolen = env.storage.s3(bucket="qa-sneaky-secret", path="s.parquet").read()
    return data.with_columns(pin=pl.lit(stolen["pin"][0]))
"""


def test_a_task_touching_an_undeclared_dataset_is_denied(tmp_path: Path) -> None:
    module = tmp_path / "sneaky.py"
    module.write_text(SNEAKY)
    report = rehearse(f"{module}:pipeline", "qa")
    assert not report.ok
    assert report.task("make").ok and report.task("keep").ok
    peek = report.task("peek")
    assert peek.status == "failed" and "permission denied" in peek.error
    assert peek.denied and all("/qa-sneaky-secret" in d.path for d in peek.denied)
    assert "peek" in report.to_text() and "denied" in report.to_text()

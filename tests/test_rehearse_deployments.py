"""Rehearsals of the documented deployment patterns: a `glacier init` project, and a Glue task
run from its generated script as Glue runs it — each task's artifact in a clean process under
its own role, on moto with IAM enforced."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import polars as pl

from glacier.infra import rehearse
from glacier.infra.rehearse import stop_server
from glacier.scaffold import scaffold

ROOT = Path(__file__).resolve().parents[1]

#: Rehearses a target in a process of its own (the pipeline's module reads GLACIER_ENV when
#: imported) and prints each task's outcome as JSON.
REHEARSE = (
    "import json, sys\n"
    "from glacier.infra import rehearse\n"
    "r = rehearse(sys.argv[1], sys.argv[2])\n"
    "print(json.dumps([[t.task, t.compute, t.status, list(t.written), t.error,\n"
    "                   [str(d) for d in t.denied]] for t in r.tasks]))\n"
)


def test_a_glacier_init_project_runs_as_deployed_in_prod(tmp_path: Path) -> None:
    project = tmp_path / "sales-pipeline"
    scaffold(project)
    # No GLACIER_SETTINGS_DIR, no AWS profile on this machine: the project finds its own
    # settings, and its tasks use their roles, not the deployer's profile "prod".
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT / "src"),
        "HOME": str(tmp_path),
        "GLACIER_ENV": "prod",
    }
    done = subprocess.run(
        [sys.executable, "-c", REHEARSE, f"{project / 'pipeline.py'}:pipeline", "prod"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [
        ["extract", "lambda", "succeeded", ["raw_orders"], "", []],
        ["clean", "lambda", "succeeded", ["orders"], "", []],
        ["customer_revenue", "lambda", "succeeded", ["revenue"], "", []],
    ]


GLUE = """
import polars as pl
from glacier import AWSEnvironment, Dataset, Pipeline

env = AWSEnvironment(account_id="555555555555", region="eu-west-1", environment="gl")
pipeline = Pipeline("sparky")
raw = Dataset("raw", storage=env.storage.s3(bucket="gl-sparky-raw", path="raw.parquet"))
totals = Dataset("totals")  # in memory: travels through the artifacts bucket
out = Dataset("out", storage=env.storage.s3(bucket="gl-sparky-out", path="out.parquet"))


@pipeline.task(compute=env.compute.lambda_())
def land() -> raw:
    return pl.DataFrame({"k": ["a", "b", "a"], "v": [1, 2, 3]})


@pipeline.task(compute=env.compute.glue(worker_type="G.1X", num_workers=2))
def crunch(data: raw) -> totals:
    return data.group_by("k").agg(pl.col("v").sum()).sort("k")


@pipeline.task(compute=env.compute.lambda_())
def publish(data: totals) -> out:
    return data.with_columns(doubled=pl.col("v") * 2)
"""


def test_a_glue_task_runs_from_its_generated_script_as_glue_runs_it(tmp_path: Path) -> None:
    module = tmp_path / "sparky.py"
    module.write_text(GLUE)
    report = rehearse(f"{module}:pipeline", "gl", keep_server=True)
    try:
        s3 = boto3.client(
            "s3",
            endpoint_url=report.endpoint,
            region_name="eu-west-1",
            aws_access_key_id="reader",
            aws_secret_access_key="reader",
        )
        body = s3.get_object(Bucket="gl-sparky-out", Key="out.parquet")["Body"].read()
    finally:
        stop_server(report.endpoint)
    assert report.ok, report.to_text()
    # The Glue job's aggregate reached the next task through the artifacts bucket.
    assert pl.read_parquet(io.BytesIO(body)).to_dict(as_series=False) == {
        "k": ["a", "b"],
        "v": [4, 2],
        "doubled": [8, 4],
    }
    assert [(t.task, t.compute, t.status, t.written) for t in report.tasks] == [
        ("land", "lambda", "succeeded", ("raw",)),
        ("crunch", "glue", "succeeded", ("totals",)),
        ("publish", "lambda", "succeeded", ("out",)),
    ]
    assert report.task("crunch").denied == ()
    assert report.task("crunch").attempts == 1

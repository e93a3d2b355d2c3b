"""A GCP environment's deployable project: ``glacier generate`` writes a Pulumi project whose
requirements name pulumi-gcp and whose program plans the same resources; ``run --remote``
starts the workflow or says how."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from glacier.infra import plan
from infra.plans import ROOT, TESTS

PIPELINE = """
import polars as pl

from glacier import Dataset, Environment, Pipeline

env = Environment.from_env()
pipeline = Pipeline("lake", env=env)
raw = Dataset("raw", storage=env.get("raw"))
clean = Dataset("clean", storage=env.get("clean"))


@pipeline.task()
def extract() -> raw:
    return pl.DataFrame({"x": [1, 2, 3]})


@pipeline.task()
def tidy(data: raw) -> clean:
    return data.filter(pl.col("x") > 1)
"""

SETTINGS = """
name = "gcp"
[provider]
kind = "gcp"
project_id = "acme-data-prod"
region = "europe-west1"

[buckets.raw]
bucket_name = "acme-prod-raw"
path = "orders/"

[buckets.clean]
bucket_name = "acme-prod-clean"
path = "orders.parquet"
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GLACIER_ENV", raising=False)
    (tmp_path / "containers").mkdir()
    (tmp_path / "lake.py").write_text(PIPELINE)
    (tmp_path / "containers" / "gcp.toml").write_text(SETTINGS)
    yield tmp_path
    # The commands imported lake.py in this process: later plans must not find its pipeline
    # (the code of a plan is found among the imported modules).
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", "") or "").startswith(str(tmp_path)):
            del sys.modules[name]


def invoke(*args: str) -> tuple[int, str, str]:
    from glacier.cli import app

    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_generate_writes_a_deployable_gcp_project(project: Path) -> None:
    code, _, err = invoke("generate", "lake.py", "--env", "gcp", "-o", "infra")
    assert code == 0, err
    infra = project / "infra"
    names = sorted(p.name for p in infra.iterdir())
    assert names == [
        "Dockerfile",
        "Pulumi.gcp.yaml",
        "Pulumi.yaml",
        "__main__.py",
        "requirements.txt",
    ]
    requirements = (infra / "requirements.txt").read_text().splitlines()
    assert "pulumi-gcp>=10.0,<11" in requirements
    assert any(r.startswith("glacier-pipelines[s3,gcp,deploy]") for r in requirements)
    stack = yaml.safe_load((infra / "Pulumi.gcp.yaml").read_text())["config"]
    assert stack["gcp:project"] == "acme-data-prod" and stack["gcp:region"] == "europe-west1"
    assert '"glacier.infra.runtime"' in (infra / "Dockerfile").read_text()
    # The generated program, run as `pulumi up` would (its own process), plans what plan does.
    script = (
        "import sys, json\n"
        "from glacier.infra.mocks import plan_project\n"
        "p = plan_project(sys.argv[1], sys.argv[2])\n"
        "print(json.dumps(sorted((r.type, r.name) for r in p)))\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(TESTS)]),
        "GLACIER_SETTINGS_DIR": str(project / "containers"),
    }
    done = subprocess.run(
        [sys.executable, "-c", script, str(infra), "gcp"],
        capture_output=True,
        text=True,
        env=env,
        cwd=infra,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    generated = {tuple(r) for r in json.loads(done.stdout.strip().splitlines()[-1])}
    assert ("gcp:workflows/workflow:Workflow", "gcp-workflow") in generated
    assert ("gcp:cloudrunv2/job:Job", "gcp-tidy-job") in generated
    assert len([t for t, _ in generated if t == "gcp:storage/bucketIAMMember:BucketIAMMember"]) == 5


def test_run_remote_without_the_workflows_client_names_the_gcloud_command(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "google.cloud.workflows", None)  # not installed
    code, out, err = invoke("run", "lake.py", "--env", "gcp", "--remote", "--follow", "0")
    assert code != 0
    text = " ".join((out + err).split())
    assert "projects/acme-data-prod/locations/europe-west1/workflows/gcp-lake" in text
    assert "pip install 'glacier-pipelines[gcp]'" in text
    assert "gcloud workflows run gcp-lake --location=europe-west1 --project=acme-data-prod" in text


def test_plan_and_generate_agree_on_the_image(project: Path) -> None:
    os.environ["GLACIER_ENV"] = "gcp"
    try:
        from glacier.cli import load_pipeline, selected_environment

        with selected_environment("gcp", None):
            planned = plan(load_pipeline("lake.py"))
    finally:
        del os.environ["GLACIER_ENV"]
    images = {c.image for c in planned.choices}
    assert len(images) == 1  # one image for every task of the pipeline
    assert next(iter(images)).startswith("europe-west1-docker.pkg.dev/acme-data-prod/gcp-lake/")

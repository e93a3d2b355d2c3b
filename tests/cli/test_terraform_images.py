"""Terraform for a GCP pipeline: ``glacier generate --target terraform`` says what comes next
for GCP (the job image, then Terraform), and ``glacier package`` writes the image's
Dockerfile and ``images.sh``, the commands that build and push it."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .commands import invoke
from .projects import envs_project, write
from .test_run_remote import BUCKETS, LAKE

GCP = 'name = "gcp"\n[provider]\nkind = "gcp"\nproject_id = "acme-data-prod"\n'
GCP += 'region = "europe-west1"\n' + BUCKETS
REPOSITORY = "europe-west1-docker.pkg.dev/acme-data-prod/gcp-lake/lake"


@pytest.fixture
def lake(project: Path) -> Iterator[Path]:
    write(project, {"lake.py": LAKE, "containers/gcp.toml": GCP})
    yield project
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", "") or "").startswith(str(project)):
            del sys.modules[name]


def test_the_next_step_for_gcp_names_the_image_script(lake: Path) -> None:
    code, out, err = invoke("generate", "lake.py", "--env", "gcp", "-t", "terraform", "-o", "tf")
    assert code == 0, err
    text = " ".join(out.split())
    assert (
        "Next: glacier package lake.py --env gcp -o tf (the image's Dockerfile and images.sh)"
        in text
    )
    assert "terraform apply -target=<its registry>" in text
    assert "tf/gcp/images.sh (builds and pushes the image), terraform plan" in text


def test_the_next_step_for_aws_stays_package_then_terraform(project: Path) -> None:
    envs_project(project)
    code, out, err = invoke("generate", "by_env.py", "--env", "prod", "-t", "terraform", "-o", "tf")
    assert code == 0, err
    text = " ".join(out.split())
    assert "Next: glacier package by_env.py --env prod -o tf, then terraform init" in text
    assert "images.sh" not in text


def test_package_writes_the_dockerfile_and_the_commands_that_push_the_job_image(
    lake: Path,
) -> None:
    code, _, err = invoke("generate", "lake.py", "--env", "gcp", "-t", "terraform", "-o", "tf")
    assert code == 0, err
    main = json.loads((lake / "tf" / "gcp" / "main.tf.json").read_text())
    (job,) = {
        c["image"]
        for j in main["resource"]["google_cloud_run_v2_job"].values()
        for c in j["template"]["template"]["containers"]
    }
    assert job.startswith(REPOSITORY + ":")
    (registry,) = main["resource"]["google_artifact_registry_repository"]

    code, out, err = invoke("package", "lake.py", "--env", "gcp", "-o", "tf")
    assert code == 0, err
    dockerfile = lake / "tf" / "gcp" / "Dockerfile"
    script = lake / "tf" / "gcp" / "images.sh"
    assert "tf/gcp/Dockerfile" in out and "tf/gcp/images.sh" in out
    assert 'CMD ["python", "-m", "glacier.infra.runtime"]' in dockerfile.read_text()
    lines = script.read_text().splitlines()
    assert lines[0] == "#!/bin/sh" and "set -eu" in lines
    assert f"# after `terraform apply -target=google_artifact_registry_repository.{registry}`" in (
        script.read_text()
    )
    assert lines[-2:] == [
        "gcloud auth print-access-token | docker login --username oauth2accesstoken "
        "--password-stdin europe-west1-docker.pkg.dev",
        "docker buildx build --platform linux/amd64 --provenance=false -f Dockerfile "
        f"-t {job} --push ../..",  # the code root, from tf/gcp/
    ]
    assert script.stat().st_mode & 0o111

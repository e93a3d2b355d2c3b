"""Terraform for a GCP or Azure pipeline: ``glacier generate --target terraform`` says what
comes next (the job image, then Terraform), and ``glacier package`` writes the image's
Dockerfile and ``images.sh``, the commands that build and push it."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .commands import invoke
from .projects import envs_project, write
from .test_run_remote import BUCKETS, LAKE, SUBSCRIPTION

GCP = 'name = "gcp"\n[provider]\nkind = "gcp"\nproject_id = "acme-data-prod"\n'
GCP += 'region = "europe-west1"\n' + BUCKETS
REPOSITORY = "europe-west1-docker.pkg.dev/acme-data-prod/gcp-lake/lake"
AZURE = 'name = "azure"\n[provider]\nkind = "azure"\n'
AZURE += f'subscription_id = "{SUBSCRIPTION}"\nstorage_account = "acmedata"\n'
AZURE += 'location = "westeurope"\n' + BUCKETS


@pytest.fixture
def lake(project: Path) -> Iterator[Path]:
    write(project, {"lake.py": LAKE, "containers/gcp.toml": GCP, "containers/azure.toml": AZURE})
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


def test_package_writes_the_azure_job_image_and_its_acr_push(lake: Path) -> None:
    """The Azure directory's jobs run an image of the registry it creates: `glacier package`
    writes its Dockerfile (Azure's storage client, not AWS's) and the ACR login and push (it
    wrote nothing for Azure before, though the "Next:" line named it)."""
    code, out, err = invoke("generate", "lake.py", "--env", "azure", "-t", "terraform", "-o", "tf")
    assert code == 0, err
    assert "glacier package lake.py --env azure -o tf" in " ".join(out.split())
    main = json.loads((lake / "tf" / "azure" / "main.tf.json").read_text())
    (image,) = {
        c["image"]
        for j in main["resource"]["azurerm_container_app_job"].values()
        for c in j["template"]["container"]
    }
    (registry,) = main["resource"]["azurerm_container_registry"].values()
    (address,) = main["resource"]["azurerm_container_registry"]
    tag = image.rsplit(":", 1)[1]
    readme = (lake / "tf" / "azure" / "README.md").read_text()
    assert "glacier package <pipeline file> --env azure" in readme

    code, out, err = invoke("package", "lake.py", "--env", "azure", "-o", "tf")
    assert code == 0, err
    dockerfile = (lake / "tf" / "azure" / "Dockerfile").read_text()
    assert "adlfs==" in dockerfile and "azure-identity==" in dockerfile
    assert "s3fs" not in dockerfile and "boto3" not in dockerfile
    script = (lake / "tf" / "azure" / "images.sh").read_text()
    assert f"-target=azurerm_container_registry.{address}`" in script
    server = f"{registry['name']}.azurecr.io"
    assert script.splitlines()[-2:] == [
        f"az acr login --name {registry['name']}",
        "docker buildx build --platform linux/amd64 --provenance=false -f Dockerfile "
        f"-t {server}/glacier:{tag} --push ../..",
    ]

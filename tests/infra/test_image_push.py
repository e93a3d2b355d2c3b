"""`glacier deploy` builds and pushes the Lambda images a stack needs before its functions, or,
without Docker, stops after the repository with the exact commands to run."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from glacier.errors import InfraError
from glacier.infra import generate
from glacier.infra.deploy import prepare_images
from glacier.infra.image_push import ImagePush, push_images
from infra import seed_patterns

URL = "123456789012.dkr.ecr.us-east-1.amazonaws.com/prod-layer-two"


def fake_docker(directory: Path) -> Path:
    """A `docker` that notes each call (and what it read on stdin) in calls.log."""
    log = directory / "calls.log"
    script = directory / "docker"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {log}\n'
        'if [ "$1" = login ]; then read -r pw; echo "password $pw" >> ' + str(log) + "; fi\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return log


def a_push(tmp_path: Path) -> ImagePush:
    return ImagePush(
        URL,
        "py311-x86_64-0123",
        "linux/amd64",
        "infra/Dockerfile.lambda",
        str(tmp_path),
        "us-east-1",
        "prod",
    )


def test_without_docker_the_error_lists_the_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker here
    push = a_push(tmp_path)
    with pytest.raises(InfraError) as caught:
        push_images([push], exists=lambda p: False, login_password=lambda p: "secret")
    message = str(caught.value)
    assert f"{URL}:py311-x86_64-0123 are not in their repository yet" in message
    assert (
        "aws ecr get-login-password --region us-east-1 --profile prod | docker login "
        "--username AWS --password-stdin 123456789012.dkr.ecr.us-east-1.amazonaws.com"
    ) in message
    assert (
        "docker buildx build --platform linux/amd64 --provenance=false -f "
        f"infra/Dockerfile.lambda -t {URL}:py311-x86_64-0123 --push {tmp_path}"
    ) in message
    assert message.endswith("then run glacier deploy again.")


def test_an_image_already_pushed_is_not_built_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert push_images([a_push(tmp_path)], exists=lambda p: True, login_password=str) == []


def test_with_docker_the_image_is_built_and_pushed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = fake_docker(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin:/bin")
    push = a_push(tmp_path)
    assert push_images([push], exists=lambda p: False, login_password=lambda p: "s3cret") == [push]
    assert log.read_text().splitlines() == [
        "buildx version",
        "login --username AWS --password-stdin 123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "password s3cret",
        " ".join(push.build_command()[1:]),
    ]


class FakeStack:
    """What prepare_images uses of an Automation API stack."""

    def __init__(self, url: str, project: str = "layer-two", env: str = "prod") -> None:
        self.targets: list[Any] = []
        self.url = url
        self.urn = f"urn:pulumi:{env}::{project}::aws:ecr/repository:Repository::{env}-images"

    def up(self, target: list[str], on_output: Any = None) -> None:
        self.targets.append(target)

    def export_stack(self) -> Any:
        resources = [{"urn": self.urn, "outputs": {"repositoryUrl": self.url}}]
        return SimpleNamespace(deployment={"resources": resources})


def test_deploy_creates_the_repository_first_then_pushes_the_planned_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = generate(seed_patterns.layer2_pipeline, tmp_path / "infra")
    (image,) = written["images"]
    log = fake_docker(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin:/bin")
    import glacier.infra.deploy as deploy

    monkeypatch.setattr(deploy, "_in_repository", lambda push: False)
    monkeypatch.setattr(deploy, "_login_password", lambda push: "pw")
    stack = FakeStack(URL)
    prepare_images(stack, str(written["project"]), "prod", written["images"])
    prefix = "urn:pulumi:prod::layer-two::"
    assert stack.targets == [
        [
            f"{prefix}pulumi:providers:aws::prod",
            f"{prefix}aws:ecr/repository:Repository::prod-images",
            f"{prefix}aws:ecr/repositoryPolicy:RepositoryPolicy::prod-images-policy",
        ]
    ]
    build = log.read_text().splitlines()[-1]
    assert build == (
        f"buildx build --platform linux/amd64 --provenance=false -f {image['dockerfile']} "
        f"-t {URL}:{image['tag']} --push {image['context']}"
    )


def test_an_ecs_image_is_built_from_the_ecs_dockerfile_without_a_lambda_pull_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infra.pipelines import ecs_pipeline

    written = generate(ecs_pipeline(image=None), tmp_path / "infra")
    (image,) = written["images"]
    assert image["kind"] == "ecs" and image["dockerfile"].endswith("/Dockerfile")
    log = fake_docker(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin:/bin")
    import glacier.infra.deploy as deploy

    monkeypatch.setattr(deploy, "_in_repository", lambda push: False)
    monkeypatch.setattr(deploy, "_login_password", lambda push: "pw")
    url = "111111111111.dkr.ecr.us-west-2.amazonaws.com/batch-heavy"
    stack = FakeStack(url, project="heavy", env="batch")
    prepare_images(stack, "heavy", "batch", written["images"])
    prefix = "urn:pulumi:batch::heavy::"
    assert stack.targets == [
        [
            f"{prefix}pulumi:providers:aws::batch",
            f"{prefix}aws:ecr/repository:Repository::batch-images",
        ]
    ]
    assert f"-f {image['dockerfile']} -t {url}:{image['tag']} --push" in log.read_text()

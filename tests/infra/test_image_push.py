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


def gcp_and_azure_images(tmp_path: Path) -> dict[str, Any]:
    """The images `glacier generate` lists for a GCP pipeline and an Azure one."""
    from infra.azure.pipelines import lake_pipeline
    from infra.gcp.pipelines import daily

    return {
        "gcp": generate(daily(), tmp_path / "gcp")["images"],
        "azure": generate(lake_pipeline()[0], tmp_path / "azure")["images"],
    }


def test_a_gcp_deploy_creates_the_artifact_registry_repository_then_pushes_the_job_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (image,) = gcp_and_azure_images(tmp_path)["gcp"]
    assert image["kind"] == "cloud_run" and image["dockerfile"].endswith("/Dockerfile")
    log = fake_docker(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin:/bin")
    import glacier.infra.deploy as deploy

    monkeypatch.setattr(deploy, "_in_repository", lambda push: False)
    monkeypatch.setattr(deploy, "_login_password", lambda push: "ya29.token")
    stack = FakeStack("unused", project="daily", env="prod")
    prepare_images(stack, "daily", "prod", [image])
    prefix = "urn:pulumi:prod::daily::"
    assert stack.targets == [
        [
            f"{prefix}pulumi:providers:gcp::prod",
            f"{prefix}gcp:artifactregistry/repository:Repository::prod-images",
        ]
    ]
    uri = f"europe-west1-docker.pkg.dev/acme-data-prod/prod-daily/daily:{image['tag']}"
    assert log.read_text().splitlines()[1:] == [
        "login --username oauth2accesstoken --password-stdin europe-west1-docker.pkg.dev",
        "password ya29.token",
        f"buildx build --platform linux/amd64 --provenance=false -f {image['dockerfile']} "
        f"-t {uri} --push {image['context']}",
    ]


def test_an_azure_deploy_creates_the_registry_then_pushes_the_job_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (image,) = gcp_and_azure_images(tmp_path)["azure"]
    assert image["kind"] == "container_app"
    log = fake_docker(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin:/bin")
    import glacier.infra.deploy as deploy

    monkeypatch.setattr(deploy, "_in_repository", lambda push: False)
    monkeypatch.setattr(deploy, "_login_password", lambda push: "acr-refresh")
    stack = FakeStack("unused", project="etl", env="dev")
    prepare_images(stack, "etl", "dev", [image])
    prefix = "urn:pulumi:dev::etl::"
    assert stack.targets == [
        [
            f"{prefix}pulumi:providers:azure-native::dev",
            f"{prefix}azure-native:resources:ResourceGroup::dev-resource-group",
            f"{prefix}azure-native:containerregistry:Registry::dev-registry",
        ]
    ]
    server = image["repository"].split("/")[0]
    assert server.endswith(".azurecr.io") and image["repository"] == f"{server}/glacier"
    assert log.read_text().splitlines()[1:] == [
        f"login --username 00000000-0000-0000-0000-000000000000 --password-stdin {server}",
        "password acr-refresh",
        f"buildx build --platform linux/amd64 --provenance=false -f {image['dockerfile']} "
        f"-t {server}/glacier:{image['tag']} --push {image['context']}",
    ]


def test_the_planned_resources_are_the_registry_targets(tmp_path: Path) -> None:
    """The targeted URNs name what the GCP and Azure plans declare (type and logical name)."""
    from glacier.infra import plan
    from glacier.infra.deploy import REGISTRY_RESOURCES
    from infra.azure.pipelines import lake_pipeline
    from infra.gcp.pipelines import daily

    for pipeline, env, kind in ((daily(), "prod", "artifact-registry"),
                                (lake_pipeline()[0], "dev", "acr")):  # fmt: skip
        declared = {(r.type, r.name) for r in plan(pipeline).resources}
        for typ, suffix in REGISTRY_RESOURCES[kind]:
            assert (typ, f"{env}{suffix}") in declared, (typ, suffix)


@pytest.mark.parametrize(
    ("cloud", "login"),
    [
        ("gcp", "gcloud auth print-access-token | docker login --username oauth2accesstoken "
         "--password-stdin europe-west1-docker.pkg.dev"),
        ("azure", "az acr login --name "),
    ],
)  # fmt: skip
def test_without_docker_a_gcp_or_azure_deploy_stops_with_the_commands(
    cloud: str, login: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (image,) = gcp_and_azure_images(tmp_path)[cloud]
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no docker
    import glacier.infra.deploy as deploy

    monkeypatch.setattr(deploy, "_in_repository", lambda push: False)
    stack = FakeStack("unused")
    with pytest.raises(InfraError) as caught:
        prepare_images(stack, "p", "prod", [image])
    message = str(caught.value)
    assert len(stack.targets) == 1  # the registry was deployed first
    assert f"\n  {login}" in message
    assert f"-t {image['repository']}:{image['tag']} --push" in message
    assert message.endswith("then run glacier deploy again.")


def registry_push(host: str, tag: str = "py311-ab") -> ImagePush:
    return ImagePush(
        f"{host}/prod-daily/daily", tag, "linux/amd64", "Dockerfile", ".", "europe-west1", None,
        "artifact-registry",
    )  # fmt: skip


def test_whether_a_tag_is_pushed_is_asked_of_the_registry_api_with_its_token_handshake() -> None:
    from glacier.infra.image_push import in_registry
    from infra.registry_standin import RegistryStandIn

    stand_in = RegistryStandIn(["prod-daily/daily:py311-ab"], "oauth2accesstoken", "ya29.t")
    with stand_in.serving():
        assert in_registry(registry_push(stand_in.host), "ya29.t", scheme="http")
        assert not in_registry(registry_push(stand_in.host, "py311-cd"), "ya29.t", scheme="http")
        with pytest.raises(InfraError, match=r"refused a token .*HTTP 401"):
            in_registry(registry_push(stand_in.host), "wrong", scheme="http")
    token = next(r for r in stand_in.requests if r.path == "/token")
    assert token.query == {
        "service": [stand_in.host],
        "scope": ["repository:prod-daily/daily:pull"],
    }
    heads = [r for r in stand_in.requests if r.method == "HEAD"]
    assert heads[0].path == "/v2/prod-daily/daily/manifests/py311-ab"
    assert "application/vnd.oci.image.index.v1+json" in heads[0].headers["accept"]


def test_an_acr_password_is_a_refresh_token_exchanged_for_the_entra_token() -> None:
    from glacier.infra.deploy import ARM_SCOPE, acr_refresh_token
    from infra.registry_standin import RegistryStandIn

    class Credential:
        scopes: tuple[str, ...] = ()

        def get_token(self, *scopes: str) -> Any:
            self.scopes = scopes
            return SimpleNamespace(token="entra-token")

    credential = Credential()
    with RegistryStandIn([], "x", "y").serving() as stand_in:
        password = acr_refresh_token(stand_in.host, credential, scheme="http")
    assert password == "refresh-for-entra-token"
    assert credential.scopes == (ARM_SCOPE,)
    (exchange,) = stand_in.requests
    assert (exchange.method, exchange.path) == ("POST", "/oauth2/exchange")
    assert exchange.body == {
        "grant_type": ["access_token"],
        "service": [stand_in.host],
        "access_token": ["entra-token"],
    }

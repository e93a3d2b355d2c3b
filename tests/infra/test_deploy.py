"""Deploying needs the Pulumi CLI; without it, the error says what to install."""

from __future__ import annotations

from pathlib import Path

import pytest

import infra_pipelines as seeds
from glacier.errors import PulumiNotInstalledError
from glacier.infra import up


def test_deploying_without_the_pulumi_cli_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PulumiNotInstalledError, match=r"https://get\.pulumi\.com"):
        up(seeds.dev_pipeline, seeds.aws_dev, output_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing written before the check


class RecordingStack:
    """What `up` uses of an Automation API stack: each `up` call's targets (None: the whole
    stack), in order."""

    def __init__(self) -> None:
        self.ups: list[list[str] | None] = []

    def up(self, target: list[str] | None = None, on_output: object = None) -> object:
        from types import SimpleNamespace

        self.ups.append(target)
        summary = SimpleNamespace(resource_changes={"create": 3})
        return SimpleNamespace(summary=summary, outputs={})


@pytest.mark.parametrize("cloud", ["gcp", "azure"])
def test_a_gcp_or_azure_deploy_pushes_the_job_image_between_the_registry_and_the_stack(
    cloud: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from pulumi import automation

    import glacier.infra.deploy as deploy
    from infra.azure.pipelines import lake_pipeline
    from infra.gcp.pipelines import daily
    from infra.test_image_push import fake_docker

    pipeline, env = (daily(), "prod") if cloud == "gcp" else (lake_pipeline()[0], "dev")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pulumi").write_text("#!/bin/sh\nexit 0\n")  # found on the PATH, never run
    (bin_dir / "pulumi").chmod(0o755)
    log = fake_docker(bin_dir)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin:/bin")
    stack = RecordingStack()
    monkeypatch.setattr(automation, "create_or_select_stack", lambda **kw: stack)
    monkeypatch.setattr(deploy, "_in_repository", lambda push: False)
    monkeypatch.setattr(deploy, "_login_password", lambda push: "token")
    done = up(pipeline, env, output_dir=tmp_path / "out")
    assert done["summary"] == {"create": 3}
    registry, whole = stack.ups
    assert registry is not None and len(registry) == (2 if cloud == "gcp" else 3)
    assert whole is None  # then the whole stack
    build = log.read_text().splitlines()[-1]
    host = "europe-west1-docker.pkg.dev/acme-data-prod/" if cloud == "gcp" else ".azurecr.io/"
    assert build.startswith("buildx build") and host in build
    assert f"-f {tmp_path / 'out' / 'Dockerfile'}" in build

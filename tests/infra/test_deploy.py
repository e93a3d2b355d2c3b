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

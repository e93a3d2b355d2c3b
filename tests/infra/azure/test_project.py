"""``glacier generate`` on an Azure environment: a deployable project whose program plans the
same resources as ``glacier plan``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from glacier.infra import generate, plan
from glacier.infra.mocks import plan_project

PIPELINE = """
from glacier import Dataset, Pipeline, Provider
from glacier.settings import AzureConfig

env = Provider(
    config=AzureConfig(
        subscription_id="00000000-1111-2222-3333-444444444444",
        location="westeurope",
        storage_account="acmedata",
    )
).env(name="dev")
raw = Dataset("raw", storage=env.storage.blob("lake", "raw/"))
clean = Dataset("clean", storage=env.storage.blob("lake", "clean/"))
pipeline = Pipeline("gen")


@pipeline.task()
def extract() -> raw: ...


@pipeline.task()
def tidy(data: raw) -> clean: ...
"""


def test_generate_writes_a_project_that_plans_what_glacier_plan_plans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "azure_gen.py").write_text(PIPELINE)
    monkeypatch.syspath_prepend(str(code))
    monkeypatch.delitem(sys.modules, "azure_gen", raising=False)
    import azure_gen  # type: ignore[import-not-found]

    written = generate(azure_gen.pipeline, tmp_path / "out", environments=[azure_gen.env])
    out = tmp_path / "out"
    assert written["stacks"] == ["dev"]
    requirements = (out / "requirements.txt").read_text()
    assert "pulumi-azure-native>=3.0,<4" in requirements
    assert "[s3,azure,deploy]" in requirements
    stack = (out / "Pulumi.dev.yaml").read_text()
    assert 'azure-native:location: "westeurope"' in stack
    assert 'azure-native:subscriptionId: "00000000-1111-2222-3333-444444444444"' in stack
    assert "glacier.infra.runtime" in (out / "Dockerfile").read_text()
    deployed = plan_project(out, "dev")
    planned = plan(azure_gen.pipeline, environments=[azure_gen.env])
    assert sorted((r.type, r.name) for r in deployed if r.environment == "dev") == sorted(
        (r.type, r.name) for r in planned if r.environment == "dev"
    )


def test_the_terraform_target_writes_azure_and_refuses_a_type_it_cannot_map(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # tests/infra/test_terraform_azure.py proves the written resources equal the plan.
    import json

    from glacier.errors import GlacierError
    from glacier.infra.terraform import types

    code = tmp_path / "code"
    code.mkdir()
    (code / "azure_tf.py").write_text(PIPELINE)
    monkeypatch.syspath_prepend(str(code))
    monkeypatch.delitem(sys.modules, "azure_tf", raising=False)
    import azure_tf  # type: ignore[import-not-found]

    generate(azure_tf.pipeline, tmp_path / "tf", [azure_tf.env], target="terraform")
    main = json.loads((tmp_path / "tf" / "dev" / "main.tf.json").read_text())
    assert main["terraform"]["required_providers"]["azurerm"]["source"] == "hashicorp/azurerm"
    assert main["resource"]["azurerm_storage_account"]
    monkeypatch.delitem(types.RESOURCE_TYPES, "azure-native:storage:StorageAccount")  # type: ignore[attr-defined]
    with pytest.raises(GlacierError) as refused:
        generate(azure_tf.pipeline, tmp_path / "tf2", [azure_tf.env], target="terraform")
    message = str(refused.value)
    assert "'azure-native:storage:StorageAccount'" in message
    assert "has no Terraform mapping" in message and "--target pulumi" in message
    assert not (tmp_path / "tf2").exists() or not any((tmp_path / "tf2").rglob("*.tf.json"))

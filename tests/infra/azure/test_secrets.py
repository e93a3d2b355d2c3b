"""Key Vault in RBAC mode, and Key Vault Secrets User on each secret for exactly the tasks
that name it."""

from __future__ import annotations

import dataclasses

from glacier.infra.azure.infrastructure import declare
from glacier.infra.mocks import plan_program
from glacier.infra.model import SecretRef, build_model
from infra.azure.pipelines import SUB_A, lake_pipeline
from infra.azure.plans import ASSIGNMENT, SECRETS_USER, assignments_of


def test_each_task_reads_exactly_the_secrets_it_names() -> None:
    pipeline, env = lake_pipeline()
    model = build_model(pipeline, [env])
    # The model passes Azure tasks their secrets as SecretRefs (cloud_name: the name in the
    # vault); here two tasks name them.
    named = {"extract": ("api_key",), "publish": ("api_key", "smtp")}
    tasks = tuple(
        dataclasses.replace(
            t, secrets=tuple(SecretRef(n, f"etl-{n}") for n in named.get(t.name, ()))
        )
        for t in model.tasks
    )
    model = dataclasses.replace(model, tasks=tasks)
    p = plan_program(lambda: declare(model, "dev"), model.envs, pipeline="etl")
    (vault,) = p.of_type("azure-native:keyvault:Vault")
    props = vault.inputs["properties"]
    assert props["enableRbacAuthorization"] is True
    assert props["enablePurgeProtection"] is True
    assert props["tenantId"]
    group = f"/subscriptions/{SUB_A}/resourceGroups/dev-etl"
    vault_id = f"{group}/providers/Microsoft.KeyVault/vaults/{vault.inputs['vaultName']}"
    for task in ("extract", "publish", "clean", "sweep"):
        scopes = sorted(r.inputs["scope"] for r in assignments_of(p, "dev", task, SECRETS_USER))
        assert scopes == [f"{vault_id}/secrets/etl-{n}" for n in named.get(task, ())]


def _secret_pipeline(**secrets: dict[str, object]):  # type: ignore[no-untyped-def]
    """An Azure environment from settings naming ``api_key`` in its Key Vault; task ``fetch``
    asks for it, task ``report`` does not."""
    import polars as pl
    from pydantic import SecretStr

    from glacier import Dataset, Environment, Pipeline
    from glacier.settings import AzureConfig, GlacierSettings

    settings = GlacierSettings(
        env="dev",
        provider=AzureConfig(
            subscription_id=SUB_A, location="westeurope", storage_account="acmedata"
        ),
        secrets=secrets or {"api_key": {"azure": "fmp-api-key"}},
    )
    env = Environment.from_settings(settings)
    quotes = Dataset("quotes", storage=env.storage.blob("lake", "quotes.parquet"))
    out = Dataset("out", storage=env.storage.blob("lake", "out.parquet"))
    p = Pipeline("fmp", env=env)

    @p.task()
    def fetch(api_key: SecretStr) -> quotes:
        return pl.DataFrame({"x": [1]})

    @p.task()
    def report(data: quotes) -> out:
        return data

    return p


def test_a_task_reading_a_key_vault_secret_is_granted_it_and_given_it_by_container_apps() -> None:
    from glacier.infra.mocks import plan
    from infra.azure.plans import JOB

    p = plan(_secret_pipeline())
    (vault,) = p.of_type("azure-native:keyvault:Vault")
    group = f"/subscriptions/{SUB_A}/resourceGroups/dev-fmp"
    vault_id = f"{group}/providers/Microsoft.KeyVault/vaults/{vault.inputs['vaultName']}"
    fetch_scopes = [r.inputs["scope"] for r in assignments_of(p, "dev", "fetch", SECRETS_USER)]
    assert fetch_scopes == [f"{vault_id}/secrets/fmp-api-key"]
    assert assignments_of(p, "dev", "report", SECRETS_USER) == []
    vault_wide = [r for r in p.of_type(ASSIGNMENT) if str(r.inputs["scope"]) == vault_id]
    assert vault_wide == []  # per secret, never on the vault
    job = p.get(JOB, "dev-fetch-job")
    identity = job.inputs["identity"]["userAssignedIdentities"][0]
    assert job.inputs["configuration"]["secrets"] == [
        {
            "name": "kv-fmp-api-key",
            "keyVaultUrl": f"https://{vault.inputs['vaultName']}.vault.azure.net/secrets/fmp-api-key",
            "identity": identity,
        }
    ]
    env = job.inputs["template"]["containers"][0]["env"]
    assert [e for e in env if "secretRef" in e] == [
        {"name": "GLACIER_SECRET_API_KEY", "secretRef": "kv-fmp-api-key"}
    ]
    other = p.get(JOB, "dev-report-job")
    assert "secrets" not in other.inputs["configuration"]
    assert all("secretRef" not in e for e in other.inputs["template"]["containers"][0]["env"])


def test_declaring_a_key_vault_secret_is_refused_naming_why() -> None:
    import pytest

    from glacier.errors import ConfigError
    from glacier.settings import GlacierSettings

    with pytest.raises(ConfigError, match="declare = true cannot create a Key Vault secret"):
        GlacierSettings(secrets={"api_key": {"azure": "fmp-api-key", "declare": True}})

"""Key Vault in RBAC mode, and Key Vault Secrets User on each secret for exactly the tasks
that name it."""

from __future__ import annotations

import dataclasses

from glacier.infra.azure.infrastructure import declare
from glacier.infra.mocks import plan_program
from glacier.infra.model import SecretRef, build_model
from infra.azure.pipelines import SUB_A, lake_pipeline
from infra.azure.plans import SECRETS_USER, assignments_of


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

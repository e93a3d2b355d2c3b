"""Key Vault: the environment's vault in RBAC mode, and each task's right to read exactly the
secrets it names (Key Vault Secrets User on each secret, never on the vault).

The vault holds no value from the plan: values are set with ``az keyvault secret set``
by whoever owns them. A task reads ``SecretRef.cloud_name`` as a variable of its job
(:func:`job_secrets`): the job's configuration names the vault secret with the task's own
identity, and Container Apps resolves it when the job starts (no secret client in the task).
"""

from __future__ import annotations

from typing import Any

from glacier.env_vars import secret_variable
from glacier.infra.azure.data_access import role_assignment
from glacier.infra.azure.identities import principal_of
from glacier.infra.azure.naming import assignment_name, identity_name, resource_group_id, vault_name
from glacier.infra.azure.stack import Stack, add, logical_name, native
from glacier.infra.model import TaskSpec

SECRETS_USER = "Key Vault Secrets User"


def vault_id(stack: Stack) -> str:
    """The vault's id."""
    group = resource_group_id(stack.subscription, stack.group)
    return f"{group}/providers/Microsoft.KeyVault/vaults/{vault_name(stack.model, stack.env)}"


def vault(stack: Stack) -> Any:
    """Declare the environment's vault once: RBAC authorization, soft delete and purge
    protection on."""
    if stack.out.vault is None:
        keyvault, authorization = native("keyvault"), native("authorization")
        client = authorization.get_client_config_output(
            opts=stack.pulumi.InvokeOutputOptions(provider=stack.provider)
        )
        stack.out.vault = add(
            stack,
            keyvault.Vault,
            logical_name(stack, "vault"),
            depends_on=[stack.out.resource_group],
            vault_name=vault_name(stack.model, stack.env),
            resource_group_name=stack.group,
            location=stack.location,
            properties={
                "tenant_id": client.tenant_id,
                "sku": {"family": "A", "name": "standard"},
                "enable_rbac_authorization": True,
                "enable_soft_delete": True,
                "soft_delete_retention_in_days": 90,
                "enable_purge_protection": True,
            },
            tags=stack.tags,
        )
    return stack.out.vault


def secret_grants(stack: Stack, task: TaskSpec) -> list[Any]:
    """Declare Key Vault Secrets User for ``task`` on each secret it names; the assignments
    (its job waits for them: Container Apps reads the secrets when the job is created)."""
    if not task.secrets:
        return []
    made = vault(stack)
    who = identity_name(stack.model, stack.env, task.name)
    out = []
    for secret in task.secrets:
        scope = f"{vault_id(stack)}/secrets/{secret.cloud_name}"
        out.append(
            role_assignment(
                stack,
                task.name,
                logical_name(stack, task.name, "secret", secret.name),
                principal_id=principal_of(stack, task),
                role=SECRETS_USER,
                scope=scope,
                name=assignment_name(scope, who, SECRETS_USER),
                depends_on=[made],
                description=f"Glacier task {task.name!r} reads secret {secret.name!r}",
            )
        )
    return out


def job_secrets(
    stack: Stack, task: TaskSpec, identity: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``task``'s secrets as its job's ``configuration.secrets`` (each a reference to the
    vault's secret, read with ``identity``) and as its container's variables (each named by
    :func:`~glacier.env_vars.secret_variable`, filled from its ``secretRef``)."""
    if not task.secrets:
        return [], []
    uri = vault(stack).properties.vault_uri
    secrets: dict[str, dict[str, Any]] = {}
    env = []
    for ref in task.secrets:
        # A job's secret: lower-case letters, digits and '-'; Key Vault names are
        # case-insensitive, so one vault secret is one job secret.
        name = f"kv-{ref.cloud_name.lower()}".rstrip("-")
        secrets[name] = {
            "name": name,
            "key_vault_url": uri.apply(lambda u, n=ref.cloud_name: f"{u}secrets/{n}"),
            "identity": identity.id,
        }
        env.append({"name": secret_variable(ref.name), "secret_ref": name})
    return list(secrets.values()), env

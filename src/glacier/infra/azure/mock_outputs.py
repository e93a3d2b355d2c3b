"""What Azure would answer for the resources of a plan run under Pulumi's mock engine.

:func:`outputs` gives each ``azure-native:`` resource the id Azure would give it (a path
built from the subscription, the resource group and the names) and the outputs Glacier's
builder reads: an identity's ``principalId`` and ``clientId`` (UUIDs derived from its name, so
a lookup of the same identity from another stack answers alike, see :func:`call`), a
registry's ``loginServer``, a vault's URI, a workflow's system-assigned identity, a
PostgreSQL flexible server's ``fullyQualifiedDomainName``. Everything
is deterministic: two plans of one pipeline are equal.

Example:
    >>> rid, out = outputs(
    ...     "azure-native:managedidentity:UserAssignedIdentity", "dev-clean",
    ...     {"resourceGroupName": "rg", "resourceName": "dev-etl-clean"}, "sub", "westeurope")
    >>> rid
    '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/dev-etl-clean'
    >>> out["principalId"] == principal_id("dev-etl-clean")
    True
"""

from __future__ import annotations

import uuid
from typing import Any

__all__ = ["call", "client_id", "outputs", "principal_id"]

_NAMESPACE = uuid.UUID("0b4f3b7e-2d55-4c43-9a55-2f3c6f6a7d21")
#: The tenant every mocked identity belongs to.
TENANT = "72f988bf-0000-0000-0000-000000000000"

#: Resource type -> (provider path under the resource group, the input holding its name).
_PATHS: dict[str, tuple[str, str]] = {
    "storage:StorageAccount": ("Microsoft.Storage/storageAccounts/{accountName}", "accountName"),
    "storage:BlobContainer": (
        "Microsoft.Storage/storageAccounts/{accountName}/blobServices/default/containers/"
        "{containerName}",
        "containerName",
    ),
    "storage:BlobServiceProperties": (
        "Microsoft.Storage/storageAccounts/{accountName}/blobServices/default",
        "accountName",
    ),
    "managedidentity:UserAssignedIdentity": (
        "Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}",
        "resourceName",
    ),
    "containerregistry:Registry": (
        "Microsoft.ContainerRegistry/registries/{registryName}",
        "registryName",
    ),
    "app:ManagedEnvironment": (
        "Microsoft.App/managedEnvironments/{environmentName}",
        "environmentName",
    ),
    "app:Job": ("Microsoft.App/jobs/{jobName}", "jobName"),
    "logic:Workflow": ("Microsoft.Logic/workflows/{workflowName}", "workflowName"),
    "keyvault:Vault": ("Microsoft.KeyVault/vaults/{vaultName}", "vaultName"),
    "keyvault:Secret": ("Microsoft.KeyVault/vaults/{vaultName}/secrets/{secretName}", "secretName"),
    "network:VirtualNetwork": (
        "Microsoft.Network/virtualNetworks/{virtualNetworkName}",
        "virtualNetworkName",
    ),
    "network:Subnet": (
        "Microsoft.Network/virtualNetworks/{virtualNetworkName}/subnets/{subnetName}",
        "subnetName",
    ),
    "privatedns:PrivateZone": (
        "Microsoft.Network/privateDnsZones/{privateZoneName}",
        "privateZoneName",
    ),
    "privatedns:VirtualNetworkLink": (
        "Microsoft.Network/privateDnsZones/{privateZoneName}/virtualNetworkLinks/"
        "{virtualNetworkLinkName}",
        "virtualNetworkLinkName",
    ),
    "dbforpostgresql:Server": (
        "Microsoft.DBforPostgreSQL/flexibleServers/{serverName}",
        "serverName",
    ),
    "dbforpostgresql:Database": (
        "Microsoft.DBforPostgreSQL/flexibleServers/{serverName}/databases/{databaseName}",
        "databaseName",
    ),
    "dbforpostgresql:Administrator": (
        "Microsoft.DBforPostgreSQL/flexibleServers/{serverName}/administrators/{objectId}",
        "objectId",
    ),
    "operationalinsights:Workspace": (
        "Microsoft.OperationalInsights/workspaces/{workspaceName}",
        "workspaceName",
    ),
}


def principal_id(name: str) -> str:
    """The mocked principal (object) id of managed identity ``name``."""
    return str(uuid.uuid5(_NAMESPACE, f"principal:{name}"))


def client_id(name: str) -> str:
    """The mocked client (application) id of managed identity ``name``."""
    return str(uuid.uuid5(_NAMESPACE, f"client:{name}"))


def outputs(
    typ: str, name: str, inputs: dict[str, Any], account: str, region: str
) -> tuple[str, dict[str, Any]]:
    """``(id, outputs)`` of ``azure-native:`` resource ``typ`` named ``name`` (logical) with
    ``inputs``, in subscription ``account`` and location ``region``."""
    kind = typ.removeprefix("azure-native:")
    out = dict(inputs)
    group = str(inputs.get("resourceGroupName") or "")
    base = f"/subscriptions/{account}/resourceGroups/{group}"
    if kind == "resources:ResourceGroup":
        physical = str(inputs.get("resourceGroupName") or name)
        rid = f"/subscriptions/{account}/resourceGroups/{physical}"
    elif kind in ("authorization:RoleAssignment", "authorization:RoleDefinition"):
        key = "roleAssignmentName" if kind.endswith("Assignment") else "roleDefinitionId"
        physical = str(inputs.get(key) or uuid.uuid5(_NAMESPACE, name))
        leaf = "roleAssignments" if kind.endswith("Assignment") else "roleDefinitions"
        scope = str(inputs.get("scope") or f"/subscriptions/{account}")
        rid = f"{scope}/providers/Microsoft.Authorization/{leaf}/{physical}"
    elif kind in _PATHS:
        path, key = _PATHS[kind]
        physical = str(inputs.get(key) or name)
        values = {k: str(v) for k, v in inputs.items() if isinstance(v, str)}
        values.setdefault(key, physical)
        rid = f"{base}/providers/{path.format_map(_Missing(values))}"
    else:
        physical = name
        rid = f"{base}/providers/{kind.replace(':', '/')}/{name}"
    out["name"] = physical
    out["id"] = rid
    out.setdefault("location", region)
    identity = inputs.get("identity")
    if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
        # Given as a list of identity ids; answered as a map of id -> that identity.
        ids = [str(i) for i in identity["userAssignedIdentities"]]
        answered = {i: _identity_of(i) for i in ids}
        out["identity"] = {**identity, "userAssignedIdentities": answered}
    if kind == "managedidentity:UserAssignedIdentity":
        out["principalId"] = principal_id(physical)
        out["clientId"] = client_id(physical)
        out["tenantId"] = TENANT
    elif kind == "containerregistry:Registry":
        out["loginServer"] = f"{physical}.azurecr.io"
    elif kind == "keyvault:Vault":
        out["properties"] = {
            **dict(inputs.get("properties") or {}),
            "vaultUri": f"https://{physical}.vault.azure.net/",
        }
    elif kind == "dbforpostgresql:Server":
        out["fullyQualifiedDomainName"] = f"{physical}.postgres.database.azure.com"
    elif kind == "storage:StorageAccount":
        out["primaryEndpoints"] = {"blob": f"https://{physical}.blob.core.windows.net/"}
    elif kind == "logic:Workflow":
        out["identity"] = {
            **dict(inputs.get("identity") or {}),
            "principalId": principal_id(f"workflow:{physical}"),
            "tenantId": TENANT,
        }
    return rid, out


def call(token: str, args: dict[str, Any], account: str) -> dict[str, Any] | None:
    """The answer to an ``azure-native:`` data source lookup, or None for one not mocked.

    ``getUserAssignedIdentity`` (how a stack finds the identity of a task in another
    subscription) answers what :func:`outputs` gave the identity.
    """
    if token == "azure-native:managedidentity:getUserAssignedIdentity":
        name = str(args.get("resourceName"))
        group = str(args.get("resourceGroupName"))
        return {
            "id": (
                f"/subscriptions/{account}/resourceGroups/{group}/providers/"
                f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
            ),
            "name": name,
            "principalId": principal_id(name),
            "clientId": client_id(name),
            "tenantId": TENANT,
        }
    if token == "azure-native:authorization:getClientConfig":
        return {
            "subscriptionId": account,
            "tenantId": TENANT,
            "clientId": client_id("deployer"),
            "objectId": principal_id("deployer"),
        }
    return None


def _identity_of(identity_id: str) -> dict[str, str]:
    name = identity_id.rsplit("/", 1)[-1]
    return {"principalId": principal_id(name), "clientId": client_id(name)}


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return f"<{key}>"

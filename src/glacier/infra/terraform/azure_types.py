"""What each ``azure-native`` resource type Glacier declares is called in Terraform, and how
the outputs the program reads are referred to there.

pulumi-azure-native is generated from the ARM API, not from a Terraform provider, so unlike
AWS and GCP its inputs are not Terraform's arguments: :mod:`glacier.infra.terraform.azure`
writes each type's body with a function of its own. This module holds the tables only (the
writer of the other clouds reads :data:`RESOURCE_TYPES` too):

- :data:`RESOURCE_TYPES`: the type token -> its Terraform type. ``hashicorp/azurerm`` for
  every type it expresses (what platform teams use and what checkov's Azure checks scan);
  ``Azure/azapi`` only for the Logic Apps workflow, whose whole definition azurerm cannot
  hold in one resource.
- :data:`FOLDED`: types azurerm expresses as a block of another resource (a storage
  account's blob service properties are its ``blob_properties``).
- :data:`OUTPUTS`: per Terraform type, the outputs the program reads (a path into Pulumi's
  answer) and the Terraform attribute standing for each.

Example:
    >>> RESOURCE_TYPES["azure-native:authorization:RoleAssignment"]
    'azurerm_role_assignment'
    >>> dict(OUTPUTS["azurerm_user_assigned_identity"])[("principalId",)]
    'principal_id'
"""

from __future__ import annotations

from collections.abc import Mapping

#: The Terraform AzureRM provider the generated configuration pins: 4.x from 4.42, the first
#: release with a Key Vault's ``rbac_authorization_enabled`` (3.x's
#: ``enable_rbac_authorization``); ``https_traffic_only_enabled`` and a container's
#: ``storage_account_id`` are 4.x names too (checked against the provider's docs at v4.0.0,
#: v4.41.0, v4.42.0 and v4.81.0).
AZURERM_PROVIDER_SOURCE = "hashicorp/azurerm"
AZURERM_PROVIDER_VERSION = "~> 4.42"
#: The AzAPI provider, for the one resource azurerm cannot express (2.x: ``body`` is an
#: object, not a JSON string).
AZAPI_PROVIDER_SOURCE = "Azure/azapi"
AZAPI_PROVIDER_VERSION = "~> 2.0"
#: The ARM type and API version of the Logic Apps workflow written through AzAPI (the
#: version pulumi-azure-native 3.x declares workflows with).
WORKFLOW_ARM_TYPE = "Microsoft.Logic/workflows@2019-05-01"

#: azure-native type token -> Terraform resource type.
RESOURCE_TYPES: Mapping[str, str] = {
    "azure-native:resources:ResourceGroup": "azurerm_resource_group",
    "azure-native:storage:StorageAccount": "azurerm_storage_account",
    "azure-native:storage:BlobContainer": "azurerm_storage_container",
    "azure-native:managedidentity:UserAssignedIdentity": "azurerm_user_assigned_identity",
    "azure-native:authorization:RoleAssignment": "azurerm_role_assignment",
    "azure-native:authorization:RoleDefinition": "azurerm_role_definition",
    "azure-native:containerregistry:Registry": "azurerm_container_registry",
    "azure-native:app:ManagedEnvironment": "azurerm_container_app_environment",
    "azure-native:app:Job": "azurerm_container_app_job",
    "azure-native:keyvault:Vault": "azurerm_key_vault",
    "azure-native:logic:Workflow": "azapi_resource",
    # A PostgreSQL flexible server with private access in the environment's network.
    "azure-native:network:VirtualNetwork": "azurerm_virtual_network",
    "azure-native:network:Subnet": "azurerm_subnet",
    "azure-native:privatedns:PrivateZone": "azurerm_private_dns_zone",
    "azure-native:privatedns:VirtualNetworkLink": "azurerm_private_dns_zone_virtual_network_link",
    "azure-native:dbforpostgresql:Server": "azurerm_postgresql_flexible_server",
    "azure-native:dbforpostgresql:Database": "azurerm_postgresql_flexible_server_database",
    "azure-native:dbforpostgresql:Administrator": (
        "azurerm_postgresql_flexible_server_active_directory_administrator"
    ),
}

#: Types written as a block of another resource: token -> (the host's token, the block).
FOLDED: Mapping[str, tuple[str, str]] = {
    "azure-native:storage:BlobServiceProperties": (
        "azure-native:storage:StorageAccount",
        "blob_properties",
    ),
}

#: Terraform type -> ((path into Pulumi's outputs), Terraform attribute) of each output the
#: program may read. ``id`` and ``name`` are every type's.
OUTPUTS: Mapping[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    "azurerm_user_assigned_identity": (
        (("principalId",), "principal_id"),
        (("clientId",), "client_id"),
        (("tenantId",), "tenant_id"),
    ),
    "azurerm_container_registry": ((("loginServer",), "login_server"),),
    "azurerm_key_vault": ((("properties", "vaultUri"), "vault_uri"),),
    "azurerm_storage_account": ((("primaryEndpoints", "blob"), "primary_blob_endpoint"),),
    "azapi_resource": ((("identity", "principalId"), "identity[0].principal_id"),),
}


def outputs(where: str, tf_type: str, answer: Mapping[str, object]) -> dict[str, object]:
    """Pulumi's ``answer`` for the resource at Terraform address ``where``, each output the
    program may read replaced by the marker of its Terraform attribute (the rest, such as a
    job's list of identities, kept as answered: no program reads it)."""
    out: dict[str, object] = {k: _copy(v) for k, v in answer.items()}
    paths = ((("id",), "id"), (("name",), "name"), *OUTPUTS.get(tf_type, ()))
    for path, attribute in paths:
        holder: object = out
        for key in path[:-1]:
            holder = holder.get(key) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and isinstance(holder.get(path[-1]), str):
            holder[path[-1]] = f"@@tf~{where}.{attribute}@@"
    return out


def _copy(value: object) -> object:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value

"""An Azure plan's resources as Terraform: ``hashicorp/azurerm`` bodies, one function per type.

pulumi-azure-native's inputs are ARM properties (``allowSharedKeyAccess``,
``configuration.replicaTimeout``), azurerm's arguments are its own
(``shared_access_key_enabled``, ``replica_timeout_in_seconds``), so each type has a function
in :data:`WRITERS` that takes what the Pulumi program declared and returns the azurerm body.
Each takes the inputs it knows and refuses any other (naming it): an input the Terraform
target would drop is never dropped silently. The Logic Apps workflow, whose whole definition
azurerm cannot hold in one resource, is an ``Azure/azapi`` resource of the same ARM body.

The environment's subscription and location, and its resource group, become the directory's
variables (``var.subscription_id``, ``var.location``, ``var.resource_group_name``) wherever
the plan has them: in arguments, and in resource ids (``/subscriptions/<id>/resourceGroups/
<group>/...``).

Example:
    >>> context = AzureContext(subscription="s-1", location="westeurope", group="rg")
    >>> azure_value("/subscriptions/s-1/resourceGroups/rg/providers/x", context)
    '/subscriptions/${var.subscription_id}/resourceGroups/${var.resource_group_name}/providers/x'
    >>> _role_assignment({"scope": "/subscriptions/s-2", "principalId": "p",
    ...     "roleDefinitionId": "r", "roleAssignmentName": "n"}, context, "x")
    {'name': 'n', 'scope': '/subscriptions/s-2', 'role_definition_id': 'r', 'principal_id': 'p'}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from glacier.errors import TerraformError
from glacier.infra.mocks import PlannedResource
from glacier.infra.terraform.azure_types import (
    AZAPI_PROVIDER_SOURCE,
    AZAPI_PROVIDER_VERSION,
    FOLDED,
    RESOURCE_TYPES,
    WORKFLOW_ARM_TYPE,
)
from glacier.infra.terraform.references import interpolate, resource_name

#: The azure-native tokens the writers look up in the environment's share of the plan.
_GROUP_TOKEN = "azure-native:resources:ResourceGroup"
_ACCOUNT_TOKEN = "azure-native:storage:StorageAccount"
_NETWORK = "azure-native:network:VirtualNetwork"
_ZONE = "azure-native:privatedns:PrivateZone"
_SERVER = "azure-native:dbforpostgresql:Server"
#: Types other resources name by their own name input, which the writers turn into a
#: reference when the resource is declared in the same directory.
_NAMED = {_NETWORK: "virtualNetworkName", _ZONE: "privateZoneName", _SERVER: "serverName"}


@dataclass
class AzureContext:
    """What the writers of one environment's directory share: its subscription, location and
    resource group (the directory's variables), the addresses of the resource group and the
    storage accounts it declares, and the folded resources by their host's name."""

    subscription: str
    location: str
    group: str | None = None
    group_address: str | None = None
    accounts: dict[str, str] = field(default_factory=dict)
    #: Name -> Terraform address of the networks, DNS zones and servers declared here.
    declared: dict[tuple[str, str], str] = field(default_factory=dict)
    blob_services: dict[str, PlannedResource] = field(default_factory=dict)
    arns: Mapping[str, str] | None = None

    @classmethod
    def of(cls, resources: list[PlannedResource], subscription: str, location: str) -> AzureContext:
        """The context of an environment's share of the plan (``resources``)."""
        context = cls(subscription=subscription, location=location)
        for r in resources:
            if r.type == _GROUP_TOKEN:
                context.group = str(r.inputs.get("resourceGroupName") or r.name)
                context.group_address = f"{RESOURCE_TYPES[r.type]}.{resource_name(r.name)}"
            elif r.type == _ACCOUNT_TOKEN:
                address = f"{RESOURCE_TYPES[r.type]}.{resource_name(r.name)}"
                context.accounts[str(r.inputs["accountName"])] = address
            elif r.type in FOLDED:
                context.blob_services[str(r.inputs.get("accountName"))] = r
            elif r.type in _NAMED:
                name = str(r.inputs.get(_NAMED[r.type]))
                context.declared[(r.type, name)] = (
                    f"{RESOURCE_TYPES[r.type]}.{resource_name(r.name)}"
                )
        for account, folded in context.blob_services.items():
            if account not in context.accounts:
                raise TerraformError(
                    f"{folded.type} {folded.name!r} configures storage account {account!r}, "
                    "which this environment does not declare; azurerm writes blob service "
                    "properties as a block of the account (blob_properties). Generate with "
                    "--target pulumi."
                )
        return context


def resource_body(
    resource: PlannedResource, context: AzureContext
) -> tuple[str, str, dict[str, Any]] | None:
    """``(terraform type, terraform name, body)`` of an ``azure-native`` resource, or None for
    one written as a block of another (:data:`~glacier.infra.terraform.azure_types.FOLDED`)."""
    if resource.type in FOLDED:
        return None
    writer = WRITERS.get(resource.type)
    if writer is None:
        raise TerraformError(
            f"Resource type {resource.type!r} has no Terraform mapping yet, so the Terraform "
            "target cannot express this pipeline; add a writer to glacier.infra.terraform."
            "azure.WRITERS (or generate with --target pulumi)."
        )
    body = writer(dict(resource.inputs), context, resource.name)
    return RESOURCE_TYPES[resource.type], resource_name(resource.name), body


def azure_value(raw: Any, context: AzureContext) -> Any:
    """An input value in Terraform JSON: markers interpolated (literal ``${`` escaped), the
    environment's subscription and resource group inside ids as the directory's variables,
    whole floats as integers."""
    if isinstance(raw, str):
        text = interpolate(raw, context.arns)
        text = text.replace(
            f"/subscriptions/{context.subscription}", "/subscriptions/${var.subscription_id}"
        )
        if context.group:
            text = re.sub(
                rf"/resourceGroups/{re.escape(context.group)}(?=/|$|\")",
                "/resourceGroups/${var.resource_group_name}",
                text,
            )
        return text
    if isinstance(raw, bool) or raw is None:
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, Mapping):
        return {str(k): azure_value(v, context) for k, v in raw.items()}
    if isinstance(raw, list | tuple):
        return [azure_value(v, context) for v in raw]
    return raw


# -- the writers --------------------------------------------------------------------------------


class _Inputs:
    """The inputs of one resource, taken one by one; :meth:`done` refuses any left."""

    def __init__(self, inputs: Mapping[str, Any], kind: str, name: str) -> None:
        self.left = {k: v for k, v in inputs.items() if v is not None}
        self.kind = kind
        self.name = name

    def take(self, key: str, default: Any = None) -> Any:
        return self.left.pop(key, default)

    def done(self) -> None:
        if self.left:
            raise TerraformError(
                f"{self.kind} {self.name!r}: input(s) {', '.join(sorted(self.left))} have no "
                "azurerm argument in glacier.infra.terraform.azure yet, and the Terraform "
                "target drops nothing; add them there, or generate with --target pulumi."
            )

    def refuse(self, key: str, value: Any, why: str) -> TerraformError:
        return TerraformError(
            f"{self.kind} {self.name!r}: {key}={value!r} {why}; generate with --target pulumi."
        )


def _common(
    take: _Inputs, context: AzureContext, body: dict[str, Any], name_key: str
) -> dict[str, Any]:
    """``name``, ``resource_group_name`` and ``location`` first (the group as a reference to
    the declared group, so Terraform orders after it), then the body, then ``tags``."""
    out: dict[str, Any] = {"name": azure_value(take.take(name_key), context)}
    group = take.take("resourceGroupName")
    if group is not None:
        out["resource_group_name"] = _group(str(group), context)
    location = take.take("location")
    if location is not None:
        out["location"] = _location(str(location), context)
    out.update(body)
    tags = take.take("tags")
    if tags:
        out["tags"] = azure_value(dict(tags), context)
    return out


def _group(group: str, context: AzureContext) -> str:
    if group == context.group and context.group_address:
        return f"${{{context.group_address}.name}}"
    return str(azure_value(group, context))


def _location(location: str, context: AzureContext) -> str:
    return "${var.location}" if location == context.location else location


def _resource_group(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = _Inputs(inputs, "ResourceGroup", name)
    group = str(take.take("resourceGroupName") or name)
    out = {
        "name": "${var.resource_group_name}" if group == context.group else group,
        "location": _location(str(take.take("location")), context),
    }
    tags = take.take("tags")
    if tags:
        out["tags"] = azure_value(dict(tags), context)
    take.done()
    return out


def _storage_account(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = _Inputs(inputs, "StorageAccount", name)
    account = str(take.left.get("accountName"))
    sku = str((take.take("sku") or {}).get("name") or "Standard_LRS")
    tier, replication = sku.split("_", 1)
    body: dict[str, Any] = {
        "account_kind": take.take("kind", "StorageV2"),
        "account_tier": tier,
        "account_replication_type": replication,
    }
    renames = {
        "accessTier": "access_tier",
        "enableHttpsTrafficOnly": "https_traffic_only_enabled",
        "minimumTlsVersion": "min_tls_version",
        "allowBlobPublicAccess": "allow_nested_items_to_be_public",
        "allowSharedKeyAccess": "shared_access_key_enabled",
        "defaultToOAuthAuthentication": "default_to_oauth_authentication",
        "isHnsEnabled": "is_hns_enabled",
    }
    for key, argument in renames.items():
        found = take.take(key)
        if found is not None:
            body[argument] = found
    access = take.take("publicNetworkAccess")
    if access is not None:
        body["public_network_access_enabled"] = access == "Enabled"
    encryption = dict(take.take("encryption") or {})
    if encryption:
        if encryption.pop("keySource", "Microsoft.Storage") != "Microsoft.Storage":
            raise take.refuse("encryption.keySource", "a customer key", "is not written yet")
        blob = dict(dict(encryption.pop("services", {}) or {}).get("blob") or {})
        if blob and (blob.get("enabled") is not True or blob.get("keyType") != "Account"):
            raise take.refuse("encryption.services.blob", blob, "is not azurerm's (always on)")
        body["infrastructure_encryption_enabled"] = bool(
            encryption.pop("requireInfrastructureEncryption", False)
        )
        if encryption:
            raise take.refuse("encryption", encryption, "has settings azurerm has no name for")
    folded = context.blob_services.get(account)
    if folded is not None:
        body["blob_properties"] = _blob_properties(dict(folded.inputs), folded.name)
    out = _common(take, context, body, "accountName")
    take.done()
    return out


def _blob_properties(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    """A storage account's ``blob_properties`` block, from its BlobServiceProperties."""
    take = _Inputs(inputs, "BlobServiceProperties", name)
    take.take("accountName")
    take.take("resourceGroupName")
    if take.take("blobServicesName", "default") != "default":
        raise take.refuse("blobServicesName", inputs.get("blobServicesName"), "is not 'default'")
    out: dict[str, Any] = {}
    versioning = take.take("isVersioningEnabled")
    if versioning is not None:
        out["versioning_enabled"] = bool(versioning)
    for key, block in (
        ("deleteRetentionPolicy", "delete_retention_policy"),
        ("containerDeleteRetentionPolicy", "container_delete_retention_policy"),
    ):
        policy = take.take(key)
        if policy is None:
            continue
        if not policy.get("enabled"):
            continue  # azurerm: no block is no retention policy
        out[block] = {"days": int(policy.get("days", 7))}
    take.done()
    return out


_ACCESS = {"None": "private", "Blob": "blob", "Container": "container"}


def _blob_container(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = _Inputs(inputs, "BlobContainer", name)
    account = str(take.take("accountName"))
    group = str(take.take("resourceGroupName"))
    declared = context.accounts.get(account)
    account_id = (
        f"${{{declared}.id}}"
        if declared
        else azure_value(
            f"/subscriptions/{context.subscription}/resourceGroups/{group}/providers/"
            f"Microsoft.Storage/storageAccounts/{account}",
            context,
        )
    )
    out: dict[str, Any] = {
        "name": azure_value(take.take("containerName") or name, context),
        "storage_account_id": account_id,
        "container_access_type": _ACCESS[str(take.take("publicAccess", "None"))],
    }
    metadata = take.take("metadata")
    if metadata:
        out["metadata"] = azure_value(dict(metadata), context)
    take.done()
    return out


def _identity(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = _Inputs(inputs, "UserAssignedIdentity", name)
    out = _common(take, context, {}, "resourceName")
    take.done()
    return out


def _role_assignment(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = _Inputs(inputs, "RoleAssignment", name)
    out: dict[str, Any] = {}
    for key, argument in (
        ("roleAssignmentName", "name"),
        ("scope", "scope"),
        ("roleDefinitionId", "role_definition_id"),
        ("principalId", "principal_id"),
        ("principalType", "principal_type"),
        ("description", "description"),
        ("condition", "condition"),
        ("conditionVersion", "condition_version"),
    ):
        found = take.take(key)
        if found is not None:
            out[argument] = azure_value(found, context)
    take.done()
    return out


def _role_definition(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = _Inputs(inputs, "RoleDefinition", name)
    if take.take("roleType", "CustomRole") != "CustomRole":
        raise take.refuse("roleType", inputs.get("roleType"), "is not a custom role")
    out: dict[str, Any] = {
        "role_definition_id": azure_value(take.take("roleDefinitionId"), context),
        "name": azure_value(take.take("roleName"), context),
        "scope": azure_value(take.take("scope"), context),
    }
    description = take.take("description")
    if description is not None:
        out["description"] = azure_value(description, context)
    out["permissions"] = [
        {
            argument: azure_value(list(p.get(key) or []), context)
            for key, argument in (
                ("actions", "actions"),
                ("notActions", "not_actions"),
                ("dataActions", "data_actions"),
                ("notDataActions", "not_data_actions"),
            )
        }
        for p in take.take("permissions") or []
    ]
    out["assignable_scopes"] = azure_value(list(take.take("assignableScopes") or []), context)
    take.done()
    return out


def _registry(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = _Inputs(inputs, "Registry", name)
    body: dict[str, Any] = {
        "sku": str((take.take("sku") or {}).get("name") or "Basic"),
        "admin_enabled": bool(take.take("adminUserEnabled", False)),
    }
    access = take.take("publicNetworkAccess")
    if access is not None:
        body["public_network_access_enabled"] = access == "Enabled"
    zones = take.take("zoneRedundancy")
    if zones is not None:
        body["zone_redundancy_enabled"] = zones == "Enabled"
    if take.take("anonymousPullEnabled", False):
        body["anonymous_pull_enabled"] = True  # azurerm allows it on Standard/Premium only
    bypass = take.take("networkRuleBypassOptions")
    if bypass is not None:
        body["network_rule_bypass_option"] = bypass
    out = _common(take, context, body, "registryName")
    take.done()
    return out


def _apps_environment(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = _Inputs(inputs, "ManagedEnvironment", name)
    body: dict[str, Any] = {}
    vnet = take.take("vnetConfiguration")
    if vnet:
        body.update(
            _pick(
                vnet,
                {
                    "infrastructureSubnetId": "infrastructure_subnet_id",
                    "internal": "internal_load_balancer_enabled",
                },
                context,
                f"ManagedEnvironment {name!r} vnetConfiguration",
            )
        )
    profiles = take.take("workloadProfiles")
    if profiles:
        body["workload_profile"] = [
            _pick(
                p,
                {
                    "name": "name",
                    "workloadProfileType": "workload_profile_type",
                    "minimumCount": "minimum_count",
                    "maximumCount": "maximum_count",
                },
                context,
                f"ManagedEnvironment {name!r} workloadProfiles",
            )
            for p in profiles
        ]
    out = _common(take, context, body, "environmentName")
    take.done()
    return out


def _job(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = _Inputs(inputs, "Job", name)
    config = _Inputs(dict(take.take("configuration") or {}), "Job configuration", name)
    body: dict[str, Any] = {
        "container_app_environment_id": azure_value(take.take("environmentId"), context),
    }
    timeout = config.take("replicaTimeout")
    if timeout is None:
        raise config.refuse("replicaTimeout", None, "is required by azurerm (a job's timeout)")
    body["replica_timeout_in_seconds"] = int(timeout)
    profile = take.take("workloadProfileName")
    if profile is not None:
        body["workload_profile_name"] = profile
    retries = config.take("replicaRetryLimit")
    if retries is not None:
        body["replica_retry_limit"] = int(retries)
    trigger = config.take("triggerType", "Manual")
    for kind, key, block in (
        ("Manual", "manualTriggerConfig", "manual_trigger_config"),
        ("Schedule", "scheduleTriggerConfig", "schedule_trigger_config"),
    ):
        found = config.take(key)
        if trigger == kind:
            body[block] = {
                {
                    "cronExpression": "cron_expression",
                    "replicaCompletionCount": "replica_completion_count",
                }.get(k, k): azure_value(v, context)
                for k, v in dict(found or {}).items()
            }
        elif found is not None:
            raise config.refuse(key, found, f"does not go with triggerType {trigger!r}")
    if trigger not in ("Manual", "Schedule"):
        raise config.refuse("triggerType", trigger, "is not written yet")
    secrets = config.take("secrets")
    if secrets:
        body["secret"] = [
            _pick(
                s,
                {"name": "name", "keyVaultUrl": "key_vault_secret_id", "identity": "identity"},
                context,
                f"Job {name!r} secret",
            )
            for s in secrets
        ]
    registries = config.take("registries")
    if registries:
        body["registry"] = [
            _pick(r, {"server": "server", "identity": "identity"}, context, f"Job {name!r}")
            for r in registries
        ]
    config.done()
    identity = take.take("identity")
    if identity:
        ids = list(identity.get("userAssignedIdentities") or [])
        body["identity"] = {"type": identity.get("type"), "identity_ids": azure_value(ids, context)}
    template = dict(take.take("template") or {})
    containers = template.pop("containers", [])
    if template:
        raise take.refuse("template", sorted(template), "has settings not written yet")
    body["template"] = {"container": [_container(c, context, name) for c in containers]}
    out = _common(take, context, body, "jobName")
    take.done()
    return out


def _container(container: Mapping[str, Any], context: AzureContext, job: str) -> dict[str, Any]:
    take = _Inputs(container, "Job container", job)
    resources = dict(take.take("resources") or {})
    out: dict[str, Any] = {
        "name": take.take("name"),
        "image": azure_value(take.take("image"), context),
        "cpu": resources.pop("cpu"),
        "memory": resources.pop("memory"),
    }
    if resources:
        raise take.refuse("resources", sorted(resources), "has settings not written yet")
    for key in ("command", "args"):
        found = take.take(key)
        if found is not None:
            out[key] = azure_value(list(found), context)
    env = take.take("env")
    if env:
        out["env"] = [
            _pick(e, {"name": "name", "value": "value", "secretRef": "secret_name"}, context, job)
            for e in env
        ]
    take.done()
    return out


def _pick(
    raw: Mapping[str, Any], names: Mapping[str, str], context: AzureContext, where: str
) -> dict[str, Any]:
    """``raw``'s keys renamed by ``names``; a key not there is refused."""
    unknown = sorted(set(raw) - set(names))
    if unknown:
        raise TerraformError(
            f"{where}: {', '.join(unknown)} have no azurerm argument in "
            "glacier.infra.terraform.azure yet; generate with --target pulumi."
        )
    return {names[k]: azure_value(v, context) for k, v in raw.items() if v is not None}


def _vault(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = _Inputs(inputs, "Vault", name)
    props = _Inputs(dict(take.take("properties") or {}), "Vault properties", name)
    sku = dict(props.take("sku") or {})
    if sku.get("family", "A") != "A":
        raise props.refuse("sku.family", sku.get("family"), "is not 'A'")
    if props.take("enableSoftDelete", True) is not True:
        raise props.refuse("enableSoftDelete", False, "cannot be turned off (azurerm: always on)")
    body: dict[str, Any] = {
        "tenant_id": azure_value(props.take("tenantId"), context),
        "sku_name": str(sku.get("name", "standard")).lower(),
    }
    for key, argument in (
        ("enableRbacAuthorization", "rbac_authorization_enabled"),
        ("enablePurgeProtection", "purge_protection_enabled"),
        ("softDeleteRetentionInDays", "soft_delete_retention_days"),
    ):
        found = props.take(key)
        if found is not None:
            body[argument] = azure_value(found, context)
    access = props.take("publicNetworkAccess")
    if access is not None:
        body["public_network_access_enabled"] = access == "Enabled"
    acls = props.take("networkAcls")
    if acls:
        body["network_acls"] = _pick(
            acls, {"bypass": "bypass", "defaultAction": "default_action"}, context, name
        )
    props.done()
    out = _common(take, context, body, "vaultName")
    take.done()
    return out


def _workflow(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    """The Logic Apps workflow as an ``azapi_resource`` of the ARM body Pulumi declares."""
    take = _Inputs(inputs, "Workflow", name)
    group = str(take.take("resourceGroupName"))
    parent = (
        f"${{{context.group_address}.id}}"
        if group == context.group and context.group_address
        else azure_value(f"/subscriptions/{context.subscription}/resourceGroups/{group}", context)
    )
    out: dict[str, Any] = {
        "type": WORKFLOW_ARM_TYPE,
        "name": azure_value(take.take("workflowName"), context),
        "parent_id": parent,
        "location": _location(str(take.take("location")), context),
    }
    identity = take.take("identity")
    if identity:
        out["identity"] = {"type": identity.get("type")}
    properties: dict[str, Any] = {}
    for key in ("state", "definition", "parameters"):
        found = take.take(key)
        if found is not None:
            properties[key] = azure_value(found, context)
    out["body"] = {"properties": properties}
    tags = take.take("tags")
    if tags:
        out["tags"] = azure_value(dict(tags), context)
    take.done()
    return out


def _named(token: str, name: str, context: AzureContext, attribute: str = "name") -> str:
    """A reference to the ``token`` resource called ``name`` when this directory declares
    it (Terraform then orders after it), else ``name`` as written."""
    declared = context.declared.get((token, name))
    return f"${{{declared}.{attribute}}}" if declared else str(azure_value(name, context))


def _virtual_network(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = _Inputs(inputs, "VirtualNetwork", name)
    for key in ("enableDdosProtection", "enableVmProtection"):
        if take.take(key, False):
            raise take.refuse(key, True, "is not written yet")
    space = dict(take.take("addressSpace") or {})
    body = {"address_space": list(space.pop("addressPrefixes", []))}
    if space:
        raise take.refuse("addressSpace", sorted(space), "has settings not written yet")
    out = _common(take, context, body, "virtualNetworkName")
    take.done()
    return out


def _subnet(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = _Inputs(inputs, "Subnet", name)
    out: dict[str, Any] = {
        "name": azure_value(take.take("subnetName"), context),
        "resource_group_name": _group(str(take.take("resourceGroupName")), context),
        "virtual_network_name": _named(_NETWORK, str(take.take("virtualNetworkName")), context),
        "address_prefixes": [take.take("addressPrefix")],
    }
    delegations = take.take("delegations")
    if delegations:
        out["delegation"] = []
        for d in delegations:
            picked = _pick(
                d, {"name": "name", "serviceName": "service"}, context, f"Subnet {name!r}"
            )
            out["delegation"].append(
                {"name": picked["name"], "service_delegation": {"name": picked["service"]}}
            )
    policies = take.take("privateEndpointNetworkPolicies")
    if policies is not None:
        out["private_endpoint_network_policies"] = policies
    link = take.take("privateLinkServiceNetworkPolicies")
    if link is not None:
        out["private_link_service_network_policies_enabled"] = link == "Enabled"
    take.done()
    return out


def _dns_zone(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = _Inputs(inputs, "PrivateZone", name)
    if str(take.take("location", "Global")).lower() != "global":
        raise take.refuse("location", inputs.get("location"), "is not 'Global'")
    out = _common(take, context, {}, "privateZoneName")
    take.done()
    return out


def _dns_link(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = _Inputs(inputs, "VirtualNetworkLink", name)
    if str(take.take("location", "Global")).lower() != "global":
        raise take.refuse("location", inputs.get("location"), "is not 'Global'")
    network = dict(take.take("virtualNetwork") or {})
    body: dict[str, Any] = {
        "private_dns_zone_name": _named(_ZONE, str(take.take("privateZoneName")), context),
        "virtual_network_id": _network_id(str(network.get("id")), context),
        "registration_enabled": bool(take.take("registrationEnabled", False)),
    }
    out = _common(take, context, body, "virtualNetworkLinkName")
    take.done()
    return out


def _network_id(network_id: str, context: AzureContext) -> str:
    """A network's id: a reference when this directory declares it."""
    for (token, named), address in context.declared.items():
        if (
            token == _NETWORK
            and network_id.endswith(f"/virtualNetworks/{named}")
            and f"/resourceGroups/{context.group}/" in network_id
        ):
            return f"${{{address}.id}}"
    return str(azure_value(network_id, context))


#: azure-native's server tier -> the prefix of azurerm's ``sku_name``.
_TIERS = {"Burstable": "B", "GeneralPurpose": "GP", "MemoryOptimized": "MO"}


def _postgres_server(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = _Inputs(inputs, "Server", name)
    if take.take("createMode", "Default") != "Default":
        raise take.refuse("createMode", inputs.get("createMode"), "is not written yet")
    sku = dict(take.take("sku") or {})
    tier = _TIERS.get(str(sku.get("tier")))
    if tier is None:
        raise take.refuse("sku.tier", sku.get("tier"), f"is none of {', '.join(_TIERS)}")
    body: dict[str, Any] = {
        "version": str(take.take("version")),
        "sku_name": f"{tier}_{sku['name']}",
    }
    storage = _Inputs(dict(take.take("storage") or {}), "Server storage", name)
    size = storage.take("storageSizeGB")
    if size is not None:
        body["storage_mb"] = int(size) * 1024
    grow = storage.take("autoGrow")
    if grow is not None:
        body["auto_grow_enabled"] = grow == "Enabled"
    storage.done()
    backup = _Inputs(dict(take.take("backup") or {}), "Server backup", name)
    days = backup.take("backupRetentionDays")
    if days is not None:
        body["backup_retention_days"] = int(days)
    geo = backup.take("geoRedundantBackup")
    if geo is not None:
        body["geo_redundant_backup_enabled"] = geo == "Enabled"
    backup.done()
    available = dict(take.take("highAvailability") or {})
    mode = available.pop("mode", "Disabled")
    if mode != "Disabled":
        body["high_availability"] = {"mode": mode}
        standby = available.pop("standbyAvailabilityZone", None)
        if standby:
            body["high_availability"]["standby_availability_zone"] = standby
    if available:
        raise take.refuse("highAvailability", sorted(available), "has settings not written yet")
    network = _Inputs(dict(take.take("network") or {}), "Server network", name)
    subnet = network.take("delegatedSubnetResourceId")
    if subnet is not None:
        body["delegated_subnet_id"] = azure_value(subnet, context)
    zone = network.take("privateDnsZoneArmResourceId")
    if zone is not None:
        body["private_dns_zone_id"] = azure_value(zone, context)
    access = network.take("publicNetworkAccess")
    if access is not None:
        body["public_network_access_enabled"] = access == "Enabled"
    network.done()
    auth = _Inputs(dict(take.take("authConfig") or {}), "Server authConfig", name)
    body["authentication"] = {
        "active_directory_auth_enabled": auth.take("activeDirectoryAuth") == "Enabled",
        "password_auth_enabled": auth.take("passwordAuth", "Enabled") == "Enabled",
    }
    tenant = auth.take("tenantId")
    if tenant is not None:
        body["authentication"]["tenant_id"] = azure_value(tenant, context)
    auth.done()
    zone_name = take.take("availabilityZone")
    if zone_name:
        body["zone"] = zone_name
    out = _common(take, context, body, "serverName")
    take.done()
    return out


def _postgres_database(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = _Inputs(inputs, "Database", name)
    server = str(take.take("serverName"))
    group = str(take.take("resourceGroupName"))
    marked = re.fullmatch(
        r"@@tf~(azurerm_postgresql_flexible_server\.[A-Za-z0-9_]+)\.name@@", server
    )
    server_id = (
        f"${{{marked.group(1)}.id}}"  # the declared server's name output: its id
        if marked
        else _named(_SERVER, server, context, "id")
        if (_SERVER, server) in context.declared
        else azure_value(
            f"/subscriptions/{context.subscription}/resourceGroups/{group}/providers/"
            f"Microsoft.DBforPostgreSQL/flexibleServers/{server}",
            context,
        )
    )
    out: dict[str, Any] = {"name": take.take("databaseName"), "server_id": server_id}
    for key in ("charset", "collation"):
        found = take.take(key)
        if found is not None:
            out[key] = found
    take.done()
    return out


def _postgres_admin(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = _Inputs(inputs, "Administrator", name)
    out: dict[str, Any] = {
        "server_name": _named(_SERVER, str(take.take("serverName")), context),
        "resource_group_name": _group(str(take.take("resourceGroupName")), context),
        "object_id": azure_value(take.take("objectId"), context),
        "tenant_id": azure_value(take.take("tenantId"), context),
        "principal_name": azure_value(take.take("principalName"), context),
        "principal_type": take.take("principalType"),
    }
    take.done()
    return out


#: azure-native type token -> the function writing its Terraform body.
WRITERS: Mapping[str, Callable[[dict[str, Any], AzureContext, str], dict[str, Any]]] = {
    "azure-native:resources:ResourceGroup": _resource_group,
    "azure-native:storage:StorageAccount": _storage_account,
    "azure-native:storage:BlobContainer": _blob_container,
    "azure-native:managedidentity:UserAssignedIdentity": _identity,
    "azure-native:authorization:RoleAssignment": _role_assignment,
    "azure-native:authorization:RoleDefinition": _role_definition,
    "azure-native:containerregistry:Registry": _registry,
    "azure-native:app:ManagedEnvironment": _apps_environment,
    "azure-native:app:Job": _job,
    "azure-native:keyvault:Vault": _vault,
    "azure-native:logic:Workflow": _workflow,
    _NETWORK: _virtual_network,
    "azure-native:network:Subnet": _subnet,
    _ZONE: _dns_zone,
    "azure-native:privatedns:VirtualNetworkLink": _dns_link,
    _SERVER: _postgres_server,
    "azure-native:dbforpostgresql:Database": _postgres_database,
    "azure-native:dbforpostgresql:Administrator": _postgres_admin,
}


# -- the directory ------------------------------------------------------------------------------


def provider_body(
    resource: PlannedResource, context: AzureContext, *, alias: bool = False
) -> dict[str, Any]:
    """The ``azurerm`` provider block of an ``azure-native`` provider: the environment's own
    (its subscription the directory's variable), or an alias for lookups in another
    subscription (``-reads-`` providers: a task's identity found there)."""
    inputs = dict(resource.inputs)
    subscription = str(inputs.get("subscriptionId") or "")
    body: dict[str, Any] = {"features": {}}
    if alias:
        body["alias"] = resource_name(resource.name)
    body["subscription_id"] = (
        "${var.subscription_id}" if subscription == context.subscription else subscription
    )
    environment = inputs.get("environment")
    if environment not in (None, "public"):
        body["environment"] = environment
    return body


def main_document(
    main: dict[str, Any],
    provider: dict[str, Any],
    aliases: list[dict[str, Any]],
    resources: Mapping[str, Any],
) -> dict[str, Any]:
    """``main.tf.json`` of an Azure directory: azurerm (and its aliases), and AzAPI when a
    resource needs it, both pinned."""
    main["provider"] = {"azurerm": [provider, *aliases] if aliases else provider}
    if "azapi_resource" in resources:
        main["terraform"]["required_providers"]["azapi"] = {
            "source": AZAPI_PROVIDER_SOURCE,
            "version": AZAPI_PROVIDER_VERSION,
        }
        main["provider"]["azapi"] = {"subscription_id": "${var.subscription_id}"}
    return main


def variables(env: Any, context: AzureContext) -> dict[str, Any]:
    """The subscription, location and resource group of the environment (defaults: its
    settings)."""
    out: dict[str, Any] = {
        "subscription_id": {
            "type": "string",
            "default": context.subscription,
            "description": f"Azure subscription of environment {env.key!r} (its settings' "
            "subscription_id): the provider's, and in every resource id of it.",
        },
        "location": {
            "type": "string",
            "default": context.location,
            "description": f"Azure location of environment {env.key!r} (its settings' location).",
        },
    }
    if context.group is not None:
        out["resource_group_name"] = {
            "type": "string",
            "default": context.group,
            "description": f"Resource group of environment {env.key!r}, which the "
            "configuration creates and puts everything in.",
        }
    return {"variable": out}


def outputs(resources: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """What a CI needs: the workflow to run, the registry to push images to, the resource
    group, the storage accounts and the jobs."""
    out: dict[str, Any] = {}
    workflows = resources.get("azapi_resource", {})
    for name in workflows:
        key = "workflow_id" if len(workflows) == 1 else f"workflow_id_{name}"
        out[key] = {
            "value": f"${{azapi_resource.{name}.id}}",
            "description": "The Logic Apps workflow running the pipeline: run its trigger here.",
        }
    for name in resources.get("azurerm_container_registry", {}):
        out[f"registry_{name}"] = {
            "value": f"${{azurerm_container_registry.{name}.login_server}}",
            "description": "Push the task images (README.md) here before terraform apply.",
        }
    for name in resources.get("azurerm_resource_group", {}):
        out[f"resource_group_{name}"] = {"value": f"${{azurerm_resource_group.{name}.name}}"}
    for name in resources.get("azurerm_storage_account", {}):
        out[f"storage_account_{name}"] = {"value": f"${{azurerm_storage_account.{name}.name}}"}
    for name in resources.get("azurerm_container_app_job", {}):
        out[f"job_{name}"] = {"value": f"${{azurerm_container_app_job.{name}.name}}"}
    return {"output": out}


def backend(env: Any, pipeline: str) -> dict[str, Any]:
    """An ``azurerm`` backend to copy to ``backend.tf.json`` (Entra ID auth, no keys)."""
    return {
        "terraform": {
            "backend": {
                "azurerm": {
                    "resource_group_name": "YOUR-TERRAFORM-STATE-RESOURCE-GROUP",
                    "storage_account_name": "yourterraformstate",
                    "container_name": "tfstate",
                    "key": f"glacier/{pipeline}/{env.key}.tfstate",
                    "use_azuread_auth": True,
                }
            }
        }
    }


def readme_artifacts(planned: Any, key: str) -> tuple[str, str]:
    """The README's artifacts section and packaging command of an Azure directory: the
    images its Container Apps jobs run, which Terraform does not build."""
    images = sorted(
        {
            interpolate(str(c.get("image")))
            for r in planned
            if r.type == "azure-native:app:Job"
            for c in dict(r.inputs.get("template") or {}).get("containers", [])
        }
    )
    listed = "\n".join(f"- `{i}`" for i in images) or "- (none)"
    text = f"""The Container Apps jobs run these images, which Terraform does not build:

{listed}

`${{azurerm_container_registry...login_server}}` is the registry this configuration creates
(output `registry_*`). `glacier package <pipeline file> --env {key} -o <this directory's
parent>` writes the `Dockerfile` of the image and `images.sh`, which builds and pushes it
(`az acr login --name <registry>`, then `docker buildx build --push`): run it before
`terraform apply`, once `terraform apply -target=<the registry's address>` has created the
registry; an image a task names in its settings is yours."""
    return text, f"glacier package <pipeline file> --env {key} -o <parent of this directory>"

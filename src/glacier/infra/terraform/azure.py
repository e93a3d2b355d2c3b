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

from collections.abc import Callable, Mapping
from typing import Any

from glacier.errors import TerraformError
from glacier.infra.mocks import PlannedResource
from glacier.infra.terraform.azure_context import (
    NETWORK,
    SERVER,
    ZONE,
    AzureContext,
    Inputs,
    azure_value,
    common,
    location_ref,
    pick,
)
from glacier.infra.terraform.azure_network import (
    dns_link,
    dns_zone,
    postgres_admin,
    postgres_database,
    postgres_server,
    subnet,
    virtual_network,
)
from glacier.infra.terraform.azure_types import (
    AZAPI_PROVIDER_SOURCE,
    AZAPI_PROVIDER_VERSION,
    FOLDED,
    RESOURCE_TYPES,
    WORKFLOW_ARM_TYPE,
)
from glacier.infra.terraform.references import interpolate, resource_name


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


# -- the writers --------------------------------------------------------------------------------


def _resource_group(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = Inputs(inputs, "ResourceGroup", name)
    group = str(take.take("resourceGroupName") or name)
    out = {
        "name": "${var.resource_group_name}" if group == context.group else group,
        "location": location_ref(str(take.take("location")), context),
    }
    tags = take.take("tags")
    if tags:
        out["tags"] = azure_value(dict(tags), context)
    take.done()
    return out


def _storage_account(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = Inputs(inputs, "StorageAccount", name)
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
    out = common(take, context, body, "accountName")
    take.done()
    return out


def _blob_properties(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    """A storage account's ``blob_properties`` block, from its BlobServiceProperties."""
    take = Inputs(inputs, "BlobServiceProperties", name)
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
    take = Inputs(inputs, "BlobContainer", name)
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
    take = Inputs(inputs, "UserAssignedIdentity", name)
    out = common(take, context, {}, "resourceName")
    take.done()
    return out


def _role_assignment(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = Inputs(inputs, "RoleAssignment", name)
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
    take = Inputs(inputs, "RoleDefinition", name)
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
    take = Inputs(inputs, "Registry", name)
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
    out = common(take, context, body, "registryName")
    take.done()
    return out


def _apps_environment(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = Inputs(inputs, "ManagedEnvironment", name)
    body: dict[str, Any] = {}
    vnet = take.take("vnetConfiguration")
    if vnet:
        body.update(
            pick(
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
            pick(
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
    out = common(take, context, body, "environmentName")
    take.done()
    return out


def _job(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = Inputs(inputs, "Job", name)
    config = Inputs(dict(take.take("configuration") or {}), "Job configuration", name)
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
            pick(
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
            pick(r, {"server": "server", "identity": "identity"}, context, f"Job {name!r}")
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
    out = common(take, context, body, "jobName")
    take.done()
    return out


def _container(container: Mapping[str, Any], context: AzureContext, job: str) -> dict[str, Any]:
    take = Inputs(container, "Job container", job)
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
            pick(e, {"name": "name", "value": "value", "secretRef": "secret_name"}, context, job)
            for e in env
        ]
    take.done()
    return out


def _vault(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = Inputs(inputs, "Vault", name)
    props = Inputs(dict(take.take("properties") or {}), "Vault properties", name)
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
        body["network_acls"] = pick(
            acls, {"bypass": "bypass", "defaultAction": "default_action"}, context, name
        )
    props.done()
    out = common(take, context, body, "vaultName")
    take.done()
    return out


def _workflow(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    """The Logic Apps workflow as an ``azapi_resource`` of the ARM body Pulumi declares."""
    take = Inputs(inputs, "Workflow", name)
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
        "location": location_ref(str(take.take("location")), context),
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
    NETWORK: virtual_network,
    "azure-native:network:Subnet": subnet,
    ZONE: dns_zone,
    "azure-native:privatedns:VirtualNetworkLink": dns_link,
    SERVER: postgres_server,
    "azure-native:dbforpostgresql:Database": postgres_database,
    "azure-native:dbforpostgresql:Administrator": postgres_admin,
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

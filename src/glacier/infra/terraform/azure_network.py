"""The private network and PostgreSQL flexible server of an Azure plan as ``azurerm``
Terraform: the virtual network, its subnets, the private DNS zone and its link, the server,
its database and its Entra administrator (one writer per type, as in
:mod:`glacier.infra.terraform.azure`, whose :data:`~glacier.infra.terraform.azure.WRITERS`
lists them)."""

from __future__ import annotations

from typing import Any

from glacier.infra.terraform.azure_context import (
    NETWORK,
    SERVER,
    ZONE,
    AzureContext,
    Inputs,
    azure_value,
    common,
    group_ref,
    pick,
)
from glacier.infra.terraform.references import marked


def _named(token: str, name: str, context: AzureContext, attribute: str = "name") -> str:
    """A reference to the ``token`` resource called ``name`` when this directory declares
    it (Terraform then orders after it), else ``name`` as written."""
    declared = context.declared.get((token, name))
    return f"${{{declared}.{attribute}}}" if declared else str(azure_value(name, context))


def virtual_network(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = Inputs(inputs, "VirtualNetwork", name)
    for key in ("enableDdosProtection", "enableVmProtection"):
        if take.take(key, False):
            raise take.refuse(key, True, "is not written yet")
    space = dict(take.take("addressSpace") or {})
    body = {"address_space": list(space.pop("addressPrefixes", []))}
    if space:
        raise take.refuse("addressSpace", sorted(space), "has settings not written yet")
    out = common(take, context, body, "virtualNetworkName")
    take.done()
    return out


def subnet(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = Inputs(inputs, "Subnet", name)
    out: dict[str, Any] = {
        "name": azure_value(take.take("subnetName"), context),
        "resource_group_name": group_ref(str(take.take("resourceGroupName")), context),
        "virtual_network_name": _named(NETWORK, str(take.take("virtualNetworkName")), context),
        "address_prefixes": [take.take("addressPrefix")],
    }
    delegations = take.take("delegations")
    if delegations:
        out["delegation"] = []
        for d in delegations:
            picked = pick(
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


def dns_zone(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = Inputs(inputs, "PrivateZone", name)
    if str(take.take("location", "Global")).lower() != "global":
        raise take.refuse("location", inputs.get("location"), "is not 'Global'")
    out = common(take, context, {}, "privateZoneName")
    take.done()
    return out


def dns_link(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = Inputs(inputs, "VirtualNetworkLink", name)
    if str(take.take("location", "Global")).lower() != "global":
        raise take.refuse("location", inputs.get("location"), "is not 'Global'")
    network = dict(take.take("virtualNetwork") or {})
    body: dict[str, Any] = {
        "private_dns_zone_name": _named(ZONE, str(take.take("privateZoneName")), context),
        "virtual_network_id": _network_id(str(network.get("id")), context),
        "registration_enabled": bool(take.take("registrationEnabled", False)),
    }
    out = common(take, context, body, "virtualNetworkLinkName")
    take.done()
    return out


def _network_id(network_id: str, context: AzureContext) -> str:
    """A network's id: a reference when this directory declares it."""
    for (token, named), address in context.declared.items():
        if (
            token == NETWORK
            and network_id.endswith(f"/virtualNetworks/{named}")
            and f"/resourceGroups/{context.group}/" in network_id
        ):
            return f"${{{address}.id}}"
    return str(azure_value(network_id, context))


#: azure-native's server tier -> the prefix of azurerm's ``sku_name``.
_TIERS = {"Burstable": "B", "GeneralPurpose": "GP", "MemoryOptimized": "MO"}


def postgres_server(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = Inputs(inputs, "Server", name)
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
    storage = Inputs(dict(take.take("storage") or {}), "Server storage", name)
    size = storage.take("storageSizeGB")
    if size is not None:
        body["storage_mb"] = int(size) * 1024
    grow = storage.take("autoGrow")
    if grow is not None:
        body["auto_grow_enabled"] = grow == "Enabled"
    storage.done()
    backup = Inputs(dict(take.take("backup") or {}), "Server backup", name)
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
    network = Inputs(dict(take.take("network") or {}), "Server network", name)
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
    auth = Inputs(dict(take.take("authConfig") or {}), "Server authConfig", name)
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
    out = common(take, context, body, "serverName")
    take.done()
    return out


def postgres_database(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = Inputs(inputs, "Database", name)
    server = str(take.take("serverName"))
    group = str(take.take("resourceGroupName"))
    declared = marked(server)
    server_type = "azurerm_postgresql_flexible_server."
    if declared is not None and declared.startswith(server_type) and declared.endswith(".name"):
        # the declared server's name output: the same server's id
        server_id = "${" + declared.removesuffix(".name") + ".id}"
    elif (SERVER, server) in context.declared:
        server_id = _named(SERVER, server, context, "id")
    else:
        server_id = str(
            azure_value(
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


def postgres_admin(inputs: dict[str, Any], context: AzureContext, name: str) -> dict[str, Any]:
    take = Inputs(inputs, "Administrator", name)
    out: dict[str, Any] = {
        "server_name": _named(SERVER, str(take.take("serverName")), context),
        "resource_group_name": group_ref(str(take.take("resourceGroupName")), context),
        "object_id": azure_value(take.take("objectId"), context),
        "tenant_id": azure_value(take.take("tenantId"), context),
        "principal_name": azure_value(take.take("principalName"), context),
        "principal_type": take.take("principalType"),
    }
    take.done()
    return out

"""An Azure environment's virtual network: where its PostgreSQL flexible servers and the
Container Apps environment running its jobs meet, privately — named by the settings, or
created by the plan.

An environment needs one when it holds a database the plan creates (:func:`needs_network`)
or when its settings name one; otherwise nothing here is declared and the jobs run in a
Container Apps environment without a network of its own, as before.

When the settings name none, :func:`declare_network` creates:

- a virtual network (``10.0.0.0/16``) with two subnets: ``apps`` (``10.0.0.0/23``, delegated
  to ``Microsoft.App/environments``: a workload-profiles environment needs /27 or larger)
  and ``databases`` (``10.0.2.0/24``, delegated to
  ``Microsoft.DBforPostgreSQL/flexibleServers``);
- the private DNS zone ``privatelink.postgres.database.azure.com``, linked to the network,
  in which each server's name resolves to its private address.

With ``database_subnet_id`` and ``apps_subnet_id`` in the ``[provider]`` settings (two
subnets of one existing network, delegated as above), those are used and no network is
created; the DNS zone of the servers is ``private_dns_zone_id`` when named, else created
and linked to that network (when there are servers). Either way the Container Apps
environment gets the apps subnet (internal: jobs need no ingress) and a Consumption workload
profile, so every job of the environment reaches its servers through the network, and
nothing outside it can (public access is off on the servers).

Example:
    >>> Subnets.DATABASES.delegation
    'Microsoft.DBforPostgreSQL/flexibleServers'
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from glacier.infra.azure.stack import Stack, add, logical_name, native
from glacier.infra.model import InfraModel
from glacier.infra.model.names import physical_name
from glacier.settings.clouds import network_of_subnet

#: The address range of a created network.
NETWORK_CIDR = "10.0.0.0/16"


class Subnets(Enum):
    """The subnets of a created network: ``(name, address range, delegated service)``."""

    APPS = ("apps", "10.0.0.0/23", "Microsoft.App/environments")
    DATABASES = ("databases", "10.0.2.0/24", "Microsoft.DBforPostgreSQL/flexibleServers")

    @property
    def subnet_name(self) -> str:
        """The subnet's name in the network."""
        return self.value[0]

    @property
    def cidr(self) -> str:
        """Its address range."""
        return self.value[1]

    @property
    def delegation(self) -> str:
        """The service the subnet is delegated to."""
        return self.value[2]


#: The private DNS zone flexible servers with private access register their names in.
POSTGRES_DNS_ZONE = "privatelink.postgres.database.azure.com"


#: The workload profile the jobs run on in a network's Container Apps environment.
CONSUMPTION_PROFILE = {"name": "Consumption", "workload_profile_type": "Consumption"}


@dataclass(frozen=True)
class Placement:
    """The environment's network: the apps and databases subnets and the DNS zone of its
    servers (ids, or resource outputs); ``created`` when the plan made the network."""

    apps_subnet_id: Any
    database_subnet_id: Any
    dns_zone_id: Any
    created: bool
    #: What a server waits for besides the ids above: the zone's link to the network.
    ready: tuple[Any, ...] = ()


def needs_network(model: InfraModel, env: str) -> bool:
    """Whether environment ``env`` holds a database the plan creates (on Azure: a
    PostgreSQL flexible server with private access)."""
    return bool(model.databases_in(env))


def placement(stack: Stack) -> Placement | None:
    """The environment's network, once :func:`declare_network` ran; None without one."""
    found: Placement | None = stack.shared.get("network")
    return found


def declare_network(stack: Stack) -> Placement | None:
    """The environment's network (see the module docs): named by the settings (the jobs run
    in it, with or without databases), else created when a database needs one; None when
    there is none."""
    config = stack.env.config
    named = getattr(config, "database_subnet_id", None)
    databases = needs_network(stack.model, stack.env.key)
    if named is None and not databases:
        return None
    tags = {**stack.tags, "glacier-network": stack.env.key}
    if named is not None:
        apps = str(config.apps_subnet_id)
        zone = getattr(config, "private_dns_zone_id", None)
        ready: tuple[Any, ...] = ()
        if zone is None and databases:
            made, link = _dns_zone(stack, network_of_subnet(named), tags)
            zone, ready = made.id, (link,)
        found = Placement(apps, named, zone, created=False, ready=ready)
    else:
        found = _create(stack, tags)
    stack.shared["network"] = found
    return found


def apps_environment_args(stack: Stack) -> dict[str, Any]:
    """What the Container Apps environment gets in the environment's network: the apps
    subnet (internal) and a Consumption workload profile; nothing without a network."""
    found = placement(stack)
    if found is None:
        return {}
    return {
        "vnet_configuration": {"infrastructure_subnet_id": found.apps_subnet_id, "internal": True},
        "workload_profiles": [CONSUMPTION_PROFILE],
    }


def job_args(stack: Stack) -> dict[str, Any]:
    """What a job gets in a workload-profiles environment: its profile; nothing without."""
    if placement(stack) is None:
        return {}
    return {"workload_profile_name": CONSUMPTION_PROFILE["name"]}


def _create(stack: Stack, tags: dict[str, str]) -> Placement:
    net = native("network")
    name = physical_name(stack.env.naming_prefix, stack.model.pipeline, limit=64)
    vnet = add(
        stack,
        net.VirtualNetwork,
        logical_name(stack, "vnet"),
        depends_on=[stack.out.resource_group],
        virtual_network_name=name,
        resource_group_name=stack.group,
        location=stack.location,
        address_space={"address_prefixes": [NETWORK_CIDR]},
        tags=tags,
    )
    subnets = {}
    previous: list[Any] = []
    for subnet in Subnets:
        # One at a time: Azure refuses concurrent changes to the subnets of one network.
        subnets[subnet] = previous_one = add(
            stack,
            net.Subnet,
            logical_name(stack, f"{subnet.subnet_name}-subnet"),
            depends_on=[vnet, *previous],
            subnet_name=subnet.subnet_name,
            virtual_network_name=vnet.name,
            resource_group_name=stack.group,
            address_prefix=subnet.cidr,
            delegations=[{"name": subnet.subnet_name, "service_name": subnet.delegation}],
        )
        previous = [previous_one]
    zone, link = _dns_zone(stack, vnet.id, tags)
    stack.out.network = vnet
    return Placement(
        apps_subnet_id=subnets[Subnets.APPS].id,
        database_subnet_id=subnets[Subnets.DATABASES].id,
        dns_zone_id=zone.id,
        created=True,
        ready=(link,),
    )


def _dns_zone(stack: Stack, network_id: Any, tags: dict[str, str]) -> tuple[Any, Any]:
    """The servers' private DNS zone and its link to ``network_id``."""
    dns = native("privatedns")
    zone = add(
        stack,
        dns.PrivateZone,
        logical_name(stack, "postgres-dns-zone"),
        depends_on=[stack.out.resource_group],
        private_zone_name=POSTGRES_DNS_ZONE,
        resource_group_name=stack.group,
        location="Global",
        tags=tags,
    )
    link = add(
        stack,
        dns.VirtualNetworkLink,
        logical_name(stack, "postgres-dns-link"),
        private_zone_name=zone.name,
        virtual_network_link_name=physical_name(stack.env.key, "postgres", limit=80),
        resource_group_name=stack.group,
        location="Global",
        registration_enabled=False,
        virtual_network={"id": network_id},
        tags=tags,
    )
    return zone, link

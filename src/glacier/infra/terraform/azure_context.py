"""What the writers of an Azure environment's Terraform share (:mod:`glacier.infra.terraform.azure`,
:mod:`glacier.infra.terraform.azure_network`): the environment's context (subscription,
location, resource group and what its directory declares), input values as Terraform
JSON, and the inputs taken one by one, any left over refused.

Example:
    >>> context = AzureContext(subscription="s-1", location="westeurope", group="rg")
    >>> azure_value("/subscriptions/s-1/resourceGroups/rg/providers/x", context)
    '/subscriptions/${var.subscription_id}/resourceGroups/${var.resource_group_name}/providers/x'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from glacier.errors import TerraformError
from glacier.infra.mocks import PlannedResource
from glacier.infra.terraform.azure_types import FOLDED, RESOURCE_TYPES
from glacier.infra.terraform.references import interpolate, resource_name

#: The azure-native tokens the writers look up in the environment's share of the plan.
GROUP_TOKEN = "azure-native:resources:ResourceGroup"
ACCOUNT_TOKEN = "azure-native:storage:StorageAccount"
NETWORK = "azure-native:network:VirtualNetwork"
ZONE = "azure-native:privatedns:PrivateZone"
SERVER = "azure-native:dbforpostgresql:Server"
#: Types other resources name by their own name input, which the writers turn into a
#: reference when the resource is declared in the same directory.
NAMED = {NETWORK: "virtualNetworkName", ZONE: "privateZoneName", SERVER: "serverName"}


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
            if r.type == GROUP_TOKEN:
                context.group = str(r.inputs.get("resourceGroupName") or r.name)
                context.group_address = f"{RESOURCE_TYPES[r.type]}.{resource_name(r.name)}"
            elif r.type == ACCOUNT_TOKEN:
                address = f"{RESOURCE_TYPES[r.type]}.{resource_name(r.name)}"
                context.accounts[str(r.inputs["accountName"])] = address
            elif r.type in FOLDED:
                context.blob_services[str(r.inputs.get("accountName"))] = r
            elif r.type in NAMED:
                name = str(r.inputs.get(NAMED[r.type]))
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


class Inputs:
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


def common(
    take: Inputs, context: AzureContext, body: dict[str, Any], name_key: str
) -> dict[str, Any]:
    """``name``, ``resource_group_name`` and ``location`` first (the group as a reference to
    the declared group, so Terraform orders after it), then the body, then ``tags``."""
    out: dict[str, Any] = {"name": azure_value(take.take(name_key), context)}
    group = take.take("resourceGroupName")
    if group is not None:
        out["resource_group_name"] = group_ref(str(group), context)
    location = take.take("location")
    if location is not None:
        out["location"] = location_ref(str(location), context)
    out.update(body)
    tags = take.take("tags")
    if tags:
        out["tags"] = azure_value(dict(tags), context)
    return out


def group_ref(group: str, context: AzureContext) -> str:
    if group == context.group and context.group_address:
        return f"${{{context.group_address}.name}}"
    return str(azure_value(group, context))


def location_ref(location: str, context: AzureContext) -> str:
    return "${var.location}" if location == context.location else location


def pick(
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

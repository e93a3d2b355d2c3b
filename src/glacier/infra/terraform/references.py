"""The Pulumi program run under mocks that answer with Terraform references.

The Terraform target does not re-derive the infrastructure: it runs the same Pulumi program
:func:`glacier.infra.plan` runs, under :class:`TerraformMocks`, which record each resource as
the plan's mocks do but give, as its id and computed attributes, markers naming the Terraform
attribute (``@@tf~aws_iam_role.prod_extract_role.arn@@``). Every input built from another
resource's output therefore arrives holding a marker, including inside policy documents built
with ``Output.apply``/``json.dumps``, and :func:`interpolate` turns the markers into Terraform
interpolations (``${aws_iam_role.prod_extract_role.arn}``) once literal ``${`` are escaped.

Example:
    >>> address("aws:iam/role:Role", "prod-extract-role")
    'aws_iam_role.prod_extract_role'
    >>> interpolate(marker("aws_s3_bucket.dev_raw.name") + "/*")
    '${aws_s3_bucket.dev_raw.name}/*'
    >>> interpolate("$.Payload ${not a reference}")
    '$.Payload $${not a reference}'
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from glacier.errors import TerraformError
from glacier.infra.mocks import RecordingMocks
from glacier.infra.terraform import azure_types
from glacier.infra.terraform.types import (
    COMPUTED_NAMES,
    RESOURCE_TYPES,
    attribute_name,
    snake,
)

_MARKER = re.compile(r"@@tf~([A-Za-z0-9_.\[\]\-]+)@@")
#: A whole list (see :func:`list_marker`) where JSON text holds it: ``["<marker>"]``.
_LIST_IN_JSON = re.compile(r'\[\s*"@@tflist~([A-Za-z0-9_.\-]+)@@"\s*\]')
_LIST_MARKER = re.compile(r"@@tflist~([A-Za-z0-9_.\-]+)@@")
#: An ARN followed by its marker (see :func:`arn_marker`).
_ARN_MARKER = re.compile(r"(arn:[^@\"\s]*)@@arn~([A-Za-z0-9_.\[\]\-]+)@@")


@dataclass(frozen=True)
class DataSource:
    """The Terraform data source answering one lookup the program makes.

    ``attributes`` maps each key of Pulumi's result to the data source's attribute: a plain
    name, ``name[]`` for a list the program indexes (one marker per element) or ``name[*]``
    for a list it uses whole (one list marker, :func:`list_marker`). ``name`` is the data
    source's fixed name; without one, each distinct set of arguments gets its own data
    source, named after them (:func:`lookup_name`), with those arguments as its body.
    """

    type: str
    attributes: Mapping[str, str]
    name: str | None = None


#: Data-source lookups the program may make (Pulumi's token -> the data source answering it).
DATA_SOURCES: Mapping[str, DataSource] = {
    "aws:index/getCallerIdentity:getCallerIdentity": DataSource(
        "aws_caller_identity",
        {"accountId": "account_id", "arn": "arn", "userId": "user_id", "id": "id"},
        "current",
    ),
    "aws:index/getRegion:getRegion": DataSource(
        "aws_region", {"name": "region", "region": "region", "id": "id"}, "current"
    ),
    # Zones are indexed by the program (a subnet in the first, one in the second).
    "aws:index/getAvailabilityZones:getAvailabilityZones": DataSource(
        "aws_availability_zones",
        {"names": "names[]", "zoneIds": "zone_ids[]", "id": "id"},
        "available",
    ),
    # The account's default VPC and its subnets (ECS on Fargate without a [network]).
    "aws:ec2/getVpc:getVpc": DataSource(
        "aws_vpc", {"id": "id", "cidrBlock": "cidr_block", "arn": "arn"}
    ),
    "aws:ec2/getSubnets:getSubnets": DataSource("aws_subnets", {"ids": "ids[*]", "id": "id"}),
    # The VPC of a subnet named in [network], and the VPC's default security group.
    "aws:ec2/getSubnet:getSubnet": DataSource(
        "aws_subnet", {"id": "id", "vpcId": "vpc_id", "cidrBlock": "cidr_block"}
    ),
    "aws:ec2/getSecurityGroup:getSecurityGroup": DataSource(
        "aws_security_group", {"id": "id", "name": "name", "vpcId": "vpc_id", "arn": "arn"}
    ),
    # Azure: the deployer's tenant (a Key Vault's), and the identity of a task of another
    # subscription (found through that subscription's provider alias).
    "azure-native:authorization:getClientConfig": DataSource(
        "azurerm_client_config",
        {
            "tenantId": "tenant_id",
            "subscriptionId": "subscription_id",
            "clientId": "client_id",
            "objectId": "object_id",
        },
        "current",
    ),
    "azure-native:managedidentity:getUserAssignedIdentity": DataSource(
        "azurerm_user_assigned_identity",
        {
            "principalId": "principal_id",
            "clientId": "client_id",
            "tenantId": "tenant_id",
            "id": "id",
            "name": "name",
        },
    ),
}

#: How many elements a list attribute the program indexes offers it (zones: a region has at
#: least two, and Glacier's networks use two).
LIST_LENGTH = 6


def marker(expression: str) -> str:
    """The marker standing for Terraform expression ``expression`` while the program runs."""
    return f"@@tf~{expression}@@"


def marked(value: str) -> str | None:
    """The expression of ``value`` when it is a whole reference marker (:func:`marker`),
    else ``None``.

    Example:
        >>> marked(marker("azurerm_postgresql_flexible_server.wh.name"))
        'azurerm_postgresql_flexible_server.wh.name'
        >>> marked("wh") is None
        True
    """
    found = _MARKER.fullmatch(value)
    return found.group(1) if found else None


def list_marker(expression: str) -> list[str]:
    """A list-valued attribute while the program runs: a one-element list holding its marker.

    Used whole, it becomes the reference itself (:func:`whole_list`); written into JSON text
    (a state machine definition holding a lookup's subnet ids), Terraform's
    ``jsonencode(...)`` of it (:func:`interpolate`). Any other use (an element taken, the
    list extended) leaves a marker no reference can say, and the run is refused.

    >>> import json
    >>> interpolate(json.dumps({"Subnets": list_marker("data.aws_subnets.x.ids")}))
    '{"Subnets": ${jsonencode(data.aws_subnets.x.ids)}}'
    >>> whole_list(list_marker("data.aws_subnets.x.ids"))
    '${data.aws_subnets.x.ids}'
    """
    return [f"@@tflist~{expression}@@"]


def whole_list(value: Any) -> str | None:
    """The reference a whole list stands for (see :func:`list_marker`), else None."""
    if isinstance(value, list | tuple) and len(value) == 1 and isinstance(value[0], str):
        found = _LIST_MARKER.fullmatch(value[0])
        if found:
            return "${" + found.group(1) + "}"
    return None


def arn_marker(realistic: str, expression: str) -> str:
    """An ARN output while the program runs: the realistic ARN, then its marker.

    Code that uses the ARN whole (``f"{arn}/*"``) keeps both, and :func:`interpolate` makes
    it the reference; code that derives another ARN from it (``swap_arn``, a task
    definition's family ``...:*``, a cluster's tasks) either drops the marker or changes the
    ARN before it, and then the derived ARN is kept as the literal it is (it names the same
    deterministic thing the Pulumi plan names).

    >>> arns = {"aws_s3_bucket.lake.arn": "arn:aws:s3:::lake"}
    >>> interpolate(arn_marker("arn:aws:s3:::lake", "aws_s3_bucket.lake.arn") + "/*", arns)
    '${aws_s3_bucket.lake.arn}/*'
    >>> cluster = arn_marker("arn:aws:ecs:r:1:cluster/c", "aws_ecs_cluster.c.arn")
    >>> interpolate(cluster.replace(":cluster/", ":task/") + "/*", {})
    'arn:aws:ecs:r:1:task/c/*'
    """
    return f"{realistic}@@arn~{expression}@@"


def resource_name(name: str) -> str:
    """A Pulumi logical name as a Terraform identifier: letters, digits and underscores,
    starting with a letter or an underscore."""
    ident = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return ident if re.match(r"[A-Za-z_]", ident) else f"_{ident}"


def address(token: str, name: str) -> str:
    """The Terraform address of the resource Pulumi declares as ``token`` named ``name``."""
    return f"{RESOURCE_TYPES[token]}.{resource_name(name)}"


def interpolate(text: str, arns: Mapping[str, str] | None = None) -> str:
    """``text`` as a Terraform string: literal ``${``/``%{`` escaped, markers interpolated.

    ``arns`` maps each ARN attribute's expression to its realistic ARN (see
    :func:`arn_marker`): an ARN still equal to it becomes the reference, any other is kept.
    """
    known = arns or {}

    def arn(m: re.Match[str]) -> str:
        return marker(m.group(2)) if known.get(m.group(2)) == m.group(1) else m.group(1)

    escaped = _ARN_MARKER.sub(arn, text).replace("${", "$${").replace("%{", "%%{")
    lists = _LIST_IN_JSON.sub(lambda m: "${jsonencode(" + m.group(1) + ")}", escaped)
    return _MARKER.sub(lambda m: "${" + m.group(1) + "}", lists)


def has_marker(value: Any) -> bool:
    """Whether ``value`` (any plain data) holds a marker."""
    if isinstance(value, str):
        return _MARKER.search(value) is not None or _LIST_MARKER.search(value) is not None
    if isinstance(value, Mapping):
        return any(has_marker(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(has_marker(v) for v in value)
    return False


class TerraformMocks(RecordingMocks):
    """:class:`~glacier.infra.mocks.RecordingMocks` answering with Terraform references.

    Resources are recorded as the plan records them. Their outputs are markers of their
    Terraform attributes: every string input (``name``, ``bucket``), ``arn`` and ``id``, and
    what the plan's mocks compute besides (``bucketDomainName``, an RDS ``address``...).
    A resource type or lookup with no Terraform mapping is collected in :attr:`unmapped`
    (the run goes on, so that every one is named at once).
    """

    def __init__(self) -> None:
        super().__init__()
        self.unmapped: list[str] = []
        self.data_sources: set[str] = set()
        #: Address of each data source with arguments -> (its type, Pulumi's arguments).
        self.lookups: dict[str, tuple[str, dict[str, Any]]] = {}
        #: Expression of each ARN attribute -> its realistic ARN (see :func:`arn_marker`).
        self.arns: dict[str, str] = {}
        #: (type, name) of each resource -> (type, name) of those it depends on.
        self.dependencies: dict[tuple[str, str], list[tuple[str, str]]] = {}

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        rid, realistic = super().new_resource(args)
        if args.typ.startswith("pulumi:providers:") or args.typ in azure_types.FOLDED:
            return rid, realistic  # a folded type: a block of its host, nothing reads it
        if args.typ not in RESOURCE_TYPES:
            self.unmapped.append(f"resource type {args.typ!r} ({args.name})")
            return rid, realistic
        where = address(args.typ, args.name)
        tf_type = RESOURCE_TYPES[args.typ]
        if args.typ.startswith("azure-native:"):
            return marker(f"{where}.id"), azure_types.outputs(where, tf_type, realistic)
        outputs: dict[str, Any] = dict(args.inputs)
        for key, value in realistic.items():
            if key in args.inputs and not isinstance(value, str):
                continue  # numbers, flags and blocks the program set are known as they are
            if key == "name" and "name" not in args.inputs and tf_type not in COMPUTED_NAMES:
                continue  # the plan's stand-in, not an attribute of every type
            attribute = attribute_name(tf_type, key)
            if isinstance(value, str) and value.startswith("arn:") and "@" not in value:
                self.arns[f"{where}.{attribute}"] = value
                outputs[key] = arn_marker(value, f"{where}.{attribute}")
            else:
                outputs[key] = _reference(where, attribute, value)
        outputs["id"] = marker(f"{where}.id")
        return marker(f"{where}.id"), outputs

    def make_monitor(self) -> Any:
        """Pulumi's mock monitor, also recording what each resource depends on (explicit
        ``depends_on`` included, which the mocks' arguments do not carry)."""
        from pulumi.runtime.mocks import MockMonitor

        mocks = self

        class DependencyMonitor(MockMonitor):  # type: ignore[misc]
            def RegisterResource(self, request: Any) -> Any:  # Pulumi's name
                mocks.dependencies[(request.type, request.name)] = [
                    _type_and_name(urn) for urn in request.dependencies
                ]
                return super().RegisterResource(request)  # type: ignore[no-untyped-call]

        return DependencyMonitor(self)  # type: ignore[arg-type]  # duck-typed Mocks

    def depends_on(self, token: str, name: str) -> list[str]:
        """Terraform addresses of the resources ``(token, name)`` depends on."""
        return [
            address(t, n)
            for t, n in self.dependencies.get((token, name), [])
            if t in RESOURCE_TYPES
        ]

    def call(self, args: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        found = DATA_SOURCES.get(args.token)
        if found is None:
            self.unmapped.append(f"lookup {args.token!r}")
            return super().call(args)
        arguments = {k: v for k, v in sorted(dict(args.args or {}).items()) if v is not None}
        alias = _provider_alias(getattr(args, "provider", None) or "", self.environments)
        if alias:
            # A lookup in another subscription, through that subscription's provider.
            arguments["provider"] = alias
        if found.name is not None:
            source = f"data.{found.type}.{found.name}"
        else:
            source = self._lookup(found.type, arguments)
        self.data_sources.add(source)
        return {key: _data_marker(source, attr) for key, attr in found.attributes.items()}, []

    def _lookup(self, tf_type: str, arguments: dict[str, Any]) -> str:
        """The address of the ``tf_type`` data source with ``arguments`` (Pulumi's names),
        declared here the first time those arguments are seen."""
        with self._lock:
            for where, (_, known) in self.lookups.items():
                if where.startswith(f"data.{tf_type}.") and known == arguments:
                    return where
            name = lookup_name({k: v for k, v in arguments.items() if k != "provider"})
            where = f"data.{tf_type}.{name}"
            if where in self.lookups:  # the same name for other arguments: keep both
                digest = hashlib.sha256(repr(sorted(arguments.items())).encode()).hexdigest()
                where = f"{where}_{digest[:8]}"
            self.lookups[where] = (tf_type, arguments)
            return where

    def check(self) -> None:
        """Refuse the run when something had no Terraform mapping, naming each."""
        if self.unmapped:
            raise TerraformError(
                "The Terraform target cannot express this pipeline yet: "
                + "; ".join(sorted(set(self.unmapped)))
                + " has no Terraform mapping. Add it to glacier.infra.terraform.types "
                "(or .references.DATA_SOURCES), or generate with --target pulumi."
            )


def lookup_name(arguments: Mapping[str, Any]) -> str:
    """A data source's name from its arguments: the flags set, the values given (a
    reference by the name of what it refers to), by the arguments' names.

    >>> lookup_name({"default": True})
    'default'
    >>> lookup_name({"name": "default", "vpcId": marker("data.aws_subnet.subnet_a.vpc_id")})
    'default_subnet_a'
    """
    words: list[str] = []

    def walk(value: Any, key: str) -> None:
        if value is True:
            words.append(key)
        elif isinstance(value, str):
            found = _MARKER.fullmatch(value) or _LIST_MARKER.fullmatch(value)
            words.append(found.group(1).split(".")[-2] if found else value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            words.append(f"{key}_{value}")
        elif isinstance(value, Mapping):
            for k, v in sorted(value.items()):  # Pulumi's order varies between runs
                walk(v, str(k))
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v, key)

    walk(dict(arguments), "")
    name = snake(resource_name("_".join(words) or "lookup")).strip("_") or "lookup"
    return re.sub(r"_+", "_", name)[:64]


def _data_marker(source: str, attribute: str) -> Any:
    """A lookup's attribute as markers: one, one per element of a list the program indexes
    (``name[]``), or a list marker of a list it uses whole (``name[*]``)."""
    if attribute.endswith("[*]"):
        return list_marker(f"{source}.{attribute[:-3]}")
    if attribute.endswith("[]"):
        name = attribute[:-2]
        return [marker(f"{source}.{name}[{i}]") for i in range(LIST_LENGTH)]
    return marker(f"{source}.{attribute}")


def _reference(where: str, attribute: str, value: Any) -> Any:
    """Markers for attribute ``attribute`` of resource ``where``, shaped like ``value`` (a
    list of blocks gives a list of blocks of markers)."""
    if isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
        return [
            {k: marker(f"{where}.{attribute}[{i}].{snake(k)}") for k in block}
            for i, block in enumerate(value)
        ]
    if isinstance(value, str):
        return marker(f"{where}.{attribute}")
    return value


def _provider_alias(ref: str, environments: Mapping[str, Any]) -> str | None:
    """The Terraform provider alias (``azurerm.dev_reads_prod``) of an ``azure-native``
    provider reference (``urn:...::pulumi:providers:azure-native::dev-reads-prod::<id>``)
    that is not an environment's own provider (those are named after the environment)."""
    parts = ref.split("::")
    if len(parts) < 4 or not parts[2].split("$")[-1].startswith("pulumi:providers:azure-native"):
        return None
    return None if parts[3] in environments else f"azurerm.{resource_name(parts[3])}"


def _type_and_name(urn: str) -> tuple[str, str]:
    """``urn:pulumi:<stack>::<project>::<parent$type>::<name>`` -> ``(type, name)``."""
    parts = urn.split("::")
    return parts[2].split("$")[-1], parts[3]

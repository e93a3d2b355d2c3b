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

import re
from collections.abc import Mapping
from typing import Any

from glacier.errors import TerraformError
from glacier.infra.mocks import RecordingMocks
from glacier.infra.terraform.types import RESOURCE_TYPES, attribute_name, snake

_MARKER = re.compile(r"@@tf~([A-Za-z0-9_.\[\]\-]+)@@")
#: An ARN followed by its marker (see :func:`arn_marker`).
_ARN_MARKER = re.compile(r"(arn:[^@\"\s]*)@@arn~([A-Za-z0-9_.\[\]\-]+)@@")

#: Data-source lookups the program may make, and the Terraform data source answering each:
#: (lookup token, data source address, {Pulumi result key: attribute}).
DATA_SOURCES: Mapping[str, tuple[str, Mapping[str, str]]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": (
        "data.aws_caller_identity.current",
        {"accountId": "account_id", "arn": "arn", "userId": "user_id", "id": "id"},
    ),
    "aws:index/getRegion:getRegion": (
        "data.aws_region.current",
        {"name": "region", "region": "region", "id": "id"},
    ),
    # A list attribute ("names[]"): one marker per element, as the program indexes it.
    "aws:index/getAvailabilityZones:getAvailabilityZones": (
        "data.aws_availability_zones.available",
        {"names": "names[]", "zoneIds": "zone_ids[]", "id": "id"},
    ),
}

#: How many elements a list attribute of a lookup offers the program (zones: a region has at
#: least two, and Glacier's networks use two).
LIST_LENGTH = 6


def marker(expression: str) -> str:
    """The marker standing for Terraform expression ``expression`` while the program runs."""
    return f"@@tf~{expression}@@"


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
    return _MARKER.sub(lambda m: "${" + m.group(1) + "}", escaped)


def has_marker(value: Any) -> bool:
    """Whether ``value`` (any plain data) holds a marker."""
    if isinstance(value, str):
        return _MARKER.search(value) is not None
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
        #: Expression of each ARN attribute -> its realistic ARN (see :func:`arn_marker`).
        self.arns: dict[str, str] = {}
        #: (type, name) of each resource -> (type, name) of those it depends on.
        self.dependencies: dict[tuple[str, str], list[tuple[str, str]]] = {}

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        rid, realistic = super().new_resource(args)
        if args.typ.startswith("pulumi:providers:"):
            return rid, realistic
        if args.typ not in RESOURCE_TYPES:
            self.unmapped.append(f"resource type {args.typ!r} ({args.name})")
            return rid, realistic
        where = address(args.typ, args.name)
        tf_type = RESOURCE_TYPES[args.typ]
        outputs: dict[str, Any] = dict(args.inputs)
        for key, value in realistic.items():
            if key in args.inputs and not isinstance(value, str):
                continue  # numbers, flags and blocks the program set are known as they are
            if key == "name" and "name" not in args.inputs:
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
        source, attributes = found
        self.data_sources.add(source)
        return {key: _data_marker(source, attr) for key, attr in attributes.items()}, []

    def check(self) -> None:
        """Refuse the run when something had no Terraform mapping, naming each."""
        if self.unmapped:
            raise TerraformError(
                "The Terraform target cannot express this pipeline yet: "
                + "; ".join(sorted(set(self.unmapped)))
                + " has no Terraform mapping. Add it to glacier.infra.terraform.types "
                "(or .references.DATA_SOURCES), or generate with --target pulumi."
            )


def _data_marker(source: str, attribute: str) -> Any:
    """A lookup's attribute as markers: one, or one per element of a list attribute."""
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


def _type_and_name(urn: str) -> tuple[str, str]:
    """``urn:pulumi:<stack>::<project>::<parent$type>::<name>`` -> ``(type, name)``."""
    parts = urn.split("::")
    return parts[2].split("$")[-1], parts[3]

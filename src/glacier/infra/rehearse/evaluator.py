"""Glacier's own evaluator of storage grants, for the clouds whose emulators enforce none.

Neither the GCS emulator nor Azurite checks IAM, so a rehearsal on GCP or Azure asks this
module, for every storage request a task makes, whether the plan's grants allow it:

- a :class:`Grant` is the neutral form of one binding (GCP: a ``BucketIAMMember``; Azure: a
  ``RoleAssignment`` on a container): who (a service account's email, an identity's
  principal id), where (the bucket or container), which permissions or data actions its
  role holds, and its condition (:mod:`~glacier.infra.rehearse.conditions`);
- a :class:`Request` is what a task asked: ``get``, ``create``, ``overwrite``, ``delete`` or
  ``list`` (with a prefix), or ``bucket`` (the bucket's or container's own properties), on an
  object name of a bucket;
- :func:`allowed` says yes, or no with the reason: the permission the request needs and the
  grants that were close (same bucket) but did not allow it.

What each request needs, per cloud, is a table (:data:`GCP_NEEDS`, :data:`AZURE_NEEDS`), as
is what each predefined or built-in role holds (:data:`GCP_ROLES`, :data:`AZURE_ROLES`).

Example:
    >>> from glacier.infra.rehearse.conditions import parse_cel
    >>> viewer = "roles/storage.objectViewer"
    >>> sales = 'resource.name.startsWith("projects/_/buckets/lake/objects/sales/")'
    >>> grant = Grant("gcp", "etl@p.iam.gserviceaccount.com", "lake", GCP_ROLES[viewer],
    ...               viewer, parse_cel(sales))
    >>> bool(allowed([grant], grant.identity, Request("get", "lake", "sales/a.parquet")))
    True
    >>> print(allowed([grant], grant.identity, Request("get", "lake", "sales2/a.parquet")).reason)
    no grant allows storage.objects.get on gs://lake/sales2/a.parquet (roles/storage.objectViewer...
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from glacier.errors import InfraError
from glacier.infra.rehearse.conditions import Condition

__all__ = [
    "ACTIONS",
    "AZURE_NEEDS",
    "AZURE_ROLES",
    "GCP_NEEDS",
    "GCP_ROLES",
    "Decision",
    "Grant",
    "Request",
    "allowed",
    "azure_role",
    "gcp_role",
]

#: What a task can ask of a store.
ACTIONS = ("get", "create", "overwrite", "delete", "list", "bucket")

# -- GCP ------------------------------------------------------------------------------------

_OBJECTS = "storage.objects"
#: Permissions of the predefined Cloud Storage roles Glacier grants (from Google's list of
#: IAM roles for Cloud Storage; only the object permissions a request below needs).
GCP_ROLES: Mapping[str, frozenset[str]] = {
    "roles/storage.objectViewer": frozenset({f"{_OBJECTS}.get", f"{_OBJECTS}.list"}),
    "roles/storage.objectCreator": frozenset({f"{_OBJECTS}.create"}),
    "roles/storage.objectUser": frozenset(
        {f"{_OBJECTS}.{p}" for p in ("create", "delete", "get", "list", "restore", "update")}
    ),
}
#: The permissions each request needs on GCS (all of them). Overwriting an object needs
#: ``delete`` as well as ``create``, as on GCS; listing is checked on the bucket resource.
GCP_NEEDS: Mapping[str, tuple[str, ...]] = {
    "get": (f"{_OBJECTS}.get",),
    "create": (f"{_OBJECTS}.create",),
    "overwrite": (f"{_OBJECTS}.create", f"{_OBJECTS}.delete"),
    "delete": (f"{_OBJECTS}.delete",),
    "list": (f"{_OBJECTS}.list",),
    "bucket": ("storage.buckets.get",),
}

# -- Azure ----------------------------------------------------------------------------------

_BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
#: Data actions of the built-in roles Glacier assigns, by role definition GUID.
AZURE_ROLES: Mapping[str, frozenset[str]] = {
    _READER: frozenset({f"{_BLOBS}/read"}),
    _CONTRIBUTOR: frozenset(
        {f"{_BLOBS}/{a}" for a in ("read", "write", "delete", "add/action", "move/action")}
    ),
}
#: The data action each request needs on Blob Storage (any one of the alternatives), and its
#: sub-operation. Creating a blob needs ``write`` or ``add/action``; replacing one, ``write``.
#: A container's own properties are read with the data role's ``read`` (an approximation:
#: Azure checks ``containers/read``, which the data roles Glacier assigns hold).
AZURE_NEEDS: Mapping[str, tuple[tuple[str, ...], str | None]] = {
    "get": ((f"{_BLOBS}/read",), None),
    "create": ((f"{_BLOBS}/write", f"{_BLOBS}/add/action"), None),
    "overwrite": ((f"{_BLOBS}/write",), None),
    "delete": ((f"{_BLOBS}/delete",), None),
    "list": ((f"{_BLOBS}/read",), "Blob.List"),
    "bucket": ((f"{_BLOBS}/read",), None),
}


def gcp_role(role: str, custom: Mapping[str, Iterable[str]]) -> frozenset[str]:
    """The permissions of a predefined role, or of a custom role the plan declares
    (``custom``: role name or id -> permissions); an unknown role is an error naming it."""
    if role in GCP_ROLES:
        return GCP_ROLES[role]
    for name in (role, role.rsplit("/", 1)[-1]):
        if name in custom:
            return frozenset(custom[name])
    raise InfraError(
        f"The plan grants the role {role!r}, which the rehearsal's evaluator does not know: "
        f"it knows {', '.join(sorted(GCP_ROLES))} and the custom roles the plan declares "
        "(gcp:projects/iAMCustomRole:IAMCustomRole). Grant one of those."
    )


def azure_role(role_definition_id: str) -> tuple[str, frozenset[str]]:
    """``(guid, data actions)`` of a built-in role by its definition id; an unknown one is an
    error naming it."""
    guid = role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()
    if guid not in AZURE_ROLES:
        raise InfraError(
            f"The plan assigns the role {role_definition_id!r}, which the rehearsal's "
            "evaluator does not know: it knows Storage Blob Data Reader "
            f"({_READER}) and Storage Blob Data Contributor ({_CONTRIBUTOR})."
        )
    return guid, AZURE_ROLES[guid]


@dataclass(frozen=True)
class Grant:
    """One binding of the plan, in neutral form.

    ``cloud`` is ``"gcp"`` or ``"azure"``; ``identity`` a service account's email or an
    identity's principal id; ``bucket`` the bucket (GCP) or container (Azure) it is on;
    ``actions`` the permissions (GCP) or data actions (Azure) its role holds; ``role`` the
    role's name for messages; ``condition`` None when unconditional. ``account`` is the
    storage account of an Azure container (None on GCP).
    """

    cloud: str
    identity: str
    bucket: str
    actions: frozenset[str]
    role: str
    condition: Condition | None = None
    account: str | None = None

    def describe(self) -> str:
        """One line: the role, where, and the condition."""
        where = f"{self.account}/{self.bucket}" if self.account else self.bucket
        cond = f" if {self.condition.text}" if self.condition else ""
        return f"{self.role} on {where}{cond}"


@dataclass(frozen=True)
class Request:
    """A storage request: ``action`` (one of :data:`ACTIONS`) on ``name`` in ``bucket`` (for
    ``list``, ``name`` is the listing's prefix; for ``bucket``, empty). ``account``: the
    storage account on Azure, when known."""

    action: str
    bucket: str
    name: str = ""
    account: str | None = None

    def __str__(self) -> str:
        if self.action == "bucket":
            return f"bucket {self.bucket}"
        if self.action == "list":
            return f"list {self.bucket}/{self.name}*"
        return f"{self.action} {self.bucket}/{self.name}"


@dataclass(frozen=True)
class Decision:
    """The answer of :func:`allowed`: true when allowed; else ``reason`` says what grant is
    missing."""

    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def allowed(grants: Iterable[Grant], identity: str, request: Request) -> Decision:
    """Whether ``identity``'s grants allow ``request`` (see the module docs)."""
    if request.action not in ACTIONS:
        raise InfraError(f"Unknown storage action {request.action!r}: one of {ACTIONS}.")
    mine = [
        g
        for g in grants
        if g.identity == identity
        and g.bucket == request.bucket
        and (request.account is None or g.account in (None, request.account))
    ]
    if not mine:
        return Decision(False, f"{identity} has no grant on {request.bucket}: {request}")
    cloud = mine[0].cloud
    if cloud == "gcp":
        return _gcp(mine, request)
    return _azure(mine, request)


def _gcp(grants: list[Grant], request: Request) -> Decision:
    if request.action in ("list", "bucket"):
        attributes = {
            "resource.name": f"projects/_/buckets/{request.bucket}",
            "resource.type": "storage.googleapis.com/Bucket",
        }
    else:
        attributes = {
            "resource.name": f"projects/_/buckets/{request.bucket}/objects/{request.name}",
            "resource.type": "storage.googleapis.com/Object",
        }
    uri = f"gs://{request.bucket}/{request.name}"
    for permission in GCP_NEEDS[request.action]:
        holding = [g for g in grants if permission in g.actions]
        if not any(g.condition is None or g.condition.holds(attributes) for g in holding):
            why = "; ".join(f"{g.describe()} (condition false)" for g in holding)
            return Decision(
                False, f"no grant allows {permission} on {uri}" + (f" ({why})" if why else "")
            )
    return Decision(True)


def _azure(grants: list[Grant], request: Request) -> Decision:
    alternatives, suboperation = AZURE_NEEDS[request.action]
    where = f"{request.bucket}/{request.name}"
    tried: list[str] = []
    for action in alternatives:
        attributes = {"action": action}
        if suboperation:
            attributes["suboperation"] = suboperation
        if request.action == "list":
            attributes["prefix"] = request.name
        elif request.action != "bucket":
            attributes["path"] = request.name
        for g in grants:
            if action not in g.actions:
                continue
            if g.condition is None or g.condition.holds(attributes):
                return Decision(True)
            tried.append(f"{g.describe()} (condition false)")
    why = "; ".join(dict.fromkeys(tried))
    needed = " or ".join(alternatives)
    sub = f" ({suboperation})" if suboperation else ""
    return Decision(
        False, f"no role assignment allows {needed}{sub} on {where}" + (f" ({why})" if why else "")
    )

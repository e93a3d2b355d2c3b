"""Azure ABAC conditions on blob paths: what confines a role assignment on a container to the
datasets a task uses.

A role assignment of a built-in data role on a container allows the role's data actions on
every blob in it; its condition (version 2.0) narrows them. Each clause has the shape
``(!(<the actions it is about>) OR <where they are allowed>)``, so an action the clause is not
about passes it, and the clauses are joined with ``AND``. Glacier writes one clause per kind of
request, from the grants of the model (:class:`~glacier.infra.model.Grant`), the same grants the
AWS policies are built from:

==========================  ===================================================================
reading a blob              ``blobs/read`` that is not ``Blob.List``: ``blobs:path`` starts
                            with a dataset's prefix (a directory's own name too, which the
                            filesystem asks for to tell a file from a directory)
listing                     ``blobs/read`` with ``Blob.List``: the request's ``blobs:prefix``
                            starts with a dataset's prefix
writing                     ``blobs/write`` and ``blobs/add/action``: ``blobs:path`` prefix
deleting                    ``blobs/delete``: only where a write sweeps old versions
                            (``Location.sweeps``); elsewhere the clause denies it outright
==========================  ===================================================================

Only this part of Azure's condition language is used (so a rehearsal can evaluate it):
``ActionMatches``, ``SubOperationMatches{'Blob.List'}``, ``!``, ``AND``, ``OR``, parentheses,
``StringStartsWith`` and ``StringEquals`` on ``@Resource[...blobs:path]`` and
``@Request[...blobs:prefix]``.

Example:
    >>> from glacier.infra.model import Grant, Location
    >>> g = Grant(Location("dev:lake", "sales/", "sales"), ("read", "list"))
    >>> print(reader_condition([g]))  # doctest: +NORMALIZE_WHITESPACE
    (!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'}
       AND !(SubOperationMatches{'Blob.List'}))
     OR @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]
          StringStartsWith 'sales/'
     OR @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]
          StringEquals 'sales')
    AND
    (!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'}
       AND SubOperationMatches{'Blob.List'})
     OR @Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:prefix]
          StringStartsWith 'sales/')
"""

from __future__ import annotations

from collections.abc import Sequence

from glacier.errors import InfraError
from glacier.infra.model import Grant, Location

_BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
#: The blob data actions Glacier's grants are about.
READ_ACTION = f"{_BLOBS}/read"
WRITE_ACTION = f"{_BLOBS}/write"
ADD_ACTION = f"{_BLOBS}/add/action"
DELETE_ACTION = f"{_BLOBS}/delete"
#: The attribute of the blob a request is about, and of a listing request's prefix.
PATH = f"@Resource[{_BLOBS}:path]"
PREFIX = f"@Request[{_BLOBS}:prefix]"
#: The condition language version of Glacier's conditions.
CONDITION_VERSION = "2.0"

_LIST = "SubOperationMatches{'Blob.List'}"


def _action(action: str) -> str:
    return f"ActionMatches{{'{action}'}}"


def _quoted(location: Location) -> str:
    if "'" in location.prefix:
        raise InfraError(
            f"Dataset {location.dataset!r} is stored under {location.prefix!r}, which holds a "
            "quote that an Azure role assignment condition cannot name. Rename its path."
        )
    if location.suffix != "*":
        raise InfraError(
            f"Dataset {location.dataset!r}: the key pattern {location.pattern!r} cannot be "
            "expressed by an Azure condition (a path prefix); store it under a prefix."
        )
    return f"'{location.prefix}'"


def _clause(about: str, allowed: Sequence[str]) -> str:
    """``(!(about) OR allowed...)``; with nothing allowed, ``(!(about))`` denies it."""
    if not allowed:
        return f"(!({about}))"
    return f"(!({about}) OR " + " OR ".join(allowed) + ")"


def _paths(locations: Sequence[Location], *, directories: bool) -> list[str]:
    out: list[str] = []
    for loc in dict.fromkeys(locations):
        out.append(f"{PATH} StringStartsWith {_quoted(loc)}")
        if directories and loc.prefix.endswith("/"):
            out.append(f"{PATH} StringEquals '{loc.prefix[:-1]}'")
    return out


def _prefixes(locations: Sequence[Location]) -> list[str]:
    return [f"{PREFIX} StringStartsWith {_quoted(loc)}" for loc in dict.fromkeys(locations)]


def _with(grants: Sequence[Grant], access: str) -> list[Location]:
    return [g.location for g in grants if access in g.access]


def read_clauses(grants: Sequence[Grant], *, artifacts: bool = False) -> list[str]:
    """The reading and listing clauses of ``grants`` (one container's; ``artifacts`` when it
    is an artifacts container, whose datasets are single objects, not directories)."""
    return [
        _clause(
            f"{_action(READ_ACTION)} AND !({_LIST})",
            _paths(_with(grants, "read"), directories=not artifacts),
        ),
        _clause(f"{_action(READ_ACTION)} AND {_LIST}", _prefixes(_with(grants, "list"))),
    ]


def reader_condition(grants: Sequence[Grant], *, artifacts: bool = False) -> str:
    """The condition of a Storage Blob Data Reader assignment for ``grants``."""
    return "\nAND\n".join(read_clauses(grants, artifacts=artifacts))


def contributor_condition(grants: Sequence[Grant], *, artifacts: bool = False) -> str:
    """The condition of a Storage Blob Data Contributor assignment for ``grants`` (the
    written locations): read, list and write there; delete only where a write sweeps."""
    writes = _with(grants, "write")
    deletes = [loc for loc in _with(grants, "delete") if loc.sweeps]
    clauses = [
        *read_clauses(grants, artifacts=artifacts),
        _clause(
            f"{_action(WRITE_ACTION)} OR {_action(ADD_ACTION)}",
            _paths(writes, directories=False),
        ),
        _clause(_action(DELETE_ACTION), _paths(deletes, directories=False)),
    ]
    return "\nAND\n".join(clauses)

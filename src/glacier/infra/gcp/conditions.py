"""IAM Conditions of Glacier's bucket bindings: CEL expressions over the object name.

A condition is written only in the grammar the rehearsal's evaluator reads (see
``docs/gcp.md``): ``resource.name.startsWith("projects/_/buckets/<b>/objects/<prefix>")``,
``resource.name == "projects/_/buckets/<b>"``, ``resource.type == "<type>"``, joined by
``&&`` and ``||`` with parentheses.

Why listing is granted on the bucket: GCS checks ``storage.objects.list`` against the
*bucket* (``resource.name`` is ``projects/_/buckets/<b>``, the type a Bucket), never against
a prefix, so no condition can limit a listing to ``sales/``. Glacier grants it with a
condition naming the bucket itself; what that exposes is the *names* (and sizes, times,
metadata) of every object in the bucket, never their contents, which ``storage.objects.get``
guards by prefix.

Example:
    >>> objects_under("lake", ["sales/", "orders/"])
    '(resource.type == "storage.googleapis.com/Object" && (resource.name.startsWith("projects/_/buckets/lake/objects/sales/") || resource.name.startsWith("projects/_/buckets/lake/objects/orders/")))'
    >>> the_bucket("lake")
    '(resource.type == "storage.googleapis.com/Bucket" && resource.name == "projects/_/buckets/lake")'
"""  # noqa: E501

from __future__ import annotations

import json
from collections.abc import Sequence

__all__ = ["BUCKET_TYPE", "OBJECT_TYPE", "any_of", "object_path", "objects_under", "the_bucket"]

#: ``resource.type`` of an object, and of a bucket (what a listing is checked against).
OBJECT_TYPE = "storage.googleapis.com/Object"
BUCKET_TYPE = "storage.googleapis.com/Bucket"


def _string(value: str) -> str:
    return json.dumps(value)  # a CEL string literal: double quotes, escapes as JSON's


def object_path(bucket: str, prefix: str = "") -> str:
    """``projects/_/buckets/<bucket>/objects/<prefix>``: an object's ``resource.name``."""
    return f"projects/_/buckets/{bucket}/objects/{prefix}"


def objects_under(bucket: str, prefixes: Sequence[str]) -> str:
    """Objects of ``bucket`` whose names start with one of ``prefixes`` (``""``: all)."""
    names = " || ".join(
        f"resource.name.startsWith({_string(object_path(bucket, p))})"
        for p in dict.fromkeys(prefixes)
    )
    inner = names if len(dict.fromkeys(prefixes)) == 1 else f"({names})"
    return f"(resource.type == {_string(OBJECT_TYPE)} && {inner})"


def the_bucket(bucket: str) -> str:
    """The bucket itself (what ``storage.objects.list`` is checked against)."""
    return (
        f"(resource.type == {_string(BUCKET_TYPE)} && "
        f"resource.name == {_string(f'projects/_/buckets/{bucket}')})"
    )


def any_of(*expressions: str) -> str:
    """``a || b``: one of ``expressions`` holds."""
    return " || ".join(expressions)

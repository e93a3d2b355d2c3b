"""IAM statements granting access to datasets: the least-privilege core of every data policy.

The model's grants say which datasets a task reads, writes, lists and deletes in; this module
turns them into S3 statements on exactly those prefixes (plus the KMS keys that encrypt them).
What each write needs, by layout (checked by rehearsing on moto with IAM enforced,
``tests/infra/test_data_access.py``):

- a Delta table (overwrite, append, overwrite of partitions, merge): get and list under the
  table's prefix to read its ``_delta_log/``, put for the new data files and the commit.
  No delete: delta-rs commits ``remove`` actions instead of deleting what an overwrite or a
  merge supersedes; vacuum deletes them, run from the CLI with the deployer's credentials;
- one object: put (a multipart upload completed in place; abort when it fails) and get
  (its write token is read back when the answer to completing it was lost);
- a directory of the ``_glacier/`` manifest layout (csv, json, ndjson): also delete, for the
  versions each write sweeps. A task's
role policy (:mod:`~glacier.infra.aws.task_roles`), a cross-account role
(:mod:`~glacier.infra.aws.cross_account`) and a bucket policy granting another account
(:mod:`~glacier.infra.aws.storage`) are all built from these statements, so the three can
never disagree on what a grant means.

Example:
    >>> unique(["b", "a", "b"])
    ['a', 'b']
    >>> join("arn:aws:s3:::lake", "/orders/*")
    'arn:aws:s3:::lake/orders/*'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from glacier.infra import iam
from glacier.infra.aws.naming import partition_of
from glacier.infra.aws.stack import Stack
from glacier.infra.model import Grant, Location, Store


def storage_statements(
    stack: Stack, grants: Sequence[Grant], label: str = "", *, kms: bool = True
) -> list[dict[str, Any]]:
    """Read, write, delete and list statements for ``grants``: object ARNs under each
    dataset's prefix, and the bucket itself for listing, restricted to those prefixes; plus the
    use of customer-managed KMS keys (``kms=False`` for bucket policies, which may only
    hold S3 actions)."""
    reads: list[Any] = []
    writes: list[Any] = []
    deletes: list[Any] = []
    lists: dict[str, list[str]] = {}
    keys: dict[str, set[str]] = {}
    for g in grants:
        loc = g.location
        objects = join(stack.store_arns[loc.store], "/" + loc.pattern)
        if "read" in g.access:
            reads.append(objects)
            if _is_directory(stack, loc):
                # Before reading or writing a directory dataset, the filesystem asks for an
                # object of the directory's own name (HEAD clean) to tell a file from a
                # directory; without this, S3 answers 403 and the write fails (found by
                # rehearsing a deployment, see glacier.infra.rehearse).
                reads.append(join(stack.store_arns[loc.store], "/" + loc.prefix[:-1]))
        if "write" in g.access:
            writes.append(objects)
        if "delete" in g.access:
            deletes.append(objects)
        if "list" in g.access:
            lists.setdefault(loc.store, []).append(loc.prefix)
        key = kms_key_arn(stack, stack.model.stores[loc.store]) if kms else None
        if key is not None:
            keys.setdefault(key, set()).update(g.access)
    out: list[dict[str, Any]] = []
    if reads:
        out.append(iam.statement(f"Read {label}", iam.actions("aws", ["read"]), unique(reads)))
    if writes:
        out.append(iam.statement(f"Write {label}", iam.actions("aws", ["write"]), unique(writes)))
    if deletes:
        out.append(
            iam.statement(f"Delete {label}", iam.actions("aws", ["delete"]), unique(deletes))
        )
    for n, (store_key, prefixes) in enumerate(lists.items(), 1):
        condition = None
        if "" not in prefixes:
            patterns = sorted({f"{p}*" for p in prefixes})
            condition = {"StringLike": {"s3:prefix": patterns}}
        out.append(
            iam.statement(
                f"List {n} {label}",
                iam.actions("aws", ["list"]),
                [stack.store_arns[store_key]],
                condition=condition,
            )
        )
    for n, (key, access) in enumerate(sorted(keys.items()), 1):
        acts = sorted({a for level in access for a in iam.KMS_ACTIONS[level]})
        if acts:
            out.append(iam.statement(f"Kms {n} {label}", acts, [key]))
    return out


def _is_directory(stack: Stack, loc: Location) -> bool:
    """A dataset stored as a directory (``orders/``), not an in-memory dataset passed through
    the artifacts bucket (written as one object per run)."""
    kind = stack.model.stores[loc.store].kind
    return loc.prefix.endswith("/") and loc.suffix == "*" and kind != "artifacts"


def kms_key_arn(stack: Stack, store: Store) -> str | None:
    """The ARN of the customer-managed key encrypting ``store``; None for S3-managed keys."""
    cfg = store.config
    key = getattr(cfg, "kms_key_id", None)
    if not key or getattr(cfg, "encryption", None) != "aws:kms":
        return None
    if key.startswith("arn:"):
        return str(key)
    env = stack.model.envs[store.env]
    account = env.account_id or "*"
    if key.startswith("alias/"):
        return f"arn:{partition_of(env)}:kms:{env.region}:{account}:{key}"
    return f"arn:{partition_of(env)}:kms:{env.region}:{account}:key/{key}"


def join(base: Any, suffix: str) -> Any:
    """``base + suffix`` for a string or an Output."""
    if isinstance(base, str):
        return base + suffix
    return base.apply(lambda b: f"{b}{suffix}")


def unique(values: Sequence[Any]) -> list[Any]:
    """Strings deduplicated and sorted; Outputs kept, in order, after them."""
    strings = sorted({v for v in values if isinstance(v, str)})
    others = [v for v in values if not isinstance(v, str)]
    return [*strings, *others]

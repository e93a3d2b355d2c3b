"""What "read", "write" and "list" mean on each cloud, and how a policy document is built.

The data flow says *which* datasets a task reads and writes; this table says *which actions*
that takes on each cloud. Adding a cloud is adding a row, not an ``if`` in the builders.

Example:
    >>> actions("aws", ("read", "list"))
    ('s3:GetObject', 's3:ListBucket')
    >>> actions("aws", ("write",))
    ('s3:PutObject', 's3:AbortMultipartUpload')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: Access levels a grant can carry.
ACCESS_LEVELS: tuple[str, ...] = ("read", "write", "list", "delete")

#: Object-store actions per cloud and access level.
#:
#: ``read`` gets objects (and their metadata: S3 authorizes HEAD as ``s3:GetObject``);
#: Glacier never reads an object version by id. ``write`` creates and replaces objects; on
#: AWS it includes aborting a multipart upload (a failed or discarded object write aborts
#: its upload). ``delete`` removes objects: only writers that remove what they replaced get
#: it (the ``_glacier/`` manifest layout sweeps old versions), never the writer of a Delta
#: table, whose overwrites and merges only add files and log entries (vacuum deletes, from
#: the CLI). ``list`` is granted on the bucket, restricted to the dataset's prefix by a
#: condition where the cloud supports one.
#:
#: GCS treats replacing an existing object as deleting it, so its ``write`` needs
#: ``storage.objects.delete`` too (Google's IAM permissions reference for Cloud Storage).
STORAGE_ACTIONS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "aws": {
        "read": ("s3:GetObject",),
        "write": ("s3:PutObject", "s3:AbortMultipartUpload"),
        "list": ("s3:ListBucket",),
        "delete": ("s3:DeleteObject",),
    },
    "gcp": {
        "read": ("storage.objects.get",),
        "write": ("storage.objects.create", "storage.objects.delete"),
        "list": ("storage.objects.list",),
        "delete": ("storage.objects.delete",),
    },
    "azure": {
        "read": ("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",),
        "write": ("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",),
        "list": ("Microsoft.Storage/storageAccounts/blobServices/containers/read",),
        "delete": ("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",),
    },
}

#: Actions a customer-managed encryption key needs per access level (AWS KMS).
KMS_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "read": ("kms:Decrypt",),
    "write": ("kms:Decrypt", "kms:GenerateDataKey"),
    "list": (),
    "delete": (),
}

#: Which service principal runs each kind of compute (the role's trust policy).
COMPUTE_PRINCIPALS: Mapping[str, str] = {
    "lambda": "lambda.amazonaws.com",
    "ecs": "ecs-tasks.amazonaws.com",
    "glue": "glue.amazonaws.com",
    # A Databricks job cluster runs on EC2 instances in the account, as an instance profile.
    "databricks": "ec2.amazonaws.com",
    "states": "states.amazonaws.com",
    "events": "events.amazonaws.com",
}

#: What a compute kind needs to write its own logs, on its own log group.
LOG_ACTIONS: tuple[str, ...] = ("logs:CreateLogStream", "logs:PutLogEvents")

#: What the orchestrator needs to run one task of each compute kind (Step Functions
#: service integrations, ``.sync`` where there is one).
ORCHESTRATION_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "lambda": ("lambda:InvokeFunction",),
    "ecs": ("ecs:RunTask",),
    "glue": ("glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"),
    # Databricks jobs are started through the workspace's Jobs API (an HTTP task).
    "databricks": ("states:InvokeHTTPEndpoint",),
}
#: ``ecs:runTask.sync`` polls and stops the task it started.
ECS_SYNC_ACTIONS: tuple[str, ...] = ("ecs:StopTask", "ecs:DescribeTasks")
#: ``ecs:runTask.sync`` tracks the task through this managed EventBridge rule.
ECS_SYNC_EVENT_ACTIONS: tuple[str, ...] = (
    "events:PutTargets",
    "events:PutRule",
    "events:DescribeRule",
)
ECS_SYNC_RULE = "StepFunctionsGetEventsForECSTaskRule"

#: Elastic network interfaces a function attached to a VPC manages. ``Describe*`` has no
#: resource-level permissions, so it is the one action granted on ``*``.
VPC_DESCRIBE_ACTIONS: tuple[str, ...] = ("ec2:DescribeNetworkInterfaces",)
VPC_ENI_ACTIONS: tuple[str, ...] = (
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)

POLICY_VERSION = "2012-10-17"


def actions(cloud: str, access: Iterable[str]) -> tuple[str, ...]:
    """The storage actions for ``access`` levels on ``cloud``, in table order, no repeats."""
    try:
        table = STORAGE_ACTIONS[cloud]
    except KeyError:
        raise KeyError(
            f"no IAM action table for cloud {cloud!r}; known: {', '.join(STORAGE_ACTIONS)}"
        ) from None
    wanted = set(access)
    unknown = wanted - set(ACCESS_LEVELS)
    if unknown:
        raise KeyError(f"unknown access level(s) {sorted(unknown)}; use {ACCESS_LEVELS}")
    out: dict[str, None] = {}
    for level in ACCESS_LEVELS:
        if level in wanted:
            out.update(dict.fromkeys(table[level]))
    return tuple(out)


def statement(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[Any],
    *,
    effect: str = "Allow",
    principal: Any = None,
    condition: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One policy statement; a ``Sid`` is kept to letters and digits as IAM requires."""
    if not actions:
        raise ValueError(f"statement {sid!r} has no actions")
    if not resources:
        raise ValueError(f"statement {sid!r} has no resources")
    stmt: dict[str, Any] = {"Sid": sid_of(sid), "Effect": effect}
    if principal is not None:
        stmt["Principal"] = principal
    stmt["Action"] = list(actions)
    stmt["Resource"] = list(resources)
    if condition:
        stmt["Condition"] = dict(condition)
    return stmt


def document(statements: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A policy document from statements; refuses ``*`` as both action and resource."""
    stmts = [dict(s) for s in statements]
    for s in stmts:
        acts = _as_list(s.get("Action"))
        res = _as_list(s.get("Resource"))
        if s.get("Effect") == "Allow" and "*" in acts and "*" in res:
            raise ValueError(f"statement {s.get('Sid')!r} allows '*' on '*'")
    return {"Version": POLICY_VERSION, "Statement": stmts}


def trust_policy(
    *,
    service: str | None = None,
    account_root: str | None = None,
    principal_arns: Sequence[str] = (),
) -> dict[str, Any]:
    """A role's trust policy: a service principal, or roles of another account.

    Roles of another account are trusted through the account's root principal with an
    ``aws:PrincipalArn`` condition naming each role exactly. Unlike a role ARN as the
    principal, this does not need the role to exist yet, so the stacks of two accounts can
    be deployed in either order; the grant is still exactly those roles.
    """
    stmt: dict[str, Any] = {"Sid": "Trust", "Effect": "Allow"}
    if service is not None:
        stmt["Principal"] = {"Service": service}
    elif account_root is not None and principal_arns:
        stmt["Principal"] = {"AWS": account_root}
        stmt["Condition"] = {"ArnEquals": {"aws:PrincipalArn": sorted(principal_arns)}}
    else:
        raise ValueError("a trust policy needs a service or an account root and role ARNs")
    stmt["Action"] = "sts:AssumeRole"
    return {"Version": POLICY_VERSION, "Statement": [stmt]}


def sid_of(text: str) -> str:
    """``text`` reduced to the characters a statement id may hold (``[A-Za-z0-9]``)."""
    words = re.split(r"[^A-Za-z0-9]+", text)
    out = "".join(w[:1].upper() + w[1:] for w in words if w.isascii())
    return out or "Statement"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]

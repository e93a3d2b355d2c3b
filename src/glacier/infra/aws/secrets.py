"""The secrets a task reads: ``secretsmanager:GetSecretValue`` on exactly those secrets.

A task declares a secret by a ``SecretStr`` parameter; the environment's ``[secrets]``
section names it in Secrets Manager (``api_key = { aws = "/prod/fmp/api_key" }``). Such a
secret is created outside Glacier; its ARN ends in a random six-character suffix Secrets
Manager adds, which the grant matches with ``-??????`` (AWS's documented pattern for granting
a secret by name), never with ``*``.

With ``declare = true`` the plan creates the secret itself (an ``aws.secretsmanager.Secret``,
once per environment, never a ``SecretVersion``): the grant then names that secret's ARN, and
its value is put afterwards with ``aws secretsmanager put-secret-value``. No value is ever
part of the plan.

Example:
    >>> secret_arn_pattern("aws", "eu-west-1", "111111111111", "/prod/fmp/api_key")
    'arn:aws:secretsmanager:eu-west-1:111111111111:secret:/prod/fmp/api_key-??????'
"""

from __future__ import annotations

from typing import Any

from glacier.infra import iam
from glacier.infra.aws.naming import partition_of
from glacier.infra.aws.stack import Stack, account_of, add, logical_name
from glacier.infra.model import SecretRef, TaskSpec


def secret_arn_pattern(partition: str, region: str, account: str, name: str) -> str:
    """The ARN of Secrets Manager secret ``name``, its random suffix matched."""
    return f"arn:{partition}:secretsmanager:{region}:{account}:secret:{name}-??????"


def secret_statements(stack: Stack, task: TaskSpec) -> list[dict[str, Any]]:
    """Read the values of the secrets ``task`` declares (none: no statement)."""
    if not task.secrets:
        return []
    return [
        iam.statement(
            "Secrets",
            ["secretsmanager:GetSecretValue"],
            [secret_arn(stack, r) for r in task.secrets],
        )
    ]


def secret_arn(stack: Stack, ref: SecretRef) -> Any:
    """The ARN a grant on ``ref`` names: its declared secret's, the ARN given, or the
    pattern matching the name."""
    if ref.declared:
        return declared_secret(stack, ref).arn
    if ref.cloud_name.startswith("arn:"):
        return ref.cloud_name
    env = stack.env
    account = account_of(stack)
    if isinstance(account, str):
        return secret_arn_pattern(partition_of(env), str(env.region), account, ref.cloud_name)
    name = ref.cloud_name
    return account.apply(
        lambda acct: secret_arn_pattern(partition_of(env), str(env.region), acct, name)
    )


def declared_secret(stack: Stack, ref: SecretRef) -> Any:
    """The ``aws.secretsmanager.Secret`` of ``ref``, declared on first use in the
    environment (several tasks may read one secret): a name, a description, tags; no value."""
    made: dict[str, Any] = stack.shared.setdefault("secrets", {})
    found = made.get(ref.cloud_name)
    if found is None:
        found = made[ref.cloud_name] = add(
            stack,
            stack.aws.secretsmanager.Secret,
            logical_name(stack, ref.name, "secret"),
            name=ref.cloud_name,
            description=(
                f"Glacier secret {ref.name!r} of environment {stack.env.key!r}; its value is "
                "put outside the plan (aws secretsmanager put-secret-value)"
            ),
            tags={**stack.tags, "glacier:secret": ref.name},
        )
    return found

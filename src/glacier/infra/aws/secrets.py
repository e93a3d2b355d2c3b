"""The secrets a task reads: ``secretsmanager:GetSecretValue`` on exactly those secrets.

A task declares a secret by a ``SecretStr`` parameter; the environment's ``[secrets]``
section names it in Secrets Manager (``api_key = { aws = "/prod/fmp/api_key" }``). The
secret itself is created outside Glacier; its ARN ends in a random six-character suffix
Secrets Manager adds, which the grant matches with ``-??????`` (AWS's documented pattern
for granting a secret by name), never with ``*``. No value is ever part of the plan.

Example:
    >>> secret_arn_pattern("aws", "eu-west-1", "111111111111", "/prod/fmp/api_key")
    'arn:aws:secretsmanager:eu-west-1:111111111111:secret:/prod/fmp/api_key-??????'
"""

from __future__ import annotations

from typing import Any

from glacier.infra import iam
from glacier.infra.aws.stack import Stack, account_of
from glacier.infra.model import TaskSpec


def secret_arn_pattern(partition: str, region: str, account: str, name: str) -> str:
    """The ARN of Secrets Manager secret ``name``, its random suffix matched."""
    return f"arn:{partition}:secretsmanager:{region}:{account}:secret:{name}-??????"


def secret_statements(stack: Stack, task: TaskSpec) -> list[dict[str, Any]]:
    """Read the values of the secrets ``task`` declares (none: no statement)."""
    if not task.secrets:
        return []
    env = stack.env
    account = account_of(stack)
    resources: list[Any] = []
    for ref in task.secrets:
        if ref.aws_name.startswith("arn:"):
            resources.append(ref.aws_name)
        elif isinstance(account, str):
            region = str(env.region)
            resources.append(secret_arn_pattern(env.partition, region, account, ref.aws_name))
        else:
            name = ref.aws_name
            resources.append(
                account.apply(
                    lambda acct, name=name: secret_arn_pattern(
                        env.partition, str(env.region), acct, name
                    )
                )
            )
    return [iam.statement("Secrets", ["secretsmanager:GetSecretValue"], resources)]

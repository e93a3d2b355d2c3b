"""Who the rehearsal is to moto's IAM: a user allowed to assume roles, and the roles' sessions.

moto checks ``sts:AssumeRole`` like AWS for a caller with an access key, but a service
principal (``lambda.amazonaws.com``) cannot be that caller: the rehearsal's user stands in for
the service, so each task role's trust policy names the user instead (the rest of the role,
its inline policies above all, is exactly the plan's). moto also needs the caller's policy to
allow ``sts:AssumeRole`` on ``"*"`` (one naming the role ARN was denied when checked).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

#: The IAM user the rehearsal assumes every role as.
USER = "glacier-rehearsal"


@dataclass(frozen=True)
class Credentials:
    """An access key, its secret and (for a role's session) its token."""

    access_key: str
    secret_key: str
    token: str | None = None

    def variables(self) -> dict[str, str]:
        """The variables the AWS SDKs read these from (as Lambda and ECS provide them)."""
        out = {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}
        if self.token:
            out["AWS_SESSION_TOKEN"] = self.token
        return out


def create_user(iam: Any) -> tuple[str, Credentials]:
    """Create the rehearsal's user with an access key; its ARN and its credentials."""
    user = iam.create_user(UserName=USER)["User"]
    iam.put_user_policy(
        UserName=USER,
        PolicyName="assume-task-roles",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName=USER)["AccessKey"]
    return str(user["Arn"]), Credentials(key["AccessKeyId"], key["SecretAccessKey"])


def trusting(user_arn: str) -> str:
    """A trust policy letting the rehearsal's user assume the role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "RehearsalStandsInForTheService",
                    "Effect": "Allow",
                    "Principal": {"AWS": user_arn},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def assume(sts: Any, role_arn: str, session: str) -> Credentials:
    """A session of ``role_arn``, as the compute running the task would get."""
    found = sts.assume_role(RoleArn=role_arn, RoleSessionName=session[:64])["Credentials"]
    return Credentials(found["AccessKeyId"], found["SecretAccessKey"], found["SessionToken"])

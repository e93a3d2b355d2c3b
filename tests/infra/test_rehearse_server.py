"""The rehearsal's moto server authorizes requests as AWS does: S3 with the IAM actions AWS
checks, Secrets Manager against the secret's ARN, IAM's ``?`` wildcard as one character.

moto 5.2.6 started checking the API operation's name (``s3:HeadObject``, ``s3:ListObjectsV2``),
which no policy grants, where 5.2.5 and AWS check ``s3:GetObject`` and ``s3:ListBucket``: a
``glacier init`` project's rehearsal was denied ``HEAD`` on an object its role may read. This
test runs against whichever moto is installed (the lock's; run it in an environment with the
newest moto too, as docs/deploy.md records).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from glacier.infra.rehearse.identity import Credentials, assume, create_user, trusting
from glacier.infra.rehearse.server import MotoProcess, enforce_iam

BUCKET, KEY = "lake", "raw/orders.parquet"
SECRETS = "arn:aws:secretsmanager:us-east-1:123456789012:secret"


def client(service: str, url: str, creds: Credentials) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=creds.access_key,
        aws_secret_access_key=creds.secret_key,
        aws_session_token=creds.token,
    )


@pytest.fixture(scope="module")
def reader() -> Iterator[tuple[str, Credentials]]:
    """A session of a role that may read ``lake/raw/*`` and list ``lake``, nothing else, on a
    rehearsal server with IAM enforced."""
    server = MotoProcess()
    try:
        setup = Credentials("rehearsal-setup", "rehearsal-setup")
        iam = client("iam", server.url, setup)
        user_arn, user = create_user(iam)
        s3 = client("s3", server.url, setup)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"PAR1")
        secrets = client("secretsmanager", server.url, setup)
        for name in ("/lake/key", "/lake/other"):
            secrets.create_secret(Name=name, SecretString=f"value of {name}")
        iam.create_role(RoleName="task", AssumeRolePolicyDocument=trusting(user_arn))
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{BUCKET}/raw/*",
                },
                {
                    "Effect": "Allow",
                    "Action": "s3:ListBucket",
                    "Resource": f"arn:aws:s3:::{BUCKET}",
                },
                {
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    # AWS's pattern for a secret by name: its six-character suffix matched.
                    "Resource": f"{SECRETS}:/lake/key-??????",
                },
            ],
        }
        iam.put_role_policy(RoleName="task", PolicyName="read", PolicyDocument=json.dumps(policy))
        enforce_iam(server.url)
        role = "arn:aws:iam::123456789012:role/task"
        yield server.url, assume(client("sts", server.url, user), role, "reader")
    finally:
        server.stop()


def test_head_and_get_of_a_readable_object_are_allowed(reader: tuple[str, Credentials]) -> None:
    url, creds = reader
    s3 = client("s3", url, creds)
    assert s3.head_object(Bucket=BUCKET, Key=KEY)["ContentLength"] == 4
    assert s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == b"PAR1"


def test_listing_and_head_bucket_need_list_bucket(reader: tuple[str, Credentials]) -> None:
    url, creds = reader
    s3 = client("s3", url, creds)
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="raw/")
    assert [o["Key"] for o in listed["Contents"]] == [KEY]
    s3.head_bucket(Bucket=BUCKET)  # s3:ListBucket, as AWS authorizes it


def test_what_the_role_is_not_granted_is_denied(reader: tuple[str, Credentials]) -> None:
    from botocore.exceptions import ClientError

    url, creds = reader
    s3 = client("s3", url, creds)
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.put_object(Bucket=BUCKET, Key="raw/new.parquet", Body=b"x")
    with pytest.raises(ClientError, match=r"403|Forbidden|AccessDenied"):
        s3.head_object(Bucket=BUCKET, Key="elsewhere/orders.parquet")


def test_a_secret_is_read_by_its_grant_and_no_other(reader: tuple[str, Credentials]) -> None:
    from botocore.exceptions import ClientError

    url, creds = reader
    secrets = client("secretsmanager", url, creds)
    assert secrets.get_secret_value(SecretId="/lake/key")["SecretString"] == "value of /lake/key"
    with pytest.raises(ClientError, match="AccessDenied"):
        secrets.get_secret_value(SecretId="/lake/other")

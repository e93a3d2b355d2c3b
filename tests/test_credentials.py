"""One recipe of an AWS client (``aws_client``): the config's profile at the desk, the task's
role in a deployment, a role session's keys when given."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from botocore.exceptions import ProfileNotFound

from glacier import env_vars
from glacier.adapters.credentials import aws_client
from glacier.settings import AwsConfig

CONFIG = AwsConfig(region="eu-west-1", profile="no-such-profile", endpoint_url="http://127.0.0.1:9")


@dataclass
class Keys:
    access_key: str
    secret_key: str
    token: str | None = None


def test_the_configs_profile_signs_at_the_desk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(env_vars.GLACIER_DEPLOYED, raising=False)
    with pytest.raises(ProfileNotFound, match="no-such-profile"):
        aws_client("s3", CONFIG)


def test_a_deployed_task_signs_with_its_role_and_keeps_region_and_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(env_vars.GLACIER_DEPLOYED, "1")
    client = aws_client("dynamodb", CONFIG)
    assert client.meta.region_name == "eu-west-1"
    assert client.meta.endpoint_url == "http://127.0.0.1:9"
    assert aws_client("sts", CONFIG, region="us-east-2").meta.region_name == "us-east-2"


def test_given_keys_sign_instead_of_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(env_vars.GLACIER_DEPLOYED, raising=False)
    client = aws_client("s3", CONFIG, credentials=Keys("AKIA-ROLE", "secret", "token"))
    signed = client._request_signer._credentials
    assert (signed.access_key, signed.secret_key, signed.token) == ("AKIA-ROLE", "secret", "token")

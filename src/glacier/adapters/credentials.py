"""Whose credentials a cloud client signs with: the profile on a laptop, the role when deployed.

A profile names an entry of ``~/.aws/config`` on the machine of the person deploying. A
deployed task (a Lambda function, an ECS container, a Glue job) has no such file: it gets its
role's credentials from the default chain. The generated infrastructure starts every task
with :data:`DEPLOYED_VARIABLE` set, so the same pipeline code, ``AWSEnvironment(...,
profile="production")`` included, signs with the profile at the desk and with the task's role
in the cloud.

A deployed task that reaches data in another AWS account does so through a role there (the
plan declares it, :mod:`glacier.infra.aws.cross_account`): the plan sets
:data:`DATA_ROLES_VARIABLE` to ``{account id: role ARN}``, and every client of a store in
such an account signs with a session of that role (:func:`data_role_credentials`), assumed
with the task's own credentials. A session lasts an hour (STS's default), longer than a
Lambda function may run; it is renewed when less than five minutes of it are left.

Example:
    >>> from glacier.settings import AwsConfig
    >>> aws_profile(AwsConfig(region="eu-west-1", profile="prod"), environ={})
    'prod'
    >>> aws_profile(AwsConfig(region="eu-west-1", profile="prod"), environ={DEPLOYED_VARIABLE: "1"})
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from glacier import env_vars
from glacier.errors import ConfigError
from glacier.settings import AwsConfig

#: Set (to ``"1"``) in the environment of every deployed task by the generated infrastructure.
DEPLOYED_VARIABLE = env_vars.GLACIER_DEPLOYED
#: ``{account id: role ARN}``: the roles a deployed task assumes to reach data in other
#: accounts (set by the generated infrastructure).
DATA_ROLES_VARIABLE = env_vars.GLACIER_DATA_ROLES
#: A session is renewed when fewer seconds than this are left of it.
_RENEW_BEFORE = 300
_SESSION_CHARS = re.compile(r"[^\w+=,.@-]")


def is_deployed(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this process is a deployed task (see the module docs)."""
    return (os.environ if environ is None else environ).get(DEPLOYED_VARIABLE) == "1"


def aws_profile(config: AwsConfig, environ: Mapping[str, str] | None = None) -> str | None:
    """The profile to sign AWS requests with: the config's, except inside a deployed task."""
    return None if is_deployed(environ) else config.profile


def aws_client(
    service: str,
    config: AwsConfig | None = None,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    credentials: Any = None,
) -> Any:
    """A boto3 client of ``service``: the one recipe of an AWS session in Glacier.

    With ``config``, its profile (:func:`aws_profile`: none inside a deployed task, whose
    role signs), region and endpoint; ``region`` and ``endpoint_url`` override them.
    ``credentials`` (anything with ``access_key``, ``secret_key``, ``token``: a role
    session's) sign instead of a profile. Without either, the SDK's default chain signs.
    boto3 is imported here, when a client is made.
    """
    from glacier.extras import require

    boto3 = require("boto3", "s3", f"calling AWS {service}")
    profile = aws_profile(config) if config is not None and credentials is None else None
    region = region or (config.region if config is not None else None)
    endpoint_url = endpoint_url or (config.endpoint_url if config is not None else None)
    keys: dict[str, Any] = {}
    if credentials is not None:
        keys = {
            "aws_access_key_id": credentials.access_key,
            "aws_secret_access_key": credentials.secret_key,
            "aws_session_token": credentials.token,
        }
    session = boto3.Session(profile_name=profile or None, region_name=region or None, **keys)
    return session.client(service, endpoint_url=endpoint_url or None)


@dataclass(frozen=True)
class SessionCredentials:
    """A role session's temporary credentials, and when they expire (``time.time()``)."""

    access_key: str
    secret_key: str
    token: str
    expires: float


def data_role(config: AwsConfig, environ: Mapping[str, str] | None = None) -> str | None:
    """The role a deployed task assumes to reach stores of ``config``'s account, if any.

    Example:
        >>> roles = '{"999999999999": "arn:aws:iam::999999999999:role/data"}'
        >>> cfg = AwsConfig(region="us-east-1", account_id="999999999999")
        >>> data_role(cfg, {DEPLOYED_VARIABLE: "1", DATA_ROLES_VARIABLE: roles})
        'arn:aws:iam::999999999999:role/data'
        >>> data_role(cfg, {DATA_ROLES_VARIABLE: roles}) is None  # at the desk: the profile
        True
    """
    environ = os.environ if environ is None else environ
    if not is_deployed(environ) or not config.account_id:
        return None
    text = environ.get(DATA_ROLES_VARIABLE)
    if not text:
        return None
    try:
        roles = json.loads(text)
    except ValueError as exc:
        raise ConfigError(
            f"{DATA_ROLES_VARIABLE}={text!r} is not JSON ({exc}); it is set by the generated "
            "infrastructure: regenerate and redeploy it."
        ) from exc
    role = roles.get(config.account_id) if isinstance(roles, dict) else None
    return str(role) if role else None


_sessions: dict[str, SessionCredentials] = {}
_sessions_lock = threading.Lock()


def data_role_credentials(config: AwsConfig) -> SessionCredentials | None:
    """A session of :func:`data_role` for ``config``'s stores (cached, renewed before it
    expires), or None when the task signs with its own role."""
    role = data_role(config)
    if role is None:
        return None
    with _sessions_lock:
        found = _sessions.get(role)
        if found is None or found.expires - time.time() < _RENEW_BEFORE:
            found = _sessions[role] = _assume(role, config)
        return found


def _assume(role: str, config: AwsConfig) -> SessionCredentials:
    task = os.environ.get(env_vars.GLACIER_TASK_NAME, "task")
    # The task's own role asks: the default chain, not the config's profile.
    client: Any = aws_client("sts", region=config.region, endpoint_url=config.endpoint_url)
    found = client.assume_role(
        RoleArn=role, RoleSessionName=_SESSION_CHARS.sub("-", f"glacier-{task}")[:64]
    )["Credentials"]
    return SessionCredentials(
        found["AccessKeyId"],
        found["SecretAccessKey"],
        found["SessionToken"],
        found["Expiration"].timestamp(),
    )

"""Whose credentials a cloud client signs with: the profile on a laptop, the role when deployed.

A profile names an entry of ``~/.aws/config`` on the machine of the person deploying. A
deployed task (a Lambda function, an ECS container, a Glue job) has no such file: it gets its
role's credentials from the default chain. The generated infrastructure starts every task
with :data:`DEPLOYED_VARIABLE` set, so the same pipeline code, ``AWSEnvironment(...,
profile="production")`` included, signs with the profile at the desk and with the task's role
in the cloud.

Example:
    >>> from glacier.settings import AwsConfig
    >>> aws_profile(AwsConfig(region="eu-west-1", profile="prod"), environ={})
    'prod'
    >>> aws_profile(AwsConfig(region="eu-west-1", profile="prod"), environ={DEPLOYED_VARIABLE: "1"})
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from glacier.settings import AwsConfig

#: Set (to ``"1"``) in the environment of every deployed task by the generated infrastructure.
DEPLOYED_VARIABLE = "GLACIER_DEPLOYED"


def is_deployed(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this process is a deployed task (see the module docs)."""
    return (os.environ if environ is None else environ).get(DEPLOYED_VARIABLE) == "1"


def aws_profile(config: AwsConfig, environ: Mapping[str, str] | None = None) -> str | None:
    """The profile to sign AWS requests with: the config's, except inside a deployed task."""
    return None if is_deployed(environ) else config.profile

"""Where an environment's secrets live: the ``[secrets]`` section of its settings file.

A settings file names a secret's *store*, never its value::

    [secrets]
    api_key = { aws = "/prod/fmp/api_key" }     # AWS Secrets Manager, by name (or ARN)
    db_password = { env = "DB_PASSWORD" }       # an env var, else the project's .env file
    vendor_token = { aws = "/prod/vendor/token", declare = true }   # the plan creates it

``declare = true`` asks the plan to create the Secrets Manager secret, empty: its value is
put afterwards, outside Glacier (``aws secretsmanager put-secret-value --secret-id
/prod/vendor/token --secret-string ...``), so it never passes through the plan or a stack
file. Without it, the secret is created outside Glacier and the plan only grants it.

A value written in the file (``api_key = "sk-123"``) is refused: settings files are committed,
and whatever is in them ends up in the plan, in generated stacks and in the deployed task's
variables. Resolution (reading the value) is :mod:`glacier.secrets`.

Example:
    >>> SecretSource(aws="/prod/fmp/api_key").store
    'aws'
    >>> SecretSource(env="FMP_API_KEY").reference
    'FMP_API_KEY'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import field_validator, model_validator

from glacier.errors import ConfigError, SecretError
from glacier.settings.base import GlacierModel

__all__ = ["SECRET_STORES", "SecretSource", "check_secrets_section"]

#: The stores a secret can come from, and what their reference is.
SECRET_STORES: Mapping[str, str] = {
    "aws": "the name (or ARN) of an AWS Secrets Manager secret, e.g. '/prod/fmp/api_key'",
    "env": "an environment variable, else a line of the project's untracked .env file",
}

# Secrets Manager allows letters, digits and /_+=.@- in a name, up to 512 characters.
_AWS_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")
_ARN = re.compile(r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_EXAMPLE = (
    '{name} = {{ aws = "/<env>/..." }} (AWS Secrets Manager) or '
    '{name} = {{ env = "{upper}" }} (an env var or the untracked .env file)'
)


class SecretSource(GlacierModel):
    """One secret's store and reference; exactly one of ``aws`` or ``env``."""

    aws: str | None = None
    env: str | None = None
    #: The plan declares the (empty) Secrets Manager secret; ``aws`` by name only.
    declare: bool = False

    @field_validator("aws")
    @classmethod
    def _aws_name(cls, value: str | None) -> str | None:
        if value is not None and not (_AWS_NAME.fullmatch(value) or _ARN.fullmatch(value)):
            # A ConfigError, not a ValueError: the value is not echoed (it may be the secret).
            raise ConfigError(
                "a Secrets Manager secret is named with letters, digits and /_+=.@- (up to "
                "512 characters, e.g. '/prod/fmp/api_key') or given by its ARN"
            )
        return value

    @field_validator("env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.fullmatch(value):
            # A ConfigError, not a ValueError: the value is not echoed (it may be the secret).
            raise ConfigError(
                "an environment variable name is letters, digits and '_', not starting with "
                "a digit (e.g. 'FMP_API_KEY')"
            )
        return value

    @model_validator(mode="after")
    def _one_store(self) -> Self:
        given = [s for s in SECRET_STORES if getattr(self, s) is not None]
        if len(given) != 1:
            raise ValueError(
                "name exactly one store: aws = '<Secrets Manager name>' or env = '<VARIABLE>'"
                + (f" (got {' and '.join(given)})" if given else "")
            )
        return self

    @model_validator(mode="after")
    def _declared_by_name_in_aws(self) -> Self:
        if not self.declare:
            return self
        if self.aws is None:
            raise ValueError(
                "declare = true asks the plan to create an AWS Secrets Manager secret; name "
                "it with aws = '/<env>/...' (an env variable is not created by a plan)"
            )
        if self.aws.startswith("arn:"):
            raise ValueError(
                "declare = true creates the secret, so it is named, not given by an ARN "
                "(AWS assigns the ARN): aws = '/<env>/...'"
            )
        return self

    @property
    def store(self) -> Literal["aws", "env"]:
        """Which store holds the value."""
        return "aws" if self.aws is not None else "env"

    @property
    def reference(self) -> str:
        """The secret's name in its store."""
        return str(self.aws if self.aws is not None else self.env)


def check_secrets_section(value: Any) -> Any:
    """Refuse values written into ``[secrets]``, and names a task parameter cannot take.

    Runs before the section is validated, so the message never repeats the value.
    """
    if not isinstance(value, Mapping):
        return value
    for name, source in value.items():
        example = _EXAMPLE.format(name=name, upper=str(name).upper())
        if not isinstance(name, str) or not _SECRET_NAME.fullmatch(name):
            raise SecretError(
                f"secrets.{name} is not a valid secret name: use letters, digits and '_' (a "
                f"task asks for it by a parameter of that name), e.g. {example}."
            )
        if not isinstance(source, Mapping | SecretSource):
            # Never show the value: it may be the secret itself.
            raise SecretError(
                f"secrets.{name} holds a value written in the settings file; a settings file "
                f"is committed and travels with deployments, so it may only name a secret "
                f"store. Move the value to a store and write {example}."
            )
    return value

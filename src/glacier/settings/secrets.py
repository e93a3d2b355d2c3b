"""Where an environment's secrets live: the ``[secrets]`` section of its settings file.

A settings file names a secret's *store*, never its value::

    [secrets]
    api_key = { aws = "/prod/fmp/api_key" }     # AWS Secrets Manager, by name (or ARN)
    db_password = { env = "DB_PASSWORD" }       # an env var, else the project's .env file
    vendor_token = { aws = "/prod/vendor/token", declare = true }   # the plan creates it
    fmp_key = { gcp = "fmp-api-key" }           # GCP Secret Manager, by secret id
    smtp_password = { azure = "smtp-password" }  # the environment's Azure Key Vault, by name

``declare = true`` asks the plan to create the Secrets Manager secret, empty: its value is
put afterwards, outside Glacier (``aws secretsmanager put-secret-value --secret-id
/prod/vendor/token --secret-string ...``), so it never passes through the plan or a stack
file. Without it, the secret is created outside Glacier and the plan only grants it. A ``gcp``
secret may be declared the same way (the plan declares the Secret Manager secret, without a
version: ``gcloud secrets versions add fmp-api-key --data-file=-`` adds its value). An
``azure`` secret may not: a Key Vault secret exists only with a value, so it is set in the
environment's vault (``az keyvault secret set``), never by the plan.

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

__all__ = ["SECRET_EXAMPLES", "SECRET_STORES", "SecretSource", "check_secrets_section"]

#: The stores a secret can come from, and what their reference is.
SECRET_STORES: Mapping[str, str] = {
    "aws": "the name (or ARN) of an AWS Secrets Manager secret, e.g. '/prod/fmp/api_key'",
    "gcp": "the id of a GCP Secret Manager secret in the environment's project, e.g. 'fmp-api-key'",
    "azure": "the name of a secret in the environment's Azure Key Vault, e.g. 'fmp-api-key'",
    "env": "an environment variable, else a line of the project's untracked .env file",
}

#: How a ``[secrets]`` line names a secret of each store, for messages.
SECRET_EXAMPLES: Mapping[str, str] = {
    "aws": "/<env>/...",
    "gcp": "<secret id>",
    "azure": "<Key Vault secret name>",
    "env": "<VARIABLE>",
}

# Secrets Manager allows letters, digits and /_+=.@- in a name, up to 512 characters.
_AWS_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")
_ARN = re.compile(r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Secret Manager: letters, digits, '_' and '-', up to 255 characters.
_GCP_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")
# Key Vault: letters, digits and '-', up to 127 characters.
_AZURE_NAME = re.compile(r"[0-9a-zA-Z-]{1,127}")
_SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_EXAMPLE = (
    '{name} = {{ aws = "/<env>/..." }} (AWS Secrets Manager), '
    '{name} = {{ gcp = "<secret id>" }} (GCP Secret Manager), '
    '{name} = {{ azure = "<secret name>" }} (Azure Key Vault) or '
    '{name} = {{ env = "{upper}" }} (an env var or the untracked .env file)'
)


class SecretSource(GlacierModel):
    """One secret's store and reference; exactly one of ``aws``, ``gcp``, ``azure`` or
    ``env``."""

    aws: str | None = None
    gcp: str | None = None
    azure: str | None = None
    env: str | None = None
    #: The plan declares the (empty) secret: ``aws`` by name, or ``gcp``.
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

    @field_validator("gcp")
    @classmethod
    def _gcp_id(cls, value: str | None) -> str | None:
        if value is not None and not _GCP_ID.fullmatch(value):
            # A ConfigError, not a ValueError: the value is not echoed (it may be the secret).
            raise ConfigError(
                "a Secret Manager secret is named by its id: 1 to 255 letters, digits, '_' "
                "or '-' (e.g. 'fmp-api-key'), in the environment's project"
            )
        return value

    @field_validator("azure")
    @classmethod
    def _azure_name(cls, value: str | None) -> str | None:
        if value is not None and not _AZURE_NAME.fullmatch(value):
            # A ConfigError, not a ValueError: the value is not echoed (it may be the secret).
            raise ConfigError(
                "a Key Vault secret is named with 1 to 127 letters, digits or '-' (e.g. "
                "'fmp-api-key'), in the environment's vault"
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
                "name exactly one store: aws = '<Secrets Manager name>', gcp = '<Secret "
                "Manager id>', azure = '<Key Vault secret name>' or env = '<VARIABLE>'"
                + (f" (got {' and '.join(given)})" if given else "")
            )
        return self

    @model_validator(mode="after")
    def _declared_by_name_in_aws(self) -> Self:
        if not self.declare or self.gcp is not None:
            return self
        if self.azure is not None:
            raise ValueError(
                "declare = true cannot create a Key Vault secret: one exists only with its "
                "value, which never passes through a plan. Drop declare and set it in the "
                "environment's vault (az keyvault secret set --vault-name ... --name ...)"
            )
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
    def store(self) -> Literal["aws", "gcp", "azure", "env"]:
        """Which store holds the value."""
        if self.aws is not None:
            return "aws"
        if self.gcp is not None:
            return "gcp"
        return "azure" if self.azure is not None else "env"

    @property
    def reference(self) -> str:
        """The secret's name in its store."""
        return str(getattr(self, self.store))


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

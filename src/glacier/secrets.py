"""Reading an environment's secrets: ``env.secret("api_key")`` and ``SecretStr`` parameters.

The ``[secrets]`` section of an environment's settings file says where each secret lives
(:mod:`glacier.settings.secrets`); :class:`Secrets` reads the value when it is first asked
for and hands it out as a :class:`pydantic.SecretStr`, whose ``str()`` and ``repr()`` are
``**********``. Only ``.get_secret_value()`` shows it, so a value passed around by Glacier
never reaches a log line, a run record, the graph, the plan or an exception message.

Stores, as data (one row per store, one small reader each):

- ``aws``: AWS Secrets Manager through boto3, in the environment's region (and its
  ``endpoint_url`` when an emulator stands in for AWS); a deployed task reads with its role,
  which the plan grants ``secretsmanager:GetSecretValue`` on exactly the secrets it declares.
- ``gcp`` / ``azure``: GCP Secret Manager / the environment's Azure Key Vault, read by the
  platform, not by Glacier: the plan gives the deployed job a variable
  (:func:`glacier.env_vars.secret_variable`) whose value Cloud Run or Container Apps resolves
  with the task's own identity when the job starts (so no secret client is installed). Outside
  a deployed task such a secret is refused: locally, the dev settings name it ``{ env = ...}``.
- ``env``: the process environment, else the project's ``.env`` file (beside the settings
  directory, never committed: add it to ``.gitignore``).

Example:
    >>> from glacier.settings import GlacierSettings
    >>> settings = GlacierSettings(secrets={"api_key": {"env": "FMP_API_KEY"}})
    >>> secrets = Secrets(settings, environ={"FMP_API_KEY": "s3cr3t"})
    >>> secrets.get("api_key")
    SecretStr('**********')
    >>> secrets.get("api_key").get_secret_value()
    's3cr3t'
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from glacier import env_vars
from glacier.adapters.credentials import aws_client
from glacier.errors import SecretError, SecretNotFoundError
from glacier.settings.clouds import AwsConfig
from glacier.settings.database_connection import DatabaseConnection, deployed_databases
from glacier.settings.environment import GlacierSettings
from glacier.settings.secrets import SecretSource

__all__ = ["DOTENV_FILE", "ENTRA_DATABASE_SCOPE", "Secrets", "database_connection", "read_dotenv"]

#: The untracked file of local secrets, in the project root (the settings directory's parent).
DOTENV_FILE = ".env"
#: What an Entra token signing in to Azure Database for PostgreSQL is for.
ENTRA_DATABASE_SCOPE = "https://ossrdbms-aad.database.windows.net/.default"

Reader = Callable[["Secrets", str, SecretSource], str | None]


class Secrets:
    """One environment's secrets, each read once from its store and kept as ``SecretStr``.

    Args:
        settings: The environment's settings (its ``[secrets]`` section and provider).
        environ: The variables ``env`` secrets are read from (``os.environ`` by default).
        aws_client: A Secrets Manager client to use instead of one built from the settings
            (tests pass a client of the moto server).
        azure_credential: A credential (``get_token(scope)``) to use instead of the managed
            identity's, for Entra database tokens (tests pass a fake one).
    """

    def __init__(
        self,
        settings: GlacierSettings,
        *,
        environ: Mapping[str, str] | None = None,
        aws_client: Any = None,
        azure_credential: Any = None,
    ) -> None:
        self.settings = settings
        self._environ = environ
        self._aws_client = aws_client
        self._azure_credential = azure_credential
        self._values: dict[str, SecretStr] = {}
        #: RDS clients by region, made once: each connection signs its own token with one.
        self._rds_clients: dict[str, Any] = {}
        #: Managed-identity credentials by client id, made once: each caches its tokens.
        self._entra_credentials: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def names(self) -> tuple[str, ...]:
        """The secrets this environment declares, sorted."""
        return tuple(sorted(self.settings.secrets))

    def source(self, name: str) -> SecretSource:
        """Where secret ``name`` lives; refused, naming the environment and its file, when
        the environment does not declare it."""
        found = self.settings.secrets.get(name)
        if found is None:
            raise SecretNotFoundError(
                f"Secret {name!r} is not declared in environment {self.settings.env!r} "
                f"({self._where()}); declared: {', '.join(self.names) or 'none'}. Add it to "
                f'the [secrets] section: {name} = {{ aws = "/{self.settings.env}/..." }}, '
                f'{{ gcp = "<secret id>" }}, {{ azure = "<secret name>" }} or '
                f'{{ env = "{name.upper()}" }}.'
            )
        return found

    def get(self, name: str) -> SecretStr:
        """The value of secret ``name``, read from its store on first use."""
        with self._lock:
            cached = self._values.get(name)
            if cached is not None:
                return cached
            source = self.source(name)
            value = _READERS[source.store](self, name, source)
            if value is None:
                raise SecretNotFoundError(
                    f"Secret {name!r} of environment {self.settings.env!r} ({self._where()}) "
                    f"has no value in its store: {_describe(source)}. "
                    f"{_FIXES[source.store]}"
                )
            secret = self._values[name] = SecretStr(value)
            return secret

    def password_for(self, database: str) -> SecretStr:
        """The password of ``[databases.<database>]``: the secret its ``password_secret``
        names (how a database adapter gets a password without one in the settings file).

        Example:
            >>> from glacier.settings import GlacierSettings
            >>> settings = GlacierSettings(
            ...     databases={"wh": {"identifier": "wh", "rds": {}, "password_secret": "pw"}},
            ...     secrets={"pw": {"env": "WH_PASSWORD"}},
            ... )
            >>> Secrets(settings, environ={"WH_PASSWORD": "p"}).password_for("wh")
            SecretStr('**********')
        """
        found = self.settings.databases.get(database)
        if found is None or found.password_secret is None:
            what = "is not declared" if found is None else "has no password_secret"
            raise SecretNotFoundError(
                f"Database {database!r} {what} in environment {self.settings.env!r} "
                f"({self._where()}); name the secret holding its password: "
                f'[databases.{database}] password_secret = "<a name in [secrets]>".'
            )
        return self.get(found.password_secret)

    def master_password(self, secret_arn: str) -> SecretStr:
        """The password kept in the Secrets Manager secret ``secret_arn`` as RDS keeps a
        managed master password (JSON with ``username`` and ``password``); read once, with
        the role (deployed) or profile of the environment.

        Raises:
            SecretError: the secret cannot be read, or holds no ``password`` (its value is
                never shown).
        """
        with self._lock:
            cached = self._values.get(secret_arn)
            if cached is not None:
                return cached
            # Not a SecretSource: RDS names its secrets rds!..., which users may not.
            raw = self._read_aws(secret_arn, secret_arn)
            try:
                password = json.loads(raw)["password"] if raw is not None else None
            except (ValueError, KeyError, TypeError):
                password = None
            if not isinstance(password, str):
                raise SecretError(
                    f"Database secret {secret_arn!r} of environment {self.settings.env!r} "
                    f"{'does not exist' if raw is None else 'holds no JSON password field'}; "
                    "the plan names the secret RDS manages for the instance "
                    "(manage_master_user_password), which holds "
                    '{"username": ..., "password": ...}. Check that the instance was deployed '
                    "by this plan, or name your own secret with password_secret."
                )
            secret = self._values[secret_arn] = SecretStr(password)
            return secret

    # -- stores --------------------------------------------------------------------------

    def _from_env(self, name: str, source: SecretSource) -> str | None:
        environ = os.environ if self._environ is None else self._environ
        value = environ.get(source.reference)
        if value is not None:
            return value
        dotenv = self.dotenv_path
        if dotenv is None:
            return None
        return read_dotenv(dotenv).get(source.reference)

    def _from_platform(self, name: str, source: SecretSource) -> str | None:
        """A ``gcp`` or ``azure`` secret: the variable the deployed job's platform filled."""
        environ = os.environ if self._environ is None else self._environ
        if not environ.get(env_vars.GLACIER_DEPLOYED):
            raise SecretError(
                f"Secret {name!r} of environment {self.settings.env!r} ({self._where()}) is "
                f"a {source.store} secret, read by the deployed job; locally give it "
                f'{{ env = "{name.upper()}" }} in the dev settings.'
            )
        return environ.get(env_vars.secret_variable(name))

    def _from_aws(self, name: str, source: SecretSource) -> str | None:
        return self._read_aws(name, source.reference)

    def _read_aws(self, name: str, reference: str) -> str | None:
        client = self._aws_client or self._new_aws_client()
        try:
            answer = client.get_secret_value(SecretId=reference)
        except Exception as exc:  # botocore's ClientError, without importing botocore here
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code == "ResourceNotFoundException":
                return None
            # The exception names the secret and the reason, never a value.
            raise SecretError(
                f"Secret {name!r} of environment {self.settings.env!r} could not be read "
                f"from AWS Secrets Manager ({reference!r}): {code or type(exc).__name__}. "
                "Check that the role or profile may call secretsmanager:GetSecretValue on it."
            ) from None
        value = answer.get("SecretString")
        return None if value is None else str(value)

    def iam_auth_token(self, host: str, port: int, user: str, region: str) -> SecretStr:
        """A fresh IAM authentication token for ``user`` of the RDS instance at ``host``
        (signed locally with the role's or profile's credentials; valid 15 minutes, so one
        is made for each new connection, never cached).

        Raises:
            SecretError: no credentials to sign it with (the message says where they come
                from; the token is never shown).
        """
        with self._lock:
            client = self._rds_clients.get(region)
            if client is None:
                client = self._rds_clients[region] = self._new_aws_client("rds", region=region)
        try:
            token = client.generate_db_auth_token(
                DBHostname=host, Port=port, DBUsername=user, Region=region
            )
        except Exception as exc:  # botocore's NoCredentialsError, without importing it here
            raise SecretError(
                f"No IAM authentication token for database user {user!r} on {host}:{port} "
                f"in environment {self.settings.env!r}: {type(exc).__name__}. A deployed "
                "task signs it with its role (rds-db:connect on that dbuser, granted by the "
                "plan); elsewhere give the environment a profile or credentials."
            ) from None
        return SecretStr(str(token))

    def entra_token(self, client_id: str, user: str, host: str) -> SecretStr:
        """A fresh Microsoft Entra access token for Azure Database for PostgreSQL
        (:data:`ENTRA_DATABASE_SCOPE`), from the user-assigned managed identity ``client_id``
        (the deployed task's own): the password of database user ``user`` on ``host``. The
        credential is made once per identity and caches and renews its tokens; a token is
        asked of it at each new connection.

        Raises:
            SecretError: no token (the message says why; the token is never shown).
        """
        with self._lock:
            credential = self._azure_credential or self._entra_credentials.get(client_id)
            if credential is None:
                from glacier.extras import require

                identity = require("azure.identity", "azure", "An Entra database token")
                credential = identity.ManagedIdentityCredential(client_id=client_id)
                self._entra_credentials[client_id] = credential
        try:
            token = credential.get_token(ENTRA_DATABASE_SCOPE)
        except Exception as exc:  # azure-core's ClientAuthenticationError, not imported here
            raise SecretError(
                f"No Microsoft Entra token for database user {user!r} on {host} in "
                f"environment {self.settings.env!r}: {type(exc).__name__}. A deployed task "
                f"gets it from its managed identity (client id {client_id}); the database "
                'administrator must have created its role (docs/databases.md, "Azure").'
            ) from None
        return SecretStr(str(token.token))

    def _new_aws_client(self, service: str = "secretsmanager", region: str | None = None) -> Any:
        provider = self.settings.provider
        return aws_client(
            service,
            provider if isinstance(provider, AwsConfig) else None,
            region=region or getattr(provider, "region", None),
            endpoint_url=getattr(provider, "endpoint_url", None),
        )

    # -- where ---------------------------------------------------------------------------

    @property
    def dotenv_path(self) -> Path | None:
        """The project's ``.env`` file: beside the settings directory of a loaded environment,
        else in the current directory."""
        file = self.settings.settings_file
        root = file.resolve().parent.parent if file is not None else Path.cwd()
        path = root / DOTENV_FILE
        return path if path.is_file() else None

    def _where(self) -> str:
        file = self.settings.settings_file
        if file is not None:
            return f"settings file {file}"
        return "settings given in code, no settings file"

    def __repr__(self) -> str:
        return f"Secrets(env={self.settings.env!r}, names={list(self.names)!r})"

    def __getstate__(self) -> dict[str, Any]:
        # Sent to another process (a Dask worker), values stay behind: the worker reads
        # them from the store itself.
        state = dict(self.__dict__)
        state.update(
            _values={},
            _lock=None,
            _aws_client=None,
            _azure_credential=None,
            _entra_credentials={},
        )
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


_READERS: Mapping[str, Reader] = {
    "aws": Secrets._from_aws,
    "gcp": Secrets._from_platform,
    "azure": Secrets._from_platform,
    "env": Secrets._from_env,
}

_FIXES: Mapping[str, str] = {
    "aws": "Create it outside Glacier (aws secretsmanager create-secret --name ...) in the "
    "environment's account and region, or point the settings at the right name.",
    "gcp": "The deployed job is given it by Cloud Run, from the Secret Manager secret of that "
    "id in the environment's project: check that the secret exists with a version "
    "(gcloud secrets versions add ...) and that the job was deployed by this plan.",
    "azure": "The deployed job is given it by Container Apps, from the secret of that name in "
    "the environment's Key Vault: check that it is set there (az keyvault secret set ...) and "
    "that the job was deployed by this plan.",
    "env": f"Export the variable, or add a line VARIABLE=value to the project's untracked "
    f"{DOTENV_FILE} file.",
}


def database_connection(
    name: str,
    identifier: str,
    connection: DatabaseConnection | None,
    secrets: Callable[[], Secrets],
    environ: Mapping[str, str] | None = None,
) -> DatabaseConnection | None:
    """How the environment reaches database ``name`` (``identifier`` in the cloud): its
    settings' ``connection``, with the password read from the secret its
    ``password_secret`` names; in a deployed task, pointed at the instance the plan created
    (:func:`~glacier.settings.database_connection.deployed_databases`), with the password read
    from the secret the plan granted. Secrets are read when a connection is made, never here.

    Example:
        >>> from glacier.settings import GlacierSettings
        >>> secrets = Secrets(GlacierSettings())
        >>> where = '{"prod-wh": {"host": "wh.rds", "user": "glacier"}}'
        >>> environ = {"GLACIER_DATABASE_ENDPOINTS": where}
        >>> database_connection("wh", "prod-wh", None, lambda: secrets, environ).libpq_url()
        'postgresql://glacier@wh.rds:5432/postgres'
    """
    named = getattr(connection, "password_secret", None)
    if connection is not None and named is not None:
        connection = connection.with_password_source(lambda: secrets().password_for(name))
    where = deployed_databases(environ).get(identifier)
    if where is None:
        return connection
    connection = (connection or DatabaseConnection()).deployed_at(where)
    arn = where.secret_arn
    if arn is not None and named is None:
        connection = connection.with_password_source(lambda: secrets().master_password(arn))
    region, user = where.iam_region, connection.user
    if region is not None and user is not None and named is None:
        host, port = where.host, where.port
        connection = connection.with_password_source(
            lambda: secrets().iam_auth_token(host, port, user, region)
        )
    client_id = where.entra_client_id
    if client_id is not None and user is not None:
        server = where.host
        connection = connection.with_password_source(
            lambda: secrets().entra_token(client_id, user, server)
        )
    return connection


def _describe(source: SecretSource) -> str:
    if source.store == "aws":
        return f"AWS Secrets Manager secret {source.reference!r}"
    if source.store == "gcp":
        return f"GCP Secret Manager secret {source.reference!r}"
    if source.store == "azure":
        return f"Azure Key Vault secret {source.reference!r}"
    return f"environment variable {source.reference} (or the {DOTENV_FILE} file)"


def read_dotenv(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of a ``.env`` file (``#`` comments, optional ``export`` and
    quotes); malformed lines are skipped without being shown, since they may hold secrets.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = Path(d) / ".env"
        ...     _ = p.write_text("# local secrets\\nexport A='1 2'\\nB=x=y\\n")
        ...     read_dotenv(p)
        {'A': '1 2', 'B': 'x=y'}
    """
    out: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key.strip()] = value
    return out

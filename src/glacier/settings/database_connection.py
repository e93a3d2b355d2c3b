"""How a task reaches a relational database at run time: ``[databases.<name>]`` in settings.

The infrastructure side of a database (its instance class, Multi-AZ, ...) is
:class:`~glacier.settings.RdsConfig`; this is the client side: where the server is, which
database and user, and where the password comes from. A password is never written in a
settings file or in code: it comes from the environment variable named by ``password_env``,
or from libpq's own mechanisms (``PGPASSWORD``, ``~/.pgpass``, a service file), which the
driver reads itself. A URL holding a password is refused, naming the fix.

In a settings file (``containers/prod.toml``)::

    [databases.warehouse]
    host = "warehouse.abc123.ca-central-1.rds.amazonaws.com"
    dbname = "analytics"
    user = "pipeline"
    password_env = "WAREHOUSE_PASSWORD"

    [databases.scratch]
    url = "postgresql://pipeline@localhost:5432/scratch?sslmode=disable"

    [databases.notes]                        # a local SQLite file (glacier.adapters.sqlite)
    url = "sqlite:///data/notes.db"          # relative to the working directory

Nothing set at all means libpq's defaults: ``PGHOST``, ``PGPORT``, ``PGDATABASE``,
``PGUSER`` and ``PGPASSWORD`` from the environment.

A database the plan creates (``rds = { ... }``) has no host before it is deployed: the
deployed task is told where it is by :data:`DEPLOYED_DATABASES_VARIABLE`, which the plan
fills from the instance's outputs (:class:`DeployedDatabase`: endpoint, port, database,
user and the ARN of the secret holding the password, never the password itself).

Example:
    >>> DatabaseConnection(host="db", dbname="analytics", user="etl").libpq_url()
    'postgresql://etl@db:5432/analytics'
    >>> DatabaseConnection(url="postgresql://etl:hunter2@db/analytics")
    Traceback (most recent call last):
    ...
    glacier.errors.CredentialsInCodeError: DatabaseConnection: url: it holds a password (in ...
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import quote, unquote, urlsplit

from pydantic import PrivateAttr, SecretStr, field_validator, model_validator

from glacier import env_vars
from glacier.errors import ConfigError, CredentialsInCodeError
from glacier.redaction import credential_in_url, mask_url
from glacier.settings.base import GlacierModel, between, names_secret

__all__ = [
    "DEPLOYED_DATABASES_VARIABLE",
    "DatabaseConnection",
    "DeployedDatabase",
    "Reader",
    "deployed_databases",
]

#: Set by the plan in a deployed task that uses databases it created: ``{identifier:
#: DeployedDatabase}`` as JSON (:mod:`glacier.infra.aws.task_environment`).
DEPLOYED_DATABASES_VARIABLE = env_vars.GLACIER_DATABASE_ENDPOINTS

#: The libpq URL schemes (``postgres://`` is libpq's short form), and SQLite's.
_SCHEMES = ("postgresql", "postgres")
_SQLITE = "sqlite"
#: An environment variable's name, as POSIX shells write them.
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Which library reads query results into Arrow: ADBC's PostgreSQL driver (libpq, binary
#: COPY) or connectorx (its own Rust client). See docs/databases.md for how they compare.
Reader = Literal["adbc", "connectorx"]


class DatabaseConnection(GlacierModel):
    """Where a PostgreSQL database is and who connects: ``url``, or ``host``/``port``/
    ``dbname``/``user`` (not both); the password from ``password_env`` or libpq.

    ``reader`` chooses the library that reads query results (both return Arrow, then polars);
    writes always go through ADBC (binary COPY into the table, in one transaction).
    """

    #: ``postgres``; ``sqlite`` for a ``sqlite:///`` url (set from it).
    engine: Literal["postgres", "sqlite"] = "postgres"
    url: str | None = None
    host: str | None = None
    port: Annotated[int, between(1, 65535, "(a TCP port)")] = 5432
    dbname: str | None = None
    user: str | None = None
    password_env: str | None = None
    reader: Reader = "adbc"
    #: Where the password comes from when a secret holds it (set by the environment for a
    #: ``password_secret``; read only when a connection is made).
    _password_source: Callable[[], SecretStr] | None = PrivateAttr(default=None)

    @field_validator("url")
    @classmethod
    def _url_names_a_server_not_a_password(cls, value: str | None) -> str | None:
        # Every refusal here is a ConfigError, whose message never echoes the url: a url
        # that is refused may hold a password where it was not looked for.
        if value is None:
            return value
        # The password first, wherever it is: user info, query string, key=value keywords.
        found = credential_in_url(value)
        if found is not None:
            raise CredentialsInCodeError(
                f"it holds a password (in its {found}), and passwords are never written in "
                "settings or code. Remove it from the url (postgresql://user@host/db) and set "
                "password_env = 'NAME_OF_A_VARIABLE' holding it, or use PGPASSWORD or "
                "~/.pgpass. (The url is not shown here, since it holds a password.)"
            )
        if "://" not in value:
            raise ConfigError(
                "it is not a URL (a key=value connection string is not read here, and is not "
                "shown since it may hold a password). Give a URL such as "
                "'postgresql://etl@db.example.com:5432/analytics', or host/port/dbname/user "
                "without a url."
            )
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise ConfigError(
                "its host or port cannot be read (a port is a number from 1 to 65535): "
                "write it as 'postgresql://user@host:5432/dbname'."
            ) from None
        if parts.scheme == _SQLITE:
            if parts.netloc or len(parts.path) < 2:
                raise ConfigError(
                    "a SQLite url names a file: 'sqlite:///relative/path.db' (three slashes) "
                    "or 'sqlite:////absolute/path.db' (four), no host."
                )
            return value
        if parts.scheme not in _SCHEMES:
            raise ConfigError(
                f"its scheme {parts.scheme!r} is not a database's: a database url starts with "
                "postgresql:// (e.g. 'postgresql://etl@db.example.com:5432/analytics') or "
                "sqlite:/// (a local file, e.g. 'sqlite:///data/scratch.db')."
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def _engine_follows_the_url(cls, data: Any) -> Any:
        url = data.get("url") if isinstance(data, dict) else None
        if isinstance(url, str) and url.startswith(f"{_SQLITE}:"):
            return {**data, "engine": _SQLITE}
        return data

    @field_validator("password_env")
    @classmethod
    def _password_env_is_a_variable_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.fullmatch(value):
            # A ConfigError, not a ValueError: the value is not echoed (it may be the password).
            raise ConfigError(
                "password_env names an environment variable (letters, digits and '_', "
                "e.g. 'WAREHOUSE_PASSWORD'), not the password itself; the value given is not "
                "shown, since it may be one."
            )
        return value

    @model_validator(mode="after")
    def _url_or_parts(self) -> Self:
        parts = [f for f in ("host", "dbname", "user") if getattr(self, f) is not None]
        if self.url is not None and (parts or "port" in self.model_fields_set):
            given = ", ".join([*parts, *(["port"] if "port" in self.model_fields_set else [])])
            raise ConfigError(
                f"both url and {given} are set; give the url alone, or "
                "host/port/dbname/user without a url."
            )
        return self

    @model_validator(mode="after")
    def _sqlite_is_a_file(self) -> Self:
        if self.engine == _SQLITE and self.url is None:
            raise ConfigError(
                "engine = 'sqlite' needs the file: url = 'sqlite:///path/to/file.db'."
            )
        if self.engine == _SQLITE and (self.password_env or self.reader != "adbc"):
            raise ConfigError(
                "a SQLite file has no password or reader to choose: remove password_env and "
                "reader from this database."
            )
        return self

    def sqlite_path(self) -> Path:
        """The file of a ``sqlite:///`` url: ``sqlite:///rel.db`` is relative to the working
        directory, ``sqlite:////abs.db`` absolute (SQLAlchemy's convention).

        Example:
            >>> DatabaseConnection(url="sqlite:////tmp/x.db").sqlite_path()
            PosixPath('/tmp/x.db')
        """
        path = urlsplit(self.url or "").path
        return Path(unquote(path[1:]))

    def password(self, environ: Mapping[str, str] | None = None) -> SecretStr | None:
        """The password from ``password_env``; ``None`` leaves it to libpq (``PGPASSWORD``,
        ``~/.pgpass``).

        This is the one place a password is looked up: a secret from the environment's
        ``[secrets]`` section can feed it later without touching the drivers.

        Raises:
            ConfigError: ``password_env`` names a variable that is not set.
        """
        if self._password_source is not None:
            return self._password_source()
        if self.password_env is None:
            return None
        environ = os.environ if environ is None else environ
        value = environ.get(self.password_env)
        if value is None:
            raise ConfigError(
                f"DatabaseConnection: {_password_variable(self.password_env)} is not set. "
                "Export it with the database password, or drop password_env to use "
                "PGPASSWORD or ~/.pgpass."
            )
        return SecretStr(value)

    def with_password_source(self, source: Callable[[], SecretStr]) -> Self:
        """A copy whose :meth:`password` comes from ``source`` (called when a connection is
        made: a secret is read at run time, never at declaration)."""
        copy = self.model_copy()
        # The model is frozen for its fields; the source is private state, not a setting.
        assert copy.__pydantic_private__ is not None  # set by pydantic: the model has one
        copy.__pydantic_private__["_password_source"] = source
        return copy

    def deployed_at(self, where: DeployedDatabase) -> Self:
        """This connection pointed at the instance the plan created (``where``): its host,
        port and database, and the user the plan chose (the master user whose secret the
        task may read; else this connection's ``user``). A ``url`` gives way to them: it was
        written before the instance had an endpoint."""
        return self.model_copy(
            update={
                "url": None,
                "host": where.host,
                "port": where.port,
                "dbname": where.dbname,
                "user": where.user or self.user,
            }
        )

    def libpq_url(self, password: SecretStr | None = None) -> str:
        """The libpq URL (with ``password`` inserted, for drivers that need it in the URL).

        Without ``url``, ``host`` or ``dbname`` the URL names only what is set, and libpq
        fills the rest from ``PGHOST``, ``PGPORT``, ``PGDATABASE`` and ``PGUSER``.
        """
        if self.url is not None:
            if password is None:
                return self.url
            parts = urlsplit(self.url)
            user = unquote(parts.username or "")
            host = parts.netloc.rpartition("@")[2]
            secret = quote(password.get_secret_value(), safe="")
            return parts._replace(netloc=f"{quote(user, safe='')}:{secret}@{host}").geturl()
        who = quote(self.user, safe="") if self.user else ""
        if password is not None:
            who += ":" + quote(password.get_secret_value(), safe="")
        where = ""
        if self.host is not None:
            where = f"{self.host}:{self.port}"
        elif "port" in self.model_fields_set:
            where = f":{self.port}"
        netloc = f"{who}@{where}" if who else where
        return f"postgresql://{netloc}/{quote(self.dbname or '', safe='')}"

    def with_libpq_defaults(self, environ: Mapping[str, str] | None = None) -> Self:
        """This connection with what it leaves to libpq filled from ``PGHOST``, ``PGPORT``,
        ``PGDATABASE`` and ``PGUSER``, for clients that do not read them (connectorx)."""
        if self.url is not None:
            return self
        environ = os.environ if environ is None else environ
        update: dict[str, object] = {}
        for field, variable in (("host", "PGHOST"), ("dbname", "PGDATABASE"), ("user", "PGUSER")):
            if getattr(self, field) is None and environ.get(variable):
                update[field] = environ[variable]
        if "port" not in self.model_fields_set and environ.get("PGPORT", "").isdigit():
            update["port"] = int(environ["PGPORT"])
        if update.get("host") is None and self.host is None:
            update["host"] = "localhost"
        return self.model_copy(update=update)

    def describe(self) -> str:
        """Where the database is, for messages (never the password: masked if any).

        Example:
            >>> DatabaseConnection(url="postgresql://etl@db/analytics").describe()
            'postgresql://etl@db/analytics'
        """
        if self.url is not None:
            return mask_url(self.url)
        filled = self.with_libpq_defaults()
        return f"{filled.dbname or '(libpq default database)'} on {filled.host}:{filled.port}"


def _password_variable(name: str) -> str:
    """``password_env``'s variable as a message names it: by name when the name says it
    holds a password (``WAREHOUSE_PASSWORD``, in capitals); else not at all, since a
    password put in ``password_env`` by mistake is often a valid variable name too.

    >>> _password_variable("WAREHOUSE_PASSWORD"), _password_variable("hunter2")
    ('password_env=WAREHOUSE_PASSWORD', 'the variable password_env names (not shown, ...)')
    """
    if name.isupper() and names_secret(name):
        return f"password_env={name}"
    return "the variable password_env names (not shown, in case it is the password itself)"


class DeployedDatabase(GlacierModel):
    """Where the plan put a database, as a deployed task is told: its endpoint, port and
    database, the user to connect as and the ARN of the Secrets Manager secret holding that
    user's password (RDS's managed master secret; ``None`` when the settings name the secret
    with ``password_secret``).

    Example:
        >>> where = DeployedDatabase(host="db.example", port=5432, dbname="analytics")
        >>> DatabaseConnection(user="etl").deployed_at(where).libpq_url()
        'postgresql://etl@db.example:5432/analytics'
    """

    host: str
    port: Annotated[int, between(1, 65535, "(a TCP port)")] = 5432
    dbname: str = "postgres"
    user: str | None = None
    secret_arn: str | None = None
    #: Set when ``user`` signs in with IAM authentication: the region its tokens are for.
    iam_region: str | None = None
    #: Set when ``user`` signs in with a Microsoft Entra token (an Azure flexible server):
    #: the client id of the task's user-assigned managed identity that gets it.
    entra_client_id: str | None = None


def deployed_databases(environ: Mapping[str, str] | None = None) -> dict[str, DeployedDatabase]:
    """The databases the plan told this process about (:data:`DEPLOYED_DATABASES_VARIABLE`),
    by identifier; empty outside a deployed task.

    Example:
        >>> found = deployed_databases({DEPLOYED_DATABASES_VARIABLE: '{"wh": {"host": "h"}}'})
        >>> found["wh"].port
        5432
    """
    environ = os.environ if environ is None else environ
    raw = environ.get(DEPLOYED_DATABASES_VARIABLE)
    if not raw:
        return {}
    try:
        found = json.loads(raw)
        if not isinstance(found, dict):
            raise ValueError("not a JSON object")
        return {str(k): DeployedDatabase.model_validate(v) for k, v in found.items()}
    except (ValueError, ConfigError) as exc:
        raise ConfigError(
            f"{DEPLOYED_DATABASES_VARIABLE} is not what the plan writes "
            "({identifier: {host, port, dbname, user, secret_arn, iam_region, "
            f"entra_client_id}}}}): {exc}. "
            "It is set by the generated infrastructure; regenerate and deploy it rather than "
            "editing it."
        ) from None

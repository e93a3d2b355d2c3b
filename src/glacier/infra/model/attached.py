"""What tasks attach beside their data: databases, volumes, and the secrets they read.

:class:`Attached` collects the databases and shared file systems tasks use (as resources
passed to them, injected by their environment, or holding a dataset as a table),
deduplicated per environment, and each task's secrets: those it asks for as ``SecretStr``
parameters and the password secrets of the databases it reaches. A deployed task reads a
secret from its cloud's secret store (``CloudBuilder.secret_store``), never from this
machine's variables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from glacier.dataset import Dataset
from glacier.env_vars import secret_variable
from glacier.errors import InfraError
from glacier.infra.builders import builder_of
from glacier.infra.model.environments import EnvIndex
from glacier.infra.model.specs import DatabaseSpec, EnvSpec, SecretRef, VolumeSpec
from glacier.resources import Database, Volume
from glacier.settings.secrets import SECRET_EXAMPLES

if TYPE_CHECKING:
    from glacier.task import Task

__all__ = ["Attached", "table_database"]


class Attached:
    """The databases and volumes tasks use, deduplicated, and the secrets each task reads."""

    def __init__(self, index: EnvIndex) -> None:
        self.index = index
        self.databases: dict[str, DatabaseSpec] = {}
        self.volumes: dict[str, VolumeSpec] = {}

    def of_task(
        self, task: Task, env: EnvSpec
    ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[SecretRef, ...]]:
        """Keys of the databases and volumes ``task`` uses, and the secrets it reads."""
        secret_params = tuple(r.param for r in task.resources if _is_secret(r.annotation))
        declared = getattr(getattr(env.source, "settings", None), "secrets", None) or {}
        optional = {r.param for r in task.resources if r.optional and r.param not in declared}
        used = _used(task, env, secret_params)
        databases: list[str] = []
        volumes: list[str] = []
        for resource in used:
            if isinstance(resource, Database) and resource.config is None:
                # An existing server (env.database.postgres(), [databases.x] with a url or
                # host and no instance to create): the plan creates nothing for it, and the task
                # reads only the secret holding its password.
                secret_params += _external_password_secret(env, resource)
            elif isinstance(resource, Database):
                databases.append(self._database(resource, task, env))
            elif isinstance(resource, Volume):
                volumes.append(self._volume(resource, task, env))
        databases = list(dict.fromkeys(databases))
        if env.cloud != "local":
            # A database reached with a password reads the secret holding it.
            secret_params += _password_secrets(env, [self.databases[k] for k in databases])
        wanted = [p for p in secret_params if p not in optional]
        secrets = _secrets(task, env, wanted) if env.cloud != "local" else ()
        return tuple(databases), tuple(dict.fromkeys(volumes)), secrets

    def _home(self, resource: Any, task: Task, env: EnvSpec, what: str) -> EnvSpec:
        home = self.index.for_provider(resource.provider)
        if env.cloud != "local" and home.key != env.key:
            raise InfraError(
                f"Task {task.name!r} ({task.location}) runs in environment {env.key!r} but "
                f"uses {what} {resource.name!r} of environment {home.key!r}; Glacier declares "
                "databases and volumes for tasks of their own environment only (not supported "
                f"across environments yet). Declare it in {env.key!r} ([databases.<name>] or "
                "[volumes.<name>] in its settings file)."
            )
        return home

    def _database(self, db: Database, task: Task, env: EnvSpec) -> str:
        home = self._home(db, task, env, "database")
        key = f"{home.key}:{db.database_name}"
        existing = self.databases.get(key)
        if existing is not None and db.config is not None and existing.config != db.config:
            raise InfraError(
                f"Database {db.database_name!r} in environment {home.key!r} is configured "
                "twice, differently; create it once ([databases.<name>] in the settings file, "
                "or one database resource of the environment) and share it."
            )
        if existing is None:
            self.databases[key] = DatabaseSpec(
                key=key,
                env=home.key,
                identifier=db.database_name,
                engine=db.engine,
                config=db.config,
                tags=tuple(sorted(dict(db.tags).items())),
                connection=db.connection,
            )
        return key

    def _volume(self, volume: Volume, task: Task, env: EnvSpec) -> str:
        home = self._home(volume, task, env, "volume")
        key = f"{home.key}:{volume.file_system_name}"
        if key not in self.volumes:
            self.volumes[key] = VolumeSpec(
                key=key,
                env=home.key,
                name=volume.file_system_name,
                config=volume.config,
                tags=tuple(sorted(dict(volume.tags).items())),
            )
        return key


def table_database(ds: Dataset) -> Database | None:
    """The database holding ``ds`` when its storage is a database table (``db.table(...)``)."""
    storage = ds.storage
    if getattr(storage, "kind", None) == "database_table":
        found = storage.database  # type: ignore[union-attr]
        return found if isinstance(found, Database) else None
    return None


def postgres_of(task: Task, env: EnvSpec) -> bool:
    """Whether ``task`` uses a PostgreSQL database (declared by the plan, or an existing
    server reached through its settings alone), whose driver its runtime then imports."""
    skip = tuple(r.param for r in task.resources if _is_secret(r.annotation))
    return any(
        isinstance(r, Database)
        and r.engine == "postgres"
        and getattr(r.connection, "engine", "postgres") == "postgres"
        for r in _used(task, env, skip)
    )


def _used(task: Task, env: EnvSpec, secret_params: Sequence[str]) -> list[Any]:
    """The resources ``task`` uses: given, injected, or holding its datasets."""
    return [
        *task.resource_args.values(),
        *_injected(task, env, secret_params),
        *_table_databases(task),
    ]


def _table_databases(task: Task) -> list[Database]:
    """The databases holding the datasets ``task`` reads or writes."""
    found = (table_database(ds) for ds in (*task.input_datasets, *task.outputs))
    return [db for db in found if db is not None]


def _is_secret(annotation: Any) -> bool:
    from pydantic import SecretStr

    return annotation is SecretStr


def _injected(task: Task, env: EnvSpec, skip: Sequence[str]) -> list[Any]:
    """The resources the environment injects into ``task``'s parameters, one parameter at a
    time (secrets skipped: planning never reads a secret's value)."""
    resolve = getattr(env.source, "resolve_resources", None)
    if not callable(resolve):
        return []
    from glacier.errors import InjectionError

    params = [r.param for r in task.resources if r.param not in skip]
    out = []
    for param in params:
        try:
            out.extend(resolve(task, [p for p in task._names if p != param]).values())
        except InjectionError:
            continue  # reported when the task runs; the rest still gets its infrastructure
    return out


def _password_secrets(env: EnvSpec, databases: Sequence[DatabaseSpec]) -> tuple[str, ...]:
    """The ``password_secret`` of each of ``databases`` declared in ``env``'s settings."""
    declared = getattr(getattr(env.source, "settings", None), "databases", None) or {}
    identifiers = {d.identifier for d in databases}
    return tuple(
        db.password_secret
        for db in declared.values()
        if db.identifier in identifiers and db.password_secret is not None
    )


def _external_password_secret(env: EnvSpec, db: Database) -> tuple[str, ...]:
    declared = getattr(getattr(env.source, "settings", None), "databases", None) or {}
    found = declared.get(db.name) or declared.get(db.database_name)
    secret = getattr(found, "password_secret", None)
    return (secret,) if secret is not None and env.cloud != "local" else ()


def _secrets(task: Task, env: EnvSpec, params: Sequence[str]) -> tuple[SecretRef, ...]:
    params = tuple(dict.fromkeys(params))
    if not params:
        return ()
    secrets = getattr(env.source, "secrets", None)
    if secrets is None:
        raise InfraError(
            f"Task {task.name!r} ({task.location}) reads secrets {', '.join(params)} but "
            f"environment {env.key!r} has no settings to declare them in; build it from a "
            "settings file with a [secrets] section (Environment.from_settings(...))."
        )
    builder = builder_of(env.cloud)
    store = builder.secret_store if builder is not None else None
    out = []
    for name in params:
        source = secrets.source(name)  # SecretNotFoundError names the environment and file
        if builder is None or store is None:
            raise InfraError(
                f"Task {task.name!r} ({task.location}) reads secret {name!r}, but Glacier "
                f"grants no secrets to tasks in {env.cloud} environment {env.key!r}: its "
                "infrastructure builder names no secret store. Pass the value another way, "
                "or run the task in an environment whose cloud has one."
            )
        if source.store != store:
            raise InfraError(
                f"Task {task.name!r} ({task.location}) reads secret {name!r}, which "
                f"environment {env.key!r} keeps in {source.store} variable "
                f"{source.reference}; a deployed task cannot read this machine's variables. "
                f"Store it in {builder.secret_store_name or store}: "
                f'{name} = {{ {store} = "{_example(store, env.key)}" }} in [secrets].'
            )
        out.append(SecretRef(name, source.reference, declared=source.declare))
    _one_variable_each(task, [r.name for r in out])
    return tuple(out)


def _example(store: str, env: str) -> str:
    return SECRET_EXAMPLES.get(store, "...").replace("<env>", env)


def _one_variable_each(task: Task, names: Sequence[str]) -> None:
    """Refuse two secrets a GCP or Azure job would be given in one variable
    (:func:`glacier.env_vars.secret_variable` upper-cases the name)."""
    seen: dict[str, str] = {}
    for name in names:
        other = seen.setdefault(secret_variable(name), name)
        if other != name:
            raise InfraError(
                f"Task {task.name!r} ({task.location}) reads secrets {other!r} and {name!r}, "
                f"which a deployed task is given in one variable, {secret_variable(name)}. "
                "Rename one of them in [secrets] and in the task's parameters."
            )

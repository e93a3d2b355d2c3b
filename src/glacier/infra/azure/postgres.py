"""Azure Database for PostgreSQL flexible servers: a database the pipeline's tasks use, in
the environment's virtual network, signed in to with Microsoft Entra tokens only.

Each database with an :class:`~glacier.settings.AzurePostgresConfig` (``azure_postgres =
{ ... }`` under ``[databases.<name>]``, or ``env.database.azure_postgres(...)``) becomes:

- a flexible server with private access: its ``network`` is the delegated database subnet
  and the private DNS zone of :mod:`glacier.infra.azure.network`, public network access
  ``Disabled``; ``auth_config`` has Entra authentication ``Enabled`` and password
  authentication ``Disabled`` (no administrator login or password exists to leak); SKU,
  storage (auto-grow on), version, backup retention, geo-redundant backups and high
  availability from the config;
- the database tasks use (the connection's ``dbname``, else the identifier with ``_`` for
  ``-``);
- its Entra administrator (``dbforpostgresql.Administrator``): the group or user the config
  names (``entra_admin``, required: Glacier makes no administrator, because the roles of
  the tasks are created in SQL by a person or a pipeline the team trusts, not by a task).

A task using the database connects as its own user-assigned managed identity: the database
user is the identity's name and the password a token for
``https://ossrdbms-aad.database.windows.net/.default`` the task gets from that identity
(:meth:`glacier.secrets.Secrets.entra_token`). ARM cannot create a database role, so the plan
notes (:class:`DatabaseRoleNote`) the SQL the administrator runs once per task identity
(:func:`role_sql`). :func:`connection_facts` is what the deployed task is told
(``GLACIER_DATABASE_ENDPOINTS``): the server's name, port, database, user and identity's
client id, never a secret.

Example:
    >>> print(role_sql("dev-etl-load", "analytics"))
    SELECT * FROM pgaadauth_create_principal('dev-etl-load', false, false);
    GRANT CONNECT, TEMPORARY ON DATABASE "analytics" TO "dev-etl-load";
    GRANT USAGE, CREATE ON SCHEMA public TO "dev-etl-load";
"""

from __future__ import annotations

import re
from typing import Any

from glacier.errors import InfraError
from glacier.infra.azure.naming import identity_name
from glacier.infra.azure.network import placement
from glacier.infra.azure.stack import Stack, add, logical_name, native
from glacier.infra.model import DatabaseSpec, TaskSpec
from glacier.infra.model.names import physical_name

#: The port a flexible server listens on.
PORT = 5432


def azure_postgres_config(db: DatabaseSpec) -> Any:
    """``db``'s AzurePostgresConfig; refused, naming the alternative, for another config."""
    from glacier.settings import AzurePostgresConfig

    if isinstance(db.config, AzurePostgresConfig):
        return db.config
    kind = type(db.config).__name__
    fix = (
        "Glacier does not generate Cosmos DB or Table storage; keep key-value data in a "
        "container (env.storage.blob(...)) or use an existing store"
        if db.is_dynamodb
        else "declare it with azure_postgres = { entra_admin = { ... } } under "
        "[databases.<name>] (or env.database.azure_postgres(...)): an Azure Database for "
        "PostgreSQL flexible server"
    )
    raise InfraError(
        f"Database {db.identifier!r} is declared with {kind} (an AWS {db.engine} database) in "
        f"Azure environment {db.env!r}, where Glacier does not create one; {fix}."
    )


def server_name(db: DatabaseSpec) -> str:
    """The server's name (3-63 lower-case letters, digits and hyphens; it is the first label
    of its host name, so it is unique across Azure): the database's identifier."""
    name = physical_name(db.identifier, limit=63, allowed="a-z0-9-", lower=True)
    name = re.sub("-{2,}", "-", name).strip("-")
    if len(name) < 3:
        raise InfraError(
            f"Database {db.identifier!r}: a flexible server's name is 3 to 63 lower-case "
            "letters, digits and hyphens; give it a longer identifier (e.g. "
            "'acme-prod-warehouse')."
        )
    return name


def database_name(db: DatabaseSpec) -> str:
    """The database tasks use: the connection's ``dbname``, else the identifier with ``_``
    for anything PostgreSQL would need quoted."""
    given = getattr(db.connection, "dbname", None)
    if given:
        return str(given)
    return re.sub("[^a-z0-9_]", "_", db.identifier.lower())[:63]


def server(stack: Stack, db: DatabaseSpec) -> Any:
    """Declare ``db``'s flexible server, its database and its Entra administrator."""
    cfg = azure_postgres_config(db)
    found = placement(stack)
    assert found is not None, "declare_network runs first for an environment with databases"
    pg, authorization = native("dbforpostgresql"), native("authorization")
    tenant = authorization.get_client_config_output(
        opts=stack.pulumi.InvokeOutputOptions(provider=stack.provider)
    ).tenant_id
    name = server_name(db)
    tags = {**stack.tags, **dict(db.tags), **dict(cfg.tags), "glacier-database": db.identifier}
    made = add(
        stack,
        pg.Server,
        logical_name(stack, db.identifier, "server"),
        # The zone must resolve in the network before the server registers its name there.
        depends_on=[stack.out.resource_group, *found.ready],
        server_name=name,
        resource_group_name=stack.group,
        location=stack.location,
        version=cfg.version,
        sku={"name": cfg.sku_name, "tier": cfg.tier},
        storage={"storage_size_gb": cfg.storage_size_gb, "auto_grow": "Enabled"},
        backup={
            "backup_retention_days": cfg.backup_retention_days,
            "geo_redundant_backup": "Enabled" if cfg.geo_redundant_backup else "Disabled",
        },
        high_availability={"mode": cfg.high_availability},
        network={
            "delegated_subnet_resource_id": found.database_subnet_id,
            "private_dns_zone_arm_resource_id": found.dns_zone_id,
            "public_network_access": "Disabled",
        },
        auth_config={
            "active_directory_auth": "Enabled",
            "password_auth": "Disabled",
            "tenant_id": tenant,
        },
        tags=tags,
    )
    add(
        stack,
        pg.Database,
        logical_name(stack, db.identifier, "database"),
        server_name=made.name,
        resource_group_name=stack.group,
        database_name=database_name(db),
        charset="UTF8",
        collation="en_US.utf8",
    )
    admin = cfg.entra_admin
    add(
        stack,
        pg.Administrator,
        logical_name(stack, db.identifier, "admin"),
        server_name=made.name,
        resource_group_name=stack.group,
        object_id=admin.object_id,
        principal_name=admin.name,
        principal_type=admin.type,
        tenant_id=tenant,
    )
    stack.out.databases[db.key] = made
    return made


def connection_facts(stack: Stack, db: DatabaseSpec, task: TaskSpec) -> dict[str, Any]:
    """What ``task`` is told of ``db`` (see the module docs): outputs of the server and of
    the task's identity, resolved at deploy time."""
    identity = stack.out.identities[task.name]
    return {
        "host": stack.out.databases[db.key].fully_qualified_domain_name,
        "port": PORT,
        "dbname": database_name(db),
        "user": identity_name(stack.model, stack.env, task.name),
        "entra_client_id": identity.client_id,
    }


def role_sql(user: str, dbname: str) -> str:
    """The SQL the server's Entra administrator runs (connected to database ``dbname``) so
    that managed identity ``user`` may sign in and work in the ``public`` schema: ARM
    creates no database roles. Narrower grants (one schema, some tables) are the team's
    to write instead."""
    return (
        f"SELECT * FROM pgaadauth_create_principal('{user}', false, false);\n"
        f'GRANT CONNECT, TEMPORARY ON DATABASE "{dbname}" TO "{user}";\n'
        f'GRANT USAGE, CREATE ON SCHEMA public TO "{user}";'
    )


def note_roles(stack: Stack, db: DatabaseSpec, tasks: list[TaskSpec]) -> None:
    """Add the plan's note of the roles ``tasks`` need on ``db``."""
    dbname = database_name(db)
    for task in tasks:
        user = identity_name(stack.model, stack.env, task.name)
        stack.out.choices.append(DatabaseRoleNote(task.name, db.identifier, dbname, user))


class DatabaseRoleNote:
    """What the administrator of a flexible server runs for one task (shown with the plan)."""

    def __init__(self, task: str, database: str, dbname: str, user: str) -> None:
        self.task = task
        self.database = database
        self.dbname = dbname
        self.user = user

    @property
    def sql(self) -> str:
        """The SQL (see :func:`role_sql`)."""
        return role_sql(self.user, self.dbname)

    @property
    def text(self) -> str:
        """One line for a plan."""
        return (
            f"{self.task}: signs in to database {self.database!r} as Entra user {self.user!r}; "
            f"its administrator runs once, in database {self.dbname!r}: "
            + " ".join(self.sql.splitlines())
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-able) for a plan."""
        return {
            "task": self.task,
            "database": self.database,
            "user": self.user,
            "sql": self.sql,
            "text": self.text,
        }

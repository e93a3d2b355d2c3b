"""Cloud SQL for PostgreSQL: a database in the environment's VPC, reached by its tasks'
service accounts only.

Each database a pipeline declares on GCP (``[databases.<name>] cloud_sql = { ... }``, or
``env.database.cloud_sql(...)``) is a ``gcp.sql.DatabaseInstance`` with a private IP in the
environment's network (:mod:`~glacier.infra.gcp.network`) and no public address, TLS
required (``ssl_mode = ENCRYPTED_ONLY``), IAM database authentication on
(``cloudsql.iam_authentication``), daily backups with point-in-time recovery, and the
logging flags PostgreSQL's hardening guides ask for (:data:`DATABASE_FLAGS`). Tier, disk,
availability, backups and deletion protection come from the database's
:class:`~glacier.settings.CloudSqlConfig`. The database itself is a ``gcp.sql.Database``.

No password exists: each task that uses the database gets a ``gcp.sql.User`` of type
``CLOUD_IAM_SERVICE_ACCOUNT`` for its service account, and ``roles/cloudsql.client`` and
``roles/cloudsql.instanceUser`` for exactly those accounts. Cloud SQL has no IAM policy of
its own on an instance, so both are project-level bindings with an IAM Condition naming the
instance (:func:`the_instance`); the task signs in with its account's OAuth access token
(:meth:`glacier.secrets.Secrets.gcp_access_token`). What PostgreSQL lets each user do (the
``GRANT``\\ s on schemas and tables) is the database owner's to run: docs/gcp.md says which.

When the settings name the secret holding a password (``password_secret``) the task
connects as the settings' user with it instead, and no IAM user or role is made for it.

Example:
    >>> the_instance("acme-prod", "shop-db")
    'resource.type == "sqladmin.googleapis.com/Instance" && resource.name == "projects/acme-prod/instances/shop-db"'
"""  # noqa: E501

from __future__ import annotations

import json
from typing import Any

from glacier.errors import InfraError
from glacier.infra.gcp.labels import label_value, labels_of
from glacier.infra.gcp.naming import iam_database_user, sql_instance_name
from glacier.infra.gcp.network import placement
from glacier.infra.gcp.stack import MANAGED_BY, GcpStack, add, logical_name
from glacier.infra.model import DatabaseSpec, TaskSpec, physical_name

__all__ = [
    "CLIENT",
    "DATABASE_FLAGS",
    "INSTANCE_TYPE",
    "INSTANCE_USER",
    "PORT",
    "connection_facts",
    "grant_database",
    "instance",
    "the_instance",
]

#: The roles a task using a database holds, conditioned on its instance: connect (the
#: instance's metadata and the connection), and sign in as an IAM user.
CLIENT = "roles/cloudsql.client"
INSTANCE_USER = "roles/cloudsql.instanceUser"
#: ``resource.type`` of a Cloud SQL instance in an IAM Condition.
INSTANCE_TYPE = "sqladmin.googleapis.com/Instance"
PORT = 5432
#: Flags of every instance: IAM sign-in, and the logging checkov's CIS checks require
#: (connections, lock waits, temporary files, DDL statements, errors, pgAudit).
DATABASE_FLAGS = {
    "cloudsql.iam_authentication": "on",
    "cloudsql.enable_pgaudit": "on",
    "log_checkpoints": "on",
    "log_connections": "on",
    "log_disconnections": "on",
    "log_duration": "on",
    "log_hostname": "on",
    "log_lock_waits": "on",
    "log_min_duration_statement": "-1",
    "log_min_error_statement": "error",
    "log_min_messages": "warning",
    "log_statement": "ddl",
    "log_temp_files": "0",
}


def cloud_sql_config(db: DatabaseSpec, user: str = "") -> Any:
    """The database's CloudSqlConfig; refused, naming what to use instead, when it is not
    Cloud SQL for PostgreSQL (``user`` starts the message: the task using it)."""
    from glacier.settings import CloudSqlConfig

    if isinstance(db.config, CloudSqlConfig) and db.engine == "postgres":
        return db.config
    what = f"{user or ''}database {db.identifier!r} in GCP environment {db.env!r}"
    what = what[0].upper() + what[1:]
    if db.is_dynamodb:
        raise InfraError(
            f"{what} is a DynamoDB table; Glacier creates no key-value tables on GCP. Use a "
            "Cloud SQL database (env.database.cloud_sql(...) or cloud_sql = { ... } in "
            "[databases.<name>]), or keep the table on AWS."
        )
    if db.engine != "postgres":
        raise InfraError(
            f"{what} is {db.engine}; Glacier creates Cloud SQL for PostgreSQL only (not MySQL "
            "or SQL Server). Use engine='postgres', or name an existing server "
            "([databases.<name>] url or host) and create it yourself."
        )
    raise InfraError(
        f"{what} is configured as {type(db.config).__name__}, an AWS database; on GCP use "
        "env.database.cloud_sql(...) or cloud_sql = { ... } in [databases.<name>] of the "
        "settings file."
    )


def database_name(db: DatabaseSpec) -> str:
    """The database tasks use inside the instance: the connection's ``dbname``, else the
    identifier (as a PostgreSQL name)."""
    given = getattr(db.connection, "dbname", None)
    return str(given) if given else physical_name(db.identifier, allowed="a-z0-9_", lower=True)


def the_instance(project: str, name: str) -> str:
    """The IAM Condition holding for instance ``name`` of ``project`` only."""
    path = f"projects/{project}/instances/{name}"
    return f"resource.type == {json.dumps(INSTANCE_TYPE)} && resource.name == {json.dumps(path)}"


def instance(stack: GcpStack, db: DatabaseSpec) -> Any:
    """Declare ``db``'s instance and database (see the module docs)."""
    gcp, cfg = stack.gcp, cloud_sql_config(db)
    where = placement(stack)
    if where is None:  # declare_network runs first: only an unreachable state lands here
        raise InfraError(f"Database {db.identifier!r} has no network in {stack.env.key!r}.")
    sql = gcp.sql
    name = sql_instance_name(db.identifier)
    own = {**stack.env.tag_map, **dict(db.tags), **cfg.labels}
    labels = {
        **labels_of({**own, **MANAGED_BY}, f"database {db.identifier!r}"),
        **stack.labels,
        "glacier-database": label_value(db.identifier),
    }
    made = add(
        stack,
        sql.DatabaseInstance,
        logical_name(stack, db.identifier, "instance"),
        depends_on=[where.connection] if where.connection is not None else [],
        name=name,
        region=stack.region,
        database_version=cfg.database_version,
        deletion_protection=cfg.deletion_protection,
        settings=sql.DatabaseInstanceSettingsArgs(
            tier=cfg.tier,
            edition="ENTERPRISE",  # db-custom tiers; Enterprise Plus takes others
            availability_type=cfg.availability_type,
            disk_size=cfg.disk_size_gb,
            disk_type=cfg.disk_type,
            disk_autoresize=True,
            deletion_protection_enabled=cfg.deletion_protection,
            user_labels=labels,
            ip_configuration=sql.DatabaseInstanceSettingsIpConfigurationArgs(
                ipv4_enabled=False,
                private_network=where.network,
                ssl_mode="ENCRYPTED_ONLY",
            ),
            backup_configuration=sql.DatabaseInstanceSettingsBackupConfigurationArgs(
                enabled=True,
                point_in_time_recovery_enabled=cfg.point_in_time_recovery,
                transaction_log_retention_days=cfg.transaction_log_retention_days,
                backup_retention_settings=(
                    sql.DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs(
                        retained_backups=cfg.backup_retention_days, retention_unit="COUNT"
                    )
                ),
            ),
            database_flags=[
                sql.DatabaseInstanceSettingsDatabaseFlagArgs(name=k, value=v)
                for k, v in DATABASE_FLAGS.items()
            ],
        ),
    )
    add(
        stack,
        sql.Database,
        logical_name(stack, db.identifier, "database"),
        name=database_name(db),
        instance=made.name,
    )
    stack.out.databases[db.key] = made
    return made


def uses_iam(db: DatabaseSpec) -> bool:
    """Whether tasks sign in as their service accounts (no ``password_secret`` named)."""
    return getattr(db.connection, "password_secret", None) is None


def grant_database(stack: GcpStack, task: TaskSpec, account: Any, member: Any) -> list[Any]:
    """``task``'s IAM users on the databases it uses and its two conditioned roles on each
    instance (none for a database reached with a ``password_secret``)."""
    made: list[Any] = []
    for key in task.databases:
        db = stack.model.databases[key]
        if db.is_dynamodb or not uses_iam(db):
            continue
        found = stack.out.databases[key]
        name = sql_instance_name(db.identifier)
        made.append(
            add(
                stack,
                stack.gcp.sql.User,
                logical_name(stack, task.name, db.identifier, "user"),
                depends_on=[account],
                name=iam_database_user(stack.model.pipeline, stack.env, task.name),
                instance=found.name,
                type="CLOUD_IAM_SERVICE_ACCOUNT",
            )
        )
        for role, short in ((CLIENT, "client"), (INSTANCE_USER, "user")):
            made.append(
                add(
                    stack,
                    stack.gcp.projects.IAMMember,
                    logical_name(stack, task.name, db.identifier, f"sql-{short}"),
                    depends_on=[account],
                    project=stack.project,
                    role=role,
                    member=member,
                    condition=stack.gcp.projects.IAMMemberConditionArgs(
                        title=f"glacier {task.name} on {name}"[:100],
                        description=(
                            f"Task {task.name!r} signs in to Cloud SQL instance {name} only"
                        )[:256],
                        expression=the_instance(stack.project, name),
                    ),
                )
            )
    stack.out.bindings.extend(made)
    return made


def connection_facts(stack: GcpStack, task: TaskSpec) -> dict[str, Any]:
    """What ``task`` is told of each database it uses (``GLACIER_DATABASE_ENDPOINTS``), by
    identifier: the instance's private IP (an output), the port and database, and the IAM
    user it signs in as with ``gcp_iam`` (no user for a ``password_secret``: the settings'
    user stays)."""
    facts: dict[str, Any] = {}
    for key in task.databases:
        db = stack.model.databases[key]
        if db.is_dynamodb:
            continue
        found = stack.out.databases[key]
        told: dict[str, Any] = {
            "host": found.private_ip_address,
            "port": PORT,
            "dbname": database_name(db),
        }
        if uses_iam(db):
            told["user"] = iam_database_user(stack.model.pipeline, stack.env, task.name)
            told["gcp_iam"] = True
        facts[db.identifier] = told
    return facts

"""Database and shared-volume configs (AWS RDS, DynamoDB, EFS; Azure Database for PostgreSQL)."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal, Self

from pydantic import AfterValidator, field_validator, model_validator

from glacier.errors import ConfigError
from glacier.settings.base import Cloud, GlacierModel, between
from glacier.settings.database_connection import DatabaseConnection
from glacier.settings.rds_classes import check_instance_class
from glacier.settings.tags import AwsTags, AzureTags

__all__ = [
    "AzurePostgresConfig",
    "DatabaseSettings",
    "DynamoDbConfig",
    "EfsConfig",
    "EntraAdmin",
    "RdsConfig",
    "VolumeSettings",
]

_ENGINE_VERSION = re.compile(r"\d+(\.\d+)*")
_OBJECT_ID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
#: A flexible server's compute size: ``Standard_`` then the VM size (``Standard_B1ms``,
#: ``Standard_D2ds_v5``, ``Standard_E4ds_v5``); its family letter decides the tier.
_FLEXIBLE_SKU = re.compile(r"Standard_([BDE])[0-9]+[a-z]*(_v[0-9]+)?")
_SKU_TIERS = {"B": "Burstable", "D": "GeneralPurpose", "E": "MemoryOptimized"}


def _entra_name(value: str) -> str:
    # It becomes a PostgreSQL role name (at most 63 bytes) and is quoted in the plan's notes.
    if not 1 <= len(value.encode()) <= 63 or "'" in value or '"' in value:
        raise ValueError(
            "an Entra administrator's name is its display name (a user's UPN), 1 to 63 "
            "characters without quotes (e.g. 'data-admins')"
        )
    return value


class RdsConfig(GlacierModel):
    """How an RDS database instance is created (the password comes from Secrets Manager).

    Example:
        >>> RdsConfig(engine="postgres", instance_class="db.t4g.small").allocated_storage
        20
    """

    _cloud: ClassVar[Cloud | None] = "aws"

    engine: Literal["postgres", "mysql", "mariadb"] = "postgres"
    instance_class: str = "db.t3.micro"
    allocated_storage: Annotated[int, between(20, 65536, "GiB (the RDS limit)")] = 20
    multi_az: bool = False
    engine_version: str | None = None
    #: Refuse to delete the instance (on in prod: ``deletion_protection = true``).
    deletion_protection: bool = False
    backup_retention_days: Annotated[int, between(0, 35, "days (the RDS limit)")] = 7
    #: The master user; its password is generated and kept by RDS in Secrets Manager.
    master_username: str = "glacier"
    #: A database user tasks connect as with IAM authentication (``rds-db:connect``); without
    #: one, tasks read the RDS-managed master secret (``secretsmanager:GetSecretValue``).
    iam_database_user: str | None = None
    tags: AwsTags = {}

    @field_validator("instance_class")
    @classmethod
    def _instance_class(cls, value: str) -> str:
        if not value.startswith("db.") or len(value) <= 3:
            raise ValueError("an RDS instance class starts with 'db.' (e.g. 'db.t3.micro')")
        return value

    @field_validator("master_username", "iam_database_user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,15}", value):
            raise ValueError(
                "a database user name is 1 to 16 letters, digits or '_', starting with a letter"
            )
        return value

    @model_validator(mode="after")
    def _class_fits_engine(self) -> Self:
        try:
            check_instance_class(self.engine, self.instance_class)
        except ValueError as exc:
            raise ConfigError(f"instance_class={exc}.") from None
        return self

    @field_validator("engine_version")
    @classmethod
    def _engine_version(cls, value: str | None) -> str | None:
        if value is not None and not _ENGINE_VERSION.fullmatch(value):
            raise ValueError("an engine version is numbers and dots (e.g. '16.4')")
        return value


class EntraAdmin(GlacierModel):
    """The Microsoft Entra principal administering an Azure PostgreSQL flexible server: who
    creates the database roles of the tasks' identities (docs/databases.md, "Azure").

    A group is the usual choice (its members administer the server; nobody's own account is
    baked into the plan). ``name`` is the principal's display name (a user's UPN), ``object_id``
    its object id (``az ad group show --group <name> --query id``).

    Example:
        >>> EntraAdmin(name="data-admins", object_id="11111111-2222-3333-4444-555555555555").type
        'Group'
    """

    _cloud: ClassVar[Cloud | None] = "azure"

    name: Annotated[str, AfterValidator(_entra_name)]
    object_id: str
    #: As Azure Resource Manager spells it (``principalType``).
    type: Literal["Group", "User", "ServicePrincipal"] = "Group"

    @field_validator("object_id")
    @classmethod
    def _object_id(cls, value: str) -> str:
        if not _OBJECT_ID.fullmatch(value):
            raise ValueError(
                "an Entra object id is a GUID such as '11111111-2222-3333-4444-555555555555' "
                "(az ad group show --group <name> --query id)"
            )
        return value.lower()


class AzurePostgresConfig(GlacierModel):
    """How an Azure Database for PostgreSQL flexible server is created: private access only
    (a delegated subnet of the environment's virtual network), Microsoft Entra authentication
    only (no password), and the size, backups and high availability below.

    ``entra_admin`` is required: Glacier makes no administrator of its own (see
    :class:`EntraAdmin`). In a settings file::

        [databases.warehouse]
        identifier = "acme-prod-warehouse"
        dbname = "analytics"
        azure_postgres = { sku_name = "Standard_D2ds_v5", high_availability = "ZoneRedundant",
                           geo_redundant_backup = true,
                           entra_admin = { name = "data-admins", object_id = "1111..." } }

    Example:
        >>> admin = {"name": "data-admins", "object_id": "11111111-2222-3333-4444-555555555555"}
        >>> AzurePostgresConfig(entra_admin=admin).tier
        'Burstable'
    """

    _cloud: ClassVar[Cloud | None] = "azure"

    #: Required (a validator says so with the fix); Glacier makes no administrator of its own.
    entra_admin: EntraAdmin | None = None
    #: The PostgreSQL major version.
    version: Literal["13", "14", "15", "16", "17"] = "16"
    sku_name: str = "Standard_B1ms"
    #: The sizes Azure offers a flexible server's storage in, in GiB.
    storage_size_gb: Literal[32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767] = 32
    backup_retention_days: Annotated[int, between(7, 35, "days (the flexible server limit)")] = 7
    geo_redundant_backup: bool = False
    #: A standby server in another zone (``ZoneRedundant``) or the same one (``SameZone``).
    high_availability: Literal["Disabled", "SameZone", "ZoneRedundant"] = "Disabled"
    tags: AzureTags = {}

    @field_validator("sku_name")
    @classmethod
    def _sku_name(cls, value: str) -> str:
        if not _FLEXIBLE_SKU.fullmatch(value):
            raise ValueError(
                "a flexible server SKU is 'Standard_' then a B (Burstable), D (General "
                "Purpose) or E (Memory Optimized) size, e.g. 'Standard_B1ms' or "
                "'Standard_D2ds_v5'"
            )
        return value

    @model_validator(mode="after")
    def _an_administrator_is_named(self) -> Self:
        if self.entra_admin is None:
            raise ConfigError(
                "entra_admin is required: the Microsoft Entra group (or user) that administers "
                "the server and creates the tasks' database roles (Glacier makes none); add "
                'entra_admin = { name = "data-admins", object_id = "<the group\'s object id>" }.'
            )
        return self

    @model_validator(mode="after")
    def _high_availability_needs_a_standard_tier(self) -> Self:
        if self.high_availability != "Disabled" and self.tier == "Burstable":
            raise ConfigError(
                f"high_availability={self.high_availability!r} is not offered on the "
                f"Burstable tier (sku_name={self.sku_name!r}); use a General Purpose or "
                "Memory Optimized size (e.g. 'Standard_D2ds_v5'), or high_availability = "
                "'Disabled'."
            )
        return self

    @property
    def tier(self) -> str:
        """The compute tier the SKU belongs to (``Burstable``, ``GeneralPurpose``,
        ``MemoryOptimized``)."""
        found = _FLEXIBLE_SKU.fullmatch(self.sku_name)
        assert found is not None  # checked by the validator
        return _SKU_TIERS[found.group(1)]


class DynamoDbConfig(GlacierModel):
    """How a DynamoDB table is created.

    Example:
        >>> DynamoDbConfig(hash_key="customer_id", range_key="order_id").billing_mode
        'PAY_PER_REQUEST'
    """

    _cloud: ClassVar[Cloud | None] = "aws"

    billing_mode: Literal["PAY_PER_REQUEST", "PROVISIONED"] = "PAY_PER_REQUEST"
    hash_key: str = "id"
    range_key: str | None = None
    #: Attribute types of the keys: S (string), N (number), B (binary).
    hash_key_type: Literal["S", "N", "B"] = "S"
    range_key_type: Literal["S", "N", "B"] = "S"
    #: Capacity units; required with (and only with) ``billing_mode = "PROVISIONED"``.
    read_capacity: Annotated[int, between(1, 40000, "units (the default table quota)")] | None = (
        None
    )
    write_capacity: Annotated[int, between(1, 40000, "units (the default table quota)")] | None = (
        None
    )
    point_in_time_recovery: bool = True
    tags: AwsTags = {}

    @field_validator("hash_key", "range_key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        if value is not None and not 1 <= len(value) <= 255:
            raise ValueError("a DynamoDB key attribute name is 1 to 255 characters long")
        return value

    @model_validator(mode="after")
    def _distinct_keys(self) -> Self:
        if self.range_key is not None and self.range_key == self.hash_key:
            raise ConfigError(
                f"range_key={self.range_key!r} is the same attribute as hash_key; "
                f"use another attribute or no range key."
            )
        return self

    @model_validator(mode="after")
    def _capacity_fits_billing(self) -> Self:
        given = self.read_capacity is not None and self.write_capacity is not None
        if self.billing_mode == "PROVISIONED" and not given:
            raise ConfigError(
                "billing_mode='PROVISIONED' needs read_capacity and "
                "write_capacity; set both, or use billing_mode='PAY_PER_REQUEST'."
            )
        if self.billing_mode == "PAY_PER_REQUEST" and (
            self.read_capacity is not None or self.write_capacity is not None
        ):
            raise ConfigError(
                "read_capacity/write_capacity apply to "
                "billing_mode='PROVISIONED' only; remove them or set that billing mode."
            )
        return self


class EfsConfig(GlacierModel):
    """How an EFS file system is created.

    Example:
        >>> EfsConfig(performance_mode="maxIO").encrypted
        True
    """

    _cloud: ClassVar[Cloud | None] = "aws"

    performance_mode: Literal["generalPurpose", "maxIO"] = "generalPurpose"
    encrypted: bool = True
    #: Where tasks see the file system (Lambda requires a path under ``/mnt/``).
    mount_path: str | None = None
    tags: AwsTags = {}

    @field_validator("mount_path")
    @classmethod
    def _mount_path(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"/mnt/[A-Za-z0-9_.-]+", value):
            raise ValueError("Lambda mounts file systems at /mnt/<name> (e.g. '/mnt/shared')")
        return value


class DatabaseSettings(DatabaseConnection):
    """A database declared in a settings file: ``[databases.<name>]``: how tasks reach it
    (the :class:`~glacier.settings.DatabaseConnection` fields) and, for a database the plan
    creates, what it is (``rds`` or ``dynamodb`` with its ``identifier``).

    The environment registers it under ``<name>``, so a task parameter of that name (or of
    type ``Database``) receives it, and each environment's file sizes it::

        [databases.warehouse]
        identifier = "finks-prod-warehouse"
        rds = { instance_class = "db.t3.medium", multi_az = true, deletion_protection = true }
        dbname = "analytics"
        user = "pipeline"
        password_secret = "warehouse_password"

        [databases.prices]
        identifier = "finks-prod-prices"
        dynamodb = { hash_key = "symbol", range_key = "date" }

        [databases.scratch]                      # an existing server: nothing is created
        url = "postgresql://pipeline@localhost:5432/scratch"

    ``password_secret`` names an entry of ``[secrets]`` holding the password (or
    ``password_env`` a variable; never both): a password never appears in a settings file.

    Example:
        >>> DatabaseSettings(identifier="wh", rds=RdsConfig()).kind
        'postgres'
        >>> DatabaseSettings(url="postgresql://etl@db/analytics").config is None
        True
    """

    identifier: str | None = None
    rds: RdsConfig | None = None
    dynamodb: DynamoDbConfig | None = None
    azure_postgres: AzurePostgresConfig | None = None
    password_secret: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        kinds = [k for k in ("rds", "dynamodb", "azure_postgres") if getattr(self, k) is not None]
        if len(kinds) > 1:
            given = " and ".join(f"{k} = {{ ... }}" for k in kinds)
            raise ConfigError(
                f"databases: {self.identifier!r} has both {given}; keep the one this database is."
            )
        if self.azure_postgres is not None and (
            self.password_secret is not None or self.password_env is not None
        ):
            raise ConfigError(
                f"databases: {self.identifier!r} is an azure_postgres server, whose tasks sign "
                "in with Microsoft Entra tokens of their identities (password authentication "
                "is off); remove password_secret and password_env."
            )
        if self.config is not None and self.identifier is None:
            raise ConfigError(
                "databases: a database the plan creates (rds, dynamodb or azure_postgres) "
                'needs its identifier = "<instance or table name>".'
            )
        if self.password_secret is not None and self.password_env is not None:
            raise ConfigError(
                "databases: password_secret and password_env both name a password source; "
                "keep one (password_secret reads [secrets], password_env a variable)."
            )
        return self

    @property
    def kind(self) -> str:
        """``dynamodb``, or the RDS engine (``postgres`` for an existing server or an Azure
        flexible server)."""
        if self.dynamodb is not None:
            return "dynamodb"
        return self.rds.engine if self.rds is not None else self.engine

    @property
    def config(self) -> RdsConfig | DynamoDbConfig | AzurePostgresConfig | None:
        """The RDS, DynamoDB or Azure PostgreSQL config; ``None`` for a server the plan does
        not create."""
        for found in (self.rds, self.dynamodb, self.azure_postgres):
            if found is not None:
                return found
        return None


class VolumeSettings(GlacierModel):
    """A shared file system declared in a settings file: ``[volumes.<name>]``::

        [volumes.scratch]
        file_system_name = "finks-prod-scratch"
        efs = { performance_mode = "generalPurpose" }

    Example:
        >>> VolumeSettings(file_system_name="scratch").efs.encrypted
        True
    """

    file_system_name: str
    efs: EfsConfig = EfsConfig()

"""Database and shared-volume configs (AWS RDS, DynamoDB, EFS)."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal, Self

from pydantic import Field, field_validator, model_validator

from glacier.errors import ConfigError
from glacier.settings.base import Cloud, GlacierModel, between
from glacier.settings.database_connection import DatabaseConnection
from glacier.settings.rds_classes import check_instance_class
from glacier.settings.tags import AwsTags

__all__ = [
    "DatabaseSettings",
    "DynamoDbConfig",
    "EfsConfig",
    "RdsConfig",
    "VolumeSettings",
]

_ENGINE_VERSION = re.compile(r"\d+(\.\d+)*")


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
    password_secret: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if self.rds is not None and self.dynamodb is not None:
            raise ConfigError(
                f"databases: {self.identifier!r} has both rds = {{ ... }} and "
                "dynamodb = { ... }; keep the one this database is."
            )
        if self.config is not None and self.identifier is None:
            raise ConfigError(
                "databases: a database the plan creates (rds or dynamodb) needs its "
                'identifier = "<instance or table name>".'
            )
        if self.password_secret is not None and self.password_env is not None:
            raise ConfigError(
                "databases: password_secret and password_env both name a password source; "
                "keep one (password_secret reads [secrets], password_env a variable)."
            )
        return self

    @property
    def kind(self) -> str:
        """``dynamodb``, or the RDS engine (``postgres`` for an existing server)."""
        if self.dynamodb is not None:
            return "dynamodb"
        return self.rds.engine if self.rds is not None else self.engine

    @property
    def config(self) -> RdsConfig | DynamoDbConfig | None:
        """The RDS or DynamoDB config; ``None`` for a server the plan does not create."""
        return self.rds if self.rds is not None else self.dynamodb


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
    efs: EfsConfig = Field(default_factory=EfsConfig)

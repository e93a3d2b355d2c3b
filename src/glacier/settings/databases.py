"""Database and shared-volume configs (AWS RDS, DynamoDB, EFS)."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal, Self

from pydantic import field_validator, model_validator

from glacier.errors import ConfigError
from glacier.settings.base import Cloud, GlacierModel, between
from glacier.settings.tags import AwsTags

__all__ = ["DynamoDbConfig", "EfsConfig", "RdsConfig"]

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
    tags: AwsTags = {}

    @field_validator("instance_class")
    @classmethod
    def _instance_class(cls, value: str) -> str:
        if not value.startswith("db.") or len(value) <= 3:
            raise ValueError("an RDS instance class starts with 'db.' (e.g. 'db.t3.micro')")
        return value

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


class EfsConfig(GlacierModel):
    """How an EFS file system is created.

    Example:
        >>> EfsConfig(performance_mode="maxIO").encrypted
        True
    """

    _cloud: ClassVar[Cloud | None] = "aws"

    performance_mode: Literal["generalPurpose", "maxIO"] = "generalPurpose"
    encrypted: bool = True
    tags: AwsTags = {}

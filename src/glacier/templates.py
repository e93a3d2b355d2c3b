"""Environment templates: an environment with best-practice defaults in one call.

A template is a pydantic settings model (its fields are the defaults, each overridable by
argument or by a ``GLACIER_TEMPLATE_*`` variable) and the environment it builds::

    from glacier.templates import ProductionAWSEnvironment, DevelopmentLocalEnvironment

    prod = ProductionAWSEnvironment(region="us-east-1", profile="prod")
    dev = DevelopmentLocalEnvironment(base_path="./data")

What a production AWS template sets, unless told otherwise:

- buckets made through ``prod.storage.s3(...)``/``prod.storage.bucket(...)``: SSE-KMS
  encryption (``encryption="aws:kms"``), versioning, public access blocked, and tables
  keeping ``retention_days`` (90) of history when vacuumed;
- tags ``environment``, ``managed_by=glacier`` and ``data_classification`` on every resource;
- tasks retried (``retries=2``, exponential backoff) with a timeout;
- least privilege: a task may not touch another environment's data
  (``allow_cross_environment`` is refused by the plan unless a task opts in), and the plan's
  one-role-per-task policies are always on;
- marked production: ``glacier shell`` opens its storage read-only by default.

A development local template keeps data under ``base_path``, tags it, caches task results
and never retries (failures show at once).

An option the template cannot honour is refused: ``enable_monitoring=True`` names the
settings that do exist, since this version generates no monitoring resources.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from glacier.environment import Environment
from glacier.errors import ConfigError
from glacier.provider import Provider
from glacier.resource_namespaces import StorageNamespace
from glacier.resources import Bucket
from glacier.settings import AwsConfig, LocalConfig, S3Config, TaskConfig
from glacier.settings.base import refuse_credentials

__all__ = [
    "DevelopmentLocalEnvironment",
    "DevelopmentLocalTemplate",
    "ProductionAWSEnvironment",
    "ProductionAWSTemplate",
]


class _Template(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GLACIER_TEMPLATE_", extra="forbid", frozen=True)


class ProductionAWSTemplate(_Template):
    """The defaults of :class:`ProductionAWSEnvironment` (every field overridable).

    Example:
        >>> ProductionAWSTemplate(region="eu-west-1").bucket_config().encryption
        'aws:kms'
    """

    region: str
    profile: str | None = None
    account_id: str | None = None
    name: str = "production"
    naming_prefix: str | None = None
    enable_encryption: bool = True
    kms_key_id: str | None = None
    enable_versioning: bool = True
    retention_days: int = Field(default=90, ge=1, le=36500)
    enable_monitoring: bool = False
    tags: dict[str, str] = {}
    data_classification: str = "internal"
    retries: int = Field(default=2, ge=0, le=100)
    timeout: float = Field(default=3600.0, gt=0)
    vpc_id: str | None = None
    subnet_ids: list[str] = []
    security_group_ids: list[str] = []

    @field_validator("enable_monitoring")
    @classmethod
    def _monitoring_is_not_generated(cls, value: bool) -> bool:
        if value:
            raise ValueError(
                "this version generates no monitoring resources (alarms, dashboards); leave "
                "enable_monitoring=False — run records are in `glacier runs` and `glacier ui`"
            )
        return value

    def bucket_config(self) -> S3Config:
        """The S3 settings every bucket made through the environment starts from."""
        return S3Config(
            versioning=self.enable_versioning,
            encryption="aws:kms" if self.enable_encryption else "AES256",
            kms_key_id=self.kms_key_id,
            public_access_block=True,
        )

    def retention(self) -> timedelta:
        """How much history a table keeps when vacuumed (``retention_days``)."""
        return timedelta(days=self.retention_days)

    def all_tags(self) -> dict[str, str]:
        """Tags of every resource: the template's, refined by ``tags``."""
        return {
            "environment": self.name,
            "managed_by": "glacier",
            "data_classification": self.data_classification,
            **self.tags,
        }


class DevelopmentLocalTemplate(_Template):
    """The defaults of :class:`DevelopmentLocalEnvironment`."""

    base_path: Path = Path("./data")
    name: str = "development"
    tags: dict[str, str] = {}
    cache: bool = True
    retries: int = Field(default=0, ge=0, le=100)


def _template(cls: type[_Template], values: Mapping[str, Any]) -> Any:
    refuse_credentials(values.keys(), "aws")
    try:
        return cls(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "?"
        given = values.get(str(first["loc"][0])) if first["loc"] else None
        fields = ", ".join(cls.model_fields)
        raise ConfigError(
            f"{cls.__name__.removesuffix('Template')}Environment({where}={given!r}): "
            f"{first['msg']}. Settings: {fields}."
        ) from None


class _TemplateStorage(StorageNamespace):
    """``env.storage`` whose buckets start from the template's bucket settings."""

    template: ProductionAWSTemplate

    def s3(self, bucket: str, path: str = "", format: str = "parquet", **kwargs: Any) -> Bucket:
        """An S3 bucket with the template's settings, refined by ``config`` or by S3Config
        fields given as keywords (``versioning=False``)."""
        config = self.template.bucket_config()
        given = kwargs.pop("config", None)
        if given is not None:
            config = config.model_copy(update=given.model_dump(exclude_unset=True))
        fields = {k: kwargs.pop(k) for k in list(kwargs) if k in S3Config.model_fields}
        if fields:
            config = S3Config.model_validate({**config.model_dump(), **fields})
        kwargs.setdefault("retention", self.template.retention())
        return self._provider.bucket(bucket, path, format, config=config, **kwargs)  # type: ignore[no-any-return]

    def bucket(
        self, bucket_name: str, path: str = "", format: str = "parquet", **kwargs: Any
    ) -> Bucket:
        """A bucket with the template's settings (S3 on this AWS environment)."""
        return self.s3(bucket_name, path, format, **kwargs)


class ProductionAWSEnvironment(Environment):
    """A production AWS environment with best-practice defaults (see the module docs).

    Example:
        >>> prod = ProductionAWSEnvironment(region="us-east-1", profile="prod")
        >>> prod.is_production, prod.tags["managed_by"]
        (True, 'glacier')
        >>> prod.storage.s3("acme-prod-raw", "sales.parquet").config.encryption
        'aws:kms'
    """

    def __init__(self, **values: Any) -> None:
        template: ProductionAWSTemplate = _template(ProductionAWSTemplate, values)
        #: The template settings this environment was built from.
        self.template = template
        from glacier.settings import Network

        super().__init__(
            Provider(
                config=AwsConfig(
                    region=template.region,
                    profile=template.profile,
                    account_id=template.account_id,
                )
            ),
            name=template.name,
            tags=template.all_tags(),
            naming_prefix=template.naming_prefix,
            task_defaults=TaskConfig(
                retries=template.retries, backoff=2.0, retry_delay=5.0, timeout=template.timeout
            ),
            network=Network(
                vpc_id=template.vpc_id,
                subnet_ids=tuple(template.subnet_ids),
                security_group_ids=tuple(template.security_group_ids),
            ),
            production=True,
        )
        storage = _TemplateStorage(self)
        storage.template = template
        self.storage = storage


class DevelopmentLocalEnvironment(Environment):
    """A development environment on local files (see the module docs).

    Example:
        >>> dev = DevelopmentLocalEnvironment(base_path="/tmp/dev-data")
        >>> dev.name, dev.is_production, dev.provider.kind
        ('development', False, 'local')
    """

    def __init__(self, **values: Any) -> None:
        template: DevelopmentLocalTemplate = _template(DevelopmentLocalTemplate, values)
        self.template = template
        super().__init__(
            Provider(config=LocalConfig(base_path=template.base_path)),
            name=template.name,
            tags={"environment": template.name, "managed_by": "glacier", **template.tags},
            task_defaults=TaskConfig(cache=template.cache, retries=template.retries),
            production=False,
        )

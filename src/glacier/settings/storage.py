"""Bucket configs for each cloud's object store, their lifecycle rules, and named buckets.

``S3Config``, ``GcsConfig`` and ``BlobConfig`` refine a bucket on one cloud;
``BucketSettings`` is a bucket declared in a settings file (``[buckets.raw]``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import Field, field_validator, model_validator

from glacier.errors import ConfigError
from glacier.settings.base import Cloud, GlacierModel, between
from glacier.settings.tags import AwsTags, AzureTags, GcpLabels

__all__ = [
    "AzureBlobConfig",
    "BlobConfig",
    "BucketSettings",
    "CorsRule",
    "GCSConfig",
    "GcsConfig",
    "LifecycleRule",
    "S3Config",
    "S3Replication",
]

S3StorageClass = Literal[
    "STANDARD",
    "INTELLIGENT_TIERING",
    "STANDARD_IA",
    "ONEZONE_IA",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
]
GcsStorageClass = Literal["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"]

#: Classes an S3 lifecycle rule can transition objects to.
S3_TRANSITION_CLASSES: tuple[str, ...] = (
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
)
#: Classes a GCS lifecycle rule can move objects to (its SetStorageClass action).
GCS_TRANSITION_CLASSES: tuple[str, ...] = ("STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE")
# S3 refuses a transition to an infrequent-access class before objects are 30 days old.
_S3_MIN_DAYS = {"STANDARD_IA": 30, "ONEZONE_IA": 30}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class LifecycleRule(GlacierModel):
    """Move objects to a colder class, delete them, or both, after a number of days.

    Besides the fields, the shapes used in the design notes are accepted::

        {"id": "archive", "transition": {"days": 30, "storage_class": "GLACIER"}}
        {"days": 30, "transition": "GLACIER"}
        {"days": 90, "expiration": True}

    Without an ``id`` one is derived from the rule, so the same rule always gets the same id
    (a changing id would make every deployment replace the rule).

    Example:
        >>> LifecycleRule.model_validate({"days": 30, "transition": "GLACIER"}).id
        'transition-glacier-30d'
    """

    id: str
    prefix: str = ""
    transition_days: int | None = None
    storage_class: str | None = None
    expiration_days: int | None = None

    @classmethod
    def _normalize_input(cls, data: dict[str, Any]) -> dict[str, Any]:
        # "days" belongs to whichever action the short forms name.
        days = data.pop("days", None)
        days_used = False
        if "transition" in data:
            transition = data.pop("transition")
            if isinstance(transition, dict):
                transition = dict(transition)
                data.setdefault("transition_days", transition.pop("days", None))
                data.setdefault("storage_class", transition.pop("storage_class", None))
                if transition:
                    raise ConfigError(
                        f"transition: unknown key {next(iter(transition))!r}; a transition is "
                        f"{{'days': 30, 'storage_class': 'GLACIER'}}."
                    )
            else:
                data.setdefault("storage_class", transition)
                data.setdefault("transition_days", days)
                days_used = True
        if "expiration" in data:
            expiration = data.pop("expiration")
            if expiration is True:
                data.setdefault("expiration_days", days)
                days_used = True
            elif isinstance(expiration, dict):
                data.setdefault("expiration_days", expiration.get("days"))
            elif expiration is not False:
                data.setdefault("expiration_days", expiration)
        if days is not None and not days_used:
            if "storage_class" not in data:
                raise ConfigError(
                    f"days={days!r} needs an action: add 'transition': 'GLACIER' or "
                    f"'expiration': True."
                )
            data.setdefault("transition_days", days)
        if "id" not in data:
            data["id"] = cls._derive_id(data)
        return data

    @staticmethod
    def _derive_id(data: dict[str, Any]) -> str:
        parts = [_slug(str(data["prefix"]))] if data.get("prefix") else []
        if data.get("storage_class") is not None:
            parts.append(f"transition-{_slug(str(data['storage_class']))}")
            parts.append(f"{data.get('transition_days')}d")
        if data.get("expiration_days") is not None:
            parts.append(f"expire-{data['expiration_days']}d")
        return "-".join(parts) or "rule"

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not 1 <= len(value) <= 255:
            raise ValueError("a lifecycle rule id is 1 to 255 characters long")
        return value

    @field_validator("transition_days")
    @classmethod
    def _transition_days(cls, value: int | None) -> int | None:
        if value is not None and value < 0:
            raise ValueError("transition days are 0 or more")
        return value

    @field_validator("expiration_days")
    @classmethod
    def _expiration_days(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise ValueError("expiration days are 1 or more")
        return value

    @field_validator("storage_class")
    @classmethod
    def _storage_class(cls, value: str | None) -> str | None:
        known = dict.fromkeys(S3_TRANSITION_CLASSES + GCS_TRANSITION_CLASSES)
        if value is not None and value not in known:
            raise ValueError(f"allowed storage classes are {', '.join(known)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.storage_class is None and self.expiration_days is None:
            raise ConfigError(
                f"lifecycle rule {self.id!r} does nothing: set transition_days and "
                f"storage_class, expiration_days, or both."
            )
        if (self.storage_class is None) != (self.transition_days is None):
            raise ConfigError(
                f"lifecycle rule {self.id!r}: transition_days={self.transition_days!r} and "
                f"storage_class={self.storage_class!r} must be given together."
            )
        if (
            self.transition_days is not None
            and self.expiration_days is not None
            and self.expiration_days <= self.transition_days
        ):
            raise ConfigError(
                f"lifecycle rule {self.id!r}: expiration_days={self.expiration_days} must be "
                f"greater than transition_days={self.transition_days}."
            )
        return self


def _check_rules(rules: list[LifecycleRule], allowed: tuple[str, ...], store: str) -> None:
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        if rule.id in seen:
            raise ConfigError(
                f"lifecycle_rules[{index}].id={rule.id!r} is used twice; rule ids are unique."
            )
        seen.add(rule.id)
        if rule.storage_class is not None and rule.storage_class not in allowed:
            raise ConfigError(
                f"lifecycle_rules[{index}].storage_class={rule.storage_class!r} is not a class "
                f"{store} lifecycle rules move objects to; allowed: {', '.join(allowed)}."
            )


class S3Replication(GlacierModel):
    """Cross-region replication of an S3 bucket into another bucket.

    Example:
        >>> S3Replication(destination_bucket="backup", destination_region="us-west-2").storage_class
        'STANDARD'
    """

    destination_bucket: str
    destination_region: str
    storage_class: S3StorageClass = "STANDARD"

    @field_validator("destination_region")
    @classmethod
    def _region(cls, value: str) -> str:
        from glacier.settings.regions import check_aws_region

        return check_aws_region(value)


class CorsRule(GlacierModel):
    """One CORS rule of a bucket."""

    allowed_methods: list[Literal["GET", "PUT", "POST", "DELETE", "HEAD"]]
    allowed_origins: list[str]
    allowed_headers: list[str] = []
    max_age_seconds: int | None = None


class S3Config(GlacierModel):
    """How an S3 bucket is created: versioning, encryption, storage class, lifecycle.

    Example:
        >>> cfg = S3Config(
        ...     storage_class="INTELLIGENT_TIERING",
        ...     lifecycle_rules=[{"days": 30, "transition": "GLACIER"},
        ...                      {"days": 365, "expiration": True}],
        ... )
        >>> [r.id for r in cfg.lifecycle_rules]
        ['transition-glacier-30d', 'expire-365d']
    """

    _cloud: ClassVar[Cloud | None] = "aws"

    versioning: bool = True
    encryption: Literal["AES256", "aws:kms"] = "AES256"
    kms_key_id: str | None = None
    storage_class: S3StorageClass = "STANDARD"
    lifecycle_rules: list[LifecycleRule] = []
    public_access_block: bool = True
    force_destroy: bool = False
    replication_config: S3Replication | None = None
    cors: list[CorsRule] = []
    tags: AwsTags = {}

    @field_validator("kms_key_id")
    @classmethod
    def _kms_key_id(cls, value: str | None) -> str | None:
        if value is not None and (
            not value.strip() or (value.startswith("arn:") and ":kms:" not in value)
        ):
            raise ValueError(
                "a KMS key is a key id, an 'alias/...' name or a KMS key ARN "
                "('arn:aws:kms:us-east-1:123456789012:key/...')"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.kms_key_id is not None and self.encryption != "aws:kms":
            raise ConfigError(
                f"kms_key_id={self.kms_key_id!r} is only used with encryption='aws:kms' "
                f"(got encryption={self.encryption!r})."
            )
        if self.replication_config is not None and not self.versioning:
            raise ConfigError(
                "replication_config needs versioning=True: S3 replicates object versions. "
                "Turn versioning on, or remove replication_config."
            )
        if self.replication_config is not None and self.encryption == "aws:kms":
            raise ConfigError(
                "replication_config with encryption='aws:kms' is not supported yet (the "
                "replica needs a key in the destination region); use encryption='AES256' on "
                "a replicated bucket, or remove replication_config."
            )
        _check_rules(self.lifecycle_rules, S3_TRANSITION_CLASSES, "S3")
        for index, rule in enumerate(self.lifecycle_rules):
            minimum = _S3_MIN_DAYS.get(rule.storage_class or "", 0)
            if rule.transition_days is not None and rule.transition_days < minimum:
                raise ConfigError(
                    f"lifecycle_rules[{index}].transition_days={rule.transition_days} is too "
                    f"early: S3 moves objects to {rule.storage_class} after {minimum} days at "
                    f"the earliest."
                )
        return self


_GCP_KMS_KEY = re.compile(
    r"projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/locations/[a-z0-9-]+/keyRings/[A-Za-z0-9_-]{1,63}"
    r"/cryptoKeys/[A-Za-z0-9_-]{1,63}"
)


class GcsConfig(GlacierModel):
    """How a Cloud Storage bucket is created.

    Example:
        >>> GcsConfig(storage_class="NEARLINE", labels={"team": "data"}).storage_class
        'NEARLINE'
    """

    _cloud: ClassVar[Cloud | None] = "gcp"

    storage_class: GcsStorageClass = "STANDARD"
    versioning: bool = True
    lifecycle_rules: list[LifecycleRule] = []
    uniform_bucket_level_access: bool = True
    labels: GcpLabels = {}
    #: A Cloud KMS key encrypting the bucket's objects (CMEK), as
    #: ``projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>``; Google-managed keys if unset.
    kms_key_name: str | None = None

    @field_validator("kms_key_name")
    @classmethod
    def _kms_key_name(cls, value: str | None) -> str | None:
        if value is not None and not _GCP_KMS_KEY.fullmatch(value):
            raise ValueError(
                "give the key's full name, 'projects/<project>/locations/<location>/keyRings/"
                "<ring>/cryptoKeys/<key>'"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _check_rules(self.lifecycle_rules, GCS_TRANSITION_CLASSES, "GCS")
        return self


class BlobConfig(GlacierModel):
    """How an Azure Blob Storage container (and its account settings) is created.

    Example:
        >>> BlobConfig(tier="Cool", replication="ZRS").tier
        'Cool'
    """

    _cloud: ClassVar[Cloud | None] = "azure"

    _input_aliases: ClassVar[dict[str, str]] = {"replication_type": "replication"}

    tier: Literal["Hot", "Cool", "Cold", "Archive"] = "Hot"
    replication: Literal["LRS", "ZRS", "GRS", "RAGRS", "GZRS", "RAGZRS"] = "LRS"
    versioning: bool = True
    soft_delete_retention_days: Annotated[int, between(1, 365, "days (Azure's limit)")] = 7
    #: A second layer of encryption at rest (with a separate key), set when the account is
    #: created: it cannot be turned on later.
    infrastructure_encryption: bool = True
    tags: AzureTags = {}


#: The names the design notes use for the same configs.
GCSConfig = GcsConfig
AzureBlobConfig = BlobConfig


class BucketSettings(GlacierModel):
    """A bucket declared in a settings file, e.g. ``[buckets.raw]`` in ``containers/prod.toml``.

    Args:
        bucket_name: The bucket (S3, GCS) or container (Azure) name; checked against the
            environment's cloud when the settings are loaded.
        path: A key prefix inside the bucket.
        format: How datasets in it are stored (a row of :data:`glacier.formats.FORMATS`; a
            directory of parquet, or ``delta``, is a Delta Lake table).
        partition_by: Columns the data is partitioned by.
        read_options, write_options: Keyword arguments of the format's reader and writer
            (``[buckets.raw.read_options] separator = ";"``); checked when the bucket is
            built.
        read_only: Refuse writes and deletes (a source this environment must not change).
        retention_days: How much history vacuum keeps in its tables (Delta's default, 7).
        s3, gcs, blob: The cloud-specific bucket config for this environment's cloud.

    Example:
        >>> BucketSettings(bucket_name="acme-raw", path="sales/", s3=S3Config()).format
        'parquet'
    """

    bucket_name: str
    path: str = ""
    format: Literal[
        "parquet",
        "csv",
        "json",
        "ndjson",
        "xlsx",
        "pickle",
        "joblib",
        "text",
        "json-document",
        "bytes",
        "delta",
    ] = "parquet"
    partition_by: list[str] = Field(default_factory=list)
    read_options: dict[str, Any] = Field(default_factory=dict)
    write_options: dict[str, Any] = Field(default_factory=dict)
    read_only: bool = False
    retention_days: Annotated[int, between(0, 36500, "days")] = 7
    s3: S3Config | None = None
    gcs: GcsConfig | None = None
    blob: BlobConfig | None = None

    @field_validator("bucket_name")
    @classmethod
    def _bucket_name(cls, value: str) -> str:
        if not value or "/" in value or value != value.strip():
            raise ValueError(
                "a bucket name is a single non-empty name without '/' or surrounding spaces "
                "(put the rest in path=)"
            )
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if value.startswith("/") or ".." in value.split("/"):
            raise ValueError("a path is relative to the bucket: no leading '/' and no '..'")
        return value

    @field_validator("partition_by")
    @classmethod
    def _partition_by(cls, value: list[str]) -> list[str]:
        if any(not column for column in value) or len(set(value)) != len(value):
            raise ValueError("partition columns are non-empty and each listed once")
        return value

"""settings/storage.py: bucket configs per cloud, their lifecycle rules, and named buckets."""

from __future__ import annotations

from typing import Any

import pytest

from glacier.settings import (
    AzureBlobConfig,
    BlobConfig,
    BucketSettings,
    GCSConfig,
    GcsConfig,
    LifecycleRule,
    S3Config,
)

from .conftest import config_error


def test_s3_literals_suggest_the_closest_value() -> None:
    config_error(
        lambda: S3Config(encryption="aws:km"),
        "S3Config: encryption='aws:km' is invalid: allowed values are 'AES256' or 'aws:kms'",
        "did you mean 'aws:kms'?",
    )
    config_error(
        lambda: S3Config(storage_class="GLACIER_DEEP"),
        "storage_class='GLACIER_DEEP' is invalid",
        "'INTELLIGENT_TIERING'",
    )


def test_s3_kms_key_only_with_kms_encryption() -> None:
    assert S3Config(encryption="aws:kms", kms_key_id="alias/data").kms_key_id == "alias/data"
    config_error(
        lambda: S3Config(kms_key_id="alias/data"),
        "kms_key_id='alias/data' is only used with encryption='aws:kms'",
        "encryption='AES256'",
    )


def test_lifecycle_rules_accept_the_seed_shapes() -> None:
    config = S3Config(
        lifecycle_rules=[
            {"id": "archive", "transition": {"days": 30, "storage_class": "GLACIER"}},
            {"days": 60, "transition": "DEEP_ARCHIVE"},
            {"days": 90, "expiration": True},
            LifecycleRule(id="logs", prefix="logs/", expiration_days=7),
        ]
    )

    assert config.lifecycle_rules == [
        LifecycleRule(id="archive", transition_days=30, storage_class="GLACIER"),
        LifecycleRule(
            id="transition-deep-archive-60d", transition_days=60, storage_class="DEEP_ARCHIVE"
        ),
        LifecycleRule(id="expire-90d", expiration_days=90),
        LifecycleRule(id="logs", prefix="logs/", expiration_days=7),
    ]


@pytest.mark.parametrize(
    ("rule", "fragments"),
    [
        ({"days": 30}, ("lifecycle_rules[0]: days=30 needs an action",)),
        ({"days": 30, "transition": "FROZEN"}, ("storage_class='FROZEN' is invalid", "GLACIER")),
        (
            {"days": 30, "transition": "NEARLINE"},
            ("lifecycle_rules[0].storage_class='NEARLINE'", "STANDARD_IA, ONEZONE_IA"),
        ),
        (
            {"days": 10, "transition": "STANDARD_IA"},
            ("lifecycle_rules[0].transition_days=10", "after 30 days"),
        ),
        ({"days": -1, "transition": "GLACIER"}, ("transition_days=-1 is invalid", "0 or more")),
        ({"days": 0, "expiration": True}, ("expiration_days=0 is invalid", "1 or more")),
        (
            {"id": "x", "transition_days": 90, "storage_class": "GLACIER", "expiration_days": 30},
            ("expiration_days=30 must be greater than transition_days=90",),
        ),
        ({"id": "x", "prefix": "tmp/"}, ("lifecycle rule 'x' does nothing",)),
        (
            {"id": "x", "storage_class": "GLACIER", "expiration_days": 90},
            ("transition_days=None and storage_class='GLACIER' must be given together",),
        ),
        ({"transition": {"dayz": 30}}, ("unknown key 'dayz'",)),
    ],
)
def test_bad_lifecycle_rules(rule: dict[str, Any], fragments: tuple[str, ...]) -> None:
    config_error(lambda: S3Config(lifecycle_rules=[rule]), "S3Config: ", *fragments)


def test_lifecycle_rule_ids_are_unique() -> None:
    rules = [{"days": 90, "expiration": True}, {"days": 90, "expiration": True}]
    config_error(
        lambda: S3Config(lifecycle_rules=rules), "lifecycle_rules[1].id='expire-90d' is used twice"
    )


def test_gcs_config() -> None:
    assert GCSConfig is GcsConfig
    config = GcsConfig(
        storage_class="NEARLINE", lifecycle_rules=[{"days": 30, "transition": "COLDLINE"}]
    )
    assert config.lifecycle_rules[0].storage_class == "COLDLINE"
    config_error(
        lambda: GcsConfig(storage_class="GLACIER"),
        "storage_class='GLACIER' is invalid: allowed values are 'STANDARD', 'NEARLINE'",
    )
    config_error(
        lambda: GcsConfig(lifecycle_rules=[{"days": 30, "transition": "GLACIER"}]),
        "lifecycle_rules[0].storage_class='GLACIER'",
        "NEARLINE, COLDLINE, ARCHIVE",
    )


def test_blob_config() -> None:
    assert AzureBlobConfig is BlobConfig
    assert BlobConfig(tier="Cool", replication="RAGZRS").tier == "Cool"
    config_error(lambda: BlobConfig(tier="hot"), "tier='hot' is invalid", "'Hot'")
    config_error(lambda: BlobConfig(replication="RA-GRS"), "replication='RA-GRS'", "'RAGRS'")
    for days in (0, 366):
        config_error(
            lambda days=days: BlobConfig(soft_delete_retention_days=days),
            f"soft_delete_retention_days={days} is invalid: allowed range is 1 to 365 days",
        )


def test_bucket_settings() -> None:
    bucket = BucketSettings(bucket_name="acme-raw", path="sales/", partition_by=["day"])
    assert bucket.format == "parquet"
    config_error(lambda: BucketSettings(bucket_name="a/b"), "bucket_name='a/b' is invalid")
    config_error(lambda: BucketSettings(bucket_name="a", path="/abs"), "path='/abs' is invalid")
    config_error(
        lambda: BucketSettings(bucket_name="a", format="xlsx"),
        "format='xlsx' is invalid: allowed values are "
        "'parquet', 'csv', 'json', 'ndjson' or 'delta'",
    )

"""Cloud Storage buckets of an environment: Glacier's, with security defaults, and the
artifacts bucket in-memory datasets travel through between tasks.

Every bucket Glacier declares has uniform bucket-level access (IAM only, no object ACLs:
what the conditional bindings of :mod:`glacier.infra.gcp.data_access` need), public access
prevention enforced, versioning, lifecycle rules and the storage class of its
:class:`~glacier.settings.GcsConfig`, CMEK when the config names a key, and labels from the
environment's tags and the config's labels. The artifacts bucket holds transient data: its
objects, and their noncurrent versions, expire after :data:`ARTIFACT_RETENTION_DAYS`.
"""

from __future__ import annotations

from typing import Any

from glacier.errors import InfraError
from glacier.infra.gcp.labels import labels_of
from glacier.infra.gcp.stack import GcpStack, add, logical_name
from glacier.infra.model import Store

__all__ = ["ARTIFACT_RETENTION_DAYS", "bucket"]

#: Days the artifacts bucket keeps in-memory datasets passed between tasks.
ARTIFACT_RETENTION_DAYS = 7


def bucket(stack: GcpStack, store: Store) -> Any:
    """Declare ``store``'s bucket (see the module docs)."""
    from glacier.settings import GcsConfig

    cfg = store.config if store.config is not None else GcsConfig()
    if not isinstance(cfg, GcsConfig):
        raise InfraError(
            f"Bucket {store.bucket_name!r} in GCP environment {store.env!r} has a "
            f"{type(cfg).__name__}; a GCS bucket takes GcsConfig (env.storage.gcs(...))."
        )
    if not cfg.uniform_bucket_level_access:
        raise InfraError(
            f"Bucket {store.bucket_name!r} in GCP environment {store.env!r} sets "
            "uniform_bucket_level_access = false, but Glacier grants each task access by IAM "
            "Conditions on object names, which need uniform bucket-level access (object "
            "ACLs would bypass them). Remove uniform_bucket_level_access from its GcsConfig."
        )
    gcp = stack.gcp
    labels = (
        labels_of({**dict(store.tags), **cfg.labels}, f"bucket {store.bucket_name!r}")
        | stack.labels
    )
    expire = gcp.storage.BucketLifecycleRuleActionArgs(type="Delete")
    rules = (
        [  # transient data: gone after the retention, and so are its older versions
            gcp.storage.BucketLifecycleRuleArgs(
                action=expire,
                condition=gcp.storage.BucketLifecycleRuleConditionArgs(age=ARTIFACT_RETENTION_DAYS),
            ),
            gcp.storage.BucketLifecycleRuleArgs(
                action=expire,
                condition=gcp.storage.BucketLifecycleRuleConditionArgs(
                    days_since_noncurrent_time=ARTIFACT_RETENTION_DAYS
                ),
            ),
        ]
        if store.kind == "artifacts"
        else []
    )
    for rule in cfg.lifecycle_rules:
        prefixes = [rule.prefix] if rule.prefix else None
        if rule.storage_class is not None:
            rules.append(
                gcp.storage.BucketLifecycleRuleArgs(
                    action=gcp.storage.BucketLifecycleRuleActionArgs(
                        type="SetStorageClass", storage_class=rule.storage_class
                    ),
                    condition=gcp.storage.BucketLifecycleRuleConditionArgs(
                        age=rule.transition_days, matches_prefixes=prefixes
                    ),
                )
            )
        if rule.expiration_days is not None:
            rules.append(
                gcp.storage.BucketLifecycleRuleArgs(
                    action=gcp.storage.BucketLifecycleRuleActionArgs(type="Delete"),
                    condition=gcp.storage.BucketLifecycleRuleConditionArgs(
                        age=rule.expiration_days, matches_prefixes=prefixes
                    ),
                )
            )
    encryption = (
        gcp.storage.BucketEncryptionArgs(default_kms_key_name=cfg.kms_key_name)
        if cfg.kms_key_name
        else None
    )
    name = store.key.split(":", 1)[-1]
    made = add(
        stack,
        gcp.storage.Bucket,
        logical_name(stack, name),
        name=store.bucket_name,
        location=stack.region.upper(),
        storage_class=cfg.storage_class,
        uniform_bucket_level_access=True,
        public_access_prevention="enforced",
        versioning=gcp.storage.BucketVersioningArgs(enabled=cfg.versioning),
        lifecycle_rules=rules or None,
        encryption=encryption,
        labels=labels,
    )
    stack.out.buckets[store.key] = made
    return made

"""S3 replication: a bucket's objects copied into another bucket, with the role S3 copies as.

From :class:`~glacier.settings.S3Replication` (``S3Config.replication_config``): a
replication configuration on the source bucket (every object, delete markers too, written in
the destination with the configured storage class) and an IAM role S3 assumes, allowed to
read the source's versions and to replicate into the destination bucket only. The
destination bucket is not declared by Glacier (it lives in another region, often another
stack): it must exist with versioning on.

Example:
    >>> replication_policy("aws", "lake", "lake-backup")["Statement"][2]["Resource"]
    ['arn:aws:s3:::lake-backup/*']
"""

from __future__ import annotations

import json
from typing import Any

from glacier.infra import iam
from glacier.infra.aws.naming import partition_of
from glacier.infra.aws.stack import Stack, add, logical_name
from glacier.infra.model import Store, physical_name


def replication_policy(partition: str, source: str, destination: str) -> dict[str, Any]:
    """What S3 needs to replicate ``source`` into ``destination``, on those two buckets."""
    src, dst = f"arn:{partition}:s3:::{source}", f"arn:{partition}:s3:::{destination}"
    return iam.document(
        [
            iam.statement(
                "SourceBucket", ["s3:GetReplicationConfiguration", "s3:ListBucket"], [src]
            ),
            iam.statement(
                "SourceObjects",
                [
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionTagging",
                ],
                [f"{src}/*"],
            ),
            iam.statement(
                "Destination",
                ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"],
                [f"{dst}/*"],
            ),
        ]
    )


def replication(stack: Stack, store: Store, bucket: Any, versioning: Any, cfg: Any) -> None:
    """Declare the replication role and configuration of ``store``'s bucket."""
    aws, rep = stack.aws, cfg.replication_config
    name = str(store.bucket_name)
    role = add(
        stack,
        aws.iam.Role,
        logical_name(stack, name, "replication-role"),
        name=physical_name(stack.env.naming_prefix, name, "replication"),
        assume_role_policy=json.dumps(iam.trust_policy(service="s3.amazonaws.com")),
        description=f"S3 replication of bucket {name} into {rep.destination_bucket}",
        tags=stack.tags,
    )
    policy = add(
        stack,
        aws.iam.RolePolicy,
        logical_name(stack, name, "replication-policy"),
        name="glacier-replication",
        role=role.id,
        policy=json.dumps(
            replication_policy(partition_of(stack.env), name, rep.destination_bucket)
        ),
    )
    add(
        stack,
        aws.s3.BucketReplicationConfig,
        logical_name(stack, name, "replication"),
        depends_on=[versioning, policy],
        bucket=bucket.id,
        role=role.arn,
        rules=[
            aws.s3.BucketReplicationConfigRuleArgs(
                id=f"replicate-to-{rep.destination_bucket}",
                status="Enabled",
                filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
                delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
                    status="Enabled"
                ),
                destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                    bucket=f"arn:{partition_of(stack.env)}:s3:::{rep.destination_bucket}",
                    storage_class=rep.storage_class,
                ),
            )
        ],
    )

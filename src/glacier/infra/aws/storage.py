"""S3 buckets of an environment: the bucket, its security defaults, lifecycle and policy.

Each bucket Glacier manages gets versioning, server-side encryption, a public-access block
(all on by default, from its :class:`~glacier.settings.S3Config`), its CORS rules and
replication (:mod:`~glacier.infra.aws.replication`) when configured, lifecycle rules (the
configured ones, a transition to the bucket's storage class, and for the artifacts bucket the
expiry of what runs leave behind) and a bucket policy: TLS only, plus the grants to task roles
of other accounts that read or write its data.
"""

from __future__ import annotations

from typing import Any

from glacier.errors import InfraError
from glacier.infra import iam
from glacier.infra.aws.data_access import storage_statements
from glacier.infra.aws.naming import account_root, bucket_arn, role_arn, task_role_name
from glacier.infra.aws.replication import replication
from glacier.infra.aws.stack import Stack, add, json_input, logical_name
from glacier.infra.model import Store

#: How long transient artifacts (in-memory datasets passed between tasks) are kept.
ARTIFACT_RETENTION_DAYS = 7


def store_arn(stack: Stack, store: Store) -> Any:
    """The ARN of the bucket behind ``store``: the raw Pulumi resource's output, or computed."""
    if store.kind == "raw":
        arn = getattr(store.resource, "arn", None)
        if arn is None:
            raise InfraError(
                f"The Pulumi resource behind datasets {', '.join(store.datasets)} "
                f"({type(store.resource).__name__}) has no 'arn' output; use an "
                "aws.s3.Bucket (or BucketV2) as a dataset's storage."
            )
        return arn
    return bucket_arn(stack.model.envs[store.env], str(store.bucket_name))


def bucket(stack: Stack, store: Store) -> None:
    """Declare ``store``'s bucket with its versioning, encryption, public-access block,
    lifecycle rules and policy."""
    aws = stack.aws
    from glacier.settings import S3Config

    cfg = store.config if isinstance(store.config, S3Config) else S3Config()
    name = str(store.bucket_name)
    tags = {**{k: v for k, v in store.tags if stack.env.tag_map.get(k) != v}, **cfg.tags}
    made = add(
        stack,
        aws.s3.Bucket,
        logical_name(stack, name),
        bucket=name,
        force_destroy=cfg.force_destroy or store.kind == "artifacts",
        tags={**stack.tags, **tags},
    )
    stack.out.buckets[store.key] = made
    versioning = None
    if cfg.versioning:
        versioning = add(
            stack,
            aws.s3.BucketVersioning,
            logical_name(stack, name, "versioning"),
            bucket=made.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
        )
    sse = aws.s3
    default = sse.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
        sse_algorithm=cfg.encryption, kms_master_key_id=cfg.kms_key_id
    )
    add(
        stack,
        aws.s3.BucketServerSideEncryptionConfiguration,
        logical_name(stack, name, "encryption"),
        bucket=made.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=default,
                bucket_key_enabled=cfg.encryption == "aws:kms" or None,
            )
        ],
    )
    if cfg.public_access_block:
        add(
            stack,
            aws.s3.BucketPublicAccessBlock,
            logical_name(stack, name, "public-access-block"),
            bucket=made.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
    if cfg.cors:
        add(
            stack,
            aws.s3.BucketCorsConfiguration,
            logical_name(stack, name, "cors"),
            bucket=made.id,
            cors_rules=[
                aws.s3.BucketCorsConfigurationCorsRuleArgs(
                    allowed_methods=list(rule.allowed_methods),
                    allowed_origins=list(rule.allowed_origins),
                    allowed_headers=list(rule.allowed_headers) or None,
                    max_age_seconds=rule.max_age_seconds,
                )
                for rule in cfg.cors
            ],
        )
    if cfg.replication_config is not None:
        replication(stack, store, made, versioning, cfg)
    rules = lifecycle_rules(stack, store, cfg)
    if rules:
        add(
            stack,
            aws.s3.BucketLifecycleConfiguration,
            logical_name(stack, name, "lifecycle"),
            bucket=made.id,
            rules=rules,
        )
    add(
        stack,
        aws.s3.BucketPolicy,
        logical_name(stack, name, "policy"),
        bucket=made.id,
        policy=json_input(stack, bucket_policy(stack, store)),
    )


def lifecycle_rules(stack: Stack, store: Store, cfg: Any) -> list[Any]:
    """The configured rules, the move to the bucket's storage class, and in the artifacts
    bucket the expiry of transient data and of incomplete uploads."""
    aws = stack.aws
    rules = []
    for rule in cfg.lifecycle_rules:
        transitions = None
        if rule.storage_class is not None:
            transitions = [
                aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                    days=rule.transition_days, storage_class=rule.storage_class
                )
            ]
        expiration = None
        if rule.expiration_days is not None:
            expiration = aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                days=rule.expiration_days
            )
        rules.append(
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id=rule.id,
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=rule.prefix),
                transitions=transitions,
                expiration=expiration,
            )
        )
    if cfg.storage_class != "STANDARD":
        # Objects are written as STANDARD; the bucket's class is reached by a transition
        # (immediately where S3 allows it, after its minimum age otherwise).
        days = 30 if cfg.storage_class in ("STANDARD_IA", "ONEZONE_IA") else 0
        rules.append(
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id=f"storage-class-{cfg.storage_class.lower().replace('_', '-')}",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                transitions=[
                    aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                        days=days, storage_class=cfg.storage_class
                    )
                ],
            )
        )
    if store.kind == "artifacts":
        # What runs leave behind expires; the Glue jobs' code (code_prefix) stays.
        for prefix in transient_prefixes(stack, store):
            rules.append(
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id=f"expire-{prefix.strip('/').replace('/', '-')}",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=prefix),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=ARTIFACT_RETENTION_DAYS
                    ),
                )
            )
        rules.append(
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="abort-incomplete-uploads",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=1
                ),
            )
        )
    return rules


def transient_prefixes(stack: Stack, store: Store) -> list[str]:
    """Where runs leave in-memory datasets in an artifacts bucket, and stage writes."""
    from glacier.adapters.bucket import TMP_DIR

    datasets = {
        g.location.prefix
        for t in stack.model.tasks
        for g in t.grants
        if g.location.store == store.key and g.location.is_artifact
    }
    return [*sorted(datasets), f"{TMP_DIR}/"]


def bucket_policy(stack: Stack, store: Store) -> dict[str, Any]:
    """TLS only; and for each task of another account reaching this bucket, exactly its
    grants, to exactly its role."""
    model = stack.model
    arn = stack.store_arns[store.key]
    statements = [
        iam.statement(
            "DenyInsecureTransport",
            ["s3:*"],
            [arn, f"{arn}/*"],
            effect="Deny",
            principal="*",
            condition={"Bool": {"aws:SecureTransport": "false"}},
        )
    ]
    for access in model.cross_account_into(stack.env.key):
        grants = tuple(g for g in access.grants if g.location.store == store.key)
        if not grants:
            continue
        task_env = model.envs[access.task_env]
        role = role_arn(task_env, task_role_name(model, task_env, access.task))
        who = {"ArnEquals": {"aws:PrincipalArn": [role]}}
        label = f"{access.task} from {task_env.account_id}"
        for stmt in storage_statements(stack, grants, label, kms=False):
            stmt["Principal"] = {"AWS": account_root(task_env)}
            stmt["Condition"] = {**who, **stmt.get("Condition", {})}
            statements.append(_principal_first(stmt))
    return iam.document(statements)


def _principal_first(stmt: dict[str, Any]) -> dict[str, Any]:
    """The statement's keys in the order AWS documents them (readable in the console)."""
    order = ("Sid", "Effect", "Principal", "Action", "Resource", "Condition")
    return {k: stmt[k] for k in order if k in stmt}

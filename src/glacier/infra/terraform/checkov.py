"""The checkov checks a generated configuration skips on purpose, each with its reason.

checkov's JSON runner ignores inline skip markers, so the exceptions are a ``.checkov.yaml``
written beside the files (``checkov -d DIR`` reads it, framework included) and listed,
with the same reasons, in ``docs/deploying.md``.
"""

from __future__ import annotations

from collections.abc import Mapping

#: checkov check id -> why Glacier's infrastructure does not follow it (checked with checkov
#: 3.3.30 on the seed and example pipelines: 0 failed with these skipped).
SKIPPED_CHECKS: Mapping[str, str] = {
    "CKV_AWS_18": "S3 access logging needs a log bucket of your own (or CloudTrail data "
    "events); Glacier declares no bucket it would have to guess",
    "CKV_AWS_144": "cross-region replication doubles storage; it is set per bucket by its "
    "config's replication settings",
    "CKV_AWS_145": "buckets are encrypted with SSE-S3 (AES256) by default; SSE-KMS needs a key "
    "you own granted to every task role",
    "CKV2_AWS_61": "lifecycle rules come from the bucket's config (lifecycle_rules=); without "
    "any, every version is kept on purpose",
    "CKV2_AWS_62": "nothing consumes bucket events: the state machine orchestrates the tasks",
    "CKV_AWS_300": "lifecycle rules come from the bucket's config, and LifecycleRule has no "
    "abort-incomplete-multipart setting yet (adding one lifts this skip)",
    "CKV_AWS_50": "X-Ray tracing is billed per trace; Glacier records each run's tasks, "
    "timings, attempts and logs itself",
    "CKV_AWS_115": "reserved concurrency comes from LambdaConfig (reserved_concurrent_"
    "executions); reserving it by default would take it from the account's pool",
    "CKV_AWS_116": "Step Functions invokes the functions synchronously and retries them; a "
    "dead-letter queue applies to asynchronous invocations only",
    "CKV_AWS_117": "functions run in the environment's subnets when it has a network "
    "(vpc_id, subnet_ids); without one they reach S3 over TLS only (bucket policies deny "
    "insecure transport)",
    "CKV_AWS_173": "environment variables are encrypted at rest with the AWS managed key; "
    "they hold settings and names, never secret values (read from Secrets Manager at run time)",
    "CKV_AWS_45": "GLACIER_SETTINGS and GLACIER_ARTIFACTS hold settings, bucket URIs and the "
    "names of secrets, never their values",
    "CKV_AWS_272": "code signing needs an AWS Signer profile of yours; the code package is "
    "built by glacier package from the pipeline's own files",
    "CKV_AWS_158": "CloudWatch Logs encrypts log groups by default; a customer key needs a "
    "key policy for the logs service",
    "CKV_AWS_338": "task logs are kept 30 days to bound cost; run records live in Glacier's "
    "run store",
    "CKV_AWS_284": "X-Ray tracing of the state machine is billed per trace; Glacier records "
    "runs itself",
    "CKV_AWS_285": "Step Functions keeps 90 days of execution history; logging executions to "
    "CloudWatch is left to you",
    "CKV_AWS_61": "a cross-account trust names the other account's root with an "
    "aws:PrincipalArn condition limiting it to the one task role (the pattern AWS documents); "
    "checkov reads the root principal alone",
    "CKV_AWS_65": "Container Insights is billed per metric; Glacier records task logs and "
    "timings itself",
    "CKV_AWS_195": "a Glue security configuration needs a KMS key of yours; Glue writes to "
    "buckets encrypted by default",
    "CKV_AWS_161": "RDS IAM authentication is on when the database's settings name an "
    "iam_database_user; otherwise tasks read the master secret from Secrets Manager",
    "CKV_AWS_118": "RDS enhanced monitoring needs a monitoring role and is billed; the "
    "database settings have no switch for it yet",
    "CKV_AWS_129": "RDS log exports are billed per GB; the database settings have no switch "
    "for them yet",
    "CKV2_AWS_30": "Postgres query logging needs a parameter group; the database settings "
    "have none yet",
    "CKV_AWS_353": "RDS Performance Insights is billed beyond its free tier; the database "
    "settings have no switch for it yet",
    "CKV_AWS_226": "minor version upgrades are left to AWS's default for RDS (on), not written out",
    "CKV_AWS_184": "storage is encrypted with the AWS managed key; a customer key needs a key "
    "you own and its grants",
    "CKV_AWS_136": "ECR repositories (a task's container image) are encrypted with AES256, "
    "ECR's default; a customer key needs a key you own and grants to the pulling roles",
    "CKV_AWS_119": "DynamoDB tables are encrypted at rest with server-side encryption on; a "
    "customer key needs a key you own",
    "CKV_AWS_149": "Secrets Manager encrypts with the AWS managed key; a customer key needs a "
    "key you own and grants to every task role",
    "CKV2_AWS_57": "the plan declares the secret, never its value (you put it); rotation needs "
    "a rotation function of yours",
    # GCP (checked with checkov 3.3.30 on the GCP test pipelines and switch_clouds.py's).
    "CKV_GCP_62": "GCS usage logging needs a log bucket of your own (or Cloud Audit Logs data "
    "access logs); Glacier declares no bucket it would have to guess",
    "CKV_GCP_84": "Artifact Registry encrypts images with a Google-managed key; a customer key "
    "(CMEK) needs a key you own granted to the Artifact Registry service agent",
    "CKV_GCP_6": "Cloud SQL requires TLS on every connection (ssl_mode ENCRYPTED_ONLY); "
    "checkov passes only TRUSTED_CLIENT_CERTIFICATE_REQUIRED, a client certificate per "
    "connection (the Cloud SQL connectors' ephemeral ones), while tasks connect with libpq "
    "over the private IP and sign in with their service account's IAM token",
    # Azure (checked with checkov 3.3.30 on the Azure test pipelines: lake, cross-subscription,
    # Key Vault secret, seed-pattern variants).
    "CKV2_AZURE_1": "storage is encrypted with Microsoft-managed keys (and infrastructure "
    "encryption); a customer key needs a Key Vault key you own and the account's identity",
    "CKV2_AZURE_21": "blob read logging needs a diagnostic setting and a Log Analytics "
    "workspace of yours; Glacier records each run's tasks and reads itself",
    "CKV_AZURE_33": "Glacier uses no storage queues; queue logging would log nothing",
    "CKV2_AZURE_33": "the environment has no virtual network yet: tasks reach storage over "
    "its public endpoint with Entra ID only (shared keys off, TLS 1.2, no public blobs)",
    "CKV_AZURE_59": "the environment has no virtual network yet: Container Apps jobs reach "
    "storage over its public endpoint, with Entra ID only (shared keys off)",
    "CKV_AZURE_206": "replication comes from the storage config (BlobConfig(replication=...), "
    "LRS by default); geo-replication doubles storage cost",
    "CKV2_AZURE_32": "the environment has no virtual network yet: tasks read secrets over the "
    "vault's public endpoint, with Entra ID RBAC per secret",
    "CKV_AZURE_109": "the environment has no virtual network yet: a default-deny firewall would "
    "shut out the Container Apps jobs reading their secrets",
    "CKV_AZURE_189": "the environment has no virtual network yet: the jobs reach the vault over "
    "its public endpoint, with Entra ID RBAC per secret",
    "CKV_AZURE_139": "the registry is Basic (the jobs pull with their managed identity, "
    "AcrPull); disabling public access needs Premium and a private endpoint",
    "CKV_AZURE_163": "image vulnerability scanning is Microsoft Defender for Containers, a plan "
    "of your subscription, not of a registry",
    "CKV_AZURE_164": "content trust needs a Premium registry and signed pushes; images are built "
    "from the pipeline's own files by glacier's Dockerfile",
    "CKV_AZURE_165": "geo-replication needs a Premium registry; the jobs run in one location",
    "CKV_AZURE_166": "quarantine needs a Premium registry and a scanner of yours",
    "CKV_AZURE_167": "untagged-manifest retention needs a Premium registry; images are tagged "
    "by their content hash",
    "CKV_AZURE_233": "zone redundancy needs a Premium registry; a lost zone delays a run, it "
    "loses no data",
    "CKV_AZURE_237": "dedicated data endpoints need a Premium registry",
    "CKV2_AZURE_57": "a flexible server is private through VNet integration (a delegated "
    "subnet, public access off, a private DNS zone); private endpoints are for servers "
    "with public access, the other model",
    "CKV2_AZURE_31": "the subnets Glacier creates hold only the delegated Container Apps "
    "environment (internal) and flexible servers (no public access); associate a network "
    "security group of yours if your rules need one",
}


def checkov_config() -> str:
    """The ``.checkov.yaml`` of a generated directory."""
    lines = ["framework:", "  - terraform_json"]
    if SKIPPED_CHECKS:
        lines.append("skip-check:")
        for check, why in SKIPPED_CHECKS.items():
            lines.append(f"  - {check}  # {why}")  # YAML comments: checkov reads the ids
    return "\n".join(lines) + "\n"

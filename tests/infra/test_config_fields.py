"""Nothing accepted and dropped: every field of every config model either reaches the plan,
is used at run time (by the test named), or is listed as refused or informational, with why.

The planned fields are checked on one plan in which every planned option holds a value other
than its default (``every_option_pipeline``): each check finds that value in the resource it
configures. A field added to a config without a row here fails
``test_every_config_field_is_accounted_for``.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

import glacier.settings as settings_module
from glacier import Dataset
from glacier.infra import Plan, PlannedResource, plan
from glacier.task_options import TASK_OPTIONS
from infra.pipelines import every_option_pipeline

Check = Callable[[Plan], bool]

BUCKET_A, BUCKET_B = "prod-every-a", "prod-every-b"


def one(p: Plan, type_: str, **inputs: Any) -> PlannedResource:
    """The resource of ``type_`` whose inputs include ``inputs``."""
    found = [r for r in p.of_type(type_) if all(r.inputs.get(k) == v for k, v in inputs.items())]
    assert len(found) == 1, (type_, inputs, [r.name for r in p.of_type(type_)])
    return found[0]


def bucket_part(kind: str, bucket: str) -> Callable[[Plan], PlannedResource]:
    return lambda p: one(p, f"aws:s3/{kind}", bucket=bucket)


def fn(p: Plan, task: str = "on_lambda") -> dict[str, Any]:
    return dict(p.get("aws:lambda/function:Function", f"prod-{task}-function").inputs)


def ecs(p: Plan, task: str = "on_ecs") -> dict[str, Any]:
    return dict(
        p.get("aws:ecs/taskDefinition:TaskDefinition", f"prod-{task}-task-definition").inputs
    )


def container(p: Plan) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(ecs(p)["containerDefinitions"])[0]
    return found


def glue(p: Plan) -> dict[str, Any]:
    return dict(p.get("aws:glue/job:Job", "prod-on_glue-job").inputs)


def rds(p: Plan) -> dict[str, Any]:
    return dict(one(p, "aws:rds/instance:Instance").inputs)


def table(p: Plan) -> dict[str, Any]:
    return dict(one(p, "aws:dynamodb/table:Table").inputs)


def efs(p: Plan) -> dict[str, Any]:
    return dict(one(p, "aws:efs/fileSystem:FileSystem").inputs)


def lifecycle(p: Plan) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = bucket_part(
        "bucketLifecycleConfiguration:BucketLifecycleConfiguration", BUCKET_A
    )(p).inputs["rules"]
    return rules


def replication_rule(p: Plan) -> dict[str, Any]:
    rule: dict[str, Any] = one(p, "aws:s3/bucketReplicationConfig:BucketReplicationConfig").inputs[
        "rules"
    ][0]
    return rule


def cors(p: Plan) -> dict[str, Any]:
    found: dict[str, Any] = one(p, "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration").inputs[
        "corsRules"
    ][0]
    return found


def task_policy_text(p: Plan, task: str) -> str:
    return json.dumps(p.get("aws:iam/rolePolicy:RolePolicy", f"prod-{task}-policy").policy())


def _sse(p: Plan, bucket: str) -> dict[str, Any]:
    kind = "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    rule: dict[str, Any] = bucket_part(kind, bucket)(p).inputs["rules"][0]
    return dict(rule["applyServerSideEncryptionByDefault"])


#: Planned fields: what the non-default value of each looks like in the plan.
PLANNED: dict[tuple[str, str], Check] = {
    ("S3Config", "versioning"): lambda p: (
        not any(
            r.inputs.get("bucket") == BUCKET_B
            for r in p.of_type("aws:s3/bucketVersioning:BucketVersioning")
        )
    ),
    ("S3Config", "encryption"): lambda p: _sse(p, BUCKET_B)["sseAlgorithm"] == "aws:kms",
    ("S3Config", "kms_key_id"): lambda p: _sse(p, BUCKET_B)["kmsMasterKeyId"] == "alias/lake",
    ("S3Config", "storage_class"): lambda p: any(
        t["storageClass"] == "INTELLIGENT_TIERING"
        for r in lifecycle(p)
        for t in r.get("transitions", [])
    ),
    ("S3Config", "lifecycle_rules"): lambda p: any(
        r["id"] == "old" and r["expiration"]["days"] == 90 for r in lifecycle(p)
    ),
    ("S3Config", "public_access_block"): lambda p: (
        not any(
            r.inputs.get("bucket") == BUCKET_A
            for r in p.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
        )
    ),
    ("S3Config", "force_destroy"): lambda p: (
        one(p, "aws:s3/bucket:Bucket", bucket=BUCKET_A).inputs["forceDestroy"] is True
    ),
    ("S3Config", "replication_config"): lambda p: replication_rule(p)["status"] == "Enabled",
    ("S3Config", "cors"): lambda p: bool(cors(p)),
    ("S3Config", "tags"): lambda p: (
        one(p, "aws:s3/bucket:Bucket", bucket=BUCKET_A).inputs["tags"]["tier"] == "bucket"
    ),
    ("S3Replication", "destination_bucket"): lambda p: (
        replication_rule(p)["destination"]["bucket"] == "arn:aws:s3:::prod-replica"
    ),
    ("S3Replication", "storage_class"): lambda p: (
        replication_rule(p)["destination"]["storageClass"] == "STANDARD_IA"
    ),
    ("CorsRule", "allowed_methods"): lambda p: cors(p)["allowedMethods"] == ["GET"],
    ("CorsRule", "allowed_origins"): lambda p: cors(p)["allowedOrigins"] == ["https://example.com"],
    ("CorsRule", "allowed_headers"): lambda p: cors(p)["allowedHeaders"] == ["x-amz-date"],
    ("CorsRule", "max_age_seconds"): lambda p: cors(p)["maxAgeSeconds"] == 600,
    ("LifecycleRule", "id"): lambda p: any(r["id"] == "old" for r in lifecycle(p)),
    ("LifecycleRule", "prefix"): lambda p: any(
        r["filter"]["prefix"] == "logs/" for r in lifecycle(p)
    ),
    ("LifecycleRule", "expiration_days"): lambda p: any(
        r.get("expiration", {}).get("days") == 90 for r in lifecycle(p)
    ),
    ("LambdaConfig", "memory"): lambda p: fn(p)["memorySize"] == 1024,
    ("LambdaConfig", "timeout"): lambda p: fn(p)["timeout"] == 61,
    ("LambdaConfig", "runtime"): lambda p: fn(p)["runtime"] == "python3.12",
    ("LambdaConfig", "architecture"): lambda p: fn(p)["architectures"] == ["arm64"],
    ("LambdaConfig", "environment_vars"): lambda p: (
        fn(p)["environment"]["variables"]["MODE"] == "every"
    ),
    ("LambdaConfig", "layers"): lambda p: (
        # After Glacier's own dependencies layer, which every function gets first.
        fn(p)["layers"][1:] == ["arn:aws:lambda:ca-central-1:999999999999:layer:polars:3"]
    ),
    ("LambdaConfig", "reserved_concurrent_executions"): lambda p: (
        fn(p)["reservedConcurrentExecutions"] == 3
    ),
    ("LambdaConfig", "ephemeral_storage"): lambda p: fn(p)["ephemeralStorage"]["size"] == 1024,
    ("LambdaConfig", "function_name"): lambda p: fn(p)["name"] == "every-option-fn",
    ("LambdaConfig", "package_type"): lambda p: fn(p)["packageType"] == "Zip",
    ("LambdaConfig", "tags"): lambda p: fn(p)["tags"]["tier"] == "fn",
    ("EcsConfig", "image"): lambda p: container(p)["image"].endswith("/etl:1"),
    ("EcsConfig", "cpu"): lambda p: ecs(p)["cpu"] == "1024",
    ("EcsConfig", "memory"): lambda p: ecs(p)["memory"] == "4096",
    ("EcsConfig", "launch_type"): lambda p: ecs(p, "on_ec2")["requiresCompatibilities"] == ["EC2"],
    ("EcsConfig", "spot"): lambda p: (
        "FARGATE_SPOT"
        in one(p, "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders").inputs[
            "capacityProviders"
        ]
    ),
    ("EcsConfig", "environment_vars"): lambda p: (
        {"name": "MODE", "value": "ecs"} in container(p)["environment"]
    ),
    ("EcsConfig", "tags"): lambda p: ecs(p)["tags"]["tier"] == "container",
    ("GlueConfig", "worker_type"): lambda p: glue(p)["workerType"] == "G.2X",
    ("GlueConfig", "num_workers"): lambda p: glue(p)["numberOfWorkers"] == 3,
    ("GlueConfig", "timeout_minutes"): lambda p: glue(p)["timeout"] == 45,
    ("GlueConfig", "max_retries"): lambda p: glue(p)["maxRetries"] == 2,
    ("GlueConfig", "additional_python_modules"): lambda p: (
        "rapidfuzz==3.9.0" in glue(p)["defaultArguments"]["--additional-python-modules"]
    ),
    ("GlueConfig", "tags"): lambda p: glue(p)["tags"]["tier"] == "spark",
    ("RdsConfig", "engine"): lambda p: rds(p)["engine"] == "mysql" and rds(p)["port"] == 3306,
    ("RdsConfig", "instance_class"): lambda p: rds(p)["instanceClass"] == "db.m6i.large",
    ("RdsConfig", "allocated_storage"): lambda p: rds(p)["allocatedStorage"] == 50,
    ("RdsConfig", "multi_az"): lambda p: rds(p)["multiAz"] is True,
    ("RdsConfig", "engine_version"): lambda p: rds(p)["engineVersion"] == "8.0",
    ("RdsConfig", "deletion_protection"): lambda p: rds(p)["deletionProtection"] is True,
    ("RdsConfig", "backup_retention_days"): lambda p: rds(p)["backupRetentionPeriod"] == 14,
    ("RdsConfig", "master_username"): lambda p: rds(p)["username"] == "admin1",
    ("RdsConfig", "iam_database_user"): lambda p: (
        "dbuser:" in task_policy_text(p, "on_lambda") and "/etl" in task_policy_text(p, "on_lambda")
    ),
    ("RdsConfig", "tags"): lambda p: rds(p)["tags"]["tier"] == "db",
    ("DynamoDbConfig", "billing_mode"): lambda p: table(p)["billingMode"] == "PROVISIONED",
    ("DynamoDbConfig", "hash_key"): lambda p: table(p)["hashKey"] == "symbol",
    ("DynamoDbConfig", "range_key"): lambda p: table(p)["rangeKey"] == "day",
    ("DynamoDbConfig", "hash_key_type"): lambda p: (
        {"name": "symbol", "type": "B"} in table(p)["attributes"]
    ),
    ("DynamoDbConfig", "range_key_type"): lambda p: (
        {"name": "day", "type": "N"} in table(p)["attributes"]
    ),
    ("DynamoDbConfig", "read_capacity"): lambda p: table(p)["readCapacity"] == 5,
    ("DynamoDbConfig", "write_capacity"): lambda p: table(p)["writeCapacity"] == 3,
    ("DynamoDbConfig", "point_in_time_recovery"): lambda p: (
        table(p)["pointInTimeRecovery"] == {"enabled": False}
    ),
    ("DynamoDbConfig", "tags"): lambda p: table(p)["tags"]["tier"] == "table",
    ("EfsConfig", "performance_mode"): lambda p: efs(p)["performanceMode"] == "maxIO",
    ("EfsConfig", "encrypted"): lambda p: efs(p)["encrypted"] is False,
    ("EfsConfig", "mount_path"): lambda p: (
        fn(p)["fileSystemConfig"]["localMountPath"] == "/mnt/data"
    ),
    ("EfsConfig", "tags"): lambda p: efs(p)["tags"]["tier"] == "nfs",
    ("DatabaseSettings", "identifier"): lambda p: rds(p)["identifier"] == "prod-warehouse",
    ("DatabaseSettings", "rds"): lambda p: bool(rds(p)),
    ("DatabaseSettings", "dynamodb"): lambda p: bool(table(p)),
    ("VolumeSettings", "file_system_name"): lambda p: efs(p)["tags"]["Name"] == "prod-scratch",
    ("VolumeSettings", "efs"): lambda p: bool(efs(p)),
    ("SecretSource", "aws"): lambda p: (
        "/prod/fmp/api_key-??????" in task_policy_text(p, "on_lambda")
    ),
    ("SecretSource", "declare"): lambda p: (
        one(p, "aws:secretsmanager/secret:Secret").inputs["name"] == "/prod/vendor/token"
        and "secret:/prod/vendor/token-AbCdEf" in task_policy_text(p, "on_ecs")
    ),
    ("Network", "vpc_id"): lambda p: (
        one(p, "aws:ec2/securityGroup:SecurityGroup", name="prod-warehouse-db").inputs["vpcId"]
        == "vpc-1"
    ),
    ("Network", "subnet_ids"): lambda p: (
        fn(p)["vpcConfig"]["subnetIds"] == ["subnet-1", "subnet-2"]
    ),
    ("Network", "security_group_ids"): lambda p: fn(p)["vpcConfig"]["securityGroupIds"] == ["sg-1"],
}

#: Fields used when tasks run (or when a settings file is read), and the test that shows it.
RUNTIME: dict[tuple[str, str], str] = {
    **{
        ("TaskConfig", f): "tests/test_task_execution.py (retries, timeout, cache, tags)"
        for f in TASK_OPTIONS
        if f != "executor"  # listed on its own below
    },
    ("TaskConfig", "executor"): "tests/test_task_execution.py; cloud compute names are refused",
    ("Network", "nat"): "planned in the VPC the plan creates, which every_option_pipeline's "
    "named VPC excludes (refused together): tests/infra/test_network.py",
    **{
        ("ExecutorSettings", f): "tests/test_dask.py and the local executor's tests"
        for f in (
            "kind",
            "max_workers",
            "address",
            "n_workers",
            "threads_per_worker",
            "processes",
        )
    },
    **{
        ("BucketSettings", f): "tests/settings/test_environment.py, tests/test_bucket.py"
        for f in (
            "bucket_name",
            "path",
            "format",
            "partition_by",
            "read_options",
            "write_options",
            "read_only",
            "retention_days",
            "s3",
            "gcs",
            "blob",
        )
    },
    ("SecretSource", "env"): "tests/test_secrets.py (environment variable and .env file)",
    ("SecretSource", "gcp"): "the Cloud Run job's secret variable and the secretAccessor "
    "binding (tests/infra/gcp/test_secrets.py)",
    ("SecretSource", "azure"): "the Container Apps job's Key Vault secret reference and the "
    "Secrets User assignment (tests/infra/azure/test_secrets.py)",
    **{
        (model, f): "the severity of the data checks in this environment, read when a run "
        "starts (tests/test_checks.py)"
        for model, f in (
            ("CheckSettings", "severity"),
            ("CheckSettings", "datasets"),
            ("GlacierSettings", "checks"),
        )
    },
    ("DatabaseSettings", "password_secret"): "checked against [secrets] on load "
    "(tests/settings/test_secrets.py); the database adapter reads it through env.secret()",
    **{
        ("AwsConfig", f): "the provider, clients and the plan's aws.Provider "
        "(tests/test_provider.py, tests/infra/test_stack.py)"
        for f in (
            "kind",
            "region",
            "profile",
            "account_id",
            "role_arn",
            "endpoint_url",
            "tags",
            "allow_pickle",
        )
    },
    **{
        ("GcpConfig", f): "the GCS filesystem (tests/test_bucket.py on the GCS emulator)"
        for f in (
            "kind",
            "project",
            "region",
            "endpoint_url",
            "anonymous",
            "labels",
            "allow_pickle",
        )
    },
    **{
        ("AzureConfig", f): "the Azure filesystem (tests/test_bucket.py on Azurite)"
        for f in ("kind", "storage_account", "endpoint_url", "tags", "allow_pickle")
    },
    **{
        ("AzureConfig", f): "the Azure plan (tests/infra/azure/test_storage.py, "
        "test_data_access.py: resource ids, the resource group, the location)"
        for f in ("subscription_id", "resource_group", "location")
    },
    **{
        ("BlobConfig", f): "the Azure plan's storage account (tests/infra/azure/test_storage.py)"
        for f in (
            "tier",
            "replication",
            "versioning",
            "soft_delete_retention_days",
            "infrastructure_encryption",
            "tags",
        )
    },
    **{
        ("ContainerAppConfig", f): "the Azure plan's Container Apps jobs "
        "(tests/infra/azure/test_compute.py)"
        for f in ("image", "cpu", "memory", "timeout", "environment_vars", "tags")
    },
    **{
        ("LocalConfig", f): "the local filesystem (tests/test_bucket.py)"
        for f in ("kind", "base_path", "create_dirs", "allow_pickle")
    },
    **{
        ("GlacierSettings", f): "tests/settings/test_environment.py and the plan's environments"
        for f in (
            "env",
            "name",
            "naming_prefix",
            "tags",
            "provider",
            "executor",
            "task",
            "buckets",
            "network",
            "databases",
            "volumes",
            "secrets",
            "lineage",
            "state_dir",
        )
    },
    **{
        (model, f): "tests/test_database.py (connections to the suite's PostgreSQL server)"
        for model in ("DatabaseConnection", "DatabaseSettings")
        for f in ("engine", "url", "host", "port", "dbname", "user", "password_env", "reader")
    },
    **{
        (
            model,
            f,
        ): "tests/test_reliability_retries.py (the timeouts and attempts reach every store client)"
        for model in ("AwsConfig", "GcpConfig", "AzureConfig")
        for f in ("connect_timeout", "read_timeout", "max_attempts")
    },
    **{
        ("LineageSettings", f): "tests/test_lineage.py (events through each transport)"
        for f in ("transport", "path", "url", "endpoint", "timeout", "retries", "namespace")
    },
}

#: Fields a GCP plan carries, and the test that finds each in it (issue 24).
GCP_PLANNED: dict[tuple[str, str], str] = {
    ("GcpConfig", "labels"): "the provider's default labels (tests/infra/gcp/test_plan.py)",
    **{
        ("GcsConfig", f): "the bucket's inputs (tests/infra/gcp/test_plan.py)"
        for f in ("storage_class", "versioning", "lifecycle_rules", "labels", "kms_key_name")
    },
    ("GcsConfig", "uniform_bucket_level_access"): "false is refused at plan time: IAM "
    "Conditions need it (tests/infra/gcp/test_refusals.py)",
    **{
        ("CloudRunConfig", f): "the Cloud Run job's inputs (tests/infra/gcp/test_plan.py)"
        for f in ("image", "cpu", "memory", "timeout", "environment_vars", "labels")
    },
    **{
        ("DatabricksConfig", f): "the task's Databricks job, its cluster policy and "
        "permissions, the workspace provider (tests/infra/test_databricks.py)"
        for f in (
            "instance_type",
            "num_workers",
            "spark_version",
            "tags",
            "workspace_host",
            "token_secret",
            "run_group",
        )
    },
}

#: Fields an Azure plan with a PostgreSQL flexible server carries, and the test that finds
#: each in it (issue 25).
AZURE_PLANNED: dict[tuple[str, str], str] = {
    **{
        ("AzurePostgresConfig", f): "the flexible server's inputs "
        "(tests/infra/azure/test_databases.py)"
        for f in (
            "version",
            "sku_name",
            "storage_size_gb",
            "backup_retention_days",
            "geo_redundant_backup",
            "high_availability",
            "tags",
        )
    },
    ("AzurePostgresConfig", "entra_admin"): "the server's Administrator "
    "(tests/infra/azure/test_databases.py); required when the settings load",
    **{
        ("EntraAdmin", f): "the server's Administrator (tests/infra/azure/test_databases.py)"
        for f in ("name", "object_id", "type")
    },
    ("DatabaseSettings", "azure_postgres"): "a flexible server in the Azure plan "
    "(tests/infra/azure/test_databases.py)",
    **{
        ("AzureConfig", f): "the network of the Azure plan: no network created, the server "
        "and the Container Apps environment in those subnets, that DNS zone "
        "(tests/infra/azure/test_databases.py)"
        for f in ("database_subnet_id", "apps_subnet_id", "private_dns_zone_id")
    },
}

#: Fields refused where they take effect, or kept for information, and why.
INFORMATIONAL: dict[tuple[str, str], str] = {
    ("AwsConfig", "session_duration"): "not used yet: sessions of role_arn last the SDK's "
    "default hour (validated against AWS's limits; to be passed when the role is assumed)",
    ("ExecutorSettings", "dask_address"): "the former name of address, read into it",
    ("S3Replication", "destination_region"): "the destination bucket is not declared by "
    "Glacier (another region's stack); validated as a region, and documented",
    ("LifecycleRule", "transition_days"): "planned with storage_class (a transition); the "
    "every-option bucket checks expiration, tests/infra/test_storage.py the transitions",
    ("LifecycleRule", "storage_class"): "see transition_days",
    ("DatabricksConfig", "autotermination_minutes"): "for a cluster left running; a task's job "
    "cluster ends with its run, so the plan has nothing to set (docs/deploying.md)",
    ("GlueConfig", "glue_version"): "only the default 5.0 is planned; 3.0 and 4.0 are "
    "refused at plan time (their Python is older than Glacier's), tests/infra/test_glue.py",
}


#: Options of ``Dataset(...)``, and where each takes effect (in the plan or at run time).
DATASET_OPTIONS: dict[str, str] = {
    "name": "names the dataset's generated resources and grants (tests/infra/test_task_roles.py)",
    "storage": "the bucket and prefix of its grants (tests/infra/test_data_access.py)",
    "schema": "checked on each write (tests/test_task_execution.py)",
    "description": "shown by glacier graph and pipeline.describe()",
    "read_options": "the format's reader at run time (tests/test_formats.py)",
    "write_options": "the format's writer at run time (tests/test_formats.py)",
    "read_only": "refuses writes at run time (tests/test_bucket.py)",
    "write": "the write mode at run time; a table's grants are the same for every mode, "
    "rehearsed per mode in tests/infra/test_data_access.py",
    "catalog": "planned: a Glue Data Catalog table of the Delta table "
    "(tests/infra/test_catalog.py)",
    "checks": "run right after the producer, in the run's executor (tests/test_checks.py); "
    "a deployed task runs its outputs' checks too (the data is its own outputs)",
}


def test_every_dataset_option_is_accounted_for() -> None:
    options = set(inspect.signature(Dataset.__init__).parameters) - {"self"}
    assert options == set(DATASET_OPTIONS), "a Dataset option without a row, or a stale row"


def config_models() -> list[type[BaseModel]]:
    """Every config model glacier.settings exports."""
    out = []
    for name in settings_module.__all__:
        value = getattr(settings_module, name)
        if isinstance(value, type) and issubclass(value, BaseModel) and value.model_fields:
            out.append(value)
    return sorted(set(out), key=lambda c: c.__name__)


def test_every_config_field_is_accounted_for() -> None:
    listed = set(PLANNED) | set(RUNTIME) | set(INFORMATIONAL) | set(GCP_PLANNED)
    listed |= set(AZURE_PLANNED)
    fields = {(c.__name__, f) for c in config_models() for f in c.model_fields}
    assert fields - listed == set(), "new fields: plan them, use them or list them with why"
    assert listed - fields == set(), "rows for fields that no longer exist"
    assert not set(PLANNED) & set(INFORMATIONAL)


@pytest.fixture(scope="module")
def every_plan() -> Plan:
    return plan(every_option_pipeline())


@pytest.mark.parametrize("field", sorted(PLANNED), ids=lambda f: ".".join(f))
def test_planned_field_reaches_the_plan(every_plan: Plan, field: tuple[str, str]) -> None:
    assert PLANNED[field](every_plan)


def test_the_checks_fail_on_default_options() -> None:
    # the checks can fail: on a plan with default options, they are false
    from infra.pipelines import attached_pipeline

    default = plan(attached_pipeline())
    for field in [
        ("RdsConfig", "engine"),
        ("DynamoDbConfig", "billing_mode"),
        ("EfsConfig", "performance_mode"),
    ]:
        assert not PLANNED[field](default), field

"""Typed, validated settings: clouds, resources, execution, and per-environment files.

Every config is frozen and refuses unknown fields and credentials; an invalid value raises
:class:`~glacier.errors.ConfigError` naming the field, the value and what is allowed.

Example:
    >>> from glacier.settings import AwsConfig, S3Config
    >>> AwsConfig(region="eu-west-1", profile="prod").partition
    'aws'
    >>> S3Config(versioning=True, encryption="AES256").storage_class
    'STANDARD'

Where each idea lives:

- ``base``: :class:`GlacierModel`, the error formatting and the credentials refusal;
- ``clouds``: provider configs (``LocalConfig``, ``AwsConfig``, ``GcpConfig``, ``AzureConfig``);
- ``regions``: the region tables; ``names``: bucket/function name rules; ``tags``: tag limits;
- ``storage``, ``compute``, ``databases``: resource configs; ``database_connection``: how
  a task reaches a database at run time (``[databases.<name>]``);
- ``execution``: ``TaskConfig`` and ``ExecutorSettings``; ``network``: an environment's VPC;
- ``secrets``: where each of an environment's secrets lives (never its value);
- ``lineage``: ``LineageSettings``, where OpenLineage events go;
- ``checks``: ``CheckSettings``, the severity of data checks per environment;
- ``environment``: ``GlacierSettings``, loaded from ``containers/<env>.toml``.
"""

from glacier.settings.base import CREDENTIAL_FIELDS, GlacierModel, InvalidValueError
from glacier.settings.checks import CheckSettings
from glacier.settings.clouds import AwsConfig, AzureConfig, GcpConfig, LocalConfig, ProviderConfig
from glacier.settings.compute import (
    FARGATE_MEMORY,
    CloudRunConfig,
    ContainerAppConfig,
    DatabricksConfig,
    EcsConfig,
    GlueConfig,
    LambdaConfig,
)
from glacier.settings.database_connection import DatabaseConnection
from glacier.settings.databases import (
    AzurePostgresConfig,
    DatabaseSettings,
    DynamoDbConfig,
    EfsConfig,
    EntraAdmin,
    RdsConfig,
    VolumeSettings,
)
from glacier.settings.environment import GlacierSettings
from glacier.settings.execution import ExecutorSettings, TaskConfig
from glacier.settings.lineage import LineageSettings
from glacier.settings.names import (
    validate_azure_container_name,
    validate_azure_storage_account_name,
    validate_gcp_project_id,
    validate_gcs_bucket_name,
    validate_lambda_function_name,
    validate_s3_bucket_name,
)
from glacier.settings.network import Network
from glacier.settings.regions import AWS_REGIONS, AZURE_LOCATIONS, GCP_REGIONS, aws_partition
from glacier.settings.secrets import SecretSource
from glacier.settings.storage import (
    AzureBlobConfig,
    BlobConfig,
    BucketSettings,
    CorsRule,
    GCSConfig,
    GcsConfig,
    LifecycleRule,
    S3Config,
    S3Replication,
)
from glacier.settings.tags import AwsTags, AzureTags, GcpLabels, Tags

__all__ = [
    "AWS_REGIONS",
    "AZURE_LOCATIONS",
    "CREDENTIAL_FIELDS",
    "FARGATE_MEMORY",
    "GCP_REGIONS",
    "AwsConfig",
    "AwsTags",
    "AzureBlobConfig",
    "AzureConfig",
    "AzurePostgresConfig",
    "AzureTags",
    "BlobConfig",
    "BucketSettings",
    "CheckSettings",
    "CloudRunConfig",
    "ContainerAppConfig",
    "CorsRule",
    "DatabaseConnection",
    "DatabaseSettings",
    "DatabricksConfig",
    "DynamoDbConfig",
    "EcsConfig",
    "EfsConfig",
    "EntraAdmin",
    "ExecutorSettings",
    "GCSConfig",
    "GcpConfig",
    "GcpLabels",
    "GcsConfig",
    "GlacierModel",
    "GlacierSettings",
    "GlueConfig",
    "InvalidValueError",
    "LambdaConfig",
    "LifecycleRule",
    "LineageSettings",
    "LocalConfig",
    "Network",
    "ProviderConfig",
    "RdsConfig",
    "S3Config",
    "S3Replication",
    "SecretSource",
    "Tags",
    "TaskConfig",
    "VolumeSettings",
    "aws_partition",
    "validate_azure_container_name",
    "validate_azure_storage_account_name",
    "validate_gcp_project_id",
    "validate_gcs_bucket_name",
    "validate_lambda_function_name",
    "validate_s3_bucket_name",
]

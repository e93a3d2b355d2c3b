"""What each Pulumi resource type and input is called in Terraform's AWS and Google providers.

pulumi-aws and pulumi-gcp are generated from the Terraform AWS and Google providers, so a
type token names a Terraform resource type and a camelCase input names a snake_case
argument. The exceptions are data:

- :data:`PROVIDERS`: per cloud, the Terraform provider (its block name, source and pinned
  version) and the Pulumi provider token that configures it.

- :data:`RESOURCE_TYPES`: the type token of every resource Glacier declares and its Terraform
  type. A type missing here is refused (:func:`terraform_type`), never left out: add a row.
- :data:`BLOCK_NAMES`: nested blocks that may repeat, which Pulumi names in the plural
  (``rules``) and Terraform in the singular (``rule``).
- :data:`ARGUMENT_NAMES` and :data:`ATTRIBUTE_NAMES`: the few inputs and outputs pulumi-aws
  renamed (a Lambda function's ``name`` is Terraform's ``function_name``).
- :data:`MAP_ARGUMENTS`: arguments whose value is a map of the user's own keys (tags,
  environment variables), whose keys are never renamed.

Example:
    >>> terraform_type("aws:s3/bucket:Bucket")
    'aws_s3_bucket'
    >>> terraform_type("gcp:storage/bucketIAMMember:BucketIAMMember")
    'google_storage_bucket_iam_member'
    >>> argument_name("aws_s3_bucket_lifecycle_configuration", "rules", [{"id": "x"}])
    'rule'
    >>> snake("retentionInDays")
    'retention_in_days'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from glacier.errors import TerraformError
from glacier.infra.terraform import azure_types

#: The Terraform AWS provider the generated configuration pins: pulumi-aws 7.x is built from
#: terraform-provider-aws 6.x, the series Glacier's resources and arguments are written for.
AWS_PROVIDER_SOURCE = "hashicorp/aws"
AWS_PROVIDER_VERSION = "~> 6.0"

#: The Terraform Google provider: pulumi-gcp 9.x and 10.x are built from the 7.x series of
#: terraform-provider-google(-beta); every resource Glacier declares is in the GA provider.
GOOGLE_PROVIDER_SOURCE = "hashicorp/google"
GOOGLE_PROVIDER_VERSION = "~> 7.0"


@dataclass(frozen=True)
class TerraformProvider:
    """A cloud's Terraform provider: its block name (``provider "google"``), source and
    version constraint, and the variables its directory declares (the project or account
    and the region)."""

    name: str
    source: str
    version: str


#: Cloud -> its Terraform provider. A cloud missing here is refused by the writer.
PROVIDERS: Mapping[str, TerraformProvider] = {
    "aws": TerraformProvider("aws", AWS_PROVIDER_SOURCE, AWS_PROVIDER_VERSION),
    "gcp": TerraformProvider("google", GOOGLE_PROVIDER_SOURCE, GOOGLE_PROVIDER_VERSION),
    "azure": TerraformProvider(
        "azurerm", azure_types.AZURERM_PROVIDER_SOURCE, azure_types.AZURERM_PROVIDER_VERSION
    ),
}

#: Pulumi type token -> Terraform resource type.
RESOURCE_TYPES: Mapping[str, str] = {
    "aws:cloudwatch/eventRule:EventRule": "aws_cloudwatch_event_rule",
    "aws:cloudwatch/eventTarget:EventTarget": "aws_cloudwatch_event_target",
    "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
    "aws:dynamodb/table:Table": "aws_dynamodb_table",
    "aws:ec2/eip:Eip": "aws_eip",
    "aws:ec2/internetGateway:InternetGateway": "aws_internet_gateway",
    "aws:ec2/natGateway:NatGateway": "aws_nat_gateway",
    "aws:ec2/routeTable:RouteTable": "aws_route_table",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "aws_route_table_association",
    "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
    "aws:ec2/subnet:Subnet": "aws_subnet",
    "aws:ec2/vpc:Vpc": "aws_vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "aws_vpc_endpoint",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "aws_ecr_lifecycle_policy",
    "aws:ecr/repository:Repository": "aws_ecr_repository",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "aws_ecr_repository_policy",
    "aws:ecs/cluster:Cluster": "aws_ecs_cluster",
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": (
        "aws_ecs_cluster_capacity_providers"
    ),
    "aws:ecs/taskDefinition:TaskDefinition": "aws_ecs_task_definition",
    "aws:efs/accessPoint:AccessPoint": "aws_efs_access_point",
    "aws:efs/fileSystem:FileSystem": "aws_efs_file_system",
    "aws:efs/mountTarget:MountTarget": "aws_efs_mount_target",
    "aws:glue/catalogDatabase:CatalogDatabase": "aws_glue_catalog_database",
    "aws:glue/catalogTable:CatalogTable": "aws_glue_catalog_table",
    "aws:glue/job:Job": "aws_glue_job",
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:lambda/function:Function": "aws_lambda_function",
    "aws:lambda/layerVersion:LayerVersion": "aws_lambda_layer_version",
    "aws:rds/instance:Instance": "aws_db_instance",
    "aws:rds/subnetGroup:SubnetGroup": "aws_db_subnet_group",
    "aws:s3/bucket:Bucket": "aws_s3_bucket",
    "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration": "aws_s3_bucket_cors_configuration",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "aws_s3_bucket_lifecycle_configuration"
    ),
    "aws:s3/bucketObjectv2:BucketObjectv2": "aws_s3_object",
    "aws:s3/bucketPolicy:BucketPolicy": "aws_s3_bucket_policy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "aws_s3_bucket_public_access_block",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": (
        "aws_s3_bucket_replication_configuration"
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "aws_s3_bucket_server_side_encryption_configuration"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": "aws_s3_bucket_versioning",
    "aws:secretsmanager/secret:Secret": "aws_secretsmanager_secret",
    "aws:sfn/stateMachine:StateMachine": "aws_sfn_state_machine",
    # GCP (glacier.infra.gcp): every type its builder declares.
    "gcp:artifactregistry/repository:Repository": "google_artifact_registry_repository",
    "gcp:cloudrunv2/job:Job": "google_cloud_run_v2_job",
    "gcp:cloudrunv2/jobIamMember:JobIamMember": "google_cloud_run_v2_job_iam_member",
    "gcp:cloudscheduler/job:Job": "google_cloud_scheduler_job",
    "gcp:compute/firewall:Firewall": "google_compute_firewall",
    "gcp:compute/globalAddress:GlobalAddress": "google_compute_global_address",
    "gcp:compute/network:Network": "google_compute_network",
    "gcp:compute/subnetwork:Subnetwork": "google_compute_subnetwork",
    "gcp:projects/iAMCustomRole:IAMCustomRole": "google_project_iam_custom_role",
    "gcp:projects/iAMMember:IAMMember": "google_project_iam_member",
    "gcp:secretmanager/secret:Secret": "google_secret_manager_secret",
    "gcp:secretmanager/secretIamMember:SecretIamMember": "google_secret_manager_secret_iam_member",
    "gcp:serviceaccount/account:Account": "google_service_account",
    "gcp:servicenetworking/connection:Connection": "google_service_networking_connection",
    "gcp:sql/database:Database": "google_sql_database",
    "gcp:sql/databaseInstance:DatabaseInstance": "google_sql_database_instance",
    "gcp:sql/user:User": "google_sql_user",
    "gcp:storage/bucket:Bucket": "google_storage_bucket",
    "gcp:storage/bucketIAMMember:BucketIAMMember": "google_storage_bucket_iam_member",
    "gcp:workflows/workflow:Workflow": "google_workflows_workflow",
    # Azure (glacier.infra.azure): written per type by glacier.infra.terraform.azure.
    **azure_types.RESOURCE_TYPES,
}

#: Repeatable nested blocks: Pulumi's plural name -> Terraform's block name.
BLOCK_NAMES: Mapping[str, str] = {
    "assumeRoles": "assume_role",
    "attributes": "attribute",
    "capacityProviderStrategies": "capacity_provider_strategy",
    "corsRules": "cors_rule",
    "defaultCapacityProviderStrategies": "default_capacity_provider_strategy",
    "egress": "egress",
    "filters": "filter",
    "endpoints": "endpoints",
    "globalSecondaryIndexes": "global_secondary_index",
    "ingress": "ingress",
    "placementConstraints": "placement_constraints",
    "rules": "rule",
    "settings": "setting",
    "transitions": "transition",
    "noncurrentVersionTransitions": "noncurrent_version_transition",
    "volumes": "volume",
    "columns": "columns",
    "partitionKeys": "partition_keys",
    # google: a bucket's lifecycle rules, a repository's cleanup policies, a Cloud Run
    # job's containers and their environment variables.
    "lifecycleRules": "lifecycle_rule",
    "cleanupPolicies": "cleanup_policies",
    "containers": "containers",
    "envs": "env",
    # google: a Cloud SQL instance's flags, a job's Direct VPC egress, a firewall's rules.
    "databaseFlags": "database_flags",
    "networkInterfaces": "network_interfaces",
    "denies": "deny",
}

#: Arguments holding a map of the user's own keys, kept as written.
MAP_ARGUMENTS = frozenset(
    {
        "tags",
        "variables",
        "defaultArguments",
        "nonOverridableArguments",
        "parameters",
        "labels",
        "defaultLabels",
        "limits",
    }
)

#: Inputs whose Terraform argument is not the snake_case of Pulumi's name, by type
#: (pulumi-aws renames a few: a Lambda function's ``function_name`` is its ``name``).
ARGUMENT_NAMES: Mapping[str, Mapping[str, str]] = {
    "aws_lambda_function": {"name": "function_name"},
    # pulumi-gcp names lists of strings in the plural, the Google provider in the singular.
    "google_cloud_run_v2_job": {"commands": "command"},
    "google_storage_bucket": {"matchesPrefixes": "matches_prefix"},
    # azure-native names an identity looked up by its resource name (the data source's name).
    "azurerm_user_assigned_identity": {"resourceName": "name"},
}

#: Types whose ``name`` is an attribute the cloud computes (a service account's
#: ``projects/<p>/serviceAccounts/<email>``), not an input: its outputs refer to it.
COMPUTED_NAMES = frozenset(
    {
        "google_artifact_registry_repository",
        "google_project_iam_custom_role",
        "google_secret_manager_secret",
        "google_service_account",
    }
)

#: Output attributes whose Terraform name is not the snake_case of Pulumi's, by type.
ATTRIBUTE_NAMES: Mapping[str, Mapping[str, str]] = {
    "aws_db_instance": {"masterUserSecrets": "master_user_secret"},
    "aws_lambda_function": {"name": "function_name"},
}


def terraform_type(token: str) -> str:
    """The Terraform resource type of Pulumi type ``token``; refused when it has none yet."""
    found = RESOURCE_TYPES.get(token)
    if found is None:
        raise TerraformError(
            f"Resource type {token!r} has no Terraform mapping yet, so the Terraform target "
            "cannot express this pipeline; add it to glacier.infra.terraform.types."
            "RESOURCE_TYPES (or generate with --target pulumi)."
        )
    return found


def snake(name: str) -> str:
    """``camelCase`` -> ``snake_case`` (digits stay with the word before them)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def argument_name(tf_type: str, key: str, value: Any) -> str:
    """The Terraform name of input ``key`` (Pulumi's camelCase) of a ``tf_type`` resource.

    A list of objects is a repeatable block: its name comes from :data:`BLOCK_NAMES`, and one
    missing there is refused rather than guessed.
    """
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        block = BLOCK_NAMES.get(key)
        if block is None:
            if key.endswith("s"):
                raise TerraformError(
                    f"{tf_type}: input {key!r} is a list of blocks with no Terraform block name "
                    "in glacier.infra.terraform.types.BLOCK_NAMES; add it there."
                )
            return snake(key)
        return block
    return ARGUMENT_NAMES.get(tf_type, {}).get(key) or snake(key)


def attribute_name(tf_type: str, key: str) -> str:
    """The Terraform attribute of Pulumi output ``key`` of a ``tf_type`` resource."""
    return ATTRIBUTE_NAMES.get(tf_type, {}).get(key) or snake(key)

"""AWS infrastructure of a pipeline, declared with ``pulumi_aws``: one module per thing built.

:class:`AwsInfrastructure` is the ``aws`` choice of the cloud container's ``infrastructure``
provider; it declares one environment's share of an :class:`~glacier.infra.model.InfraModel`.
Where to look:

=====================  ===========================================================
``infrastructure``     the builder, and the order an environment is declared in
``stack``              the stack record, the ``aws.Provider``, declaring a resource
``naming``             physical names, and the ARNs computed from them (partition, account)
``functions``          what the model asks the AWS row about Lambda tasks (config, names)
``storage``            buckets: encryption, versioning, lifecycle, bucket policy
``rds``                RDS instances: subnet group, security group, managed password
``dynamodb``           DynamoDB tables: keys, capacity, recovery, encryption
``efs``                EFS file systems: mount targets, the access point tasks mount
``network``            the VPC, subnets and groups databases and file systems live in
``secrets``            the Secrets Manager grant of the secrets a task declares
``data_access``        the S3/KMS statements every data policy is built from
``task_roles``         a task's IAM role and its least-privilege policy
``logs``               a task's log group
``lambda_``            a task as a Lambda function
``ecs``                a task as an ECS/Fargate task definition, its network
``glue``               a task as a Glue job, its script and code uploads
``packaging``          the code archive: the pipeline, Glacier, the handler
``task_environment``   the variables a deployed task is started with
``cross_account``      roles for tasks of other accounts reaching data here
``task_refs``          the ARNs the orchestrator reaches a task through
``definition``         the Step Functions definition of the DAG
``orchestration``      the state machine, its schedule, the invoker role
=====================  ===========================================================

References inside the environment go through resource outputs; references to another
environment use ARNs computed from deterministic names, so each environment can be its own
stack, deployed with its own credentials. Nothing here imports Pulumi at module level.
"""

from __future__ import annotations

from glacier.infra.aws.glue import GLUE_JOB_SOURCE, GLUE_LOG_GROUPS, GLUE_REQUIREMENTS, GLUE_SCRIPT
from glacier.infra.aws.infrastructure import AwsInfrastructure, declare
from glacier.infra.aws.logs import LOG_RETENTION_DAYS
from glacier.infra.aws.naming import (
    bucket_arn,
    cluster_name,
    cross_account_role_name,
    exec_role_name,
    family_name,
    function_name,
    invoker_role_name,
    job_name,
    log_group_name,
    state_machine_name,
    state_machine_role_name,
    task_role_name,
)
from glacier.infra.aws.packaging import HANDLER, handler_source
from glacier.infra.aws.stack import MANAGED_BY, AwsResources, Stack
from glacier.infra.aws.storage import ARTIFACT_RETENTION_DAYS

__all__ = [
    "ARTIFACT_RETENTION_DAYS",
    "GLUE_JOB_SOURCE",
    "GLUE_LOG_GROUPS",
    "GLUE_REQUIREMENTS",
    "GLUE_SCRIPT",
    "HANDLER",
    "LOG_RETENTION_DAYS",
    "MANAGED_BY",
    "AwsInfrastructure",
    "AwsResources",
    "Stack",
    "bucket_arn",
    "cluster_name",
    "cross_account_role_name",
    "declare",
    "exec_role_name",
    "family_name",
    "function_name",
    "handler_source",
    "invoker_role_name",
    "job_name",
    "log_group_name",
    "state_machine_name",
    "state_machine_role_name",
    "task_role_name",
]

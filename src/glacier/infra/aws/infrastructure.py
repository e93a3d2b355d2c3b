"""The AWS infrastructure builder: what an environment declares, and in which order.

:class:`AwsInfrastructure` is the ``aws`` choice of the cloud container's ``infrastructure``
provider. :func:`declare` opens a :class:`~glacier.infra.aws.stack.Stack` for one environment
and runs the builder modules over it, in the order their references require: buckets before
the policies naming them, each task's log group and role before its compute, every task
before the state machine that starts them.
"""

from __future__ import annotations

from typing import Any

from glacier.errors import InfraError
from glacier.infra.aws import (
    catalog,
    cross_account,
    databricks_jobs,
    dynamodb,
    ecs,
    efs,
    glue,
    lambda_,
    logs,
    network,
    orchestration,
    rds,
    storage,
    task_roles,
)
from glacier.infra.aws.stack import AwsResources, Stack, open_stack
from glacier.infra.model import InfraModel, TaskSpec

#: Compute kinds Glacier generates infrastructure for.
COMPUTE_KINDS = ("lambda", "ecs", "glue", "databricks")


class AwsInfrastructure:
    """Declares an environment's AWS resources for a pipeline (see the module docs).

    Built by the cloud container (``env.container.cloud.infrastructure``); override that
    provider to change what gets declared::

        env.container.cloud.infrastructure.override(providers.Factory(MyInfrastructure))
    """

    cloud = "aws"

    def __init__(self, config: Any = None) -> None:
        self.config = config

    def describe(self) -> str:
        """One line on what this builder declares."""
        region = getattr(self.config, "region", "?")
        return f"AWS resources with pulumi_aws in {region}"

    def declare(self, model: InfraModel, env: str) -> AwsResources:
        """Declare environment ``env``'s share of ``model``; must run inside a Pulumi program."""
        return declare(model, env)


def declare(model: InfraModel, env: str) -> AwsResources:
    """Declare environment ``env``'s share of ``model``: its provider, buckets, catalog tables,
    databases, volumes, tasks, cross-account roles and, where it orchestrates, the state
    machine."""
    spec = model.envs[env]
    stack = open_stack(model, spec)
    for store in model.stores.values():
        stack.store_arns[store.key] = storage.store_arn(stack, store)
    for store in model.stores_in(spec.key):
        if store.declared:
            storage.bucket(stack, store)
    catalog.tables(stack)
    network.declare_network(stack)
    for db in model.databases_in(spec.key):
        if db.is_dynamodb:
            dynamodb.table(stack, db)
        else:
            rds.instance(stack, db)
    for volume in model.volumes_in(spec.key):
        efs.file_system(stack, volume)
    tasks = model.tasks_in(spec.key)
    ecs.cluster(stack, tasks)
    for task in tasks:
        declare_task(stack, task)
    for access in model.cross_account_into(spec.key):
        cross_account.cross_account_role(stack, access)
    remote = model.orchestrated_from_elsewhere(spec.key)
    if remote:
        orchestration.invoker_role(stack, remote)
    if model.orchestrator == spec.key and model.tasks:
        orchestration.state_machine(stack)
    return stack.out


def declare_task(stack: Stack, task: TaskSpec) -> None:
    """Declare one task: its log group, its role and policy, and its compute."""
    if task.compute not in COMPUTE_KINDS:
        raise InfraError(
            f"Task {task.name!r} ({task.location}) asks for {task.compute} compute, which "
            "Glacier cannot generate infrastructure for yet. Use env.compute.lambda_(...), "
            "env.compute.ecs(...) or env.compute.glue(...)."
        )
    if task.compute == "databricks":
        databricks_jobs.check(stack, task)
    if task.compute == "glue":
        glue.check_glue(task)
        if task.volumes:
            raise InfraError(
                f"Task {task.name!r} ({task.location}) runs as a Glue job and declares a "
                "volume, which Glue jobs cannot mount. Run it on ECS "
                "(compute=env.compute.ecs(...)) or Lambda."
            )
        used = (stack.model.databases[key] for key in task.databases)
        relational = [db for db in used if not db.is_dynamodb]
        if relational:
            raise InfraError(
                f"Task {task.name!r} ({task.location}) runs as a Glue job and uses RDS "
                f"database {relational[0].identifier!r}, which Glue "
                "reaches only through a Glue network connection in the database's VPC; Glacier "
                "does not generate one yet. Run it on ECS (compute=env.compute.ecs(...)) or "
                "Lambda, which run in the environment's subnets."
            )
    log_group = logs.task_log_group(stack, task)
    role, policy = task_roles.task_role(stack, task)
    if task.compute == "lambda":
        lambda_.function(stack, task, role, log_group, policy)
    elif task.compute == "glue":
        glue.glue_job(stack, task, role, log_group, policy)
    elif task.compute == "databricks":
        databricks_jobs.databricks_job(stack, task, role, policy)
    else:
        ecs.task_definition(stack, task, role, log_group, policy)

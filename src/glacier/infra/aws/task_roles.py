"""A task's IAM role and its least-privilege inline policy.

The policy is derived from the data flow: read on the datasets the task consumes, write on
those it produces (:mod:`~glacier.infra.aws.data_access`), its own log group, the roles it
assumes in other accounts, the databases, volumes and secrets it uses (each on its one
ARN), and what its compute needs besides (network interfaces for a
Lambda in a VPC, Glue's shared log groups). Nothing else, and never ``*`` on both action and
resource.
"""

from __future__ import annotations

import json
from typing import Any

from glacier.infra import iam
from glacier.infra.aws import dynamodb, efs, rds
from glacier.infra.aws.data_access import storage_statements
from glacier.infra.aws.glue import glue_logs_statement
from glacier.infra.aws.logs import write_logs_statement
from glacier.infra.aws.naming import cross_account_role_name, role_arn, task_role_name
from glacier.infra.aws.network import in_network, vpc_statements
from glacier.infra.aws.secrets import secret_statements
from glacier.infra.aws.stack import Stack, add, json_input, logical_name
from glacier.infra.model import TaskSpec


def task_role(stack: Stack, task: TaskSpec) -> tuple[Any, Any]:
    """Declare the role ``task`` runs as and its inline policy; both, for ``depends_on``."""
    model, env, aws = stack.model, stack.env, stack.aws
    role = add(
        stack,
        aws.iam.Role,
        logical_name(stack, task.name, "role"),
        name=task_role_name(model, env, task.name),
        assume_role_policy=json.dumps(
            iam.trust_policy(service=iam.COMPUTE_PRINCIPALS[task.compute])
        ),
        description=f"Glacier task {task.name!r} of pipeline {model.pipeline!r}",
        tags={**stack.tags, "glacier:task": task.name},
    )
    stack.task_roles[task.name] = role
    stack.out.roles[task.name] = role
    policy = add(
        stack,
        aws.iam.RolePolicy,
        logical_name(stack, task.name, "policy"),
        name="glacier-data-access",
        role=role.id,
        policy=json_input(stack, task_policy(stack, task)),
    )
    return role, policy


def task_policy(stack: Stack, task: TaskSpec) -> dict[str, Any]:
    """The task role's inline policy: its data, its logs, its cross-account roles."""
    model, env = stack.model, stack.env
    # Data in another account is reached through the role there, never with this one.
    elsewhere = {g for c in model.cross_account_from(task.name) for g in c.grants}
    statements = storage_statements(stack, [g for g in task.grants if g not in elsewhere])
    statements.append(write_logs_statement(stack.log_groups[task.name]))
    remote = [
        role_arn(
            model.envs[c.store_env],
            cross_account_role_name(model, model.envs[c.store_env], env, task.name),
        )
        for c in model.cross_account_from(task.name)
    ]
    if remote:
        statements.append(iam.statement("AssumeCrossAccountRoles", ["sts:AssumeRole"], remote))
    if task.compute == "lambda" and in_network(stack, task):
        statements.extend(vpc_statements(stack))
    if task.compute == "glue":
        statements.append(glue_logs_statement(env))
    statements.extend(attached_statements(stack, task))
    return iam.document(statements)


def attached_statements(stack: Stack, task: TaskSpec) -> list[dict[str, Any]]:
    """The task's databases, volumes and secrets: each on exactly its one resource."""
    out: list[dict[str, Any]] = []
    for key in task.databases:
        db = stack.model.databases[key]
        if db.is_dynamodb:
            out.extend(dynamodb.access_statements(db, stack.out.tables[key]))
        else:
            out.extend(rds.access_statements(stack, db, stack.out.databases[key]))
    for key in task.volumes:
        out.extend(efs.access_statements(stack, stack.model.volumes[key]))
    out.extend(secret_statements(stack, task))
    return out

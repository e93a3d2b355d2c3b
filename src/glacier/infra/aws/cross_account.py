"""Cross-account data access: a role in the data's account for a task of another account.

When a task in one account reads or writes a dataset in another, the data's environment
declares a role that exactly that task's role may assume, allowed exactly that task's grants
on its buckets (the bucket policy side is in :mod:`~glacier.infra.aws.storage`). The task's
own policy gets ``sts:AssumeRole`` on it, and no S3 action on the other account's data
(:mod:`~glacier.infra.aws.task_roles`): the role is the one way in, so what the task writes
there belongs to the data's account. The task learns which role to assume for which account
from :func:`data_roles` (the variable
:data:`~glacier.adapters.credentials.DATA_ROLES_VARIABLE`).
"""

from __future__ import annotations

import json

from glacier.infra import iam
from glacier.infra.aws.data_access import storage_statements
from glacier.infra.aws.naming import account_root, cross_account_role_name, role_arn, task_role_name
from glacier.infra.aws.stack import Stack, add, json_input, logical_name
from glacier.infra.model import CrossAccountAccess, TaskSpec


def cross_account_role(stack: Stack, access: CrossAccountAccess) -> None:
    """Declare the role (and its policy) ``access.task`` assumes to reach data here."""
    model, env = stack.model, stack.env
    task_env = model.envs[access.task_env]
    caller = role_arn(task_env, task_role_name(model, task_env, access.task))
    role = add(
        stack,
        stack.aws.iam.Role,
        logical_name(stack, access.task, "from", str(task_env.account_id)),
        name=cross_account_role_name(model, env, task_env, access.task),
        assume_role_policy=json.dumps(
            iam.trust_policy(account_root=account_root(task_env), principal_arns=[caller])
        ),
        description=(
            f"Access of Glacier task {access.task!r} (account {task_env.account_id}) to "
            f"data in {env.key!r}"
        ),
        tags={**stack.tags, "glacier:task": access.task},
    )
    stack.out.roles[f"{access.task}@{task_env.account_id}"] = role
    add(
        stack,
        stack.aws.iam.RolePolicy,
        logical_name(stack, access.task, "from", str(task_env.account_id), "policy"),
        name="glacier-data-access",
        role=role.id,
        policy=json_input(stack, iam.document(storage_statements(stack, access.grants))),
    )


def data_roles(stack: Stack, task: TaskSpec) -> dict[str, str]:
    """``{account id: role ARN}`` of the roles ``task`` assumes to reach data in other
    accounts (empty when all its data is in its own account)."""
    model, env = stack.model, stack.env
    out: dict[str, str] = {}
    for access in model.cross_account_from(task.name):
        data_env = model.envs[access.store_env]
        name = cross_account_role_name(model, data_env, env, task.name)
        out[str(data_env.account_id)] = role_arn(data_env, name)
    return out

"""The ARNs through which the orchestrator reaches a task: its function, job or task
definition, its roles, its cluster.

Inside the orchestrating environment they are resource outputs; for a task of another
environment (another stack, often another account) they are computed from deterministic
names (:mod:`~glacier.infra.aws.naming`), so each environment deploys on its own.
"""

from __future__ import annotations

from typing import Any

from glacier.errors import InfraError
from glacier.infra import iam
from glacier.infra.aws.naming import (
    cluster_name,
    env_arn,
    exec_role_name,
    family_name,
    function_name,
    job_name,
    role_arn,
    swap_arn,
    task_role_name,
)
from glacier.infra.aws.stack import Stack
from glacier.infra.model import TaskSpec


def task_refs(stack: Stack, task: TaskSpec) -> dict[str, Any]:
    """ARNs the orchestrator needs for ``task``: outputs here, computed elsewhere."""
    model = stack.model
    env = model.envs[task.env]
    if task.env == stack.env.key:
        return _declared_refs(stack, task)
    refs = {"role": role_arn(env, task_role_name(model, env, task.name))}
    if task.compute == "databricks":
        raise InfraError(
            f"Task {task.name!r} ({task.location}) runs on Databricks in environment "
            f"{task.env!r}, which the state machine of {stack.env.key!r} cannot start; keep "
            "Databricks tasks in the orchestrating environment."
        )
    if task.compute == "lambda":
        refs["function"] = env_arn(env, "lambda", f"function:{function_name(model, env, task)}")
    elif task.compute == "glue":
        refs["job"] = env_arn(env, "glue", f"job/{job_name(model, env, task.name)}")
    else:
        family = family_name(model, env, task.name)
        cluster = cluster_name(model, env)
        refs["task_definition"] = env_arn(env, "ecs", f"task-definition/{family}")
        refs["family"] = env_arn(env, "ecs", f"task-definition/{family}:*")
        refs["exec_role"] = role_arn(env, exec_role_name(model, env, task.name))
        refs["cluster"] = env_arn(env, "ecs", f"cluster/{cluster}")
        refs["tasks"] = env_arn(env, "ecs", f"task/{cluster}/*")
        refs["rule"] = env_arn(env, "events", f"rule/{iam.ECS_SYNC_RULE}")
    return refs


def _declared_refs(stack: Stack, task: TaskSpec) -> dict[str, Any]:
    """The refs of a task declared in this stack: outputs of its resources."""
    refs: dict[str, Any] = {"role": stack.task_roles[task.name].arn}
    if task.compute == "lambda":
        refs["function"] = stack.out.functions[task.name].arn
    elif task.compute == "databricks":
        job, connection = stack.shared[f"databricks_job:{task.name}"]
        refs["job_id"] = job.id
        refs["connection"] = connection.arn
        refs["host"] = task.config.workspace_host
    elif task.compute == "glue":
        refs["job"] = stack.out.jobs[task.name].arn
    else:
        definition = stack.out.task_definitions[task.name]
        cluster = stack.shared["cluster"]
        refs["task_definition"] = definition.arn
        refs["family"] = definition.arn.apply(lambda a: a.rsplit(":", 1)[0] + ":*")
        refs["exec_role"] = stack.exec_roles[task.name].arn
        refs["cluster"] = cluster.arn
        refs["tasks"] = cluster.arn.apply(lambda a: a.replace(":cluster/", ":task/", 1) + "/*")
        refs["rule"] = cluster.arn.apply(
            lambda a: swap_arn(a, "events", f"rule/{iam.ECS_SYNC_RULE}")
        )
    return refs

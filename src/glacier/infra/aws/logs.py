"""A task's CloudWatch log group, and the statement that lets a role write to it.

Lambda writes to ``/aws/lambda/<function>`` (the group Lambda would create itself, declared
here so that it has a retention); ECS and Glue tasks to ``/glacier/<pipeline>/<task>``.
"""

from __future__ import annotations

from typing import Any

from glacier.infra import iam
from glacier.infra.aws.naming import log_group_name
from glacier.infra.aws.stack import Stack, add, logical_name
from glacier.infra.model import TaskSpec

#: Log retention of task and orchestration logs.
LOG_RETENTION_DAYS = 30


def task_log_group(stack: Stack, task: TaskSpec) -> Any:
    """Declare the log group ``task`` writes to."""
    group = add(
        stack,
        stack.aws.cloudwatch.LogGroup,
        logical_name(stack, task.name, "logs"),
        name=log_group_name(stack.model, stack.env, task),
        retention_in_days=LOG_RETENTION_DAYS,
        tags=stack.tags,
    )
    stack.log_groups[task.name] = group
    return group


def write_logs_statement(log_group: Any) -> dict[str, Any]:
    """Writing log streams of ``log_group``, and nothing else."""
    return iam.statement("Logs", iam.LOG_ACTIONS, [log_group.arn.apply(lambda a: f"{a}:*")])

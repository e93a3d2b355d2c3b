"""Lambda functions: a task as a function running Glacier's handler on the packaged code.

The function runs as the task's role, logs to the task's log group (declared beforehand, so
that it has a retention), takes its memory, timeout, architecture and layers from the task's
:class:`~glacier.settings.LambdaConfig`, and is placed in the environment's subnets when the
environment has a network; a task that declares a volume mounts its access point.
"""

from __future__ import annotations

from typing import Any

from glacier.infra.aws.efs import lambda_file_system
from glacier.infra.aws.naming import function_name
from glacier.infra.aws.network import default_security_group
from glacier.infra.aws.packaging import HANDLER, check_package_size, function_archive
from glacier.infra.aws.stack import Stack, add, logical_name
from glacier.infra.aws.task_environment import task_variables
from glacier.infra.model import TaskSpec


def function(stack: Stack, task: TaskSpec, role: Any, log_group: Any, policy: Any) -> None:
    """Declare ``task``'s function, running as ``role`` and logging to ``log_group``."""
    aws, cfg, env = stack.aws, task.config, stack.env
    check_package_size(stack, task.name, task.location)
    vpc = None
    if env.network.configured:
        vpc = aws.lambda_.FunctionVpcConfigArgs(
            subnet_ids=list(env.network.subnet_ids),
            security_group_ids=list(env.network.security_group_ids)
            or [default_security_group(stack)],
        )
    made = add(
        stack,
        aws.lambda_.Function,
        logical_name(stack, task.name, "function"),
        depends_on=[log_group, policy],
        name=function_name(stack.model, env, task),
        role=role.arn,
        runtime=cfg.runtime,
        handler=HANDLER,
        code=function_archive(stack),
        memory_size=cfg.memory,
        timeout=cfg.timeout,
        architectures=[cfg.architecture],
        layers=list(cfg.layers) or None,
        ephemeral_storage=aws.lambda_.FunctionEphemeralStorageArgs(size=cfg.ephemeral_storage),
        reserved_concurrent_executions=cfg.reserved_concurrent_executions,
        environment=aws.lambda_.FunctionEnvironmentArgs(variables=task_variables(stack, task)),
        vpc_config=vpc,
        file_system_config=lambda_file_system(stack, task),
        logging_config=aws.lambda_.FunctionLoggingConfigArgs(
            log_format="Text", log_group=log_group.name
        ),
        tags={**stack.tags, **cfg.tags, "glacier:task": task.name},
    )
    stack.out.functions[task.name] = made

"""The Step Functions definition (Amazon States Language) of a pipeline's DAG.

One state per DAG level, in order; a level of several independent tasks is a ``Parallel``
state with a branch per task. A task state starts the task's compute through the service
integration of its kind (``lambda:invoke``, ``glue:startJobRun.sync``, ``ecs:runTask.sync``),
passes the execution's name as the run id, and carries the task's timeout and retries; a task
of another account is started with that account's invoker role.
"""

from __future__ import annotations

from typing import Any

from glacier import env_vars
from glacier.infra.aws.ecs import awsvpc
from glacier.infra.aws.naming import invoker_role_name, job_name
from glacier.infra.aws.stack import Stack
from glacier.infra.aws.task_refs import task_refs
from glacier.infra.model import TaskSpec, crosses_account


def definition(stack: Stack) -> dict[str, Any]:
    """The state machine definition: one state per DAG level, a ``Parallel`` state with a
    branch per task where a level holds several independent tasks."""
    model = stack.model
    names = [
        level[0] if len(level) == 1 else f"Level {i}" for i, level in enumerate(model.levels, 1)
    ]
    states: dict[str, Any] = {}
    for i, (name, level) in enumerate(zip(names, model.levels, strict=True)):
        nxt: dict[str, Any] = {"Next": names[i + 1]} if i + 1 < len(names) else {"End": True}
        if len(level) == 1:
            states[name] = {**task_state(stack, model.task(name)), **nxt}
            continue
        states[name] = {
            "Type": "Parallel",
            "Comment": f"Independent tasks: {', '.join(level)}",
            "Branches": [
                {
                    "StartAt": t,
                    "States": {t: {**task_state(stack, model.task(t)), "End": True}},
                }
                for t in level
            ],
            "ResultPath": None,
            **nxt,
        }
    start = names[0]
    return {
        "Comment": f"Glacier pipeline {model.pipeline}",
        "StartAt": start,
        "States": states,
    }


def task_state(stack: Stack, task: TaskSpec) -> dict[str, Any]:
    """The ``Task`` state starting ``task``, with its credentials, timeout and retries."""
    model, env = stack.model, stack.env
    refs = task_refs(stack, task)
    partition = env.partition
    payload = {"pipeline": model.pipeline, "task": task.name, "run_id.$": "$$.Execution.Name"}
    state: dict[str, Any]
    if task.compute == "lambda":
        state = {
            "Type": "Task",
            "Resource": f"arn:{partition}:states:::lambda:invoke",
            "Parameters": {"FunctionName": refs["function"], "Payload": payload},
        }
    elif task.compute == "glue":
        state = {
            "Type": "Task",
            "Resource": f"arn:{partition}:states:::glue:startJobRun.sync",
            "Parameters": {
                "JobName": job_name(model, model.envs[task.env], task.name),
                "Arguments": {"--GLACIER_RUN_ID.$": "$$.Execution.Name"},
            },
        }
    else:
        state = {
            "Type": "Task",
            "Resource": f"arn:{partition}:states:::ecs:runTask.sync",
            "Parameters": {
                **(
                    {
                        "CapacityProviderStrategy": [
                            {"CapacityProvider": "FARGATE_SPOT", "Weight": 1}
                        ]
                    }
                    if task.config.spot
                    else {"LaunchType": task.config.launch_type}
                ),
                "Cluster": refs["cluster"],
                "TaskDefinition": refs["task_definition"],
                "NetworkConfiguration": {"AwsvpcConfiguration": awsvpc(stack, task)},
                "Overrides": {
                    "ContainerOverrides": [
                        {
                            "Name": "task",
                            "Environment": [
                                {"Name": env_vars.GLACIER_RUN_ID, "Value.$": "$$.Execution.Name"}
                            ],
                        }
                    ]
                },
            },
        }
    if crosses_account(env, model.envs[task.env]):
        invoker = model.envs[task.env]
        state["Credentials"] = {"RoleArn": invoker.role_arn_of(invoker_role_name(model, invoker))}
    state["ResultPath"] = None
    if task.timeout:
        state["TimeoutSeconds"] = max(1, int(task.timeout))
    if task.retries:
        state["Retry"] = [
            {
                "ErrorEquals": ["States.ALL"],
                "IntervalSeconds": max(1, int(task.retry_delay)),
                "MaxAttempts": task.retries,
                "BackoffRate": task.backoff,
            }
        ]
    return state

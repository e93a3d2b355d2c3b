"""The Step Functions definition (Amazon States Language) of a pipeline's DAG.

One state per DAG level, in order; a level of several independent tasks is a ``Parallel``
state with a branch per task. A task state starts the task's compute through the service
integration of its kind (``lambda:invoke``, ``glue:startJobRun.sync``, ``ecs:runTask.sync``),
passes the execution's name as the run id, and carries the task's timeout; a task of another
account is started with that account's invoker role.

One layer retries a task's failures: usually the task's own process, through the per-task path every
run shares (:func:`glacier.executors.base.invoke`: ``retries``, ``retry_delay``, ``backoff``,
``max_delay``, ``jitter`` and ``retry_on``, which tells a transient failure from one that
fails alike every time). So a deployed task runs at most ``retries + 1`` times in all; a
state retries only Lambda's refusal to start the function (:data:`SERVICE_RETRIES`, the
function did not run), and its timeout covers every attempt and the waits between them.
A Lambda task whose attempts and waits cannot all fit one invocation is the exception
(:func:`~glacier.infra.aws.lambda_.retried_by_state`, shown in the plan): its process runs
one attempt, and its state retries it with the same waits (:func:`state_retries`).
"""

from __future__ import annotations

import math
from typing import Any

from glacier import env_vars
from glacier.errors import NotRetriedError
from glacier.infra.aws.databricks_jobs import databricks_state
from glacier.infra.aws.ecs import awsvpc
from glacier.infra.aws.lambda_ import function_timeout, retried_by_state
from glacier.infra.aws.naming import invoker_role_name, job_name, partition_of, role_arn
from glacier.infra.aws.stack import Stack
from glacier.infra.aws.task_refs import task_refs
from glacier.infra.model import TaskSpec, crosses_account
from glacier.retries import attempts_seconds

#: Errors of a Lambda invoke state retried by the state machine: Lambda refused to start the
#: function (throttled), so the task did not run. Every failure of the task itself is the
#: task's own process's to retry (see the module docs).
SERVICE_RETRIES = ("Lambda.TooManyRequestsException",)


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
    partition = partition_of(env)
    payload = {"pipeline": model.pipeline, "task": task.name, "run_id.$": "$$.Execution.Name"}
    state: dict[str, Any]
    if task.compute == "lambda":
        state = {
            "Type": "Task",
            "Resource": f"arn:{partition}:states:::lambda:invoke",
            "Parameters": {"FunctionName": refs["function"], "Payload": payload},
        }
    elif task.compute == "databricks":
        state = databricks_state(task, refs, partition)
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
        state["Credentials"] = {"RoleArn": role_arn(invoker, invoker_role_name(model, invoker))}
    state["ResultPath"] = None
    by_state = task.compute == "lambda" and retried_by_state(task)
    if by_state:
        state["TimeoutSeconds"] = function_timeout(task)  # one attempt per invocation
    elif task.timeout and task.compute != "databricks":  # the job's own timeout_seconds
        state["TimeoutSeconds"] = state_timeout(task)
    if task.compute == "lambda":
        state["Retry"] = [
            {
                "ErrorEquals": list(SERVICE_RETRIES),
                "IntervalSeconds": 2,
                "MaxAttempts": 6,
                "BackoffRate": 2.0,
            }
        ]
        if by_state:
            state["Retry"] += state_retries(task)
    return state


def state_retries(task: TaskSpec) -> list[dict[str, Any]]:
    """The ``Retry`` rules of a Lambda task the state machine retries (one attempt per
    invocation): none for a failure no retry can mend (the task raises ``NotRetriedError``
    then), else the task's ``retries`` with its waits."""
    rule: dict[str, Any] = {
        "ErrorEquals": ["States.ALL"],
        "IntervalSeconds": max(1, math.ceil(task.retry_delay)),
        "MaxAttempts": task.retries,
        "BackoffRate": max(1.0, float(task.backoff)),
    }
    if task.max_delay is not None:
        rule["MaxDelaySeconds"] = max(1, math.ceil(task.max_delay))
    if task.jitter:
        rule["JitterStrategy"] = "FULL"
    return [{"ErrorEquals": [NotRetriedError.__name__], "MaxAttempts": 0}, rule]


def state_timeout(task: TaskSpec) -> int:
    """Seconds a task's state may take: every attempt of the task (``timeout`` each) and the
    longest waits between them (the task's process retries; see the module docs).

    Example:
        >>> from types import SimpleNamespace
        >>> state_timeout(SimpleNamespace(timeout=60, retries=2, retry_delay=5, backoff=2,
        ...                               max_delay=None, jitter=1))
        197
    """
    assert task.timeout is not None
    total = attempts_seconds(
        timeout=task.timeout,
        retries=task.retries,
        retry_delay=task.retry_delay,
        backoff=task.backoff,
        max_delay=task.max_delay,
        jitter=task.jitter,
    )
    return max(1, math.ceil(total))

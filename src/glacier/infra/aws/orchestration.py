"""Orchestration of the DAG: the Step Functions state machine, its role, its schedule, and
the invoker role through which it starts tasks of other accounts.

The environment that orchestrates (``model.orchestrator``) declares the state machine, whose
definition is built in :mod:`~glacier.infra.aws.definition`; its role may start exactly the
pipeline's tasks (invoke their functions, run their jobs and task definitions, pass exactly
their roles). Each other account with tasks declares an invoker role the state machine
assumes to start them there.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from glacier.infra import iam
from glacier.infra.aws.data_access import unique
from glacier.infra.aws.databricks_jobs import databricks_statements
from glacier.infra.aws.definition import definition
from glacier.infra.aws.naming import (
    account_root,
    invoker_role_name,
    role_arn,
    schedule_rule_name,
    scheduler_role_name,
    state_machine_name,
    state_machine_role_name,
)
from glacier.infra.aws.stack import Stack, add, json_input, logical_name
from glacier.infra.aws.task_refs import task_refs
from glacier.infra.model import TaskSpec, crosses_account


def orchestration_statements(stack: Stack, tasks: Sequence[TaskSpec]) -> list[dict[str, Any]]:
    """What starting ``tasks`` takes: invoke exactly their functions, run exactly their
    task definitions (passing exactly their roles)."""
    refs = [(t, task_refs(stack, t)) for t in tasks]
    functions = [r["function"] for t, r in refs if t.compute == "lambda"]
    jobs = [r["job"] for t, r in refs if t.compute == "glue"]
    containers = [r for t, r in refs if t.compute == "ecs"]
    databricks = [r for t, r in refs if t.compute == "databricks"]
    out: list[dict[str, Any]] = databricks_statements(stack, databricks) if databricks else []
    if functions:
        out.append(
            iam.statement("InvokeTaskFunctions", iam.ORCHESTRATION_ACTIONS["lambda"], functions)
        )
    if jobs:
        out.append(iam.statement("RunTaskJobs", iam.ORCHESTRATION_ACTIONS["glue"], jobs))
    if containers:
        out.append(
            iam.statement(
                "RunTaskDefinitions",
                iam.ORCHESTRATION_ACTIONS["ecs"],
                [r["family"] for r in containers],
            )
        )
        out.append(
            iam.statement(
                "TrackTasks", iam.ECS_SYNC_ACTIONS, unique([r["tasks"] for r in containers])
            )
        )
        out.append(
            iam.statement(
                "TrackTaskEvents",
                iam.ECS_SYNC_EVENT_ACTIONS,
                unique([r["rule"] for r in containers]),
            )
        )
        out.append(
            iam.statement(
                "PassTaskRoles",
                ["iam:PassRole"],
                [arn for r in containers for arn in (r["role"], r["exec_role"])],
            )
        )
    return out


def invoker_role(stack: Stack, tasks: Sequence[TaskSpec]) -> None:
    """Declare the role the orchestrator of another account assumes to start ``tasks`` here."""
    model, env = stack.model, stack.env
    assert model.orchestrator is not None
    home = model.envs[model.orchestrator]
    caller = role_arn(home, state_machine_role_name(model, home))
    role = add(
        stack,
        stack.aws.iam.Role,
        logical_name(stack, "invoker"),
        name=invoker_role_name(model, env),
        assume_role_policy=json.dumps(
            iam.trust_policy(account_root=account_root(home), principal_arns=[caller])
        ),
        description=f"Lets pipeline {model.pipeline!r}'s orchestrator start tasks here",
        tags=stack.tags,
    )
    stack.out.roles["invoker"] = role
    add(
        stack,
        stack.aws.iam.RolePolicy,
        logical_name(stack, "invoker", "policy"),
        name="glacier-orchestration",
        role=role.id,
        policy=json_input(stack, iam.document(orchestration_statements(stack, tasks))),
    )


def state_machine(stack: Stack) -> None:
    """Declare the state machine, its role and policy, and its schedule when one is set."""
    model, env, aws = stack.model, stack.env, stack.aws
    local = [t for t in model.tasks if not crosses_account(env, model.envs[t.env])]
    remote_envs = sorted({t.env for t in model.tasks if crosses_account(env, model.envs[t.env])})
    statements = orchestration_statements(stack, local)
    if remote_envs:
        statements.append(
            iam.statement(
                "AssumeInvokerRoles",
                ["sts:AssumeRole"],
                [
                    role_arn(model.envs[k], invoker_role_name(model, model.envs[k]))
                    for k in remote_envs
                ],
            )
        )
    role = add(
        stack,
        aws.iam.Role,
        logical_name(stack, "orchestrator"),
        name=state_machine_role_name(model, env),
        assume_role_policy=json.dumps(iam.trust_policy(service=iam.COMPUTE_PRINCIPALS["states"])),
        description=f"Step Functions role of Glacier pipeline {model.pipeline!r}",
        tags=stack.tags,
    )
    stack.out.roles["orchestrator"] = role
    policy = add(
        stack,
        aws.iam.RolePolicy,
        logical_name(stack, "orchestrator", "policy"),
        name="glacier-orchestration",
        role=role.id,
        policy=json_input(stack, iam.document(statements)),
    )
    machine = add(
        stack,
        aws.sfn.StateMachine,
        logical_name(stack, "state-machine"),
        depends_on=[policy],
        name=state_machine_name(model, env),
        role_arn=role.arn,
        definition=json_input(stack, definition(stack)),
        tags=stack.tags,
    )
    stack.out.state_machine = machine
    if model.schedule:
        schedule(stack, machine)


def schedule(stack: Stack, machine: Any) -> None:
    """Declare the EventBridge rule starting ``machine`` on the pipeline's schedule."""
    model, env, aws = stack.model, stack.env, stack.aws
    expression = str(model.schedule)  # checked by Pipeline when it was built
    role = add(
        stack,
        aws.iam.Role,
        logical_name(stack, "scheduler"),
        name=scheduler_role_name(model, env),
        assume_role_policy=json.dumps(iam.trust_policy(service=iam.COMPUTE_PRINCIPALS["events"])),
        description=f"Starts Glacier pipeline {model.pipeline!r} on its schedule",
        tags=stack.tags,
    )
    stack.out.roles["scheduler"] = role
    add(
        stack,
        aws.iam.RolePolicy,
        logical_name(stack, "scheduler", "policy"),
        name="glacier-start-pipeline",
        role=role.id,
        policy=json_input(
            stack,
            iam.document(
                [iam.statement("StartPipeline", ["states:StartExecution"], [machine.arn])]
            ),
        ),
    )
    rule = add(
        stack,
        aws.cloudwatch.EventRule,
        logical_name(stack, "schedule"),
        name=schedule_rule_name(model, env),
        schedule_expression=expression,
        description=f"Schedule of Glacier pipeline {model.pipeline!r}",
        tags=stack.tags,
    )
    add(
        stack,
        aws.cloudwatch.EventTarget,
        logical_name(stack, "schedule-target"),
        rule=rule.name,
        arn=machine.arn,
        role_arn=role.arn,
    )

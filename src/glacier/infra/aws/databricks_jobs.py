"""Databricks tasks on AWS: the job (:mod:`glacier.infra.databricks`) in the workspace its
config names, run as the task's role, and started by the state machine.

Per workspace (once per environment): the ``databricks`` provider, configured with the
workspace's host and the token read from the Secrets Manager secret the config names (at
deploy time, never written anywhere), and an EventBridge connection holding that token for
the state machine's HTTP tasks (``arn:aws:states:::http:invoke``), which call the Jobs API:
``run-now``, then ``runs/get`` until the run ends. Per task: an instance profile of the
task's least-privilege role, registered in the workspace, which the job cluster runs as and
which its cluster policy fixes.
"""

from __future__ import annotations

import re
from typing import Any

from glacier import env_vars
from glacier.errors import InfraError
from glacier.infra import databricks as jobs
from glacier.infra.aws.naming import job_name, partition_of, task_role_name
from glacier.infra.aws.packaging import code_spec
from glacier.infra.aws.stack import Stack, add, invoke_options, json_input, logical_name
from glacier.infra.aws.task_environment import task_variables
from glacier.infra.layer import TABLE_DISTRIBUTIONS, pinned
from glacier.infra.model import TaskSpec

#: What a job cluster pip-installs for Glacier to run (pinned to the versions here).
REQUIREMENTS = ("polars", "dependency-injector", "pydantic-settings", "fsspec", "s3fs")


def databricks_module() -> Any:
    """``pulumi_databricks``, or a refusal naming the extra that installs it."""
    try:
        import pulumi_databricks
    except ImportError:
        raise InfraError(
            "A task runs on Databricks, whose job a plan declares with pulumi-databricks, "
            "which is not installed: pip install 'glacier-pipelines[databricks]'."
        ) from None
    return pulumi_databricks


def check(stack: Stack, task: TaskSpec) -> None:
    """Refuse, before anything is declared, a Databricks task this builder cannot start:
    no workspace or token secret, orchestrated from another environment, or with volumes."""
    jobs.check_workspace(task)
    if stack.model.orchestrator not in (None, task.env):
        raise InfraError(
            f"Task {task.name!r} ({task.location}) runs on Databricks in environment "
            f"{task.env!r}, and the pipeline is orchestrated from {stack.model.orchestrator!r}; "
            "a Databricks job is started from its own environment's state machine only. Keep "
            "the Databricks tasks in the orchestrating environment."
        )
    if task.volumes or task.databases:
        raise InfraError(
            f"Task {task.name!r} ({task.location}) runs on Databricks and uses "
            f"{'a volume' if task.volumes else 'a database'}, which Glacier does not connect "
            "a job cluster to yet. Run it on ECS (compute=env.compute.ecs(...))."
        )
    databricks_module()


def workspace(stack: Stack, task: TaskSpec) -> tuple[Any, Any]:
    """The workspace of ``task``'s config: its provider and the orchestrator's connection
    (declared the first time a task names it)."""
    cfg = task.config
    key = f"databricks:{cfg.workspace_host}"
    found: tuple[Any, Any] | None = stack.shared.get(key)
    if found is not None:
        return found
    pulumi, aws, databricks = stack.pulumi, stack.aws, databricks_module()
    slug = re.sub(r"[^a-z0-9]+", "-", cfg.workspace_host.removeprefix("https://").lower())
    slug = slug.split("-cloud-databricks")[0].strip("-")[:24]
    secret = aws.secretsmanager.get_secret_version_output(
        secret_id=cfg.token_secret, opts=invoke_options(stack)
    )
    token = pulumi.Output.secret(secret.secret_string)
    provider = databricks.Provider(
        logical_name(stack, "databricks", slug), host=cfg.workspace_host, token=token
    )
    stack.out.resources.append(provider)
    name = f"{job_name(stack.model, stack.env, 'databricks')}-{slug}"[:64]
    connection = add(
        stack,
        aws.cloudwatch.EventConnection,
        logical_name(stack, "databricks", slug, "connection"),
        name=name,
        description=f"Databricks workspace {cfg.workspace_host}: the Jobs API calls",
        authorization_type="API_KEY",
        auth_parameters={
            "api_key": {"key": "Authorization", "value": token.apply(lambda t: f"Bearer {t}")}
        },
    )
    stack.shared[key] = (provider, connection)
    return provider, connection


def databricks_job(stack: Stack, task: TaskSpec, role: Any, policy: Any) -> None:
    """Declare ``task``'s instance profile, workspace files, cluster policy, job and
    permissions."""
    pulumi, aws, model, env = stack.pulumi, stack.aws, stack.model, stack.env
    databricks = databricks_module()
    provider, connection = workspace(stack, task)
    opts = pulumi.ResourceOptions(provider=provider)
    profile = add(
        stack,
        aws.iam.InstanceProfile,
        logical_name(stack, task.name, "instance-profile"),
        name=task_role_name(model, env, task.name),
        role=role.name,
        tags={**stack.tags, "glacier:task": task.name},
    )
    registered = databricks.InstanceProfile(
        logical_name(stack, task.name, "databricks-profile"),
        opts=pulumi.ResourceOptions(provider=provider, depends_on=[policy]),
        instance_profile_arn=profile.arn,
    )
    directory = jobs.workspace_dir(model.pipeline, env.key)
    uploads: list[Any] | None = stack.shared.get("databricks_uploads")
    if uploads is None:
        from glacier.infra.aws.packaging import code_files, glacier_files

        files = {**glacier_files(), **code_files(code_spec(stack))}
        uploads = jobs.upload_code(
            databricks, opts, logical_name(stack, "databricks"), directory, files
        )
        stack.shared["databricks_uploads"] = uploads
        stack.out.resources.extend(uploads)
    wanted = (*REQUIREMENTS, *(TABLE_DISTRIBUTIONS if task.tables else ()))
    arn = registered.instance_profile_arn
    made = jobs.declare_job(
        databricks,
        pulumi.ResourceOptions(provider=provider, depends_on=[*uploads, registered]),
        logical_name(stack, task.name, "databricks"),
        task=task,
        job_name=job_name(model, env, task.name),
        directory=f"/Workspace{directory}",
        variables={
            env_vars.GLACIER_TARGET: code_spec(stack).module_target,
            **task_variables(stack, task),
        },
        requirements=pinned(wanted),
        cluster_extra={"aws_attributes": {"instance_profile_arn": arn}},
        policy_extra={"aws_attributes.instance_profile_arn": {"type": "fixed", "value": arn}},
        json_dumps=lambda doc: json_input(stack, doc),
        tags=stack.tags,
    )
    stack.out.resources.extend([registered, *(r for r in made if r is not None)])
    stack.out.jobs[task.name] = made[1]
    stack.shared[f"databricks_job:{task.name}"] = (made[1], connection)


#: Seconds between two ``runs/get`` calls while a job runs.
POLL_SECONDS = 30
#: Life-cycle states of a run that has ended (its result state says how).
ENDED = ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")
#: Jobs API answers worth calling again.
RETRIED = ("States.Http.StatusCode.429", "States.Http.StatusCode.500", "States.Http.StatusCode.503")


def databricks_state(task: TaskSpec, refs: dict[str, Any], partition: str) -> dict[str, Any]:
    """The state starting ``task``'s job and waiting for its run: a one-branch ``Parallel``
    (so the DAG's levels keep one state per task) of HTTP tasks on the Jobs API."""
    http = f"arn:{partition}:states:::http:invoke"
    host, auth = refs["host"], {"ConnectionArn": refs["connection"]}
    retry = [
        {"ErrorEquals": list(RETRIED), "IntervalSeconds": 5, "MaxAttempts": 5, "BackoffRate": 2.0}
    ]
    job_id = refs["job_id"]
    job = (
        job_id.apply(lambda i: f"States.StringToJson('{i}')")
        if hasattr(job_id, "apply")
        else f"States.StringToJson('{job_id}')"
    )
    status = "$.status.state"
    return {
        "Type": "Parallel",
        "Comment": f"Databricks job of task {task.name}: run-now, then runs/get until it ends",
        "Branches": [
            {
                "StartAt": "run-now",
                "States": {
                    "run-now": {
                        "Type": "Task",
                        "Resource": http,
                        "Parameters": {
                            "ApiEndpoint": f"{host}/api/2.1/jobs/run-now",
                            "Method": "POST",
                            "Authentication": auth,
                            "RequestBody": {
                                "job_id.$": job,
                                "python_params.$": "States.Array('--GLACIER_RUN_ID', "
                                "$$.Execution.Name)",
                            },
                        },
                        "ResultSelector": {"run_id.$": "$.ResponseBody.run_id"},
                        "ResultPath": "$.run",
                        "Retry": retry,
                        "Next": "wait",
                    },
                    "wait": {"Type": "Wait", "Seconds": POLL_SECONDS, "Next": "runs-get"},
                    "runs-get": {
                        "Type": "Task",
                        "Resource": http,
                        "Parameters": {
                            "ApiEndpoint": f"{host}/api/2.1/jobs/runs/get",
                            "Method": "GET",
                            "Authentication": auth,
                            "QueryParameters": {"run_id.$": "States.Format('{}', $.run.run_id)"},
                        },
                        "ResultSelector": {"state.$": "$.ResponseBody.state"},
                        "ResultPath": "$.status",
                        "Retry": retry,
                        "Next": "ended",
                    },
                    "ended": {
                        "Type": "Choice",
                        "Choices": [
                            {
                                "And": [
                                    {"Variable": f"{status}.result_state", "IsPresent": True},
                                    {
                                        "Variable": f"{status}.result_state",
                                        "StringEquals": "SUCCESS",
                                    },
                                ],
                                "Next": "succeeded",
                            },
                            {
                                "Or": [
                                    {"Variable": f"{status}.life_cycle_state", "StringEquals": s}
                                    for s in ENDED
                                ],
                                "Next": "failed",
                            },
                        ],
                        "Default": "wait",
                    },
                    "succeeded": {"Type": "Succeed"},
                    "failed": {
                        "Type": "Fail",
                        "Error": "Databricks.RunFailed",
                        "Cause": f"The Databricks run of task {task.name} did not succeed.",
                    },
                },
            }
        ],
    }


def databricks_statements(stack: Stack, refs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the state machine's role needs to start and watch the jobs of ``refs``: calling
    exactly the workspaces' Jobs API, through exactly their connections."""
    from glacier.infra import iam
    from glacier.infra.aws.naming import state_machine_name

    env = stack.env
    account = env.account_id or "*"
    machine = (
        f"arn:{partition_of(env)}:states:{env.region}:{account}:stateMachine:"
        f"{state_machine_name(stack.model, env)}"
    )
    hosts = sorted({str(r["host"]) for r in refs})
    connections = {id(r["connection"]): r["connection"] for r in refs}
    return [
        iam.statement(
            "StartDatabricksJobs",
            iam.ORCHESTRATION_ACTIONS["databricks"],
            [machine],
            condition={
                "StringLike": {"states:HTTPEndpoint": [f"{h}/api/2.1/jobs/*" for h in hosts]}
            },
        ),
        iam.statement(
            "UseDatabricksConnections",
            ["events:RetrieveConnectionCredentials"],
            list(connections.values()),
        ),
        iam.statement(
            "ReadDatabricksConnectionSecrets",
            ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            [
                f"arn:{partition_of(env)}:secretsmanager:{env.region}:{account}:secret:events!connection/*"
            ],
        ),
    ]

"""Orchestration of the DAG on GCP: the workflow, its service account, its schedule.

The workflow (:mod:`~glacier.infra.gcp.definition`) runs as its own service account, which
is given ``roles/run.jobsExecutorWithOverrides`` (run a job, with the run id as an override)
on exactly the pipeline's jobs (a binding on each job; in
another project's stack for that project's jobs) and nothing else. A scheduled pipeline gets
a Cloud Scheduler job that creates an execution through the Workflows executions API as a
second service account holding ``roles/workflows.invoker``. Workflows has no per-workflow
IAM, so that role is bound on the project: the scheduler's account, used by nothing else,
could start any workflow of the project (it reads no data; docs/gcp.md).

Schedules are Glacier's (``rate(N minutes|hours|days)`` or AWS's six-field ``cron(...)``),
translated to Cloud Scheduler's five-field unix cron in UTC by :func:`unix_cron`.

Example:
    >>> unix_cron("rate(15 minutes)"), unix_cron("rate(1 day)"), unix_cron("cron(0 6 ? * MON-FRI *)")
    ('*/15 * * * *', '0 0 * * *', '0 6 * * MON-FRI')
"""  # noqa: E501

from __future__ import annotations

import base64
import json
import re
from typing import Any

from glacier.errors import InfraError
from glacier.infra.gcp.definition import source_contents
from glacier.infra.gcp.naming import (
    job_name,
    scheduler_job_name,
    service_account_email,
    service_account_id,
    workflow_name,
    workflow_path,
)
from glacier.infra.gcp.stack import GcpStack, add, logical_name
from glacier.infra.model import TaskSpec

__all__ = ["INVOKER_ROLE", "SCHEDULER_ROLE", "invoker_bindings", "unix_cron", "workflow"]

#: What the workflow's account holds on each job: run it with overrides (the run id).
INVOKER_ROLE = "roles/run.jobsExecutorWithOverrides"
#: What the scheduler's account holds on the project: create workflow executions.
SCHEDULER_ROLE = "roles/workflows.invoker"
#: The Workflows executions API (where a schedule, or ``glacier run --remote``, starts one).
EXECUTIONS_API = "https://workflowexecutions.googleapis.com/v1"
#: The workflow's own service account, by name part.
WORKFLOW_ACCOUNT = "workflow"
SCHEDULER_ACCOUNT = "scheduler"


def workflow(stack: GcpStack) -> Any:
    """Declare the workflow, its service account, its bindings on this project's jobs, and
    its schedule when one is set."""
    gcp, model, env = stack.gcp, stack.model, stack.env
    account = add(
        stack,
        gcp.serviceaccount.Account,
        logical_name(stack, "workflow-sa"),
        account_id=service_account_id(model.pipeline, env, WORKFLOW_ACCOUNT),
        display_name=f"Glacier workflow {model.pipeline}"[:100],
        description=f"Runs the Cloud Run jobs of Glacier pipeline {model.pipeline!r}",
    )
    member = account.email.apply(lambda email: f"serviceAccount:{email}")
    grants = [
        _job_invoker(stack, t, member, [stack.out.jobs[t.name], account])
        for t in model.tasks_in(env.key)
    ]
    made = add(
        stack,
        gcp.workflows.Workflow,
        logical_name(stack, "workflow"),
        depends_on=grants,
        name=workflow_name(model.pipeline, env),
        region=stack.region,
        description=f"The DAG of Glacier pipeline {model.pipeline!r}",
        service_account=account.email,
        source_contents=source_contents(model),
        deletion_protection=False,
        labels=stack.labels,
    )
    stack.out.workflow = made
    stack.out.service_accounts[WORKFLOW_ACCOUNT] = account
    if model.schedule:
        schedule(stack, made)
    return made


def invoker_bindings(stack: GcpStack, tasks: tuple[TaskSpec, ...]) -> None:
    """Let the workflow of another project (the orchestrator's) run ``tasks``' jobs here."""
    home = stack.model.envs[str(stack.model.orchestrator)]
    email = service_account_email(stack.model.pipeline, home, WORKFLOW_ACCOUNT)
    for t in tasks:
        _job_invoker(stack, t, f"serviceAccount:{email}", [stack.out.jobs[t.name]])


def _job_invoker(stack: GcpStack, task: TaskSpec, member: Any, depends_on: list[Any]) -> Any:
    return add(
        stack,
        stack.gcp.cloudrunv2.JobIamMember,
        logical_name(stack, task.name, "job-invoker"),
        depends_on=depends_on,
        project=stack.project,
        location=stack.region,
        name=job_name(stack.model.pipeline, stack.env, task.name),
        role=INVOKER_ROLE,
        member=member,
    )


def schedule(stack: GcpStack, made: Any) -> None:
    """Declare the Cloud Scheduler job starting the workflow, and its account."""
    gcp, model, env = stack.gcp, stack.model, stack.env
    account = add(
        stack,
        gcp.serviceaccount.Account,
        logical_name(stack, "scheduler-sa"),
        account_id=service_account_id(model.pipeline, env, SCHEDULER_ACCOUNT),
        display_name=f"Glacier scheduler {model.pipeline}"[:100],
        description=f"Starts Glacier pipeline {model.pipeline!r} on its schedule",
    )
    stack.out.service_accounts[SCHEDULER_ACCOUNT] = account
    invoker = add(
        stack,
        gcp.projects.IAMMember,
        logical_name(stack, "scheduler-invoker"),
        depends_on=[account],
        project=stack.project,
        role=SCHEDULER_ROLE,
        member=account.email.apply(lambda email: f"serviceAccount:{email}"),
    )
    body = json.dumps({"argument": json.dumps({}), "callLogLevel": "LOG_ERRORS_ONLY"})
    add(
        stack,
        gcp.cloudscheduler.Job,
        logical_name(stack, "schedule"),
        depends_on=[made, invoker],
        name=scheduler_job_name(model.pipeline, env),
        region=stack.region,
        description=f"Starts Glacier pipeline {model.pipeline!r}: {model.schedule}",
        schedule=unix_cron(str(model.schedule)),
        time_zone="Etc/UTC",
        http_target=gcp.cloudscheduler.JobHttpTargetArgs(
            uri=f"{EXECUTIONS_API}/{workflow_path(model.pipeline, env)}/executions",
            http_method="POST",
            body=base64.b64encode(body.encode()).decode(),
            oauth_token=gcp.cloudscheduler.JobHttpTargetOauthTokenArgs(
                service_account_email=account.email,
                scope="https://www.googleapis.com/auth/cloud-platform",
            ),
        ),
    )


_RATE = re.compile(r"^rate\((\d+) (minute|hour|day)s?\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_AWS_DAYS = {"1": "0", "2": "1", "3": "2", "4": "3", "5": "4", "6": "5", "7": "6"}


def unix_cron(expression: str) -> str:
    """Glacier's schedule (``rate(...)``, AWS ``cron(...)``) as Cloud Scheduler's unix cron;
    refused when it has no unix-cron equivalent (see the module docs)."""
    rate = _RATE.match(expression)
    if rate is not None:
        n, unit = int(rate.group(1)), rate.group(2)
        limits = {"minute": 60, "hour": 24, "day": 31}
        if n >= limits[unit] or (limits[unit] % n and unit != "day"):
            raise InfraError(
                f"Schedule {expression!r} has no Cloud Scheduler (unix cron) equivalent: "
                f"every {n} {unit}s does not divide the {unit}s of the next unit. Use a rate "
                "that does (rate(15 minutes), rate(6 hours)) or a cron(...) expression."
            )
        step = "" if n == 1 else f"/{n}"
        return {
            "minute": f"*{step} * * * *",
            "hour": f"0 *{step} * * *",
            "day": f"0 0 *{step} * *",
        }[unit]
    cron = _CRON.match(expression)
    fields = cron.group(1).split() if cron else []
    if len(fields) != 6 or fields[5] not in ("*", "?") or any(c in "".join(fields) for c in "LW#"):
        raise InfraError(
            f"Schedule {expression!r} has no Cloud Scheduler (unix cron) equivalent: Glacier "
            "translates rate(...) and cron(min hour day month weekday *) without L, W or #. "
            "Write the schedule in that form."
        )
    minute, hour, day, month, weekday, _ = fields
    weekday = re.sub(r"\d", lambda m: _AWS_DAYS.get(m.group(0), m.group(0)), weekday)
    return " ".join(f.replace("?", "*") for f in (minute, hour, day, month, weekday))

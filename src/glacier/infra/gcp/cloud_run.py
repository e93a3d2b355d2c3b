"""A task as a Cloud Run job: its container, its service account, its limits.

The job runs ``python -m glacier.infra.runtime <target> <task>`` (the ECS entry point) in the
image of its :class:`~glacier.settings.CloudRunConfig` or the one the plan names
(:mod:`~glacier.infra.gcp.registry`), as the task's service account, with the task's
variables (:mod:`~glacier.infra.gcp.task_environment`) and its secrets, filled by Cloud Run
(:func:`~glacier.infra.gcp.secrets.secret_envs`). One attempt is limited by the task's
timeout; retries are the workflow's (with the task's backoff, which Cloud Run's own
``maxRetries`` cannot express), so the job's ``maxRetries`` is 0. A job whose task uses a
database leaves through the environment's subnetwork (Direct VPC egress,
:func:`~glacier.infra.gcp.network.vpc_access`).
"""

from __future__ import annotations

from typing import Any

from glacier.infra.gcp.labels import label_value, labels_of
from glacier.infra.gcp.naming import job_name
from glacier.infra.gcp.network import vpc_access
from glacier.infra.gcp.registry import image_uri
from glacier.infra.gcp.secrets import secret_envs
from glacier.infra.gcp.stack import GcpStack, add, logical_name
from glacier.infra.gcp.task_environment import task_variables
from glacier.infra.image import ENTRY_POINT
from glacier.infra.model import TaskSpec

__all__ = ["job", "timeout_seconds"]


def timeout_seconds(task: TaskSpec) -> int:
    """One attempt's limit: the task's timeout, else its Cloud Run config's."""
    if task.timeout:
        return max(1, int(task.timeout))
    return int(getattr(task.config, "timeout", 3600))


def job(stack: GcpStack, task: TaskSpec, account: Any, depends_on: list[Any]) -> Any:
    """Declare ``task``'s Cloud Run job."""
    gcp, cfg, model = stack.gcp, task.config, stack.model
    image = getattr(cfg, "image", None) or image_uri(stack, task)
    target = model.code.relative_target if model.code else model.pipeline
    variables = task_variables(stack, task)
    run = gcp.cloudrunv2
    container = run.JobTemplateTemplateContainerArgs(
        image=image,
        commands=list(ENTRY_POINT),
        args=[target, task.name],
        envs=[
            run.JobTemplateTemplateContainerEnvArgs(name=k, value=v)
            for k, v in sorted(variables.items())
        ]
        + secret_envs(stack, task),
        resources=run.JobTemplateTemplateContainerResourcesArgs(
            limits={
                "cpu": str(getattr(cfg, "cpu", 1)),
                "memory": f"{getattr(cfg, 'memory', 2048)}Mi",
            }
        ),
    )
    made = add(
        stack,
        run.Job,
        logical_name(stack, task.name, "job"),
        depends_on=depends_on,
        name=job_name(model.pipeline, stack.env, task.name),
        location=stack.region,
        deletion_protection=False,
        labels={
            **labels_of(dict(getattr(cfg, "labels", None) or {}), f"task {task.name!r}"),
            **stack.labels,
            "glacier-task": label_value(task.name),
        },
        template=run.JobTemplateArgs(
            task_count=1,
            template=run.JobTemplateTemplateArgs(
                service_account=account.email,
                containers=[container],
                max_retries=0,
                timeout=f"{timeout_seconds(task)}s",
                vpc_access=vpc_access(stack, task),
            ),
        ),
    )
    stack.out.jobs[task.name] = made
    return made

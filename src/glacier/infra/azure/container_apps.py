"""A task as an Azure Container Apps job, in the environment's Container Apps environment.

A job is started by the orchestration (a manual trigger: the Logic App calls its ``start``
API), runs ``python -m glacier.infra.runtime <target> <task>`` as the task's user-assigned
identity, and is told its task by the variables of
:mod:`glacier.infra.azure.task_environment`. One layer retries a task's failures, the task's
own process (as on AWS, see :mod:`glacier.infra.aws.definition`), so the job's
``replicaRetryLimit`` is 0 and its ``replicaTimeout`` covers every attempt and the waits
between them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from glacier.infra.azure.naming import apps_environment_name, job_name
from glacier.infra.azure.network import apps_environment_args, job_args
from glacier.infra.azure.registry import image_of
from glacier.infra.azure.secrets import job_secrets
from glacier.infra.azure.stack import Stack, add, logical_name, native
from glacier.infra.azure.task_environment import task_variables
from glacier.infra.image import ENTRY_POINT
from glacier.infra.model import TaskSpec
from glacier.retries import delays


def apps_environment(stack: Stack) -> Any:
    """Declare the Container Apps environment once (Consumption plan; in the environment's
    network, with a Consumption workload profile, when it has one)."""
    found = stack.out.apps_environment
    if found is None:
        app = native("app")
        found = add(
            stack,
            app.ManagedEnvironment,
            logical_name(stack, "apps-environment"),
            depends_on=[stack.out.resource_group],
            environment_name=apps_environment_name(stack.model, stack.env),
            resource_group_name=stack.group,
            location=stack.location,
            tags=stack.tags,
            **apps_environment_args(stack),
        )
        stack.out.apps_environment = found
    return found


def replica_timeout(task: TaskSpec) -> int:
    """Seconds one run of the job may take: every attempt of the task (``timeout`` each) and
    the longest waits between them; the config's ``timeout`` when the task sets none (and at
    least that when it does).

    Example:
        >>> from types import SimpleNamespace
        >>> replica_timeout(SimpleNamespace(timeout=60, retries=2, retry_delay=5, backoff=2,
        ...     max_delay=None, jitter=1, config=SimpleNamespace(timeout=30)))
        197
    """
    limit = int(getattr(task.config, "timeout", 0) or 0)
    if not task.timeout:
        return limit
    waits = delays(
        retry_delay=task.retry_delay,
        backoff=task.backoff,
        max_delay=task.max_delay,
        jitter=0,
        retries=task.retries,
    )
    total = task.timeout * (task.retries + 1) + sum(waits) + task.jitter * task.retries
    return max(limit, math.ceil(total), 1)


def job(stack: Stack, task: TaskSpec, identity: Any, depends_on: Sequence[Any] = ()) -> Any:
    """Declare ``task``'s job (after ``depends_on``: its secrets' role assignments)."""
    app, cfg, model = native("app"), task.config, stack.model
    image, registry = image_of(stack, task, identity)
    target = model.code.relative_target if model.code else model.pipeline
    variables = task_variables(stack, task, identity.client_id)
    configuration: dict[str, Any] = {
        "trigger_type": "Manual",
        "replica_timeout": replica_timeout(task),
        "replica_retry_limit": 0,
        "manual_trigger_config": {"parallelism": 1, "replica_completion_count": 1},
    }
    if registry is not None:
        configuration["registries"] = [{"server": registry.login_server, "identity": identity.id}]
    secrets, secret_env = job_secrets(stack, task, identity)
    if secrets:
        configuration["secrets"] = secrets
    made = add(
        stack,
        app.Job,
        logical_name(stack, task.name, "job"),
        depends_on=[*(d for d in (registry,) if d is not None), *depends_on],
        job_name=job_name(model, stack.env, task.name),
        resource_group_name=stack.group,
        location=stack.location,
        environment_id=apps_environment(stack).id,
        identity={"type": "UserAssigned", "user_assigned_identities": [identity.id]},
        configuration=configuration,
        template={
            "containers": [
                {
                    "name": "task",
                    "image": image,
                    "command": [*ENTRY_POINT, target, task.name],
                    "env": [{"name": k, "value": v} for k, v in sorted(variables.items())]
                    + secret_env,
                    "resources": {"cpu": cfg.cpu, "memory": f"{cfg.memory}Gi"},
                }
            ]
        },
        tags={**stack.tags, **dict(cfg.tags), "glacier-task": task.name},
        **job_args(stack),
    )
    stack.out.jobs[task.name] = made
    return made

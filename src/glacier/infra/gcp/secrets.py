"""Secret Manager: the secrets a task reads, each granted to exactly the tasks naming it.

A task's secret (a ``SecretStr`` parameter, :class:`~glacier.infra.model.SecretRef`) is a
Secret Manager secret of the environment's project, named by its ``cloud_name``; a secret
the settings mark ``declare = true`` is declared by the plan (never its value: a version is
added by whoever holds it). Each task naming it gets ``roles/secretmanager.secretAccessor``
on that secret alone, and reads it as a variable of its job (:func:`secret_envs`) that Cloud Run
fills from the secret's latest version with the job's service account when the job starts.
"""

from __future__ import annotations

import re
from typing import Any

from glacier.env_vars import secret_variable
from glacier.errors import InfraError
from glacier.infra.gcp.stack import GcpStack, add, logical_name
from glacier.infra.model import SecretRef, TaskSpec

__all__ = ["ACCESSOR", "grant_secrets", "secret_envs"]

#: What a task holds on each secret it reads.
ACCESSOR = "roles/secretmanager.secretAccessor"
_SECRET_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")


def grant_secrets(stack: GcpStack, task: TaskSpec, member: Any) -> list[Any]:
    """Bind ``task``'s service account (``member``) on each secret it reads; the bindings
    (its job waits for them: Cloud Run checks the account may read a secret it names)."""
    made = []
    for ref in task.secrets:
        secret_id = _secret_id(task, ref)
        target: Any = secret_id
        deps = []
        if ref.declared:
            target = _declared(stack, secret_id).secret_id
            deps = [stack.shared[f"secret:{secret_id}"]]
        member_of = add(
            stack,
            stack.gcp.secretmanager.SecretIamMember,
            logical_name(stack, task.name, "secret", secret_id),
            depends_on=deps,
            project=stack.project,
            secret_id=target,
            role=ACCESSOR,
            member=member,
        )
        made.append(member_of)
    return made


def secret_envs(stack: GcpStack, task: TaskSpec) -> list[Any]:
    """The job's variables holding ``task``'s secrets: each named by
    :func:`~glacier.env_vars.secret_variable`, its value Secret Manager's latest version."""
    run = stack.gcp.cloudrunv2
    return [
        run.JobTemplateTemplateContainerEnvArgs(
            name=secret_variable(ref.name),
            value_source=run.JobTemplateTemplateContainerEnvValueSourceArgs(
                secret_key_ref=run.JobTemplateTemplateContainerEnvValueSourceSecretKeyRefArgs(
                    secret=_secret_id(task, ref), version="latest"
                )
            ),
        )
        for ref in task.secrets
    ]


def _secret_id(task: TaskSpec, ref: SecretRef) -> str:
    name = ref.cloud_name.rsplit("/secrets/", 1)[-1]
    if not _SECRET_ID.fullmatch(name):
        raise InfraError(
            f"Task {task.name!r} ({task.location}) reads secret {ref.name!r}, stored as "
            f"{ref.cloud_name!r}, which is not a Secret Manager secret id (1 to 255 letters, "
            "digits, '_' or '-'). Name the secret by its Secret Manager id in [secrets]."
        )
    return name


def _declared(stack: GcpStack, secret_id: str) -> Any:
    key = f"secret:{secret_id}"
    made = stack.shared.get(key)
    if made is None:
        gcp = stack.gcp
        made = stack.shared[key] = add(
            stack,
            gcp.secretmanager.Secret,
            logical_name(stack, "secret", secret_id),
            secret_id=secret_id,
            replication=gcp.secretmanager.SecretReplicationArgs(
                auto=gcp.secretmanager.SecretReplicationAutoArgs()
            ),
            labels=stack.labels,
        )
    return made

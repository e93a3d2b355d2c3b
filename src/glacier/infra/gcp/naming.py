"""Physical names of an environment's GCP resources, deterministic and within GCP's rules.

Every name starts from the environment's naming prefix and the pipeline, so two pipelines
(or two environments) sharing a project never collide; a name longer than its limit is cut
and suffixed with a hash of the whole (:func:`~glacier.infra.model.physical_name`). Other
environments' names are computed the same way (a service account's email in project B for a
task of project A), so each environment stays its own stack.

Example:
    >>> from glacier.infra.model import EnvSpec
    >>> env = EnvSpec("prod", "gcp", True, account_id="acme-prod", naming_prefix="prod")
    >>> service_account_email("daily", env, "clean")
    'prod-daily-clean@acme-prod.iam.gserviceaccount.com'
    >>> west = EnvSpec("p", "gcp", True, "acme", "europe-west1", naming_prefix="p")
    >>> job_path("daily", west, "clean")
    'projects/acme/locations/europe-west1/jobs/p-daily-clean'
    >>> iam_database_user("daily", env, "clean")
    'prod-daily-clean@acme-prod.iam'
"""

from __future__ import annotations

from glacier.infra.model import EnvSpec, physical_name

__all__ = [
    "custom_role_id",
    "iam_database_user",
    "job_name",
    "job_path",
    "repository_id",
    "scheduler_job_name",
    "service_account_email",
    "service_account_id",
    "sql_instance_name",
    "workflow_name",
    "workflow_path",
]

_LOWER = "a-z0-9-"


def _starts_with_letter(name: str, limit: int) -> str:
    return name if name[:1].isalpha() else physical_name("g", name, limit=limit, allowed=_LOWER)


def service_account_id(pipeline: str, env: EnvSpec, *parts: str) -> str:
    """A service account id (6 to 30 of ``[a-z0-9-]``, a letter first): ``<prefix>-<pipeline>-
    <task>``, hashed when longer."""
    name = physical_name(env.naming_prefix, pipeline, *parts, limit=30, allowed=_LOWER, lower=True)
    name = _starts_with_letter(name, 30)
    return name if len(name) >= 6 else f"{name}-glacier"[:30]


def service_account_email(pipeline: str, env: EnvSpec, *parts: str) -> str:
    """The email of :func:`service_account_id` in ``env``'s project (known before deploying,
    so another environment's stack can name it)."""
    return f"{service_account_id(pipeline, env, *parts)}@{env.account_id}.iam.gserviceaccount.com"


def job_name(pipeline: str, env: EnvSpec, task: str) -> str:
    """The Cloud Run job of ``task`` (at most 63 of ``[a-z0-9-]``, a letter first)."""
    name = physical_name(env.naming_prefix, pipeline, task, limit=63, allowed=_LOWER, lower=True)
    return _starts_with_letter(name, 63)


def job_path(pipeline: str, env: EnvSpec, task: str) -> str:
    """``projects/<project>/locations/<region>/jobs/<job>``: what the workflow runs."""
    return f"projects/{env.account_id}/locations/{env.region}/jobs/{job_name(pipeline, env, task)}"


def workflow_name(pipeline: str, env: EnvSpec) -> str:
    """The pipeline's workflow (a letter, then at most 63 of ``[a-z0-9_-]``)."""
    name = physical_name(env.naming_prefix, pipeline, limit=64, allowed="a-z0-9_-", lower=True)
    return _starts_with_letter(name, 64)


def workflow_path(pipeline: str, env: EnvSpec) -> str:
    """``projects/<project>/locations/<region>/workflows/<workflow>``."""
    name = workflow_name(pipeline, env)
    return f"projects/{env.account_id}/locations/{env.region}/workflows/{name}"


def scheduler_job_name(pipeline: str, env: EnvSpec) -> str:
    """The Cloud Scheduler job starting the workflow."""
    return physical_name(env.naming_prefix, pipeline, "schedule", limit=500, allowed="a-z0-9_-")


def repository_id(pipeline: str, env: EnvSpec) -> str:
    """The Artifact Registry repository of the environment's images."""
    name = physical_name(env.naming_prefix, pipeline, limit=63, allowed=_LOWER, lower=True)
    return _starts_with_letter(name, 63)


def custom_role_id(pipeline: str, role: str) -> str:
    """A project custom role's id (``[a-zA-Z0-9_.]``, 3 to 64): one per pipeline, so two
    pipelines of a project never share (and never delete) each other's role."""
    return physical_name("glacier", pipeline, role, limit=64, allowed="a-zA-Z0-9_.").replace(
        "-", "_"
    )


def iam_database_user(pipeline: str, env: EnvSpec, task: str) -> str:
    """The Cloud SQL user of ``task``'s service account: its email without
    ``.gserviceaccount.com`` (how Cloud SQL names an IAM service-account user in PostgreSQL)."""
    return service_account_email(pipeline, env, task).removesuffix(".gserviceaccount.com")


def sql_instance_name(identifier: str) -> str:
    """A Cloud SQL instance's name from the database's identifier (lowercase letters, digits
    and hyphens, a letter first; at most 80 so that ``<project>:<instance>`` stays within
    Cloud SQL's 98)."""
    name = physical_name(identifier, limit=80, allowed=_LOWER, lower=True)
    return _starts_with_letter(name, 80)

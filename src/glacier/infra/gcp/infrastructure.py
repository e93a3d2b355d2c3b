"""The GCP infrastructure builder: what an environment declares, and in which order.

:class:`GcpInfrastructure` is the ``gcp`` choice of the cloud container's ``infrastructure``
provider. :func:`declare` opens a :class:`~glacier.infra.gcp.stack.GcpStack` for one
environment (one project) and runs the builder modules over it: buckets, then each task's
service account, bucket and secret bindings and Cloud Run job, then the bindings of tasks of
other projects on this project's buckets (cross-project access: nothing else is declared for
them here), then the workflow where this environment orchestrates.

Databases come before the tasks: the environment's network when one is needed
(:mod:`~glacier.infra.gcp.network`), then each Cloud SQL instance
(:mod:`~glacier.infra.gcp.cloud_sql`), whose private IP the jobs using it are told.

What Glacier does not generate on GCP is refused, naming the alternative: shared volumes
(Filestore), and databases other than Cloud SQL for PostgreSQL (MySQL, DynamoDB tables, an
RDS config: :func:`~glacier.infra.gcp.cloud_sql.cloud_sql_config`).
"""

from __future__ import annotations

from typing import Any

from glacier.errors import InfraError
from glacier.infra.gcp import (
    cloud_run,
    cloud_sql,
    data_access,
    network,
    orchestration,
    secrets,
    service_accounts,
    storage,
)
from glacier.infra.gcp.naming import service_account_email
from glacier.infra.gcp.stack import GcpResources, GcpStack, open_stack
from glacier.infra.model import InfraModel, TaskSpec

__all__ = ["COMPUTE_KINDS", "GcpInfrastructure", "declare"]

#: Compute kinds Glacier generates on GCP.
COMPUTE_KINDS = ("cloud_run",)


class GcpInfrastructure:
    """Declares an environment's GCP resources for a pipeline (see the module docs).

    Built by the cloud container (``env.container.cloud.infrastructure``); override that
    provider to change what gets declared.
    """

    cloud = "gcp"

    def __init__(self, config: Any = None) -> None:
        self.config = config

    def describe(self) -> str:
        """One line on what this builder declares."""
        project = getattr(self.config, "project", "?")
        region = getattr(self.config, "region", "?")
        return f"GCP resources with pulumi_gcp in project {project}, {region}"

    def declare(self, model: InfraModel, env: str) -> GcpResources:
        """Declare environment ``env``'s share of ``model``; must run inside a Pulumi program."""
        return declare(model, env)


def declare(model: InfraModel, env: str) -> GcpResources:
    """Declare environment ``env``'s share of ``model`` (see the module docs)."""
    spec = model.envs[env]
    if spec.account_id is None:
        raise InfraError(
            f"GCP environment {env!r} has no project; set project_id in its [provider]."
        )
    _refuse_unsupported(model, env)
    stack = open_stack(model, spec)
    for store in model.stores_in(env):
        if store.declared:
            storage.bucket(stack, store)
    network.declare_network(stack)
    for db in model.databases_in(env):
        cloud_sql.instance(stack, db)
    here = {s.key for s in model.stores_in(env)}
    for task in model.tasks_in(env):
        declare_task(stack, task, here)
    for task in model.tasks:
        if task.env == env:
            continue
        grants = task.grants_in(here)
        if grants and model.envs[task.env].cloud != "gcp":
            raise InfraError(
                f"Task {task.name!r} ({task.location}) runs on {model.envs[task.env].cloud} "
                f"but reaches buckets of GCP environment {env!r}; Glacier grants GCS access to "
                "GCP service accounts only. Run the task in a GCP environment, or copy the "
                "data to its own cloud."
            )
        if grants:  # another project's (or environment's) task reaching data here
            email = service_account_email(model.pipeline, model.envs[task.env], task.name)
            data_access.bind_task(stack, task, f"serviceAccount:{email}", grants)
    remote = model.orchestrated_from_elsewhere(env)
    if remote:
        orchestration.invoker_bindings(stack, remote)
    if model.orchestrator == env and model.tasks:
        orchestration.workflow(stack)
    return stack.out


def declare_task(stack: GcpStack, task: TaskSpec, here: set[str]) -> None:
    """Declare one task: its service account, its bindings here, its secrets and its job."""
    if task.compute not in COMPUTE_KINDS:
        raise InfraError(
            f"Task {task.name!r} ({task.location}) asks for {task.compute} compute, which "
            "Glacier does not generate on GCP. Use env.compute.cloud_run(...)."
        )
    for grant in task.grants:
        store = stack.model.stores[grant.location.store]
        cloud = stack.model.envs[store.env].cloud
        if cloud != "gcp":
            raise InfraError(
                f"Task {task.name!r} ({task.location}) runs on GCP but reaches dataset "
                f"{grant.location.dataset!r} on {cloud} (environment {store.env!r}); Glacier "
                "grants a GCP service account access to GCS buckets only. Store the dataset "
                "in GCS (env.storage.gcs(...)), or run the task on its data's cloud."
            )
    account = service_accounts.service_account(stack, task)
    member = service_accounts.member_of(account)
    bindings = data_access.bind_task(stack, task, member, task.grants_in(here), account)
    readers = secrets.grant_secrets(stack, task, member)
    database = cloud_sql.grant_database(stack, task, account, member)
    cloud_run.job(stack, task, account, [account, *bindings, *readers, *database])


def _refuse_unsupported(model: InfraModel, env: str) -> None:
    for task in model.tasks_in(env):
        for key in task.databases:  # refuses what is not Cloud SQL for PostgreSQL
            cloud_sql.cloud_sql_config(
                model.databases[key], f"task {task.name!r} ({task.location}) uses "
            )
        if task.volumes:
            raise InfraError(
                f"Task {task.name!r} ({task.location}) mounts volume {task.volumes[0]!r} in "
                f"GCP environment {env!r}; Glacier does not generate Filestore shares. Keep "
                "the files in a bucket (a Dataset or env.storage.gcs(...))."
            )

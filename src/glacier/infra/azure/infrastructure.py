"""The Azure infrastructure builder: what an environment declares, and in which order.

:class:`AzureInfrastructure` is the ``azure`` choice of the cloud container's
``infrastructure`` provider (registered in :mod:`glacier.infra.builders`). :func:`declare`
opens a :class:`~glacier.infra.azure.stack.Stack` for one environment and runs the builder
modules over it in the order their references require: the resource group, the storage
account and containers, the virtual network and PostgreSQL flexible servers when the
environment has databases, each task's identity, its role assignments and its job, then the
grants to tasks of other environments on this one's containers, and, where it orchestrates,
the Logic App.
"""

from __future__ import annotations

from typing import Any

from glacier.errors import InfraError
from glacier.infra.azure import (
    container_apps,
    data_access,
    identities,
    network,
    orchestration,
    postgres,
    secrets,
    storage,
)
from glacier.infra.azure.stack import AzureResources, open_stack
from glacier.infra.model import InfraModel

#: Compute kinds Glacier generates on Azure.
COMPUTE_KINDS = ("container_app",)


class AzureInfrastructure:
    """Declares an environment's Azure resources for a pipeline (see the module docs).

    Built by the cloud container (``env.container.cloud.infrastructure``); override that
    provider to change what gets declared.
    """

    cloud = "azure"

    def __init__(self, config: Any = None) -> None:
        self.config = config

    def describe(self) -> str:
        """One line on what this builder declares."""
        location = getattr(self.config, "location", "?")
        return f"Azure resources with pulumi-azure-native in {location}"

    def declare(self, model: InfraModel, env: str) -> AzureResources:
        """Declare environment ``env``'s share of ``model``; must run inside a Pulumi program."""
        return declare(model, env)


def declare(model: InfraModel, env: str) -> AzureResources:
    """Declare environment ``env``'s share of ``model`` (see the module docs)."""
    spec = model.envs[env]
    refuse_unsupported(model, env)
    stack = open_stack(model, spec)
    storage.resource_group(stack)
    stores = [s for s in model.stores_in(env) if s.declared]
    if stores:
        storage.storage_account(stack, stores)
        for store in stores:
            storage.container(stack, store)
    network.declare_network(stack)
    for db in model.databases_in(env):
        postgres.server(stack, db)
    for task in model.tasks_in(env):
        if task.compute not in COMPUTE_KINDS:
            raise InfraError(
                f"Task {task.name!r} ({task.location}) asks for {task.compute} compute, which "
                "Glacier does not generate on Azure. Use env.compute.container_app(...)."
            )
        identity = identities.task_identity(stack, task)
        for key in task.databases:
            postgres.note_roles(stack, model.databases[key], [task])
        data_access.data_assignments(stack, task)
        readers = secrets.secret_grants(stack, task)
        container_apps.job(stack, task, identity, readers)
    for task in model.tasks:
        if task.env != env:
            data_access.data_assignments(stack, task)
    if model.orchestrator == env and model.tasks:
        orchestration.workflow(stack)
    return stack.out


def refuse_unsupported(model: InfraModel, env: str) -> None:
    """Refuse, naming what is missing, what the Azure builder does not generate yet: a
    database other than a PostgreSQL flexible server (an RDS or DynamoDB config), a volume;
    and an AWS ``[network]`` section, which names nothing Azure has."""
    network = model.envs[env].network
    if network.named or network.nat:
        raise InfraError(
            f"Azure environment {env!r} has a [network] section (vpc_id, subnet_ids, "
            "security_group_ids, nat), which describes an AWS VPC and means nothing on Azure. "
            "Remove it; to use an existing virtual network, set database_subnet_id and "
            "apps_subnet_id under [provider] (else the plan creates one when a database "
            "needs it)."
        )
    for db in model.databases_in(env):
        postgres.azure_postgres_config(db)
    for volume in model.volumes_in(env):
        raise InfraError(
            f"Volume {volume.name!r} is in Azure environment {env!r}, but Glacier does not "
            "generate Azure file shares for Container Apps jobs yet; keep the data in a "
            "container (env.storage.blob(...))."
        )

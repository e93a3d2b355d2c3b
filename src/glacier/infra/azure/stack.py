"""The stack record: one Azure environment's provider and what has been declared under it.

Every builder module of :mod:`glacier.infra.azure` is a set of plain functions taking a
:class:`Stack` first, as in :mod:`glacier.infra.aws`. ``pulumi_azure_native`` is imported by
:func:`open_stack` and :func:`native` (one submodule at a time, which keeps plans fast), never
at module level, so ``import glacier`` stays free of cloud SDKs.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from glacier.errors import InfraError
from glacier.infra.azure.naming import resource_group_name
from glacier.infra.lambda_package import ContainerImage
from glacier.infra.model import EnvSpec, InfraModel

#: Tag every resource carries.
MANAGED_BY = {"ManagedBy": "glacier"}


@dataclass
class AzureResources:
    """What :meth:`AzureInfrastructure.declare` created for one environment, by purpose."""

    provider: Any
    resource_group: Any = None
    storage_account: Any = None
    containers: dict[str, Any] = field(default_factory=dict)
    identities: dict[str, Any] = field(default_factory=dict)
    #: Every role assignment, with what it grants: ``(task or purpose, resource)``.
    role_assignments: list[tuple[str, Any]] = field(default_factory=list)
    jobs: dict[str, Any] = field(default_factory=dict)
    apps_environment: Any = None
    registry: Any = None
    vault: Any = None
    workflow: Any = None
    #: The virtual network the plan created (None without one, or with the settings' own).
    network: Any = None
    #: PostgreSQL flexible servers, by database key (``<env>:<identifier>``).
    databases: dict[str, Any] = field(default_factory=dict)
    resources: list[Any] = field(default_factory=list)
    #: What the plan chose where the pipeline left it open (objects with ``text``, ``to_dict``).
    choices: list[Any] = field(default_factory=list)
    images: dict[str, ContainerImage] = field(default_factory=dict)


@dataclass(frozen=True)
class Stack:
    """One Azure environment's declaration in progress (see the module docs).

    ``subscription``, ``group`` and ``location`` are the environment's; ``shared`` holds what
    is made once per environment on first use (the registry, the lookups of identities of
    other subscriptions).
    """

    pulumi: ModuleType
    model: InfraModel
    env: EnvSpec
    provider: Any
    opts: Any
    out: AzureResources
    tags: dict[str, str]
    subscription: str
    group: str
    location: str
    shared: dict[str, Any] = field(default_factory=dict)

    @property
    def account(self) -> str:
        """The storage account holding the environment's containers (see :func:`check_env`)."""
        return str(self.env.config.storage_account)


def native(name: str) -> Any:
    """The ``pulumi_azure_native`` submodule ``name`` (``"storage"``, ``"app"``, ...)."""
    return importlib.import_module(f"pulumi_azure_native.{name}")


def check_env(env: EnvSpec) -> None:
    """Refuse an Azure environment whose settings lack what every resource id needs."""
    config = env.config
    if not env.account_id:
        raise InfraError(
            f"Azure environment {env.key!r} names no subscription_id; role assignments and "
            "the orchestration reach resources by ids that contain it. Set subscription_id "
            "in the [provider] section (or AZURE_SUBSCRIPTION_ID)."
        )
    if getattr(config, "storage_account", None) is None:
        raise InfraError(
            f"Azure environment {env.key!r} names no storage_account; the plan creates the "
            "account its containers live in, and deployed tasks find their data by that "
            "name. Set storage_account (3-24 lower-case letters and digits, globally unique) "
            "in the [provider] section."
        )


def open_stack(model: InfraModel, env: EnvSpec) -> Stack:
    """A fresh stack for ``env``, with its ``azure-native`` provider declared."""
    import pulumi
    from pulumi_azure_native.provider import Provider

    check_env(env)
    provider = Provider(env.key, subscription_id=env.account_id, location=env.region)
    tags = {**env.tag_map, **dict(getattr(env.config, "tags", {}) or {}), **MANAGED_BY}
    return Stack(
        pulumi=pulumi,
        model=model,
        env=env,
        provider=provider,
        opts=pulumi.ResourceOptions(provider=provider),
        out=AzureResources(provider=provider),
        tags={**tags, "glacier-pipeline": model.pipeline},
        subscription=str(env.account_id),
        group=resource_group_name(model, env),
        location=str(env.region),
    )


def logical_name(stack: Stack, *parts: str) -> str:
    """A logical (Pulumi) name, unique in the stack: the environment's key first."""
    return "-".join((stack.env.key, *parts))


def add(
    stack: Stack, cls: Any, logical: str, /, *, depends_on: Sequence[Any] = (), **args: Any
) -> Any:
    """Declare resource ``cls(logical, **args)`` on the environment's provider and collect it."""
    opts = stack.opts
    if depends_on:
        opts = stack.pulumi.ResourceOptions(provider=stack.provider, depends_on=list(depends_on))
    resource = cls(logical, opts=opts, **args)
    stack.out.resources.append(resource)
    return resource

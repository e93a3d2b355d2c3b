"""The GCP stack record: one environment's provider and what has been declared under it.

As in :mod:`glacier.infra.aws.stack`, every builder module is a set of plain functions taking
a :class:`GcpStack` first; the dicts it holds collect what later steps refer to (a task's
service account for its bindings and its job, a job for the workflow). The environment's
``gcp.Provider`` carries the project, the region and the default labels, so every resource
is bound to the environment's project. ``pulumi_gcp`` is imported by :func:`open_stack`
(one submodule at a time, through :class:`Modules`), never at module level.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from glacier.infra.gcp.labels import labels_of
from glacier.infra.model import EnvSpec, InfraModel

#: The label every resource carries (through the provider's default labels).
MANAGED_BY = {"managed-by": "glacier"}


class Modules:
    """``pulumi_gcp``'s submodules, imported on first use (``stack.gcp.storage.Bucket``):
    importing the whole package would load every service's module."""

    def __getattr__(self, name: str) -> Any:
        module = importlib.import_module(f"pulumi_gcp.{name}")
        setattr(self, name, module)
        return module


@dataclass
class GcpResources:
    """What :meth:`GcpInfrastructure.declare` created for one environment, by purpose."""

    provider: Any
    buckets: dict[str, Any] = field(default_factory=dict)
    service_accounts: dict[str, Any] = field(default_factory=dict)
    bindings: list[Any] = field(default_factory=list)
    jobs: dict[str, Any] = field(default_factory=dict)
    custom_roles: dict[str, Any] = field(default_factory=dict)
    #: Cloud SQL instances by database key (``<env>:<identifier>``).
    databases: dict[str, Any] = field(default_factory=dict)
    repository: Any = None
    workflow: Any = None
    resources: list[Any] = field(default_factory=list)
    #: What the plan chose where the pipeline left it open (a job's image), and why.
    choices: list[Any] = field(default_factory=list)
    #: The images its jobs run that the deployment builds and pushes, by tag.
    images: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GcpStack:
    """One GCP environment's declaration in progress (see the module docs).

    ``project`` and ``region`` are the environment's; ``accounts`` holds each task's service
    account by task name, ``shared`` what is made once per environment on first use (the
    image repository, the custom roles).
    """

    pulumi: Any
    gcp: Modules
    model: InfraModel
    env: EnvSpec
    provider: Any
    opts: Any
    out: GcpResources
    labels: dict[str, str]
    accounts: dict[str, Any] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)

    @property
    def project(self) -> str:
        """The environment's project id (settings-load checked it)."""
        return str(self.env.account_id)

    @property
    def region(self) -> str:
        """The environment's region."""
        return str(self.env.region or "us-central1")


def open_stack(model: InfraModel, env: EnvSpec) -> GcpStack:
    """A fresh stack for ``env``, with its ``gcp.Provider`` declared; inside a Pulumi program."""
    import pulumi

    from glacier.extras import require

    pulumi_gcp = require("pulumi_gcp", "gcp", "Planning a GCP environment")
    own = dict(getattr(env.config, "labels", None) or {})
    provider = pulumi_gcp.Provider(
        env.key,
        project=env.account_id,
        region=env.region,
        default_labels=labels_of({**env.tag_map, **own, **MANAGED_BY}, f"environment {env.key!r}"),
    )
    return GcpStack(
        pulumi=pulumi,
        gcp=Modules(),
        model=model,
        env=env,
        provider=provider,
        opts=pulumi.ResourceOptions(provider=provider),
        out=GcpResources(provider=provider),
        labels=labels_of({"glacier-pipeline": model.pipeline}, f"pipeline {model.pipeline!r}"),
    )


def logical_name(stack: GcpStack, *parts: str) -> str:
    """A logical (Pulumi) name, unique in the stack: the environment's key first."""
    return "-".join((stack.env.key, *parts))


def add(
    stack: GcpStack, cls: Any, logical: str, /, *, depends_on: Sequence[Any] = (), **args: Any
) -> Any:
    """Declare resource ``cls(logical, **args)`` on the environment's provider and collect it."""
    opts = stack.opts
    if depends_on:
        opts = stack.pulumi.ResourceOptions(provider=stack.provider, depends_on=list(depends_on))
    resource = cls(logical, opts=opts, **args)
    stack.out.resources.append(resource)
    return resource

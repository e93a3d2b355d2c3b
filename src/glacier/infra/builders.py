"""Infrastructure builders by cloud: who declares an environment's resources, and on what
compute its tasks can run.

Each cloud registers one :class:`CloudBuilder`, as stores are registered in
:data:`glacier.locations.STORES`: the builder class (imported when first used, so no cloud's
Pulumi package loads before a plan needs it), the compute kinds it generates, the kind a task
without a ``compute=`` hint gets, and how a user asks for each. The infrastructure model
(:mod:`glacier.infra.model`) reads only this table, never a cloud's names; the cloud container
makes the builder through :func:`make_builder`. A new cloud is a new module and one
:func:`register_builder` call: nothing that reads the model changes.

Example:
    >>> builder_of("aws").default_compute
    'lambda'
    >>> "glue" in builder_of("aws").compute
    True
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from glacier.errors import InfraError

__all__ = [
    "BUILDERS",
    "CROSS_CLOUD_COMPUTE",
    "CloudBuilder",
    "builder_of",
    "make_builder",
    "register_builder",
]

#: Compute that runs on every cloud, outside any one cloud's builder: a Databricks workspace.
CROSS_CLOUD_COMPUTE = ("databricks",)


def _lambda_config() -> Any:
    from glacier.settings import LambdaConfig

    return LambdaConfig()


def _no_config() -> Any:
    return None


@dataclass(frozen=True)
class CloudBuilder:
    """One cloud's infrastructure builder, as the model and the cloud container see it.

    Args:
        cloud: The provider config's ``kind`` (``"aws"``, ``"gcp"``, ...).
        target: ``"module:Class"`` of the builder; made as ``Class(config=provider_config)``
            and asked to ``declare(model, env)`` inside a Pulumi program.
        compute: The compute kinds the builder generates (a task's ``TaskSpec.compute``).
        default_compute: The kind a task without a ``compute=`` hint runs on.
        serverless: The kind a task whose compute is a ``Serverless`` resource runs on (the
            cloud's functions), or None when the cloud's builder has no functions.
        hint: How a user asks for this cloud's compute, for messages.
        default_config: Makes the config of a task running on the default compute.
        code_from_artifacts: Compute kinds that load the pipeline's code from the
            environment's artifacts store (their tasks are granted read on it).
        catalog: Whether the builder registers ``Dataset(..., catalog=True)`` tables in the
            cloud's data catalog (``catalog_name`` says which, for messages).
        storage_hint: How a user stores data in this cloud's object store, for messages.
        secret_store: The ``[secrets]`` store a deployed task reads its secrets from (a key
            of :mod:`glacier.secrets`' stores), or None when the builder grants none;
            ``secret_store_name`` names it for messages.
        task_config: ``"module:function"`` making the config of a task whose compute is a
            ``Serverless`` resource, as ``function(task, compute)``; its config when empty.
        check_tasks: ``"module:function"`` checking the cloud's tasks together, as
            ``function(task_specs)`` (raising :class:`~glacier.errors.InfraError`), e.g.
            two tasks given one function name.
    """

    cloud: str
    target: str
    compute: tuple[str, ...]
    default_compute: str
    serverless: str | None = None
    hint: str = ""
    default_config: Callable[[], Any] = field(default=_no_config, compare=False)
    code_from_artifacts: tuple[str, ...] = ()
    catalog: bool = False
    catalog_name: str = ""
    storage_hint: str = ""
    secret_store: str | None = None
    secret_store_name: str = ""
    task_config: str = ""
    check_tasks: str = ""

    def offers(self, kind: str) -> bool:
        """Whether tasks in this cloud can run on compute ``kind``."""
        return kind in self.compute or kind in CROSS_CLOUD_COMPUTE

    def serverless_config(self, task: Any, compute: Any) -> Any:
        """The config of ``task`` running on ``compute`` (a ``Serverless`` resource): what
        the cloud's ``task_config`` hook makes of it, else the resource's own config."""
        if not self.task_config:
            return getattr(compute, "config", None)
        return _load(self.task_config, self.cloud)(task, compute)

    def check(self, tasks: Sequence[Any]) -> None:
        """Run the cloud's ``check_tasks`` hook over its ``tasks`` (``TaskSpec`` records)."""
        if self.check_tasks and tasks:
            _load(self.check_tasks, self.cloud)(tasks)


#: The registered builders by cloud.
BUILDERS: dict[str, CloudBuilder] = {}


def register_builder(builder: CloudBuilder) -> CloudBuilder:
    """Register ``builder`` for its cloud (replacing an earlier one of that cloud)."""
    BUILDERS[builder.cloud] = builder
    return builder


def builder_of(cloud: str) -> CloudBuilder | None:
    """The builder registered for ``cloud``, or None."""
    return BUILDERS.get(cloud)


def make_builder(config: Any) -> Any:
    """The infrastructure builder for a provider ``config`` (by its ``kind``).

    A cloud with no registered builder gets one that refuses to declare, naming the cloud
    (planning its environments fails then, not when the provider is made).
    """
    kind = str(getattr(config, "kind", "local"))
    entry = BUILDERS.get(kind)
    if entry is None:
        from glacier.adapters.unavailable import UnavailableAdapter

        return UnavailableAdapter(what="infrastructure generation", cloud=kind)
    return _load(entry.target, kind)(config=config)


def _load(target: str, cloud: str) -> Any:
    """The object ``"module:name"`` names, imported on first use (so a cloud's package loads
    only when one of its environments is planned)."""
    module, _, name = target.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise InfraError(
            f"The {cloud} infrastructure builder's {target} cannot be loaded: {exc}."
        ) from exc


register_builder(
    CloudBuilder(
        cloud="local",
        target="glacier.infra.local:LocalInfrastructure",
        compute=(),
        default_compute="local",
        hint="a local environment runs tasks on this machine",
    )
)
register_builder(
    CloudBuilder(
        cloud="aws",
        target="glacier.infra.aws:AwsInfrastructure",
        compute=("lambda", "ecs", "glue"),
        default_compute="lambda",
        serverless="lambda",
        hint="env.compute.lambda_(...), env.compute.ecs(...) or env.compute.glue(...)",
        default_config=_lambda_config,
        code_from_artifacts=("glue",),
        catalog=True,
        catalog_name="the AWS Glue Data Catalog",
        storage_hint="env.storage.s3(bucket=...)",
        secret_store="aws",
        secret_store_name="AWS Secrets Manager",
        task_config="glacier.infra.aws.functions:serverless_config",
        check_tasks="glacier.infra.aws.functions:check_function_names",
    )
)


def _cloud_run_config() -> Any:
    from glacier.settings import CloudRunConfig

    return CloudRunConfig()


register_builder(
    CloudBuilder(
        cloud="gcp",
        target="glacier.infra.gcp:GcpInfrastructure",
        compute=("cloud_run",),
        default_compute="cloud_run",
        # A function hint (env.compute.lambda_/serverless) runs as a Cloud Run job of its
        # size, so a pipeline switches clouds by its settings (glacier.infra.serverless_jobs).
        serverless="cloud_run",
        task_config="glacier.infra.serverless_jobs:cloud_run_config",
        hint=(
            "env.compute.cloud_run(...) (Glacier generates Cloud Run jobs on GCP; not Cloud "
            "Functions, Dataproc or AWS compute)"
        ),
        default_config=_cloud_run_config,
        secret_store="gcp",
        secret_store_name="GCP Secret Manager",
    )
)


def _container_app_config() -> Any:
    from glacier.settings import ContainerAppConfig

    return ContainerAppConfig()


register_builder(
    CloudBuilder(
        cloud="azure",
        target="glacier.infra.azure:AzureInfrastructure",
        compute=("container_app",),
        default_compute="container_app",
        serverless="container_app",  # a function hint runs as a job of its size
        task_config="glacier.infra.serverless_jobs:container_app_config",
        hint="env.compute.container_app(cpu=..., memory=..., timeout=...)",
        default_config=_container_app_config,
        secret_store="azure",
        secret_store_name="Azure Key Vault",
    )
)

"""The declarative dependency-injector containers that wire Glacier together.

Shaped like dependency-injector's multiple-containers application example: small containers
each owning one concern, composed by one environment container.

- :class:`CloudContainer` — gateways (the fsspec filesystem) and adapters of one cloud,
  selected by the provider config's ``kind``;
- :class:`ExecutionContainer` — the executor, the task cache and the run store;
- :class:`EnvironmentContainer` — settings, provider, resource registry, and the two above.

Override any provider to swap a part, in tests or for a custom adapter::

    with env.container.filesystem.override(providers.Object(MemoryFileSystem())):
        pipeline.run(env=env)

    env.container.cloud.bucket_adapter.override(providers.Factory(MinioAdapter, ...))
"""

from __future__ import annotations

import importlib
import operator
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from dependency_injector import containers, providers

from glacier.adapters.unavailable import UnavailableAdapter


def _lazy(path: str) -> Callable[..., Any]:
    """A callable that imports ``module:attr`` on first call, so no cloud SDK loads at import."""

    def build(*args: Any, **kwargs: Any) -> Any:
        module, _, attr = path.partition(":")
        return getattr(importlib.import_module(module), attr)(*args, **kwargs)

    build.__qualname__ = build.__name__ = path.rpartition(":")[2]
    return build


def _unavailable(what: str, kind: str) -> providers.Factory[Any]:
    return providers.Factory(UnavailableAdapter, what=what, cloud=kind)


def registry_from_settings(provider: Any, settings: Any) -> dict[str, Any]:
    """The resource registry, seeded with the buckets a settings file declares."""
    registry: dict[str, Any] = {}
    kind = getattr(provider, "kind", None)
    for name, spec in settings.buckets.items():
        sections = {"aws": spec.s3, "gcp": spec.gcs, "azure": spec.blob}
        config = sections.get(str(kind)) if kind != "local" else (spec.s3 or spec.gcs or spec.blob)
        registry[name] = provider.bucket(
            spec.bucket_name,
            path=spec.path,
            format=spec.format,
            config=config,
            partition_by=spec.partition_by or None,
            name=name,
            retention=timedelta(days=spec.retention_days),
        )
    return registry


class CloudContainer(containers.DeclarativeContainer):
    """Gateways and adapters for one cloud, chosen by ``config.kind``.

    Nothing outside this container and the adapters branches on the cloud.
    """

    config: providers.Dependency[Any] = providers.Dependency()
    kind = providers.Callable(operator.attrgetter("kind"), config)

    # -- gateways --------------------------------------------------------------------------
    filesystem = providers.Selector(
        kind,
        local=providers.Singleton(_lazy("glacier.adapters.filesystems:local_filesystem"), config),
        aws=providers.Singleton(_lazy("glacier.adapters.filesystems:s3_filesystem"), config),
        gcp=providers.Singleton(_lazy("glacier.adapters.filesystems:gcs_filesystem"), config),
        azure=providers.Singleton(_lazy("glacier.adapters.filesystems:azure_filesystem"), config),
    )

    # -- adapters (one per resource kind; a resource asks for ``<kind>_adapter``) ----------
    bucket_adapter = providers.Factory(
        _lazy("glacier.adapters.bucket:FsspecBucketAdapter"),
        filesystem=filesystem,
        config=config,
    )
    serverless_adapter = providers.Selector(
        kind,
        local=providers.Factory(_lazy("glacier.adapters.serverless:LocalServerlessAdapter")),
        aws=providers.Factory(_lazy("glacier.adapters.serverless:LambdaAdapter"), config=config),
        gcp=_unavailable("invoking Cloud Functions", "gcp"),
        azure=_unavailable("invoking Azure Functions", "azure"),
    )
    execution_adapter = providers.Selector(
        kind,
        local=_unavailable("submitting jobs to execution environments", "local"),
        aws=_unavailable("submitting Glue/ECS/Databricks jobs directly", "aws"),
        gcp=_unavailable("submitting Dataproc jobs", "gcp"),
        azure=_unavailable("submitting Synapse jobs", "azure"),
    )
    database_adapter = providers.Selector(
        kind,
        local=_unavailable("database reads and writes", "local"),
        aws=_unavailable("database reads and writes", "aws"),
        gcp=_unavailable("database reads and writes", "gcp"),
        azure=_unavailable("database reads and writes", "azure"),
    )
    volume_adapter = providers.Factory(
        UnavailableAdapter, what="file system volume I/O", cloud=kind
    )

    # -- infrastructure builder (Pulumi) ---------------------------------------------------
    infrastructure = providers.Selector(
        kind,
        aws=providers.Factory(_lazy("glacier.infra.aws:AwsInfrastructure"), config=config),
        local=providers.Factory(_lazy("glacier.infra.local:LocalInfrastructure"), config=config),
        gcp=_unavailable("infrastructure generation", "gcp"),
        azure=_unavailable("infrastructure generation", "azure"),
    )


class ExecutionContainer(containers.DeclarativeContainer):
    """How runs execute and what they remember."""

    settings: providers.Dependency[Any] = providers.Dependency()  # ExecutorSettings
    state_dir = providers.Dependency(instance_of=Path)

    kind = providers.Callable(operator.attrgetter("kind"), settings)
    executor = providers.Selector(
        kind,
        local=providers.Factory(
            _lazy("glacier.executors.local:LocalExecutor"),
            max_workers=providers.Callable(operator.attrgetter("max_workers"), settings),
        ),
        dask=providers.Factory(
            _lazy("glacier.executors.dask:DaskExecutor"),
            address=providers.Callable(operator.attrgetter("dask_address"), settings),
        ),
    )
    cache = providers.Singleton(
        _lazy("glacier.cache:TaskCache"),
        directory=providers.Callable(operator.truediv, state_dir, "cache"),
    )
    run_store = providers.Singleton(
        _lazy("glacier.runstore:RunStore"),
        directory=providers.Callable(operator.truediv, state_dir, "runs"),
    )


class EnvironmentContainer(containers.DeclarativeContainer):
    """One environment: its settings, provider, registry, cloud and execution containers."""

    settings: providers.Dependency[Any] = providers.Dependency()  # GlacierSettings
    provider_config = providers.Callable(operator.attrgetter("provider"), settings)
    state_dir = providers.Callable(lambda s: Path(s.state_dir), settings)

    cloud = providers.Container(CloudContainer, config=provider_config)
    filesystem = cloud.filesystem
    bucket_adapter = cloud.bucket_adapter

    provider = providers.Singleton(
        _lazy("glacier.provider:Provider"),
        config=provider_config,
        tags=providers.Callable(lambda s: dict(s.tags), settings),
        naming_prefix=providers.Callable(operator.attrgetter("resolved_naming_prefix"), settings),
        cloud=cloud,
    )
    # Named resources: the settings file's [buckets.*] first; env.register() adds more.
    registry = providers.Singleton(
        _lazy("glacier.containers:registry_from_settings"), provider=provider, settings=settings
    )

    execution = providers.Container(
        ExecutionContainer,
        settings=providers.Callable(operator.attrgetter("executor"), settings),
        state_dir=state_dir,
    )
    executor = execution.executor
    cache = execution.cache
    run_store = execution.run_store

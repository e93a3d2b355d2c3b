"""The declarative dependency-injector containers that wire an environment together.

Shaped like dependency-injector's multiple-containers application example: small containers
each owning one concern, composed by one environment container.

- :class:`~glacier.cloud.CloudContainer` — gateways (the fsspec filesystem) and adapters of
  one cloud, selected by the provider config's ``kind``; owned by the provider;
- :class:`ExecutionContainer` — the executor, the task cache and the run store;
- :class:`EnvironmentContainer` — settings, provider, resource registry, and the two above.

Override any provider to swap a part, in tests or for a custom adapter::

    with env.container.filesystem.override(providers.Object(MemoryFileSystem())):
        pipeline.run(env=env)

    env.container.cloud.bucket_adapter.override(providers.Factory(MinioAdapter, ...))
"""

from __future__ import annotations

import operator
from datetime import timedelta
from pathlib import Path
from typing import Any

from dependency_injector import containers, providers

from glacier.cache import TaskCache
from glacier.cloud import CloudContainer
from glacier.executors.dask import DaskExecutor
from glacier.executors.local import LocalExecutor
from glacier.provider import Identity, Provider
from glacier.runstore import RunStore
from glacier.secrets import Secrets, database_connection

__all__ = [
    "CloudContainer",
    "EnvironmentContainer",
    "ExecutionContainer",
    "identity_from_settings",
    "registry_from_settings",
]


def registry_from_settings(provider: Any, settings: Any, secrets: Any = None) -> dict[str, Any]:
    """The resource registry, seeded with the buckets, databases and volumes a settings file
    declares. A database's ``password_secret`` is read from ``secrets`` when it connects; in
    a deployed task, a database the plan created is reached where the plan says."""
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
        ).with_options(
            spec.read_options,
            spec.write_options,
            read_only=spec.read_only,
            where=f"[buckets.{name}]",
        )
    found = secrets if secrets is not None else Secrets(settings)
    for name, db in settings.databases.items():
        identifier = db.identifier or name
        connection = (
            db
            if db.kind == "dynamodb"
            else database_connection(name, identifier, db, lambda: found)
        )
        registry[name] = provider.database(
            identifier, db.kind, config=db.config, name=name, connection=connection
        )
    for name, volume in settings.volumes.items():
        registry[name] = provider.volume(volume.file_system_name, config=volume.efs, name=name)
    return registry


def identity_from_settings(settings: Any) -> Identity:
    """The identity a provider built for an environment's settings carries."""
    return Identity(
        environment=settings.name or settings.env,
        naming_prefix=settings.resolved_naming_prefix,
        tags=dict(settings.tags),
        network=settings.network,
    )


class ExecutionContainer(containers.DeclarativeContainer):
    """How runs execute and what they remember."""

    settings: providers.Dependency[Any] = providers.Dependency()  # ExecutorSettings
    state_dir = providers.Dependency(instance_of=Path)

    kind = providers.Callable(operator.attrgetter("kind"), settings)
    #: One executor per name; ``env.executor("dask")`` picks from the same table.
    executor = providers.Selector(
        kind,
        local=providers.Factory(
            LocalExecutor,
            max_workers=providers.Callable(operator.attrgetter("max_workers"), settings),
        ),
        dask=providers.Factory(
            DaskExecutor,
            address=providers.Callable(operator.attrgetter("scheduler_address"), settings),
            n_workers=providers.Callable(operator.attrgetter("n_workers"), settings),
            threads_per_worker=providers.Callable(
                operator.attrgetter("threads_per_worker"), settings
            ),
            processes=providers.Callable(operator.attrgetter("processes"), settings),
        ),
    )
    cache = providers.Singleton(
        TaskCache, directory=providers.Callable(operator.truediv, state_dir, "cache")
    )
    run_store = providers.Singleton(
        RunStore, directory=providers.Callable(operator.truediv, state_dir, "runs")
    )


class EnvironmentContainer(containers.DeclarativeContainer):
    """One environment: its settings, provider, registry, cloud and execution containers.

    Build it with :func:`environment_container`, which puts the provider's own cloud
    container in the ``cloud`` slot.
    """

    settings: providers.Dependency[Any] = providers.Dependency()  # GlacierSettings
    provider_config = providers.Callable(operator.attrgetter("provider"), settings)
    state_dir = providers.Callable(lambda s: Path(s.state_dir), settings)

    cloud = providers.Container(CloudContainer, config=provider_config)
    filesystem = cloud.filesystem
    bucket_adapter = cloud.bucket_adapter

    provider = providers.Singleton(
        Provider,
        config=provider_config,
        identity=providers.Callable(identity_from_settings, settings),
        cloud=cloud,
    )
    # The [secrets] section, read on first use; override it to hand tests known values.
    secrets = providers.Singleton(Secrets, settings)
    # Named resources: the settings file's [buckets.*] first; env.register() adds more.
    registry = providers.Singleton(
        registry_from_settings, provider=provider, settings=settings, secrets=secrets
    )

    execution = providers.Container(
        ExecutionContainer,
        settings=providers.Callable(operator.attrgetter("executor"), settings),
        state_dir=state_dir,
    )
    executor = execution.executor
    cache = execution.cache
    run_store = execution.run_store


def environment_container(settings: Any, provider: Any = None) -> EnvironmentContainer:
    """The container of an environment with ``settings``, around ``provider``'s cloud container.

    Without a provider, the container builds one from the settings (its cloud container is
    the environment's). With a :class:`~glacier.Provider`, the ``cloud`` slot (and its
    ``filesystem`` and ``bucket_adapter`` shortcuts) *is* the provider's cloud container, so
    an override made through the environment reaches the provider's resources.
    """
    container = EnvironmentContainer(settings=providers.Object(settings))
    if provider is None:
        return container
    if isinstance(provider, Provider):
        cloud = provider.cloud
        container.cloud = providers.Container(CloudContainer, container=cloud)
        container.filesystem = cloud.filesystem
        container.bucket_adapter = cloud.bucket_adapter
    container.provider.override(providers.Object(provider))
    return container

"""One Provider class for every cloud; its behaviour comes from its config object.

``Provider(config=AwsConfig(...))`` and ``Provider(config=LocalConfig(...))`` are the same
class. The provider is a factory and registry of resources: it owns one cloud container
(:class:`~glacier.cloud.CloudContainer`), injects itself and the adapter factory of the
resource's kind into each resource it creates, and cascades its tags.

What a provider knows of the environment it serves is a small frozen :class:`Identity`
(environment name, naming prefix, tags, network), not the environment itself: a provider can
be pickled, compared and reasoned about without one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from dependency_injector import providers

from glacier import dispatch
from glacier.cloud import CloudContainer
from glacier.clouds import cloud_container, plugin_for
from glacier.errors import ConfigError
from glacier.resources import Bucket, Database, ExecutionEnvironment, Resource, Serverless, Volume
from glacier.resources.base import AdapterFactory
from glacier.settings import (
    AwsConfig,
    AzureConfig,
    AzurePostgresConfig,
    BlobConfig,
    DatabricksConfig,
    DynamoDbConfig,
    EcsConfig,
    EfsConfig,
    GcpConfig,
    GcsConfig,
    GlueConfig,
    LambdaConfig,
    LocalConfig,
    Network,
    RdsConfig,
    S3Config,
)
from glacier.settings.names import (
    validate_azure_container_name,
    validate_gcs_bucket_name,
    validate_s3_bucket_name,
)

if TYPE_CHECKING:
    from glacier.settings import DatabaseConnection, ProviderConfig

# Which resource configs make sense on which cloud. A local provider accepts every cloud's
# config, so the code that will run on AWS runs unchanged on a laptop.
R = TypeVar("R", bound=Resource)

_BUCKET_CONFIGS: dict[str, tuple[type, ...]] = {
    "aws": (S3Config,),
    "gcp": (GcsConfig,),
    "azure": (BlobConfig,),
    "local": (S3Config, GcsConfig, BlobConfig),
}
#: The cloud container's adapter provider for each resource kind.
_ADAPTERS: dict[str, str] = {
    kind: f"{kind}_adapter" for kind in ("bucket", "serverless", "database", "volume", "execution")
}
_BUCKET_NAME_RULES: dict[str, Callable[[str], str]] = {
    "aws": validate_s3_bucket_name,
    "gcp": validate_gcs_bucket_name,
    "azure": validate_azure_container_name,
}


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a provider's resources belong to: what infrastructure and run records need to know
    of the provider's environment, and nothing else.

    Args:
        environment: The environment's name (``dev``, ``prod``); ``None`` for a bare provider.
        naming_prefix: Prefix of the physical names of derived resources.
        tags: Tags every resource of the provider carries.
        network: The VPC, subnets and security groups compute runs in.

    Example:
        >>> import pickle
        >>> ident = Identity(environment="dev", naming_prefix="acme-dev", tags={"team": "data"})
        >>> pickle.loads(pickle.dumps(ident)) == ident
        True
    """

    environment: str | None = None
    naming_prefix: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    network: Network = field(default_factory=Network)


class Provider:
    """A cloud account/project/subscription (or the local machine) and its resources.

    Args:
        config: ``AwsConfig``, ``GcpConfig``, ``AzureConfig`` or ``LocalConfig`` (default).
        tags: Tags applied to every resource this provider creates (after the config's own).
        naming_prefix: Prefix for the physical names of derived resources (roles, functions).
        cloud: The cloud container (:class:`~glacier.cloud.CloudContainer`) to take gateways
            and adapters from; built from ``config`` when omitted.
        identity: The environment it serves (name, naming prefix, tags, network); ``tags``
            and ``naming_prefix`` refine it.

    Example:
        >>> from glacier.config import LocalConfig
        >>> p = Provider(config=LocalConfig(base_path="/tmp/data"))
        >>> b = p.bucket("raw", path="sales.parquet")
        >>> b in p.get_resources()
        True
    """

    def __init__(
        self,
        config: ProviderConfig | None = None,
        *,
        tags: dict[str, str] | None = None,
        naming_prefix: str | None = None,
        cloud: Any = None,
        identity: Identity | None = None,
    ) -> None:
        if config is None:
            config = LocalConfig()
        plugin = None
        if not isinstance(config, LocalConfig | AwsConfig | GcpConfig | AzureConfig):
            plugin = plugin_for(config)
            if plugin is None:
                raise ConfigError(
                    f"Provider(config=...) needs AwsConfig, GcpConfig, AzureConfig, LocalConfig "
                    f"or the config of a registered cloud; got {type(config).__name__}. Import "
                    "them from glacier.config, or register the cloud with "
                    "glacier.clouds.register_cloud(...)."
                )
        self.config: ProviderConfig = config
        base = identity or Identity()
        self.identity: Identity = replace(
            base,
            tags={**getattr(config, "tags", {}), **base.tags, **(tags or {})},
            naming_prefix=naming_prefix or base.naming_prefix,
        )
        if cloud is None and plugin is not None:
            cloud = cloud_container(plugin, config)
        if cloud is None:
            cloud = CloudContainer(config=providers.Object(config))
        #: The cloud container this provider's resources take their adapters from.
        self.cloud: Any = cloud
        self._resources: list[Resource] = []

    # -- identity --------------------------------------------------------------------------

    @property
    def environment_name(self) -> str | None:
        """The name of the environment this provider serves, if any."""
        return self.identity.environment

    @environment_name.setter
    def environment_name(self, value: str | None) -> None:
        self.identity = replace(self.identity, environment=value)

    @property
    def tags(self) -> dict[str, str]:
        """Tags applied to every resource this provider creates."""
        return dict(self.identity.tags)

    @tags.setter
    def tags(self, value: Mapping[str, str]) -> None:
        self.identity = replace(self.identity, tags=dict(value))

    @property
    def naming_prefix(self) -> str | None:
        """Prefix of the physical names of derived resources."""
        return self.identity.naming_prefix

    @naming_prefix.setter
    def naming_prefix(self, value: str | None) -> None:
        self.identity = replace(self.identity, naming_prefix=value)

    def serve(self, identity: Identity) -> None:
        """Serve the environment ``identity`` describes.

        The first environment to wrap a provider names it and gives it its network; every
        one adds its tags, and a prefix is taken only when the provider has none.
        """
        mine = self.identity
        first = mine.environment is None
        self.identity = Identity(
            environment=identity.environment if first else mine.environment,
            naming_prefix=mine.naming_prefix or identity.naming_prefix,
            tags={**mine.tags, **identity.tags},
            network=identity.network if first else mine.network,
        )

    @property
    def kind(self) -> str:
        """``local``, ``aws``, ``gcp`` or ``azure``."""
        return str(self.config.kind)

    def adapter_factory(self, kind: str) -> AdapterFactory:
        """The factory of adapters for resources of ``kind`` (``bucket``, ``serverless``,
        ``database``, ``volume``, ``execution``): its cloud container's provider, so an
        override of it reaches every resource of this provider.

        A resource made directly (``Bucket(provider=provider, bucket_name=...)``) takes its
        adapter factory from here, as the factories below pass it.

        Raises:
            ConfigError: for a kind no adapter serves.
        """
        try:
            return getattr(self.cloud, _ADAPTERS[kind])  # type: ignore[no-any-return]
        except KeyError:
            raise ConfigError(
                f"No adapter serves resources of kind {kind!r}; the kinds are "
                f"{', '.join(sorted(_ADAPTERS))}. Pass adapter= (a factory of resource=...)."
            ) from None

    # -- factories -------------------------------------------------------------------------

    def bucket(
        self,
        bucket_name: str,
        path: str = "",
        format: str = "parquet",
        config: S3Config | GcsConfig | BlobConfig | None = None,
        name: str | None = None,
        partition_by: Sequence[str] | None = None,
        tags: dict[str, str] | None = None,
        read_options: Mapping[str, Any] | None = None,
        write_options: Mapping[str, Any] | None = None,
        read_only: bool = False,
        retention: timedelta | None = None,
    ) -> Bucket:
        """Create a :class:`Bucket` (object storage location) on this provider's store."""
        self._check_config("bucket", config, _BUCKET_CONFIGS.get(self.kind, ()))
        rule = _BUCKET_NAME_RULES.get(self.kind)
        if rule is not None:
            rule(bucket_name)
        return self._track(
            Bucket(
                bucket_name,
                path=path,
                format=format,
                partition_by=partition_by,
                read_options=read_options,
                write_options=write_options,
                read_only=read_only,
                provider=self,
                adapter=self.adapter_factory("bucket"),
                config=config,
                name=name,
                tags=self._tags(config, tags),
                retention=retention,
            )
        )

    def serverless(
        self,
        function_name: str | None = None,
        handler: Callable[..., Any] | str | None = None,
        runtime: str | None = None,
        config: LambdaConfig | None = None,
        name: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> Serverless:
        """Create a serverless function (Lambda on AWS); also usable as a task's compute hint."""
        self._check_config("serverless", config, (LambdaConfig,))
        runtime = runtime or (config.runtime if config is not None else "python3.11")
        return self._track(
            Serverless(
                function_name,
                handler,
                runtime,
                provider=self,
                adapter=self.adapter_factory("serverless"),
                config=config,
                name=name,
                tags=self._tags(config, tags),
            )
        )

    def database(
        self,
        database_name: str,
        engine: str = "postgres",
        config: RdsConfig | DynamoDbConfig | AzurePostgresConfig | None = None,
        name: str | None = None,
        tags: dict[str, str] | None = None,
        connection: DatabaseConnection | None = None,
    ) -> Database:
        """Create a database resource (PostgreSQL anywhere, RDS/DynamoDB on AWS, a
        PostgreSQL flexible server on Azure); ``connection`` says how tasks reach a
        PostgreSQL database at run time."""
        self._check_config("database", config, (RdsConfig, DynamoDbConfig, AzurePostgresConfig))
        if isinstance(config, AzurePostgresConfig) and self.kind not in ("azure", "local"):
            raise ConfigError(
                f"provider.database({database_name!r}, config=AzurePostgresConfig(...)) on a "
                f"{self.kind} provider: an Azure PostgreSQL flexible server is created in an "
                "Azure environment only. Use RdsConfig on AWS, or declare it in the Azure "
                "environment."
            )
        return self._track(
            Database(
                database_name,
                engine,
                connection=connection,
                provider=self,
                adapter=self.adapter_factory("database"),
                config=config,
                name=name,
                tags=self._tags(config, tags),
            )
        )

    def volume(
        self,
        file_system_name: str,
        config: EfsConfig | None = None,
        name: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> Volume:
        """Create a shared file system (EFS on AWS)."""
        self._check_config("volume", config, (EfsConfig,))
        return self._track(
            Volume(
                file_system_name,
                provider=self,
                adapter=self.adapter_factory("volume"),
                config=config,
                name=name,
                tags=self._tags(config, tags),
            )
        )

    def execution(
        self,
        environment_type: str,
        environment_name: str,
        config: Any = None,
        name: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> ExecutionEnvironment:
        """Create an execution environment of any type a wired adapter understands."""
        return self._track(
            ExecutionEnvironment(
                environment_type,
                environment_name,
                provider=self,
                adapter=self.adapter_factory("execution"),
                config=config,
                name=name,
                tags=self._tags(config, tags),
            )
        )

    def glue(
        self, job_name: str, config: GlueConfig | None = None, name: str | None = None
    ) -> ExecutionEnvironment:
        """An AWS Glue job as an execution environment."""
        self._check_config("glue", config, (GlueConfig,))
        return self.execution("glue", job_name, config or GlueConfig(), name)

    def databricks(
        self, cluster_name: str, config: DatabricksConfig | None = None, name: str | None = None
    ) -> ExecutionEnvironment:
        """A Databricks cluster as an execution environment."""
        self._check_config("databricks", config, (DatabricksConfig,))
        return self.execution("databricks", cluster_name, config or DatabricksConfig(), name)

    def ecs(
        self, task_name: str, config: EcsConfig | None = None, name: str | None = None
    ) -> ExecutionEnvironment:
        """An ECS/Fargate task definition as an execution environment."""
        self._check_config("ecs", config, (EcsConfig,))
        return self.execution("ecs", task_name, config or EcsConfig(), name)

    def env(self, name: str | None = None, **kwargs: Any) -> Any:
        """An :class:`~glacier.Environment` around this provider (``provider.env(name="prod")``);
        ``kwargs`` are the environment's (``tags``, ``naming_prefix``, ``task_defaults``, ...).

        Example:
            >>> from glacier.config import LocalConfig
            >>> Provider(config=LocalConfig(base_path="/tmp/env-doc")).env(name="dev").name
            'dev'
        """
        # Environments sit above providers: reached through the runner's registry, as
        # pipeline.run() reaches the runner.
        return dispatch.runner().new_environment(self, name=name, **kwargs)

    def adapter_for(self, resource: Resource) -> Any:
        """The adapter serving ``resource``, one of this provider's (seed 004's spelling of
        ``resource.adapter``)."""
        if getattr(resource, "provider", None) is not self:
            raise ConfigError(
                f"provider.adapter_for({resource!r}): the resource belongs to another provider; "
                "ask its own (resource.provider.adapter_for(resource), or resource.adapter)."
            )
        return resource.adapter

    # -- registry ---------------------------------------------------------------------------

    def get_resources(self) -> list[Resource]:
        """Every resource this provider created, in creation order."""
        return list(self._resources)

    @classmethod
    def from_env(cls) -> Provider:
        """A provider from environment variables: AWS, GCP or Azure if their region/project
        variables are set, else local."""
        import os

        config: ProviderConfig
        if os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"):
            config = AwsConfig.from_env()
        elif os.environ.get("GOOGLE_CLOUD_PROJECT") or os.environ.get("GCP_PROJECT"):
            config = GcpConfig.from_env()
        elif os.environ.get("AZURE_RESOURCE_GROUP") or os.environ.get("AZURE_SUBSCRIPTION_ID"):
            config = AzureConfig.from_env()
        else:
            config = LocalConfig.from_env()
        return cls(config=config)

    # -- internals -------------------------------------------------------------------------

    def _track(self, resource: R) -> R:
        self._resources.append(resource)
        return resource

    def _tags(self, config: Any, tags: dict[str, str] | None) -> dict[str, str]:
        return {**self.tags, **(getattr(config, "tags", None) or {}), **(tags or {})}

    def _check_config(self, what: str, config: Any, allowed: tuple[type, ...]) -> None:
        if config is None or isinstance(config, allowed):
            return
        names = ", ".join(t.__name__ for t in allowed) or "none"
        raise ConfigError(
            f"provider.{what}(config={type(config).__name__}(...)) on a {self.kind} provider: "
            f"this cloud takes {names}. Pass the config that matches the provider's cloud."
        )

    def __repr__(self) -> str:
        return f"Provider(config={self.config!r})"

"""One Provider class for every cloud; its behaviour comes from its config object.

``Provider(config=AwsConfig(...))`` and ``Provider(config=LocalConfig(...))`` are the same
class. The provider is a factory and registry of resources: it injects itself into each
resource it creates, cascades its tags, and hands out the adapters its cloud container
selected for the config's kind.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from glacier.errors import ConfigError
from glacier.resources import Bucket, Database, ExecutionEnvironment, Resource, Serverless, Volume
from glacier.settings import (
    AwsConfig,
    AzureConfig,
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
    RdsConfig,
    S3Config,
)
from glacier.settings.names import (
    validate_azure_container_name,
    validate_gcs_bucket_name,
    validate_s3_bucket_name,
)

if TYPE_CHECKING:
    from dependency_injector.containers import Container

    from glacier.environment import Environment
    from glacier.settings import ProviderConfig

# Which resource configs make sense on which cloud. A local provider accepts every cloud's
# config, so the code that will run on AWS runs unchanged on a laptop.
R = TypeVar("R", bound=Resource)

_BUCKET_CONFIGS: dict[str, tuple[type, ...]] = {
    "aws": (S3Config,),
    "gcp": (GcsConfig,),
    "azure": (BlobConfig,),
    "local": (S3Config, GcsConfig, BlobConfig),
}
_BUCKET_NAME_RULES: dict[str, Callable[[str], str]] = {
    "aws": validate_s3_bucket_name,
    "gcp": validate_gcs_bucket_name,
    "azure": validate_azure_container_name,
}


class Provider:
    """A cloud account/project/subscription (or the local machine) and its resources.

    Args:
        config: ``AwsConfig``, ``GcpConfig``, ``AzureConfig`` or ``LocalConfig`` (default).
        tags: Tags applied to every resource this provider creates (after the config's own).
        naming_prefix: Prefix for the physical names of derived resources (roles, functions).
        cloud: The cloud container to take gateways and adapters from; built from ``config``
            when omitted. Environments pass theirs so that overriding a container provider
            (``env.container.filesystem.override(...)``) reaches every resource.

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
        cloud: Container | None = None,
    ) -> None:
        if config is None:
            config = LocalConfig()
        if not isinstance(config, LocalConfig | AwsConfig | GcpConfig | AzureConfig):
            raise ConfigError(
                f"Provider(config=...) needs AwsConfig, GcpConfig, AzureConfig or LocalConfig; "
                f"got {type(config).__name__}. Import them from glacier.config."
            )
        self.config: ProviderConfig = config
        self.tags: dict[str, str] = {**getattr(config, "tags", {}), **(tags or {})}
        self.naming_prefix = naming_prefix
        self.environment_name: str | None = None
        self._environment: weakref.ReferenceType[Environment] | None = None
        # A provider that built its own cloud container adopts its environment's instead,
        # so overriding ``env.container.filesystem`` reaches this provider's resources.
        self._adoptable_cloud = cloud is None
        if cloud is None:
            from dependency_injector import providers

            from glacier.containers import CloudContainer

            cloud = CloudContainer(config=providers.Object(config))
        self.cloud = cloud
        self._resources: list[Resource] = []

    @property
    def environment(self) -> Environment | None:
        """The :class:`~glacier.Environment` this provider belongs to, if any."""
        return self._environment() if self._environment is not None else None

    def _bind(self, env: Environment, cloud: Any) -> None:
        """Called by the environment that owns this provider (the first one to wrap it)."""
        if self._environment is None:
            self._environment = weakref.ref(env)
            if self.environment_name is None:
                self.environment_name = env.name
        if self._adoptable_cloud:
            self.cloud = cloud
            self._adoptable_cloud = False

    def __getstate__(self) -> dict[str, Any]:
        # Dask ships runs to workers by pickling: the back-reference to the environment is
        # a weak reference, which cannot travel; the environment comes along anyway.
        state = dict(self.__dict__)
        env = self.environment
        state["_environment"] = None
        state["_pickled_environment"] = env
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        env = state.pop("_pickled_environment", None)
        self.__dict__.update(state)
        self._environment = weakref.ref(env) if env is not None else None

    @property
    def kind(self) -> str:
        """``local``, ``aws``, ``gcp`` or ``azure``."""
        return str(self.config.kind)

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
                provider=self,
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
                config=config,
                name=name,
                tags=self._tags(config, tags),
            )
        )

    def database(
        self,
        database_name: str,
        engine: str = "postgres",
        config: RdsConfig | DynamoDbConfig | None = None,
        name: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> Database:
        """Create a database resource (RDS/DynamoDB on AWS)."""
        self._check_config("database", config, (RdsConfig, DynamoDbConfig))
        return self._track(
            Database(
                database_name,
                engine,
                provider=self,
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

    # -- registry and adapters -------------------------------------------------------------

    def get_resources(self) -> list[Resource]:
        """Every resource this provider created, in creation order."""
        return list(self._resources)

    def adapter_for(self, resource: Resource) -> Any:
        """The adapter the cloud container wires for ``resource``'s kind."""
        factory = getattr(self.cloud, f"{resource.kind}_adapter", None)
        if factory is None:
            raise ConfigError(
                f"The cloud container has no '{resource.kind}_adapter' provider for "
                f"{type(resource).__name__}. Wire one with "
                f"env.container.cloud.{resource.kind}_adapter.override(...)."
            )
        return factory(resource=resource)

    def env(self, name: str | None = None, **kwargs: Any) -> Environment:
        """An :class:`~glacier.Environment` around this provider."""
        from glacier.environment import Environment

        return Environment(provider=self, name=name, **kwargs)

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

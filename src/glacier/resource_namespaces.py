"""The resource namespaces of an environment: ``env.storage.*``, ``env.database.*`` and
``env.compute.*``, each a factory of resources configured by keyword arguments, bound to the
environment's provider and settings (:class:`~glacier.environment.Environment` makes one of
each)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from glacier.errors import ConfigError
from glacier.resources import (
    Bucket,
    Database,
    ExecutionEnvironment,
    Serverless,
    Volume,
)
from glacier.secrets import database_connection
from glacier.settings import (
    AzurePostgresConfig,
    DatabaseConnection,
    DynamoDbConfig,
    EcsConfig,
    EfsConfig,
    GlacierSettings,
    LambdaConfig,
    RdsConfig,
    S3Config,
)

__all__ = ["ComputeNamespace", "DatabaseNamespace", "NamespaceHost", "StorageNamespace"]


class NamespaceHost(Protocol):
    """What a namespace asks of its environment (an :class:`~glacier.environment.Environment`)."""

    provider: Any
    settings: GlacierSettings
    container: Any


@dataclass
class _Namespace:
    env: NamespaceHost
    _provider: Any = field(init=False)

    def __post_init__(self) -> None:
        self._provider = self.env.provider


def _config(cls: type, config: Any, **values: Any) -> Any:
    """A resource config from keyword arguments, refining an explicit config if given."""
    given = {k: v for k, v in values.items() if v is not None}
    if config is not None:
        return config.model_copy(update=given) if given else config
    return cls(**given) if given else None


class StorageNamespace(_Namespace):
    """``env.storage.s3(...)``, ``.gcs(...)``, ``.blob(...)``, ``.bucket(...)``, ``.efs(...)``."""

    def s3(
        self,
        bucket: str,
        path: str = "",
        format: str = "parquet",
        *,
        storage_class: str | None = None,
        versioning: bool | None = None,
        encryption: str | None = None,
        kms_key_id: str | None = None,
        lifecycle_rules: list[Any] | None = None,
        config: S3Config | None = None,
        partition_by: Sequence[str] | None = None,
        name: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> Bucket:
        """An S3 bucket (or a local directory standing in for one on a local provider)."""
        cfg = _config(
            S3Config,
            config,
            storage_class=storage_class,
            versioning=versioning,
            encryption=encryption,
            kms_key_id=kms_key_id,
            lifecycle_rules=lifecycle_rules,
        )
        return self._provider.bucket(  # type: ignore[no-any-return]
            bucket, path, format, config=cfg, name=name, partition_by=partition_by, tags=tags
        )

    def bucket(
        self, bucket_name: str, path: str = "", format: str = "parquet", **kwargs: Any
    ) -> Bucket:
        """A bucket on whatever store this environment's provider uses."""
        return self._provider.bucket(bucket_name, path, format, **kwargs)  # type: ignore[no-any-return]

    gcs = bucket
    blob = bucket

    def efs(
        self,
        file_system_name: str,
        *,
        performance_mode: str | None = None,
        encrypted: bool | None = None,
        config: EfsConfig | None = None,
    ) -> Volume:
        """An EFS file system."""
        cfg = _config(EfsConfig, config, performance_mode=performance_mode, encrypted=encrypted)
        return self._provider.volume(file_system_name, config=cfg)  # type: ignore[no-any-return]


class DatabaseNamespace(_Namespace):
    """``env.database.postgres(...)``, ``env.database.rds(...)``, ``env.database.dynamodb(...)``."""

    def postgres(self, name: str, *, connection: DatabaseConnection | None = None) -> Database:
        """A PostgreSQL database, reached as ``[databases.<name>]`` of the environment's
        settings say (else ``connection``, else libpq's ``PG*`` variables).

        Example:
            >>> from glacier import Environment
            >>> Environment.local("/tmp/pg-doc").database.postgres("warehouse").engine
            'postgres'
        """
        return self._provider.database(  # type: ignore[no-any-return]
            name, "postgres", connection=self._connection(name, connection)
        )

    def rds(
        self,
        instance_identifier: str,
        engine: str = "postgres",
        instance_class: str | None = None,
        *,
        allocated_storage: int | None = None,
        multi_az: bool | None = None,
        config: RdsConfig | None = None,
        connection: DatabaseConnection | None = None,
    ) -> Database:
        """An RDS database instance: created from ``config`` by the plan; reached by tasks
        through ``[databases.<instance_identifier>]`` of the settings (or ``connection``),
        like :meth:`postgres`."""
        cfg = _config(
            RdsConfig,
            config,
            engine=engine,
            instance_class=instance_class,
            allocated_storage=allocated_storage,
            multi_az=multi_az,
        )
        return self._provider.database(  # type: ignore[no-any-return]
            instance_identifier,
            engine,
            config=cfg,
            connection=self._connection(instance_identifier, connection),
        )

    def _connection(self, name: str, given: DatabaseConnection | None) -> DatabaseConnection | None:
        found = given if given is not None else self.env.settings.databases.get(name)
        return database_connection(name, name, found, self.env.container.secrets)

    def azure_postgres(
        self,
        server_name: str,
        *,
        config: AzurePostgresConfig,
        connection: DatabaseConnection | None = None,
    ) -> Database:
        """An Azure Database for PostgreSQL flexible server: created from ``config`` by the
        plan (private access, Entra authentication); reached by tasks as :meth:`rds` is."""
        return self._provider.database(  # type: ignore[no-any-return]
            server_name,
            "postgres",
            config=config,
            connection=self._connection(server_name, connection),
        )

    def dynamodb(
        self,
        table_name: str,
        *,
        hash_key: str | None = None,
        range_key: str | None = None,
        billing_mode: str | None = None,
        config: DynamoDbConfig | None = None,
    ) -> Database:
        """A DynamoDB table."""
        cfg = _config(
            DynamoDbConfig,
            config,
            hash_key=hash_key,
            range_key=range_key,
            billing_mode=billing_mode,
        )
        return self._provider.database(table_name, "dynamodb", config=cfg)  # type: ignore[no-any-return]


class ComputeNamespace(_Namespace):
    """Compute hints for tasks: ``env.compute.lambda_(memory=512)``, ``env.compute.ecs(...)``."""

    def lambda_(
        self,
        memory: int | None = None,
        timeout: int | None = None,
        runtime: str | None = None,
        layers: list[str] | None = None,
        *,
        function_name: str | None = None,
        environment_vars: dict[str, str] | None = None,
        reserved_concurrent_executions: int | None = None,
        architecture: str | None = None,
        package_type: str | None = None,
        config: LambdaConfig | None = None,
    ) -> Serverless:
        """A Lambda function; as ``compute=`` its name and code come from the task.
        ``package_type`` is ``"Zip"`` or ``"Image"``; unset, the plan chooses."""
        cfg = (
            _config(
                LambdaConfig,
                config,
                memory=memory,
                timeout=timeout,
                runtime=runtime,
                layers=layers,
                function_name=function_name,
                environment_vars=environment_vars,
                reserved_concurrent_executions=reserved_concurrent_executions,
                architecture=architecture,
                package_type=package_type,
            )
            or LambdaConfig()
        )
        return self._provider.serverless(function_name, config=cfg)  # type: ignore[no-any-return]

    def serverless(
        self,
        function_name: str | None = None,
        handler: Callable[..., Any] | str | None = None,
        *,
        runtime: str | None = None,
        **settings: Any,
    ) -> Serverless:
        """Seed 001's spelling. With a name or a handler, a function tasks invoke
        (``env.compute.serverless("process", handler="main")`` is
        ``provider.serverless("process", handler="main")``: pass it to a task, which calls
        ``.invoke(payload)``); without either, a task's compute, as :meth:`lambda_` with the
        same settings (``serverless(memory=512)``)."""
        if function_name is not None and not isinstance(function_name, str):
            raise ConfigError(
                f"env.compute.serverless({function_name!r}, ...): the first argument is the "
                f"function's name; for a task's compute write env.compute.lambda_(memory="
                f"{function_name!r})."
            )
        if function_name is None and handler is None:
            return self.lambda_(runtime=runtime, **settings)
        config = _config(LambdaConfig, settings.pop("config", None), runtime=runtime, **settings)
        return self._provider.serverless(  # type: ignore[no-any-return]
            function_name, handler=handler, runtime=runtime, config=config
        )

    def ecs(
        self,
        image: str | None = None,
        cpu: int | None = None,
        memory: int | None = None,
        *,
        name: str | None = None,
        spot: bool | None = None,
        config: EcsConfig | None = None,
    ) -> ExecutionEnvironment:
        """An ECS/Fargate task definition."""
        cfg = _config(EcsConfig, config, image=image, cpu=cpu, memory=memory, spot=spot)
        return self._provider.ecs(name or "task", cfg)  # type: ignore[no-any-return]

    def cloud_run(
        self,
        image: str | None = None,
        cpu: int | None = None,
        memory: int | None = None,
        timeout: int | None = None,
        *,
        name: str | None = None,
        environment_vars: dict[str, str] | None = None,
        labels: dict[str, str] | None = None,
        config: Any = None,
    ) -> ExecutionEnvironment:
        """A Cloud Run job (GCP): ``cpu`` count, ``memory`` in MiB, ``timeout`` in seconds."""
        from glacier.settings import CloudRunConfig

        cfg = (
            _config(
                CloudRunConfig,
                config,
                image=image,
                cpu=cpu,
                memory=memory,
                timeout=timeout,
                environment_vars=environment_vars,
                labels=labels,
            )
            or CloudRunConfig()
        )
        return self._provider.execution("cloud_run", name or "job", cfg)  # type: ignore[no-any-return]

    def container_app(
        self,
        image: str | None = None,
        cpu: float | None = None,
        memory: float | None = None,
        timeout: int | None = None,
        *,
        name: str | None = None,
        environment_vars: dict[str, str] | None = None,
        config: Any = None,
    ) -> ExecutionEnvironment:
        """An Azure Container Apps job (``cpu`` vCPU, ``memory`` GiB, ``timeout`` seconds)."""
        from glacier.settings import ContainerAppConfig

        cfg = _config(
            ContainerAppConfig,
            config,
            image=image,
            cpu=cpu,
            memory=memory,
            timeout=timeout,
            environment_vars=environment_vars,
        )
        return self._provider.execution(  # type: ignore[no-any-return]
            "container_app", name or "task", cfg or ContainerAppConfig()
        )

    def glue(self, job_name: str = "job", **values: Any) -> ExecutionEnvironment:
        """An AWS Glue job (``worker_type``, ``num_workers``, ...)."""
        from glacier.settings import GlueConfig

        return self._provider.glue(job_name, GlueConfig(**values))  # type: ignore[no-any-return]

    def databricks(self, cluster_name: str = "cluster", **values: Any) -> ExecutionEnvironment:
        """A Databricks cluster (``instance_type``, ``num_workers``, ...)."""
        from glacier.settings import DatabricksConfig

        return self._provider.databricks(cluster_name, DatabricksConfig(**values))  # type: ignore[no-any-return]

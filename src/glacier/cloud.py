"""The cloud container: the gateways and adapters of one cloud, chosen by its config's kind.

Every :class:`~glacier.Provider` owns one (built from its config, or given), and an
environment's container is built around its provider's, so overriding one of its providers
(``env.container.cloud.bucket_adapter.override(...)``) reaches every resource of that
provider, those created before the override included.

Its targets are imported as classes and functions: none of their modules imports a cloud SDK
at module level (they import boto3, s3fs, gcsfs, adlfs or pulumi inside the functions that use
them), so ``import glacier`` stays light.
"""

from __future__ import annotations

import operator
from typing import Any

from dependency_injector import containers, providers

from glacier.adapters.bucket import FsspecBucketAdapter
from glacier.adapters.database import database_adapter
from glacier.adapters.filesystems import (
    azure_filesystem,
    gcs_filesystem,
    local_filesystem,
    s3_filesystem,
)
from glacier.adapters.jobs import execution_adapter
from glacier.adapters.serverless import LambdaAdapter, LocalServerlessAdapter
from glacier.adapters.unavailable import UnavailableAdapter


def infrastructure_builder(config: Any) -> Any:
    """The infrastructure builder registered for ``config``'s cloud
    (:func:`glacier.infra.builders.make_builder`), imported when a plan needs it: a deployed
    task, which builds no infrastructure, does not import the table at its cold start."""
    from glacier.infra.builders import make_builder

    return make_builder(config)


def _unavailable(what: str, kind: str) -> providers.Factory[Any]:
    return providers.Factory(UnavailableAdapter, what=what, cloud=kind)


class CloudContainer(containers.DeclarativeContainer):
    """Gateways and adapters for one cloud, chosen by ``config.kind``.

    Nothing outside this container and the adapters branches on the cloud. Each adapter
    provider is a factory of ``resource=``; the provider hands it to each resource it makes.
    """

    config: providers.Dependency[Any] = providers.Dependency()
    kind = providers.Callable(operator.attrgetter("kind"), config)

    # -- gateways --------------------------------------------------------------------------
    filesystem = providers.Selector(
        kind,
        local=providers.Singleton(local_filesystem, config),
        aws=providers.Singleton(s3_filesystem, config),
        gcp=providers.Singleton(gcs_filesystem, config),
        azure=providers.Singleton(azure_filesystem, config),
    )

    # -- adapters (one per resource kind) --------------------------------------------------
    bucket_adapter = providers.Factory(FsspecBucketAdapter, filesystem=filesystem, config=config)
    serverless_adapter = providers.Selector(
        kind,
        local=providers.Factory(LocalServerlessAdapter),
        aws=providers.Factory(LambdaAdapter, config=config),
        gcp=_unavailable("invoking Cloud Functions", "gcp"),
        azure=_unavailable("invoking Azure Functions", "azure"),
    )
    # By the environment's type: Glue and ECS on AWS, Databricks on any cloud
    # (see glacier.adapters.jobs.execution_adapter).
    execution_adapter = providers.Factory(execution_adapter, config=config)
    # By the database's engine, not the cloud: PostgreSQL is read the same way on a laptop
    # and on RDS; DynamoDB needs AWS (see glacier.adapters.database.ENGINES).
    database_adapter = providers.Factory(database_adapter, config=config)
    volume_adapter = providers.Factory(
        UnavailableAdapter, what="file system volume I/O", cloud=kind
    )

    # -- infrastructure builder (Pulumi) ---------------------------------------------------
    # By the config's kind, from the registered builders (glacier.infra.builders): a cloud
    # with none refuses to declare, naming itself.
    infrastructure = providers.Factory(infrastructure_builder, config=config)

"""Azure pipelines of the tests: a data engineer's environments and tasks, planned offline."""

from __future__ import annotations

from typing import Any

import polars as pl

from glacier import Dataset, Pipeline, Provider
from glacier.settings import AzureConfig, BlobConfig

SUB_A = "00000000-1111-2222-3333-444444444444"
SUB_B = "99999999-8888-7777-6666-555555555555"
ACCOUNT = "acmedata"


def azure_env(
    name: str = "dev",
    subscription: str | None = SUB_A,
    account: str | None = ACCOUNT,
    **config: Any,
) -> Any:
    """An Azure environment (a subscription, a location, a storage account)."""
    cfg = AzureConfig(
        subscription_id=subscription, location="westeurope", storage_account=account, **config
    )
    return Provider(config=cfg).env(name=name)


def lake_pipeline(env: Any = None, schedule: str | None = "rate(1 day)") -> tuple[Pipeline, Any]:
    """extract -> (clean, sweep) -> report: a parquet directory, a csv directory of the
    manifest layout (its writes sweep), an in-memory dataset between two tasks, a read of
    another container."""
    env = env or azure_env()
    ref = Dataset("ref", storage=env.storage.blob("reference", "countries/"))
    raw = Dataset("raw", storage=env.storage.blob("lake", "raw/", config=BlobConfig()))
    events = Dataset("events", storage=env.storage.blob("lake", "events/", format="csv"))
    summary = Dataset("summary")
    report = Dataset("report", storage=env.storage.blob("lake", "report.parquet"))
    pipeline = Pipeline("etl", schedule=schedule)

    @pipeline.task(retries=2, timeout=60)
    def extract(countries: ref) -> raw:
        return pl.DataFrame({"x": [1]})

    @pipeline.task(compute=env.compute.container_app(cpu=1, memory=2))
    def sweep(data: raw) -> events:
        return data

    @pipeline.task()
    def clean(data: raw) -> summary:
        return data

    @pipeline.task()
    def publish(s: summary, e: events) -> report:
        return s

    return pipeline, env


#: The Entra administrator of the tests' PostgreSQL flexible servers.
ENTRA_ADMIN = {"name": "data-admins", "object_id": "11111111-2222-3333-4444-555555555555"}


def subnet_id(subnet: str, network: str = "shared-net", group: str = "network-rg") -> str:
    """The resource id of a subnet of an existing network."""
    return (
        f"/subscriptions/{SUB_A}/resourceGroups/{group}/providers/Microsoft.Network/"
        f"virtualNetworks/{network}/subnets/{subnet}"
    )


def warehouse_settings(**provider: Any) -> Any:
    """Azure settings declaring the flexible server ``warehouse`` (database ``analytics``)."""
    from glacier.settings import GlacierSettings

    return GlacierSettings(
        env="dev",
        provider={
            "kind": "azure",
            "subscription_id": SUB_A,
            "location": "westeurope",
            "storage_account": ACCOUNT,
            **provider,
        },
        databases={
            "warehouse": {
                "identifier": "acme-dev-warehouse",
                "dbname": "analytics",
                "azure_postgres": {
                    "entra_admin": ENTRA_ADMIN,
                    "sku_name": "Standard_D2ds_v5",
                    "storage_size_gb": 64,
                    "backup_retention_days": 14,
                    "geo_redundant_backup": True,
                    "high_availability": "ZoneRedundant",
                    "version": "15",
                    "tags": {"cost-centre": "warehouse"},
                },
            }
        },
    )


def warehouse_pipeline(settings: Any = None) -> tuple[Pipeline, Any]:
    """``load`` writes a table of the flexible server, ``count`` reads it and writes a blob,
    ``tidy`` uses no database."""
    from glacier import Environment

    env = Environment.from_settings(settings or warehouse_settings())
    warehouse = env.get("warehouse")
    raw = Dataset("raw", storage=env.storage.blob("lake", "raw/"))
    orders = Dataset("orders", storage=warehouse.table("orders"))
    counts = Dataset("counts", storage=env.storage.blob("lake", "counts/"))
    tidy_out = Dataset("tidied", storage=env.storage.blob("lake", "tidied/"))
    pipeline = Pipeline("shop", env=env)

    @pipeline.task()
    def load(data: raw) -> orders:
        return data

    @pipeline.task()
    def count(data: orders) -> counts:
        return data

    @pipeline.task()
    def tidy(data: raw) -> tidy_out:
        return data

    return pipeline, env

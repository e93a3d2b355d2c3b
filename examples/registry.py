"""Scenario 3 of the UX design: shared resources in the environment's registry.

    python examples/registry.py [BASE_PATH]

Resources are registered once by name; tasks fetch them with ``env.get(name)`` or receive
them by injection. The pipeline body branches on a task result, which works when it runs
(``mode="local"``) and is refused, naming the line, when it is only traced
(``mode="analyze"``).
"""

from __future__ import annotations

import sys
from typing import Any

import polars as pl

from glacier import Bucket, GlacierEnv, Provider
from glacier.config import LocalConfig, S3Config

base_path = sys.argv[1] if len(sys.argv) > 1 else ".glacier/examples/registry"
provider = Provider(config=LocalConfig(base_path=base_path))
env = GlacierEnv(provider=provider, name="production")

env.register(
    "sales_raw",
    provider.bucket(
        "sales",
        path="raw/transactions.parquet",
        config=S3Config(versioning=True, encryption="AES256"),
    ),
)
env.register(
    "sales_processed",
    provider.bucket(
        "sales",
        path="processed/transactions.parquet",
        config=S3Config(versioning=True, encryption="AES256"),
    ),
)
env.register("customers", provider.bucket("customers", path="customers.parquet"))
env.register("config", provider.bucket("config", path="app_config.json", format="json"))


@env.task()
def extract_sales() -> pl.LazyFrame:
    """Extract sales from the registry."""
    return env.get("sales_raw").scan()


@env.task()
def extract_customers(customers: Bucket) -> pl.LazyFrame:
    """Extract customers: the bucket is injected by its registry name."""
    return customers.scan()


@env.task()
def load_config() -> dict[str, Any]:
    """Load configuration from the registry."""
    rows: list[dict[str, Any]] = env.get("config").read().to_dicts()
    return rows[0]


@env.task()
def join_data(sales: pl.LazyFrame, customers: pl.LazyFrame) -> pl.LazyFrame:
    """Join sales with customers."""
    return sales.join(customers, on="customer_id", how="left")


@env.task()
def filter_amount(df: pl.LazyFrame, threshold: float) -> pl.LazyFrame:
    """Keep sales above the threshold."""
    return df.filter(pl.col("amount") > threshold)


@env.task()
def save_results(df: pl.LazyFrame) -> None:
    """Save results using the registry."""
    env.get("sales_processed").write(df)


@env.pipeline(name="sales_enrichment")
def sales_enrichment_pipeline() -> Any:
    """Enrich sales data with customer information."""
    config = load_config()
    sales = extract_sales()
    customers = extract_customers()
    enriched = join_data(sales, customers)
    if config.get("filter_threshold"):
        enriched = filter_amount(enriched, config["filter_threshold"])
    save_results(enriched)
    return enriched


def seed_data() -> None:
    env.get("sales_raw").write(pl.DataFrame({"customer_id": [1, 2, 1], "amount": [50, 250, 400]}))
    env.get("customers").write(pl.DataFrame({"customer_id": [1, 2], "segment": ["smb", "ent"]}))
    env.get("config").write(pl.DataFrame({"filter_threshold": [100]}))


if __name__ == "__main__":
    seed_data()
    result = sales_enrichment_pipeline.run(mode="local")
    print(result.summary())
    print(env.get("sales_processed").read())

"""The medallion pipeline of a real data platform: bronze -> silver -> gold.

Environments come from ``containers/``: ``GLACIER_ENV=dev`` (the default) runs on local files
under ``data/dev``; ``staging`` and ``prod`` are AWS accounts whose infrastructure Glacier
derives from this same code::

    python examples/medallion.py                      # run on dev (local files)
    glacier run examples/medallion.py                 # the same, with live progress
    glacier plan examples/medallion.py --env prod     # what prod would get, offline
    glacier graph examples/medallion.py -o dag.png
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from glacier import Dataset, Environment, Pipeline


def build(env: Environment) -> Pipeline:
    """The pipeline for one environment: same tasks, that environment's zones and compute."""
    pipeline = Pipeline(
        "medallion",
        env=env,
        schedule="cron(0 6 * * ? *)",
        description="orders: bronze (raw) -> silver (clean) -> gold (revenue, customers)",
    )
    raw_orders = Dataset("raw_orders", storage=env.get("bronze_orders"))
    orders = Dataset("orders", storage=env.get("silver_orders"))
    daily_revenue = Dataset("daily_revenue", storage=env.get("gold_daily_revenue"))
    customers = Dataset("customers", storage=env.get("gold_customers"))

    # The bronze zone is a Delta table (a directory of versions, readable by any engine): its
    # tasks run on ECS here; left to the plan they would run as Lambda container images,
    # deltalake beside polars being too big for a Lambda zip (docs/deploy.md, "Packages").
    @pipeline.task(compute=env.compute.ecs(cpu=512, memory=1024, image="python:3.11-slim"))
    def ingest(rows: int = 20_000, seed: int = 7) -> raw_orders:
        """Land a day of raw orders in the bronze zone (generated sample data)."""
        return sample_orders(rows, seed)

    @pipeline.task(
        compute=env.compute.ecs(cpu=1024, memory=2048, image="python:3.11-slim"), retries=2
    )
    def clean(raw: raw_orders) -> orders:
        """Silver: typed, deduplicated, valid orders in one currency."""
        return (
            raw.filter(pl.col("order_id").is_not_null() & (pl.col("amount") > 0))
            .unique(subset="order_id", keep="first")
            .with_columns(
                ts=pl.col("ts").str.to_datetime(),
                amount_usd=pl.when(pl.col("currency") == "CAD")
                .then(pl.col("amount") * 0.73)
                .otherwise(pl.col("amount")),
            )
            .drop("currency", "amount")
        )

    @pipeline.task(compute=env.compute.lambda_(memory=1024))
    def revenue(clean_orders: orders) -> daily_revenue:
        """Gold: revenue and orders per day."""
        return (
            clean_orders.group_by(day=pl.col("ts").dt.date())
            .agg(orders=pl.len(), revenue_usd=pl.col("amount_usd").sum().round(2))
            .sort("day")
        )

    @pipeline.task(compute=env.compute.ecs(cpu=512, memory=1024, image="python:3.11-slim"))
    def customer_value(clean_orders: orders) -> customers:
        """Gold: lifetime value and activity per customer."""
        return (
            clean_orders.group_by("customer_id")
            .agg(
                orders=pl.len(),
                lifetime_value_usd=pl.col("amount_usd").sum().round(2),
                first_order=pl.col("ts").min(),
                last_order=pl.col("ts").max(),
            )
            .sort("lifetime_value_usd", descending=True)
        )

    return pipeline


def sample_orders(rows: int, seed: int) -> pl.DataFrame:
    """Orders as they arrive: some duplicated, some refunds, some without an id."""
    start = datetime(2024, 3, 1)
    frame = pl.DataFrame(
        {
            "order_id": [
                None if i % 97 == 0 else (i * 7919 + seed) % (rows * 2) for i in range(rows)
            ],
            "customer_id": [f"c{(i * 31 + seed) % 500:04d}" for i in range(rows)],
            "amount": [round(((i * 53 + seed) % 40_000) / 100 - 20, 2) for i in range(rows)],
            "currency": ["CAD" if i % 3 == 0 else "USD" for i in range(rows)],
            "ts": [(start + timedelta(minutes=17 * i)).isoformat() for i in range(rows)],
        },
        schema_overrides={"order_id": pl.Int64},
    )
    return frame


pipeline = build(Environment.from_env())


if __name__ == "__main__":
    result = pipeline.run()
    for name, run in result.tasks.items():
        print(f"{name:<15} {run.status:<10} {run.duration * 1000:8.1f} ms")
    print(result["daily_revenue"].collect().head(5))
    print(result.summary())

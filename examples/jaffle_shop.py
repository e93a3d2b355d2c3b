"""dbt's jaffle_shop ported to Glacier: 3 seeds, 3 staging models, 2 marts, the 20 tests.

The tests are data checks declared with the datasets (see docs/checks.md for how each dbt test
maps). As in ``dbt build``, a staging model whose checks fail is written, and the marts built
from it are skipped::

    python examples/jaffle_shop.py                  # seeds, then a run: 20 checks pass
    python examples/jaffle_shop.py --bad            # a duplicate order id, an unknown status
    glacier test examples/jaffle_shop.py            # the checks on what is stored (dbt test)
    glacier test examples/jaffle_shop.py --select 'stg_*'

The data lives under ``$JAFFLE_SHOP_DATA`` (default ``.glacier/examples/jaffle_shop``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import polars as pl

from glacier import Dataset, Environment, Pipeline
from glacier.checks import accepted_values, not_null, relationships, unique

ORDER_STATUSES = ["placed", "shipped", "completed", "return_pending", "returned"]
PAYMENT_METHODS = ["credit_card", "coupon", "bank_transfer", "gift_card"]


def build(env: Environment) -> Pipeline:
    """The jaffle_shop project: seeds -> staging -> marts, each model with its dbt tests."""
    bucket = env.provider.bucket
    pipeline = Pipeline("jaffle_shop", env=env)

    # Seeds (dbt seed): CSV files the staging models read.
    raw_customers, raw_orders, raw_payments = (
        Dataset(name, storage=bucket("seeds", path=f"{name}.csv", format="csv"))
        for name in ("raw_customers", "raw_orders", "raw_payments")
    )

    # Staging models and their 8 tests (models/staging/schema.yml).
    stg_customers = Dataset(
        "stg_customers",
        storage=bucket("staging", path="stg_customers.parquet"),
        checks=[unique("customer_id"), not_null("customer_id")],
    )
    stg_orders = Dataset(
        "stg_orders",
        storage=bucket("staging", path="stg_orders.parquet"),
        checks=[
            unique("order_id"),
            not_null("order_id"),
            accepted_values("status", ORDER_STATUSES),
        ],
    )
    stg_payments = Dataset(
        "stg_payments",
        storage=bucket("staging", path="stg_payments.parquet"),
        checks=[
            unique("payment_id"),
            not_null("payment_id"),
            accepted_values("payment_method", PAYMENT_METHODS),
        ],
    )

    # Marts and their 12 tests (models/schema.yml).
    customers = Dataset(
        "customers",
        storage=bucket("marts", path="customers.parquet"),
        checks=[unique("customer_id"), not_null("customer_id")],
    )
    amounts = [f"{method}_amount" for method in PAYMENT_METHODS]
    orders = Dataset(
        "orders",
        storage=bucket("marts", path="orders.parquet"),
        checks=[
            unique("order_id"),
            not_null("order_id"),
            not_null("customer_id"),
            relationships("customer_id", to=customers, field="customer_id"),
            accepted_values("status", ORDER_STATUSES),
            not_null("amount"),
            *(not_null(column) for column in amounts),
        ],
    )

    @pipeline.task()
    def stage_customers(raw: raw_customers) -> stg_customers:
        return raw.select(customer_id="id", first_name="first_name", last_name="last_name")

    @pipeline.task()
    def stage_orders(raw: raw_orders) -> stg_orders:
        return raw.select(
            order_id="id",
            customer_id="user_id",
            order_date=pl.col("order_date").str.to_date(),
            status="status",
        )

    @pipeline.task()
    def stage_payments(raw: raw_payments) -> stg_payments:
        return raw.select(
            payment_id="id",
            order_id="order_id",
            payment_method="payment_method",
            amount=pl.col("amount") / 100,  # cents to dollars
        )

    @pipeline.task()
    def build_orders(o: stg_orders, p: stg_payments) -> orders:
        per_method = p.group_by("order_id").agg(
            *(
                pl.col("amount").filter(pl.col("payment_method") == m).sum().alias(f"{m}_amount")
                for m in PAYMENT_METHODS
            ),
            amount=pl.col("amount").sum(),
        )
        return (
            o.join(per_method, on="order_id", how="left")
            .with_columns(pl.col([*amounts, "amount"]).fill_null(0.0))
            .sort("order_id")
        )

    @pipeline.task()
    def build_customers(c: stg_customers, o: stg_orders, p: stg_payments) -> customers:
        per_customer = o.group_by("customer_id").agg(
            first_order=pl.col("order_date").min(),
            most_recent_order=pl.col("order_date").max(),
            number_of_orders=pl.len(),
        )
        value = (
            p.join(o.select("order_id", "customer_id"), on="order_id")
            .group_by("customer_id")
            .agg(customer_lifetime_value=pl.col("amount").sum())
        )
        return (
            c.join(per_customer, on="customer_id", how="left")
            .join(value, on="customer_id", how="left")
            .sort("customer_id")
        )

    return pipeline


def write_seeds(base: Path, *, bad: bool = False) -> None:
    """The seeds (a small sample in jaffle_shop's shape); ``bad`` adds a duplicate order id
    and an unknown status, which the staging tests catch."""
    seeds = base / "seeds"
    seeds.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "first_name": ["Michael", "Shawn", "Kathleen", "Jimmy"],
            "last_name": ["P.", "M.", "P.", "C."],
        }
    ).write_csv(seeds / "raw_customers.csv")
    orders = {
        "id": [1, 2, 3, 4, 5],
        "user_id": [1, 3, 4, 1, 2],
        "order_date": ["2018-01-01", "2018-01-02", "2018-01-04", "2018-01-05", "2018-01-05"],
        "status": ["returned", "completed", "completed", "shipped", "placed"],
    }
    if bad:
        orders["id"][4] = 4  # a duplicate order id
        orders["status"][4] = "lost"  # a status the tests do not accept
    pl.DataFrame(orders).write_csv(seeds / "raw_orders.csv")
    pl.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "order_id": [1, 2, 3, 4, 5, 2],
            "payment_method": [
                "credit_card",
                "credit_card",
                "coupon",
                "bank_transfer",
                "gift_card",
                "coupon",
            ],
            "amount": [1000, 2000, 100, 2500, 1700, 600],
        }
    ).write_csv(seeds / "raw_payments.csv")


BASE = Path(os.environ.get("JAFFLE_SHOP_DATA", ".glacier/examples/jaffle_shop"))
env = Environment.local(BASE)
pipeline = build(env)


if __name__ == "__main__":
    write_seeds(BASE, bad="--bad" in sys.argv[1:])
    result = pipeline.run(raise_on_failure=False)
    print(result.summary())
    for task in result.tasks.values():
        for check in task.checks or ():
            line = f"{check['status']:>7}  {check['dataset']}: {check['check']}"
            if check["message"]:
                line += f"  ({check['message']})"
            print(line)
    for task in result.failed:
        print(f"failed: {task.name}: {task.error}")
    skipped = [task.name for task in result.skipped]
    if skipped:
        print(f"skipped (downstream of a failed check): {', '.join(skipped)}")

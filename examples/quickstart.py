"""Quickstart: the three-task pipeline of Glacier's Layer 1, on local files.

    python examples/quickstart.py

``extract`` generates a small sales dataset (or reads ``--input`` CSV), ``transform`` cleans
it with polars, ``aggregate`` sums revenue per region and stores the result as parquet under
``.glacier/data/``. No cloud, no configuration.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from glacier import Dataset, Environment, Pipeline

pipeline = Pipeline("quickstart", description="sales -> clean -> revenue per region")

raw_sales = Dataset("raw_sales", description="sales rows as they arrive")
clean_sales = Dataset("clean_sales", description="valid sales with parsed dates")
revenue = Dataset(
    "revenue",
    storage="demo-output/quickstart/revenue.parquet",
    schema={"region": pl.String, "orders": pl.UInt32, "revenue": pl.Float64},
    description="revenue per region",
)


@pipeline.task()
def extract(rows: int = 1_000, input_csv: str = "") -> raw_sales:
    """Read sales from a CSV, or generate a reproducible sample."""
    if input_csv:
        return pl.scan_csv(input_csv)
    start = date(2024, 1, 1)
    return pl.LazyFrame(
        {
            "order_id": range(rows),
            "region": [("north", "south", "east", "west")[i % 4] for i in range(rows)],
            "amount": [((i * 37) % 500) - 20.0 for i in range(rows)],
            "day": [(start + timedelta(days=i % 90)).isoformat() for i in range(rows)],
        }
    )


@pipeline.task()
def transform(sales: raw_sales) -> clean_sales:
    """Drop refunds and zero amounts; parse dates."""
    return sales.filter(pl.col("amount") > 0).with_columns(pl.col("day").str.to_date())


@pipeline.task()
def aggregate(sales: clean_sales) -> revenue:
    """Orders and revenue per region."""
    return (
        sales.group_by("region").agg(orders=pl.len(), revenue=pl.col("amount").sum()).sort("region")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000)
    parser.add_argument("--input", default="", help="a CSV with order_id, region, amount, day")
    parser.add_argument("--base-path", default=".glacier/data")
    args = parser.parse_args()
    env = Environment.local(base_path=Path(args.base_path))
    result = pipeline.run(
        env=env, params={"extract.rows": args.rows, "extract.input_csv": args.input}
    )
    for name, run in result.tasks.items():
        print(f"{name:<10} {run.status:<10} {run.duration * 1000:8.1f} ms")
    print(result["revenue"].collect())
    print(result.summary())


if __name__ == "__main__":
    main()

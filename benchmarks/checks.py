"""Data checks against the same polars expressions written by hand, in one run.

Writes a parquet dataset of ``--rows`` orders (default 10M) and a customers dataset, then
times, on a fresh scan of the file each time (the data as written):

- **glacier**: every built-in check of the dataset through :func:`glacier.checks.evaluate.evaluate`
  (unique, not_null, accepted_values, expect, row_count, schema, freshness, relationships);
- **by hand**: the same checks as a user would write them in polars: one ``select`` of the
  failing-row counts and aggregates, the schema compared, an anti-join for the foreign key.

It prints each best time and the glacier/by-hand ratio (target: at most 1.3x). Each round
runs both, in turn; the best round counts, so a machine that slows down mid-run slows both.

    .venv/bin/python benchmarks/checks.py [--rows 10000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from glacier.checks import (
    accepted_values,
    expect,
    freshness,
    not_null,
    relationships,
    row_count,
    schema,
    unique,
)
from glacier.checks.evaluate import evaluate

STATUSES = ["placed", "shipped", "completed", "return_pending", "returned"]
SCHEMA = {"order_id": pl.Int64, "customer_id": pl.Int64, "status": pl.String}


class _Customers:
    """What ``relationships(to=...)`` names: a dataset (only its name is read here)."""

    name = "customers"
    is_stored = True
    schema = None


def write_data(directory: Path, rows: int, customers: int) -> tuple[Path, Path]:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    orders = pl.DataFrame(
        {
            "order_id": pl.int_range(rows, eager=True),
            "customer_id": pl.int_range(rows, eager=True) % customers,
            "status": pl.Series(STATUSES).sample(rows, with_replacement=True, seed=1),
            "amount": pl.int_range(rows, eager=True).cast(pl.Float64) % 997,
            "ordered_at": pl.datetime_range(
                now - dt.timedelta(seconds=rows - 1), now, "1s", eager=True
            ),
        }
    )
    orders_path = directory / "orders.parquet"
    customers_path = directory / "customers.parquet"
    orders.write_parquet(orders_path)
    pl.DataFrame({"customer_id": pl.int_range(customers, eager=True)}).write_parquet(customers_path)
    return orders_path, customers_path


def with_glacier(orders: Path, customers: Path) -> list[Any]:
    checks = [
        unique("order_id"),
        not_null(["order_id", "customer_id"]),
        accepted_values("status", STATUSES),
        expect(pl.col("amount") >= 0, name="amount_not_negative"),
        row_count(min=1),
        schema(SCHEMA),
        freshness("ordered_at", max_age=dt.timedelta(days=365)),
        relationships("customer_id", to=_Customers, field="customer_id"),
    ]
    results = evaluate(
        "orders", checks, pl.scan_parquet(orders), lookup=lambda _: pl.scan_parquet(customers)
    )
    assert all(r.passed for r in results), [r for r in results if not r.passed]
    return results


def by_hand(orders: Path, customers: Path) -> list[Any]:
    data = pl.scan_parquet(orders)
    actual = data.collect_schema()
    assert all(actual.get(c) == t for c, t in SCHEMA.items())
    row = (
        data.select(
            duplicates=pl.col("order_id").is_duplicated().sum(),
            nulls=pl.any_horizontal(
                pl.col("order_id").is_null(), pl.col("customer_id").is_null()
            ).sum(),
            unknown_status=(~pl.col("status").is_in(STATUSES)).sum(),
            negative=(pl.col("amount") < 0).sum(),
            rows=pl.len(),
            newest=pl.col("ordered_at").max(),
        )
        .collect()
        .row(0, named=True)
    )
    orphans = (
        data.join(pl.scan_parquet(customers), on="customer_id", how="anti")
        .select(pl.len())
        .collect()
        .item()
    )
    assert row["duplicates"] == row["nulls"] == row["unknown_status"] == row["negative"] == 0
    assert orphans == 0 and row["rows"] > 0
    return [row, orphans]


def best(fn: Callable[[], Any], times: list[float]) -> None:
    gc.collect()
    t0 = time.perf_counter()
    fn()
    times.append(time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        orders, customers = write_data(Path(tmp), args.rows, args.customers)
        glacier_times: list[float] = []
        hand_times: list[float] = []
        for _ in range(args.repeat):
            best(lambda: by_hand(orders, customers), hand_times)
            best(lambda: with_glacier(orders, customers), glacier_times)
    g, h = min(glacier_times), min(hand_times)
    print(f"rows: {args.rows:,}  checks: 8 built-ins on one dataset  best of {args.repeat}")
    print(f"by hand (polars):  {h:.3f}s")
    print(f"glacier.checks:    {g:.3f}s")
    print(f"ratio glacier/by hand: {g / h:.2f}x (target <= 1.3x)")


if __name__ == "__main__":
    main()

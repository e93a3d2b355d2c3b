"""Database I/O through Glacier against the same drivers called directly, in one run.

Starts its own PostgreSQL server (Debian's, as the tests do: ``tests/postgres.py``), then
writes and reads a 1M-row frame (an integer key, a float, a short string, a timestamp):

- write: ``db.table(t).write(df)`` (replace: one transaction, TRUNCATE then binary COPY)
  against ADBC's ``adbc_ingest`` after a TRUNCATE, committed, on one connection;
- read: ``db.table(t).read()`` with each reader (ADBC, connectorx) against the same driver
  reading ``SELECT *`` into Arrow and ``pl.from_arrow`` directly.

It prints the best time of each, rows per second and the Glacier/direct ratio (target: at
least 0.9x), and which reader is faster.

    .venv/bin/python benchmarks/database.py [--rows 1000000] [--repeat 5]

Every round runs each operation once, in turn (Glacier first in even rounds, the driver first
in odd ones), and the best round counts: a machine that slows down mid-run slows Glacier and
direct calls alike. After each write, an untimed scan sets the new rows' hint bits, so that no
timed read pays for them.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from glacier import Environment
from postgres import PostgresServer

TABLE = "bench_orders"


def frame(rows: int) -> pl.DataFrame:
    start = datetime(2026, 1, 1)
    return pl.DataFrame(
        {
            "order_id": pl.int_range(rows, eager=True),
            "amount": pl.int_range(rows, eager=True) * 0.25,
            "customer": pl.int_range(rows, eager=True).map_elements(
                lambda i: f"customer-{i % 5000}", return_dtype=pl.String
            ),
            "placed_at": pl.datetime_range(
                start, start + timedelta(seconds=rows - 1), "1s", eager=True
            ),
        }
    )


def best(fn: Callable[[], Any], results: list[float]) -> None:
    gc.collect()
    started = time.perf_counter()
    fn()
    results.append(time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import adbc_driver_postgresql.dbapi as adbc
    import connectorx as cx

    data = frame(args.rows)
    with PostgresServer.start() as pg:
        os.environ.update(pg.libpq_env())
        env = Environment.local("/tmp/glacier-bench-db")
        table = env.database.postgres("warehouse").table(TABLE)
        from glacier.settings import DatabaseConnection

        cx_db = env.database.postgres(
            "warehouse", connection=DatabaseConnection(reader="connectorx")
        )
        cx_table = cx_db.table(TABLE)
        table.write(data)  # created once: both writers then replace its rows

        def adbc_write() -> None:
            with adbc.connect(pg.url) as conn, conn.cursor() as cur:
                cur.execute(f"TRUNCATE {TABLE}")
                cur.adbc_ingest(TABLE, data.to_arrow(), mode="append")
                conn.commit()

        def settle() -> None:
            # The first scan after a bulk COPY sets every row's hint bits (and writes the
            # pages again): done here, untimed, so that every timed read finds the same table.
            with adbc.connect(pg.url) as conn, conn.cursor() as cur:
                cur.execute(f"SELECT count(*) FROM {TABLE}")
                cur.fetchall()

        def adbc_read() -> pl.DataFrame:
            with adbc.connect(pg.url) as conn, conn.cursor() as cur:
                cur.execute(f"SELECT * FROM {TABLE}")
                return pl.DataFrame(pl.from_arrow(cur.fetch_arrow_table()))

        def cx_read() -> pl.DataFrame:
            arrow = cx.read_sql(pg.url_with_password, f"SELECT * FROM {TABLE}", return_type="arrow")
            return pl.DataFrame(pl.from_arrow(arrow))

        cases: dict[str, Callable[[], Any]] = {
            "write glacier": lambda: table.write(data),
            "write adbc": adbc_write,
            "read glacier (adbc)": table.read,
            "read adbc": adbc_read,
            "read glacier (connectorx)": cx_table.read,
            "read connectorx": cx_read,
        }
        assert table.read().height == args.rows and cx_read().height == args.rows
        times: dict[str, list[float]] = {name: [] for name in cases}
        order = list(cases)
        for round_ in range(args.repeat):
            # Glacier first in even rounds, the driver first in odd ones: whatever one call
            # leaves behind (dirty pages, a warm cache) is paid by both sides alike.
            pairs = [order[i : i + 2] for i in range(0, len(order), 2)]
            for pair in pairs:
                for name in pair if round_ % 2 == 0 else reversed(pair):
                    best(cases[name], times[name])
                    if name.startswith("write"):
                        settle()

    fastest = {name: min(values) for name, values in times.items()}
    print(f"{args.rows:,} rows, best of {args.repeat} rounds, PostgreSQL on 127.0.0.1")
    for name, seconds in fastest.items():
        print(f"  {name:28} {seconds:7.3f} s  {args.rows / seconds / 1e6:6.2f} M rows/s")
    pairs = [
        ("write", "write glacier", "write adbc"),
        ("read (adbc)", "read glacier (adbc)", "read adbc"),
        ("read (connectorx)", "read glacier (connectorx)", "read connectorx"),
    ]
    for label, ours, theirs in pairs:
        print(f"  {label:28} Glacier/direct = {fastest[theirs] / fastest[ours]:.2f}x")
    faster = "adbc" if fastest["read adbc"] < fastest["read connectorx"] else "connectorx"
    other = "connectorx" if faster == "adbc" else "adbc"
    ratio = fastest[f"read {other}"] / fastest[f"read {faster}"]
    print(f"  faster reader: {faster}, {ratio:.2f}x as fast as {other}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

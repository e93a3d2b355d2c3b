"""Bucket I/O against raw polars/fsspec calls on the same store, in one run.

Writes and reads a 10M-row parquet dataset on the local disk and on S3 (a moto server started
here), through ``Bucket`` and through raw calls, and prints throughput and the Bucket/raw
ratio against the faster raw call (target: at least 0.9x). A dataset directory is a Delta
table, so its raw counterparts are ``deltalake.write_deltalake`` and ``polars.scan_delta``.
Then it times a merge of 10% changed rows into the table, and shows that a filtered scan
reads a fraction of the bytes a full read does (of the object and of the table).

With ``--suites excel,joblib`` it measures what is not a table scan: reading a 50k-row Excel
sheet through a Bucket against ``pl.read_excel`` on the same bytes, and a 100 MB joblib
object written and read through a Bucket against ``joblib.dump``/``joblib.load`` on a file of
the same store (target: at least 0.9x).

    .venv/bin/python benchmarks/bucket_io.py [--rows 10000000] [--repeat 5] [--stores local,s3]
        [--settle 1.0] [--suites tables,excel,joblib] [--excel-rows 50000] [--object-mb 100]

Every round runs each operation once, in turn, and the best round counts: a machine that
slows down mid-run slows raw and Bucket calls alike. Before each call the benchmark collects
garbage and pauses ``--settle`` seconds, so that no call pays for what the previous one left
behind: moto runs in this process and spills every part and object over 5 MB to temporary
files: a write right after a 160 MB object write took up to 0.5 s longer (all of it system
time) than the same write after a pause. Bytes read are measured where the data
leaves the store: response bytes through a counting proxy in front of moto, and this
process' ``rchar`` (``/proc/self/io``) on the local disk.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl


class CountingProxy:
    """A TCP proxy that counts the bytes the server behind it sends back."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.received = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _ = self._server.accept()
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, count: bool) -> None:
        try:
            while data := source.recv(1 << 16):
                if count:
                    self.received += len(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            source.close()
            sink.close()


def process_bytes_read() -> int:
    """Bytes this process got from read() calls so far (page cache included)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    return 0


def make_frame(rows: int) -> pl.DataFrame:
    rng = np.random.default_rng(42)
    return pl.DataFrame(
        {
            "id": np.arange(rows, dtype=np.int64),
            "group": (np.arange(rows) % 100).astype(np.int32),
            "x": rng.random(rows),
            "y": rng.normal(size=rows),
        }
    )


def bench_store(
    name: str,
    provider: Any,
    raw_uri: str,
    storage_options: dict[str, Any] | None,
    raw_table: str,
    delta_options: dict[str, str] | None,
    frame: pl.DataFrame,
    repeat: int,
    bytes_read: Callable[[], int],
    settle: float,
) -> dict[str, float]:
    """Time Bucket against raw calls on one store; print the table and return the seconds."""
    size = frame.estimated_size("mb")
    single = provider.bucket("bench", path="bench/single.parquet")
    dataset = provider.bucket("bench", path="bench/dataset/")
    fs = provider.cloud.filesystem()
    native = {"storage_options": storage_options} if storage_options is not None else {}

    def fsspec_write() -> None:
        with fs.open(raw_uri.split("://")[-1], "wb") as handle:
            frame.write_parquet(handle)

    from deltalake import write_deltalake

    operations: dict[str, Callable[[], object]] = {
        "write raw polars": lambda: frame.write_parquet(raw_uri, **native),
        "write raw fsspec": fsspec_write,
        "write raw delta": lambda: write_deltalake(
            raw_table, frame, mode="overwrite", storage_options=delta_options
        ),
        "write Bucket (object)": lambda: single.write(frame),
        "write Bucket (dataset)": lambda: dataset.write(frame),
        "read raw polars": lambda: pl.read_parquet(raw_uri, **native),
        "read raw fsspec": lambda: pl.read_parquet(fs.cat_file(raw_uri.split("://")[-1])),
        "read raw delta": lambda: pl.scan_delta(raw_table, storage_options=delta_options).collect(),
        "read Bucket (object)": single.read,
        "read Bucket (dataset)": dataset.read,
    }
    best = dict.fromkeys(operations, float("inf"))
    for _ in range(repeat):
        for operation, action in operations.items():
            gc.collect()
            time.sleep(settle)
            start = time.perf_counter()
            action()
            best[operation] = min(best[operation], time.perf_counter() - start)

    print(f"\n{name}: {frame.height:,} rows, {size:.0f} MB in memory, best of {repeat} rounds")
    print(f"  {'operation':<26}{'seconds':>9}{'MB/s':>9}{'Bucket/raw':>12}")
    for operation, seconds in best.items():
        verb = operation.split()[0]
        if "(dataset)" in operation:  # a table: against delta-rs and polars' Delta reader
            raw = best[f"{verb} raw delta"]
        else:
            raw = min(best[f"{verb} raw polars"], best[f"{verb} raw fsspec"])
        ratio = f"{raw / seconds:.2f}x" if "Bucket" in operation else ""
        print(f"  {operation:<26}{seconds:>9.2f}{size / seconds:>9.0f}{ratio:>12}")

    changes = frame.sample(n=frame.height // 10, seed=1).with_columns(pl.col("x") + 1)
    start_time = time.perf_counter()
    dataset.write(changes, mode="merge", on=["id"])
    merge_seconds = time.perf_counter() - start_time
    print(f"  merge of {changes.height:,} changed rows into the table: {merge_seconds:.2f} s")
    for label, bucket in (("object", single), ("table", dataset)):
        report_pruning(label, bucket, frame.height, bytes_read)
    return best


def report_pruning(label: str, bucket: Any, rows: int, bytes_read: Callable[[], int]) -> None:
    """Bytes a filtered scan reads against a full read of the same data."""
    single = bucket
    start = bytes_read()
    full = single.read()
    full_bytes = bytes_read() - start
    start = bytes_read()
    few = single.scan().filter(pl.col("id") < rows // 100).select("x").collect()
    filtered_bytes = bytes_read() - start
    print(
        f"  {label}: filtered scan (1% of rows, 1 of 4 columns): {filtered_bytes / 1e6:.1f} MB "
        f"read vs {full_bytes / 1e6:.1f} MB for a full read "
        f"({filtered_bytes / max(full_bytes, 1):.1%}); {few.height:,} of {full.height:,} rows"
    )


def timed(
    operations: dict[str, Callable[[], object]], repeat: int, settle: float
) -> dict[str, float]:
    """The best time of each operation over ``repeat`` rounds, run in turn."""
    best = dict.fromkeys(operations, float("inf"))
    for _ in range(repeat):
        for operation, action in operations.items():
            gc.collect()
            time.sleep(settle)
            start = time.perf_counter()
            action()
            best[operation] = min(best[operation], time.perf_counter() - start)
    return best


def bench_objects(
    name: str, provider: Any, root: str, suites: set[str], args: argparse.Namespace
) -> None:
    """Excel reads and joblib round trips through a Bucket against the raw library calls on
    the same store; ``root`` is the fsspec path of the bucket ``bench``."""
    import io

    import joblib

    fs = provider.cloud.filesystem()
    rows: list[tuple[str, float, float]] = []
    if "excel" in suites:
        rng = np.random.default_rng(7)
        sheet = pl.DataFrame(
            {
                "id": np.arange(args.excel_rows),
                "engines": rng.integers(1, 5, args.excel_rows),
                "price": rng.uniform(0, 1000, args.excel_rows),
                "type": rng.choice(["A", "B", "C"], args.excel_rows),
            }
        )
        buffer = io.BytesIO()
        sheet.write_excel(buffer)
        fs.pipe_file(f"{root}/bench/shuttles.xlsx", buffer.getvalue())
        book = provider.bucket("bench", path="bench/shuttles.xlsx", format="xlsx")

        def raw_excel() -> None:
            pl.read_excel(fs.cat_file(f"{root}/bench/shuttles.xlsx"))

        best = timed({"raw": raw_excel, "bucket": book.read}, args.repeat, args.settle)
        rows.append((f"read {args.excel_rows:,}-row Excel sheet", best["raw"], best["bucket"]))
    if "joblib" in suites:
        count = args.object_mb * 2**20 // 8 // 2
        model = {"weights": np.random.default_rng(1).random(count), "bias": np.ones(count)}
        target = f"{root}/bench/raw.joblib"
        stored = provider.bucket("bench", path="bench/model.joblib", format="joblib")

        def raw_dump() -> None:
            with fs.open(target, "wb") as handle:
                joblib.dump(model, handle)

        def raw_load() -> None:
            with fs.open(target, "rb") as handle:
                joblib.load(handle)

        best = timed(
            {
                "raw dump": raw_dump,
                "bucket write": lambda: stored.write(model),
                "raw load": raw_load,
                "bucket read": stored.read,
            },
            args.repeat,
            args.settle,
        )
        label = f"{args.object_mb} MB joblib"
        rows.append((f"write {label}", best["raw dump"], best["bucket write"]))
        rows.append((f"read {label}", best["raw load"], best["bucket read"]))
    print(f"\n{name}: objects, best of {args.repeat} rounds")
    print(f"  {'operation':<34}{'raw s':>8}{'Bucket s':>10}{'Bucket/raw':>12}")
    for operation, raw, bucket in rows:
        print(f"  {operation:<34}{raw:>8.2f}{bucket:>10.2f}{raw / bucket:>11.2f}x")


def bench_local(frame: pl.DataFrame, repeat: int, settle: float) -> None:
    from glacier.provider import Provider
    from glacier.settings import LocalConfig

    with tempfile.TemporaryDirectory(prefix="glacier-bench-") as tmp:
        os.makedirs(f"{tmp}/bench/bench")
        provider = Provider(config=LocalConfig(base_path=tmp))
        raw = f"{tmp}/bench/bench/raw.parquet"
        table = f"{tmp}/bench/bench/raw_table"
        bench_store(
            "local disk",
            provider,
            raw,
            None,
            table,
            None,
            frame,
            repeat,
            process_bytes_read,
            settle,
        )


def bench_local_objects(suites: set[str], args: argparse.Namespace) -> None:
    from glacier.provider import Provider
    from glacier.settings import LocalConfig

    with tempfile.TemporaryDirectory(prefix="glacier-bench-") as tmp:
        os.makedirs(f"{tmp}/bench/bench")
        provider = Provider(config=LocalConfig(base_path=tmp))
        bench_objects("local disk", provider, f"{tmp}/bench", suites, args)


def bench_s3(
    frame: pl.DataFrame | None,
    repeat: int,
    settle: float,
    suites: set[str] = frozenset({"tables"}),  # type: ignore[assignment]
    args: argparse.Namespace | None = None,
) -> None:
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
    )
    import boto3
    from moto.server import ThreadedMotoServer

    from glacier.provider import Provider
    from glacier.settings import AwsConfig

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        proxy = CountingProxy(server.get_host_and_port()[1])
        boto3.client("s3", endpoint_url=proxy.url).create_bucket(Bucket="bench")
        # moto assembles a completed multipart upload (~270 MB here) inside the request:
        # under load that outlasts the default read timeout, and a retried completion fails.
        config = AwsConfig(region="us-east-1", endpoint_url=proxy.url, read_timeout=600)
        provider = Provider(config=config)
        options = {"aws_endpoint_url": proxy.url, "aws_region": "us-east-1"}
        options["aws_allow_http"] = "true"
        raw = "s3://bench/bench/raw.parquet"

        def received() -> int:
            return proxy.received

        if frame is not None:
            delta = {"AWS_ENDPOINT_URL": proxy.url, "AWS_REGION": "us-east-1"}
            delta["AWS_ALLOW_HTTP"] = "true"
            table = "s3://bench/bench/raw_table"
            bench_store(
                "S3 (moto)", provider, raw, options, table, delta, frame, repeat, received, settle
            )
        if args is not None and suites & {"excel", "joblib"}:
            bench_objects("S3 (moto)", provider, "bench", suites, args)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--stores", default="local,s3", help="comma-separated: local, s3")
    parser.add_argument(
        "--settle", type=float, default=1.0, help="seconds of pause before each timed call"
    )
    parser.add_argument("--suites", default="tables", help="comma-separated: tables, excel, joblib")
    parser.add_argument("--excel-rows", type=int, default=50_000)
    parser.add_argument("--object-mb", type=int, default=100)
    args = parser.parse_args()
    stores = set(args.stores.split(","))
    suites = set(args.suites.split(","))

    frame = make_frame(args.rows) if "tables" in suites else None
    print(f"polars {pl.__version__}, python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    if "local" in stores:
        if frame is not None:
            bench_local(frame, args.repeat, args.settle)
        if suites & {"excel", "joblib"}:
            bench_local_objects(suites, args)
    if "s3" in stores:
        bench_s3(frame, args.repeat, args.settle, suites, args)


if __name__ == "__main__":
    main()

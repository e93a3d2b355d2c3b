"""Bucket I/O against raw polars/fsspec calls on the same store, in one run.

Writes and reads a 10M-row parquet dataset on the local disk and on S3 (a moto server started
here), through ``Bucket`` and through the fastest raw call we know for each operation, and
prints throughput and the Bucket/raw ratio (target: at least 0.9x). It then shows that a
filtered scan reads a fraction of the bytes a full read does.

    .venv/bin/python benchmarks/bucket_io.py [--rows 10000000] [--repeat 3]

Bytes read are measured where the data leaves the store: response bytes through a counting
proxy in front of moto, and this process' ``rchar`` (``/proc/self/io``) for the local disk.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

Timing = Callable[[], object]


@dataclass
class Result:
    """One measured operation: the best of ``repeat`` runs."""

    store: str
    operation: str
    seconds: float
    megabytes: float

    @property
    def throughput(self) -> float:
        return self.megabytes / self.seconds


def best_of(repeat: int, action: Timing, setup: Timing | None = None) -> float:
    """The fastest of ``repeat`` runs of ``action`` (``setup`` runs untimed before each)."""
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


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


def start_moto() -> tuple[Any, CountingProxy]:
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
    )
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    proxy = CountingProxy(server.get_host_and_port()[1])
    import boto3

    boto3.client("s3", endpoint_url=proxy.url).create_bucket(Bucket="bench")
    return server, proxy


def bench_store(
    name: str,
    provider: Any,
    bucket_name: str,
    raw_path: Callable[[str], str],
    storage_options: dict[str, Any] | None,
    fs: Any,
    frame: pl.DataFrame,
    repeat: int,
    bytes_read: Callable[[], int],
) -> list[Result]:
    """Time Bucket against raw calls on one store; print and return the results."""
    size = frame.estimated_size("mb")
    single = provider.bucket(bucket_name, path="bench/single.parquet")
    dataset = provider.bucket(bucket_name, path="bench/dataset/")
    raw_uri = raw_path("bench/raw.parquet")
    native = {"storage_options": storage_options} if storage_options is not None else {}

    def fsspec_write() -> None:
        with fs.open(raw_uri, "wb") as handle:
            frame.write_parquet(handle)

    def fsspec_read() -> pl.DataFrame:
        return pl.read_parquet(fs.cat_file(raw_uri))

    results = [
        Result(
            name,
            "write raw polars",
            best_of(repeat, lambda: frame.write_parquet(raw_uri, **native)),
            size,
        ),
        Result(name, "write raw fsspec", best_of(repeat, fsspec_write), size),
        Result(name, "write Bucket (object)", best_of(repeat, lambda: single.write(frame)), size),
        Result(name, "write Bucket (dataset)", best_of(repeat, lambda: dataset.write(frame)), size),
        Result(
            name,
            "read raw polars",
            best_of(repeat, lambda: pl.read_parquet(raw_uri, **native)),
            size,
        ),
        Result(name, "read raw fsspec", best_of(repeat, fsspec_read), size),
        Result(name, "read Bucket (object)", best_of(repeat, single.read), size),
        Result(name, "read Bucket (dataset)", best_of(repeat, dataset.read), size),
    ]
    by_op = {r.operation: r for r in results}
    print(f"\n{name}: {frame.height:,} rows, {size:.0f} MB in memory, best of {repeat}")
    print(f"  {'operation':<26}{'seconds':>9}{'MB/s':>9}{'Bucket/raw':>12}")
    for result in results:
        ratio = ""
        verb = result.operation.split()[0]
        if "Bucket" in result.operation:
            raw = min(by_op[f"{verb} raw polars"].seconds, by_op[f"{verb} raw fsspec"].seconds)
            ratio = f"{raw / result.seconds:.2f}x"
        print(f"  {result.operation:<26}{result.seconds:>9.2f}{result.throughput:>9.0f}{ratio:>12}")

    start = bytes_read()
    full = single.read()
    full_bytes = bytes_read() - start
    start = bytes_read()
    query = single.scan().filter(pl.col("id") < frame.height // 100).select("x")
    few = query.collect()
    filtered_bytes = bytes_read() - start
    print(
        f"  filtered scan (1% of rows, 1 of 4 columns): {filtered_bytes / 1e6:.1f} MB read "
        f"vs {full_bytes / 1e6:.1f} MB for a full read ({filtered_bytes / full_bytes:.1%}); "
        f"{few.height:,} of {full.height:,} rows"
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from fsspec.implementations.local import LocalFileSystem

    from glacier.provider import Provider
    from glacier.settings import AwsConfig, LocalConfig

    frame = make_frame(args.rows)
    print(f"polars {pl.__version__}, python {sys.version.split()[0]}, {os.cpu_count()} CPUs")

    with tempfile.TemporaryDirectory(prefix="glacier-bench-") as tmp:
        local = Provider(config=LocalConfig(base_path=tmp))
        os.makedirs(f"{tmp}/bench/bench", exist_ok=True)
        bench_store(
            "local disk",
            local,
            "bench",
            lambda key: f"{tmp}/bench/{key}",
            None,
            LocalFileSystem(),
            frame,
            args.repeat,
            process_bytes_read,
        )

    server, proxy = start_moto()
    try:
        s3 = Provider(config=AwsConfig(region="us-east-1", endpoint_url=proxy.url))
        fs = s3.cloud.filesystem()
        options = {
            "aws_endpoint_url": proxy.url,
            "aws_region": "us-east-1",
            "aws_allow_http": "true",
        }
        bench_store(
            "S3 (moto)",
            s3,
            "bench",
            lambda key: f"s3://bench/{key}",
            options,
            fs,
            frame,
            args.repeat,
            lambda: proxy.received,
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()

"""How long each store takes to fail against a dead endpoint, with the default settings.

Two kinds of dead endpoint: one that accepts connections and never answers
(``tests/faults.py``, ``SilentServer``: only a read timeout ends a request) and a port where
nothing listens (a refused connection). For each store (S3, GCS, Azure) and operation (read
of an object, write of a small object, write of a multipart object, a Delta table commit, a
listing) it prints the time to fail and the error raised::

    PYTHONPATH=src python benchmarks/dead_endpoint.py
    PYTHONPATH=src python benchmarks/dead_endpoint.py --stores s3 --ops read,write --parallel 5

Operations run one at a time unless ``--parallel`` says otherwise (in parallel threads they
contend for the interpreter and each takes longer).
The figures are in docs/reliability.md ("Retries and timeouts").
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

import polars as pl

from faults import SilentServer

AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
STORES = ("s3", "gcs", "azure")
OPS = ("read", "write", "multipart", "commit", "list")


def _refused_url() -> str:
    """A URL on a port where nothing listens (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _provider(store: str, url: str) -> Any:
    from glacier.provider import Provider
    from glacier.settings import AwsConfig, AzureConfig, GcpConfig

    if store == "s3":
        return Provider(config=AwsConfig(region="us-east-1", endpoint_url=url))
    if store == "gcs":
        return Provider(config=GcpConfig(project="glacier-test", endpoint_url=url, anonymous=True))
    return Provider(config=AzureConfig(storage_account="devstoreaccount1", endpoint_url=url))


def _operation(store: str, url: str, op: str) -> Callable[[], object]:
    provider = _provider(store, url)
    small = pl.DataFrame({"x": [1, 2, 3]})
    if op == "read":
        return provider.bucket("lake", "k.parquet").read
    if op == "write":
        return lambda: provider.bucket("lake", "k.parquet").write(small)
    if op == "multipart":
        big = pl.DataFrame({"x": range(3_000_000)})  # ~24 MiB: more than one 16 MiB part
        return lambda: provider.bucket("lake", "big.parquet").write(big)
    if op == "commit":
        return lambda: provider.bucket("lake", "t/").write(small, mode="append")
    return provider.bucket("lake", "t/").list


def measure(store: str, kind: str, url: str, op: str) -> tuple[str, str, str, float, str]:
    """Run one operation against a dead endpoint: (store, kind, op, seconds, error)."""
    started = time.perf_counter()
    try:
        _operation(store, url, op)()
        outcome = "no error (!)"
    except Exception as exc:
        outcome = f"{type(exc).__name__}: {str(exc)[:110]}"
    return store, kind, op, time.perf_counter() - started, outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default=",".join(STORES))
    parser.add_argument("--ops", default=",".join(OPS))
    parser.add_argument("--kinds", default="silent,refused")
    parser.add_argument("--parallel", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    import adlfs  # noqa: F401  (imported before timing: the figures are the network's)
    import deltalake  # noqa: F401
    import gcsfs  # noqa: F401
    import s3fs  # noqa: F401

    silent = SilentServer()
    endpoints = {"silent": silent.url, "refused": _refused_url()}
    os.environ["AZURE_STORAGE_CONNECTION_STRING"] = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={AZURITE_KEY};BlobEndpoint={silent.url}/devstoreaccount1;"
    )
    jobs = [
        (store, kind, endpoints[kind] + ("/devstoreaccount1" if store == "azure" else ""), op)
        for store in args.stores.split(",")
        for kind in args.kinds.split(",")
        for op in args.ops.split(",")
    ]
    with concurrent.futures.ThreadPoolExecutor(args.parallel) as pool:
        results = list(pool.map(lambda job: measure(*job), jobs))
    silent.close()
    print(f"{'store':6} {'endpoint':8} {'operation':10} {'seconds':>7}  error")
    worst = 0.0
    for store, kind, op, seconds, outcome in results:
        worst = max(worst, seconds)
        print(f"{store:6} {kind:8} {op:10} {seconds:7.1f}  {outcome}")
    print(f"slowest: {worst:.1f} s")
    return 0 if all(not r[4].startswith("no error") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

"""SIGKILL trials at scale: writers killed mid-write on the local disk and on S3 (moto).

Each trial starts a writer that rewrites one dataset (an object or a Delta table) in a loop,
kills it with SIGKILL after a random 0.05-0.6 s, and checks that a reader sees one whole
version and that the next write (and, for tables, vacuum) leaves no stray objects. The
suite runs 20 per store (``tests/test_reliability_kills.py``); this runs as many as asked::

    PYTHONPATH=src python benchmarks/kill_trials.py --trials 100 --parallel 8
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from kill_trials import run_trials, summary, trials_for


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100, help="trials per store")
    parser.add_argument("--parallel", type=int, default=8, help="writers at a time")
    parser.add_argument("--stores", default="local,s3", help="local, s3 or both")
    args = parser.parse_args()
    failed = 0
    for store in args.stores.split(","):
        started = time.perf_counter()
        if store == "local":
            trials = trials_for("local", args.trials, base=tempfile.mkdtemp())
            outcomes = run_trials(trials, args.parallel)
        else:
            import boto3
            from moto.server import ThreadedMotoServer

            os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
            os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            host, port = server.get_host_and_port()
            endpoint = f"http://{host}:{port}"
            boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
                Bucket="kill-trials"
            )
            try:
                trials = trials_for("s3", args.trials, endpoint=endpoint, bucket="kill-trials")
                outcomes = run_trials(trials, args.parallel)
            finally:
                server.stop()
        failed += sum(1 for o in outcomes if not o.ok)
        print(f"{store}: {summary(outcomes)} in {time.perf_counter() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The rehearsal of the medallion example's prod deployment, and the cold import of its Lambda
handler against importing polars alone, in one run.

    .venv/bin/python benchmarks/rehearsal.py [--repeat 5] [--no-rehearsal]

1. Cold import: the Lambda package of a medallion function is unpacked to a temporary
   directory; each round starts a fresh interpreter that imports the handler module
   (``import glacier_handler``, as Lambda's runtime does at a cold start) and one that runs
   ``import polars``; the best round of each counts. Target: handler <= 1.5x polars.
2. Rehearsal: ``glacier.infra.rehearse`` of medallion's prod stack (4 tasks: 3 Lambda, 1 ECS),
   wall time in total and per task (each task is a subprocess of its own).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cold_import(code: Path, statement: str, repeat: int) -> float:
    """Best wall time of ``python -c statement`` in a fresh interpreter, in seconds."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(code), "HOME": str(code)}
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], cwd=code, env=env, check=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-rehearsal", action="store_true")
    args = parser.parse_args()
    os.environ["GLACIER_ENV"] = "prod"
    os.environ["GLACIER_SETTINGS_DIR"] = str(ROOT / "containers")
    import runpy

    from glacier.infra import plan, rehearse
    from glacier.infra.model import build_model
    from glacier.infra.rehearse.artifacts import artifacts

    pipeline = runpy.run_path(str(ROOT / "examples" / "medallion.py"))["pipeline"]
    found = artifacts(plan(pipeline, "prod"), build_model(pipeline))
    with tempfile.TemporaryDirectory() as tmp:
        code = found["clean"].unpack(Path(tmp))
        empty = cold_import(code, "pass", args.repeat)
        polars = cold_import(code, "import polars", args.repeat)
        handler = cold_import(code, "import glacier_handler", args.repeat)
        both = cold_import(code, "import glacier_handler, polars", args.repeat)
    print(f"interpreter start              {empty * 1000:8.1f} ms")
    print(f"import polars                  {polars * 1000:8.1f} ms")
    for label, seconds in (("glacier_handler", handler), ("glacier_handler, polars", both)):
        print(f"import {label:<24}{seconds * 1000:8.1f} ms  ({seconds / polars:.2f}x polars)")
    if args.no_rehearsal:
        return
    start = time.perf_counter()
    report = rehearse(pipeline, "prod")
    total = time.perf_counter() - start
    print(report.to_text())
    tasks = sum(t.seconds for t in report.tasks)
    print(f"rehearsal wall time {total:.1f} s; tasks {tasks:.1f} s over {len(report.tasks)} tasks")


if __name__ == "__main__":
    main()

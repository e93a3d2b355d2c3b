"""Import and cold-start time of Glacier, against ``import polars`` measured in the same run.

Run it with ``.venv/bin/python benchmarks/import_time.py [--repeat N]``. Each figure is the
median of N fresh interpreters (interleaved, so that a busy machine slows every contender
alike), with bytecode caches warm:

- **import polars**: the baseline; every Glacier pipeline imports it.
- **from glacier import Pipeline, Dataset**: what a user's first line costs.
- **deployed cold start**: what a deployed task does before running its function: import the
  handler (``glacier.infra.runtime``), read the environment's settings (prod, from
  ``containers/``), load the pipeline of ``examples/medallion.py`` and resolve its environment.

The issue's goal is each Glacier figure at most 1.5x the polars one. This is not a test and
asserts nothing about time; it prints a table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CASES = {
    "import polars": "import polars",
    "from glacier import Pipeline, Dataset": "from glacier import Pipeline, Dataset",
    "deployed cold start": (
        "import glacier.infra.runtime\n"
        "from glacier.flow import as_pipeline\n"
        "from glacier.targets import load_target\n"
        "p = as_pipeline(load_target('examples/medallion.py:pipeline'))\n"
        "p.environment()\n"
    ),
}


def once(code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    env = {**os.environ, "GLACIER_ENV": "prod", "GLACIER_SETTINGS_DIR": str(ROOT / "containers")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for code in CASES.values():  # warm the bytecode caches
        once(code, env)
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.repeat):
        for name, code in CASES.items():
            times[name].append(once(code, env))
    # The interpreter itself, so that the ratios compare what the imports add.
    bare = statistics.median(once("pass", env) for _ in range(args.repeat))
    base = statistics.median(times["import polars"]) - bare
    print(f"{'case':40} {'median s':>9} {'added s':>8} {'x polars':>9}")
    for name, values in times.items():
        added = statistics.median(values) - bare
        print(f"{name:40} {statistics.median(values):9.3f} {added:8.3f} {added / base:8.2f}x")
    print(f"{'(python -c pass)':40} {bare:9.3f}")


if __name__ == "__main__":
    main()

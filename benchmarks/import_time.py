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
asserts nothing about time; it prints a table: wall time, and the CPU time the interpreter
used (user + system), which a machine shared with other work disturbs less.

The interpreter is this one, with whatever its site-packages hold: development tools bring
packages a deployed task's layer does not have (werkzeug and PyYAML, which
dependency-injector imports when present, about 35 ms here). ``benchmarks/rehearsal.py``
measures the deployed task with its real package and layer.
"""

from __future__ import annotations

import argparse
import os
import resource
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


def once(code: str, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one fresh interpreter running ``code``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    env = {**os.environ, "GLACIER_ENV": "prod", "GLACIER_SETTINGS_DIR": str(ROOT / "containers")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for code in CASES.values():  # warm the bytecode caches
        once(code, env)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in CASES}
    for _ in range(args.repeat):
        for name, code in CASES.items():
            times[name].append(once(code, env))
    # The interpreter itself, so that the ratios compare what the imports add.
    bare_runs = [once("pass", env) for _ in range(args.repeat)]
    bare = [statistics.median(run[i] for run in bare_runs) for i in (0, 1)]
    base = [statistics.median(run[i] for run in times["import polars"]) - bare[i] for i in (0, 1)]
    columns = f"{'added':>7} {'x polars':>8}"
    print(f"{'case':40} {'wall s':>7} {columns}   {'CPU s':>6} {columns}")
    for name, values in times.items():
        cells = []
        for i in (0, 1):
            median = statistics.median(run[i] for run in values)
            added = median - bare[i]
            cells.append(f"{median:7.3f} {added:7.3f} {added / base[i]:7.2f}x")
        print(f"{name:40} {cells[0]}   {cells[1]}")
    print(f"{'(python -c pass)':40} {bare[0]:7.3f} {'':16}   {bare[1]:6.3f}")


if __name__ == "__main__":
    main()

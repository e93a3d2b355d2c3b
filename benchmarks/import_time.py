"""Import and cold-start time of Glacier, against ``import polars`` measured in the same run.

Run it with ``.venv/bin/python benchmarks/import_time.py [--repeat N]``. Each figure is the
median of N fresh interpreters (interleaved, so that a busy machine slows every contender
alike), with bytecode caches warm:

- **import polars**: the baseline; every Glacier pipeline imports it.
- **from glacier import Pipeline, Dataset**: what a user's first line costs.
- **deployed cold start**: what a deployed task does before running its function, as it
  does it: with the variables the plan gives it (``GLACIER_SETTINGS`` baked from
  ``containers/prod.toml``, its digest, ``GLACIER_DEPLOYED``; no settings file), import the
  handler (``glacier.infra.runtime``), load the pipeline of ``examples/medallion.py``
  (``load_pipeline``, as ``run_task`` does) and resolve its environment.
- **the same from the settings file**: the same statements with ``GLACIER_SETTINGS_DIR``
  instead of the baked variables (the settings validated through pydantic-settings, the
  collector on): what the cold start cost before the deployed path had its own.
- **floor**: ``import polars, dependency_injector.containers``, with the garbage collector
  paused as the deployed path pauses it: what any path that keeps dependency-injector
  containers imports at least (dependency-injector imports pydantic-settings, and with it
  pydantic's models, whenever they are installed).

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

_COLD_START = (
    "import glacier.infra.runtime\n"
    "from glacier.infra.runtime import load_pipeline\n"
    "load_pipeline('examples/medallion.py:pipeline').environment()\n"
)
#: name -> (code, which variables: "plain", "deployed" or "file").
CASES = {
    "import polars": ("import polars", "plain"),
    "from glacier import Pipeline, Dataset": ("from glacier import Pipeline, Dataset", "plain"),
    "deployed cold start": (_COLD_START, "deployed"),
    "  the same from the settings file": (_COLD_START, "file"),
    "  floor: polars + dependency-injector": (
        "import gc\ngc.disable()\nimport polars, dependency_injector.containers",
        "plain",
    ),
}


def variables() -> dict[str, dict[str, str]]:
    """The process environment of each kind of case."""
    from glacier.infra.task_settings import baked_variables
    from glacier.settings import GlacierSettings

    plain = {k: v for k, v in os.environ.items() if not k.startswith("GLACIER_")}
    plain.pop("PYTHONDONTWRITEBYTECODE", None)
    prod = GlacierSettings.load("prod", settings_dir=ROOT / "containers")
    return {
        "plain": plain,
        "deployed": {**plain, **baked_variables(prod), "GLACIER_DEPLOYED": "1"},
        "file": {**plain, "GLACIER_ENV": "prod", "GLACIER_SETTINGS_DIR": str(ROOT / "containers")},
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
    envs = variables()
    for code, kind in CASES.values():  # warm the bytecode caches
        once(code, envs[kind])
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in CASES}
    for _ in range(args.repeat):
        for name, (code, kind) in CASES.items():
            times[name].append(once(code, envs[kind]))
    # The interpreter itself, so that the ratios compare what the imports add.
    bare_runs = [once("pass", envs["plain"]) for _ in range(args.repeat)]
    bare = [statistics.median(run[i] for run in bare_runs) for i in (0, 1)]
    base = [statistics.median(run[i] for run in times["import polars"]) - bare[i] for i in (0, 1)]
    columns = f"{'added':>7} {'x polars':>8}"
    print(f"{'case':40} {'wall s':>7} {columns}   {'CPU s':>6} {columns}")
    ratios: dict[str, float] = {}
    for name, values in times.items():
        cells = []
        for i in (0, 1):
            median = statistics.median(run[i] for run in values)
            added = median - bare[i]
            cells.append(f"{median:7.3f} {added:7.3f} {added / base[i]:7.2f}x")
            ratios[name] = added / base[i]  # the CPU ratio (i == 1) is kept
        print(f"{name:40} {cells[0]}   {cells[1]}")
    print(f"{'(python -c pass)':40} {bare[0]:7.3f} {'':16}   {bare[1]:6.3f}")
    for name in ("from glacier import Pipeline, Dataset", "deployed cold start"):
        verdict = "met" if ratios[name] <= 1.5 else "not met"
        print(
            f"{name}: {ratios[name]:.2f}x import polars (CPU, median of {args.repeat}); "
            f"target 1.5x: {verdict}"
        )


if __name__ == "__main__":
    main()

"""What dependency injection adds to a task call.

Run it with ``.venv/bin/python benchmarks/di.py [--quick]``. An ``@env.task()`` whose
parameter is a resource is called directly (outside any pipeline), so the environment fills
the parameter from its registry; each way of asking for the resource is timed against calling
the plain function with the same bucket:

- **by name**: ``def read(sales: Bucket)``, the parameter named after the registered resource;
- **by type**: ``def read(source: Bucket)``, the only registered bucket;
- **Provide**: ``def read(source: Bucket = Provide["sales"])``, a dependency-injector marker;
- **passed**: the caller passes the bucket itself; the environment only checks it has nothing
  to add.

It also times the two steps on their own: ``env.resolve_resources(task)`` (what a pipeline run
does once per task) and, for scale, a ``dependency-injector`` ``Singleton`` and ``Factory``
call. The target is at most 2 µs added per task call. This is not a test; it prints a table.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from dependency_injector import providers
from dependency_injector.wiring import Provide

from glacier import Bucket, Environment, Task

TARGET_US = 2.0


def read_by_name(sales: Bucket) -> int:
    return 1


def read_by_type(source: Bucket) -> int:
    return 1


def read_by_marker(source: Bucket = Provide["sales"]) -> int:
    return 1


def per_call(fn: Callable[[], object], calls: int, repeats: int) -> float:
    """Best time of one call of ``fn``, in µs, over ``repeats`` batches of ``calls`` calls."""
    best = float("inf")
    loop = range(calls)
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        for _ in loop:
            fn()
        best = min(best, time.perf_counter() - start)
    return best / calls * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls (a rough figure)")
    args = parser.parse_args(argv)
    calls, repeats = (20_000, 5) if args.quick else (100_000, 9)

    with tempfile.TemporaryDirectory(prefix="glacier-di-") as tmp:
        env = Environment.local(base_path=Path(tmp) / "data", state_dir=Path(tmp) / "state")
        sales = env.register("sales", env.provider.bucket("sales", path="sales.parquet"))

        by_name: Task = env.task(read_by_name)
        by_type: Task = env.task(read_by_type)
        by_marker: Task = env.task(read_by_marker)
        plain = read_by_type  # the function itself, no environment in between

        direct = per_call(lambda: plain(sales), calls, repeats)
        rows = [
            ("plain function, bucket passed", direct),
            ("@env.task, injected by name", per_call(by_name, calls, repeats)),
            ("@env.task, injected by type", per_call(by_type, calls, repeats)),
            ('@env.task, Provide["sales"]', per_call(by_marker, calls, repeats)),
            ("@env.task, bucket passed", per_call(lambda: by_type(sales), calls, repeats)),
        ]
        steps = [
            (
                "env.resolve_resources(task) (by type)",
                per_call(lambda: env.resolve_resources(by_type), calls, repeats),
            ),
            (
                "dependency-injector Singleton()",
                per_call(providers.Singleton(object), calls, repeats),
            ),
            (
                "dependency-injector Factory()",
                per_call(providers.Factory(object), calls, repeats),
            ),
        ]

    print(f"best of {repeats} x {calls:,} calls; µs per call\n")
    print(f"{'call':<40} {'µs':>7} {'added':>7}")
    for label, us in rows:
        added = "-" if us is direct else f"{us - direct:7.2f}"
        print(f"{label:<40} {us:7.2f} {added:>7}")
    print()
    for label, us in steps:
        print(f"{label:<40} {us:7.2f}")
    worst = max(us for _, us in rows) - direct
    verdict = "met" if worst <= TARGET_US else "NOT met"
    print(
        f"\nTarget: <= {TARGET_US:g} µs added per task call; worst added {worst:.2f} µs: {verdict}."
    )


if __name__ == "__main__":
    main()

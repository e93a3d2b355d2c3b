"""Does Glacier on Dask scale like the raw tools? Side by side, in one run.

Run it with ``.venv/bin/python benchmarks/scale.py [--quick]``. It measures:

- **CPU-bound**: eight pure-Python tasks of about a second each (``--quick``: a quarter
  second), on Glacier's Dask executor with a ``LocalCluster`` of 1 and of 2 worker processes
  (started outside the timing), and on ``multiprocessing.Pool`` with 1 and 2 processes as the
  baseline. Goal: Glacier on 2 workers at least 1.7x its 1-worker speed, and within 10% of
  the pool's speed-up.
- **Chain overhead**: 1,000 no-op tasks each consuming the previous one's output
  (``--quick``: 200), through Glacier on Dask against Dask's own ``client.submit`` chain on
  the same cluster. Goal: at most 1.3x.

This is not a test and asserts nothing about time; it prints a table.
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from typing import Any

from distributed import Client, LocalCluster

from glacier import Dataset, Environment, Pipeline
from glacier.executors.dask import DaskExecutor


def burn(seconds: float) -> int:
    """Pure-Python work for about ``seconds`` (it holds the GIL throughout)."""
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += sum(range(200))
    return n


def cpu_pipeline(env: Environment, tasks: int, seconds: float) -> Pipeline:
    pipeline = Pipeline("cpu", env=env)
    for k in range(tasks):
        out = Dataset(f"out{k}")

        def work(seconds: float = seconds) -> Any:
            return burn(seconds)

        work.__name__ = work.__qualname__ = f"work{k}"
        work.__annotations__["return"] = out
        pipeline.task()(work)
    return pipeline


def chain_pipeline(env: Environment, n: int) -> Pipeline:
    pipeline = Pipeline("chain", env=env)
    prev: Dataset | None = None
    for k in range(n):
        out = Dataset(f"c{k}")
        if prev is None:

            def step() -> Any:
                return 0

        else:

            def step(x: Any) -> Any:
                return x + 1

            step.__annotations__["x"] = prev
        step.__name__ = step.__qualname__ = f"step{k}"
        step.__annotations__["return"] = out
        pipeline.task()(step)
        prev = out
    return pipeline


def inc(x: int) -> int:
    return x + 1


def timed(fn: Any, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter tasks, shorter chain")
    args = parser.parse_args()
    seconds = 0.25 if args.quick else 1.0
    tasks = 8
    chain = 200 if args.quick else 1000
    env = Environment.local(tempfile.mkdtemp())
    rows: list[tuple[str, float]] = []
    cpu = cpu_pipeline(env, tasks, seconds)
    for workers in (1, 2):
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster, set_as_default=False) as client,
        ):
            executor = DaskExecutor(client)
            cpu.run(executor=executor)  # warm: workers import Glacier and polars once
            elapsed = timed(lambda: cpu.run(executor=executor))  # noqa: B023 - called here
            rows.append((f"glacier dask, {workers} worker(s)", elapsed))
    for procs in (1, 2):
        with multiprocessing.get_context("spawn").Pool(procs) as pool:
            pool.map(burn, [0.01] * procs)  # warm
            rows.append(
                (f"multiprocessing.Pool({procs})", timed(lambda: pool.map(burn, [seconds] * tasks)))
            )
    print(f"{tasks} CPU-bound tasks of ~{seconds:g}s")
    for name, t in rows:
        print(f"  {name:<32} {t:7.2f}s")
    glacier_up = rows[0][1] / rows[1][1]
    pool_up = rows[2][1] / rows[3][1]
    met = glacier_up >= 1.7 and glacier_up >= 0.9 * pool_up
    print(
        f"  speed-up on 2: glacier {glacier_up:.2f}x, pool {pool_up:.2f}x "
        f"(goal: >= 1.7x and within 10% of the pool: {met})"
    )

    pipeline = chain_pipeline(env, chain)
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        executor = DaskExecutor(client)

        def raw() -> None:
            future = client.submit(lambda: 0, pure=False)
            for _ in range(chain - 1):
                future = client.submit(inc, future, pure=False)
            future.result()

        pipeline.run(executor=executor)
        raw()
        ours = timed(lambda: pipeline.run(executor=executor), repeat=3)
        theirs = timed(raw, repeat=3)
    print(f"{chain}-task chain, per task")
    print(f"  glacier on dask                  {ours / chain * 1e3:7.3f} ms")
    print(f"  dask client.submit               {theirs / chain * 1e3:7.3f} ms")
    print(f"  ratio {ours / theirs:.2f}x (goal <= 1.3x)")


if __name__ == "__main__":
    main()

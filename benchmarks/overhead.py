"""Per-task orchestration overhead of Glacier, against a plain loop and Apache Hamilton.

Run it with ``.venv/bin/python benchmarks/overhead.py [--quick]``. It measures, in one process:

- **chain**: 1,000 no-op tasks, each consuming the previous one's output;
- **fan-out**: one root task and 1,000 independent consumers of its output (1,001 tasks; the
  consumers may run in parallel);
- **build**: decorating a 10,000-task chain and validating its DAG.

Glacier's rows capture each task's logs and output (the default); the "no capture" row runs
without, so the difference is what capture costs per task.

Every contender runs the *same* functions, generated as module source so that Glacier and
Hamilton both read them the way they read user code (Glacier with postponed annotations, as
``from __future__ import annotations`` leaves them). "Execute only" times a run of an
already-built graph (Glacier: ``pipeline.run()``, which also prepares the run and writes its
run record; Hamilton: ``driver.execute()``); "build+execute" adds defining the functions,
decorating/building and validating the graph. Each figure is the best of several repeats.

This is not a test and asserts nothing about time; it prints a table.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import itertools
import sys
import tempfile
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Hamilton executes a chain recursively (one Python frame per node, or more); a 1,000-task
# chain passes the default limit of 1,000 frames.
sys.setrecursionlimit(20_000)

from hamilton import driver  # noqa: E402

from glacier import Environment, LocalExecutor, Pipeline  # noqa: E402

WIDTH = 1_000
BIG = 10_000


# -- generated sources ---------------------------------------------------------------------


def glacier_chain_source(n: int) -> str:
    """``t0() -> d0``, then ``t{i}(x: d{i-1}) -> d{i}``: a chain of ``n`` tasks."""
    lines = [
        "from __future__ import annotations",
        "from glacier import Dataset, Pipeline",
        "pipeline = Pipeline('chain', env=ENV)",
        *(f"d{i} = Dataset('d{i}')" for i in range(n)),
        "@pipeline.task()",
        "def t0() -> d0:",
        "    return 0",
    ]
    for i in range(1, n):
        lines += ["@pipeline.task()", f"def t{i}(x: d{i - 1}) -> d{i}:", "    return x"]
    return "\n".join(lines) + "\n"


def glacier_fanout_source(n: int) -> str:
    """``root() -> r`` and ``n`` consumers ``c{i}(x: r) -> d{i}``."""
    lines = [
        "from __future__ import annotations",
        "from glacier import Dataset, Pipeline",
        "pipeline = Pipeline('fanout', env=ENV)",
        "r = Dataset('r')",
        *(f"d{i} = Dataset('d{i}')" for i in range(n)),
        "@pipeline.task()",
        "def root() -> r:",
        "    return 0",
    ]
    for i in range(n):
        lines += ["@pipeline.task()", f"def c{i}(x: r) -> d{i}:", "    return x"]
    return "\n".join(lines) + "\n"


def hamilton_chain_source(n: int) -> str:
    """Hamilton's spelling of the same chain: ``f{i}(f{i-1}: int) -> int``."""
    lines = ["def f0() -> int:", "    return 0"]
    for i in range(1, n):
        lines += [f"def f{i}(f{i - 1}: int) -> int:", f"    return f{i - 1}"]
    return "\n".join(lines) + "\n"


def hamilton_fanout_source(n: int) -> str:
    """Hamilton's spelling of the fan-out: ``root() -> int`` and ``c{i}(root: int) -> int``."""
    lines = ["def root() -> int:", "    return 0"]
    for i in range(n):
        lines += [f"def c{i}(root: int) -> int:", "    return root"]
    return "\n".join(lines) + "\n"


# -- building ------------------------------------------------------------------------------


def build_glacier(code: types.CodeType, env: Environment) -> Pipeline:
    """Define and decorate the generated tasks, then validate the DAG."""
    namespace: dict[str, Any] = {"ENV": env, "__name__": "glacier_bench"}
    exec(code, namespace)
    pipeline: Pipeline = namespace["pipeline"]
    return pipeline.validate()


_module_serial = 0


def hamilton_module(code: types.CodeType) -> types.ModuleType:
    """A fresh module holding the generated functions (Hamilton reads a module's functions)."""
    global _module_serial
    _module_serial += 1
    name = f"hamilton_bench_{_module_serial}"
    module = types.ModuleType(name)
    # Hamilton keeps only functions whose module is the one given; that lookup goes through
    # sys.modules.
    sys.modules[name] = module
    exec(code, module.__dict__)
    return module


def build_hamilton(code: types.CodeType) -> driver.Driver:
    """Define the functions and build Hamilton's driver (its graph) from them."""
    return driver.Builder().with_modules(hamilton_module(code)).build()


# -- timing --------------------------------------------------------------------------------


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    """The fastest of ``repeats`` calls, in seconds (garbage collected before each)."""
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


@dataclass
class Row:
    """One measured contender on one shape."""

    shape: str
    contender: str
    tasks: int
    execute: float
    build_execute: float | None

    def per_task(self, seconds: float | None) -> str:
        return "-" if seconds is None else f"{seconds / self.tasks * 1e6:9.2f}"


def measure_shape(
    shape: str,
    glacier_code: types.CodeType,
    hamilton_code: types.CodeType,
    finals: list[str],
    loop: Callable[[Pipeline], Callable[[], object]],
    env: Environment,
    repeats: int,
) -> list[Row]:
    """Loop, Hamilton and Glacier (default and single-thread executors) on one shape."""
    builds = max(2, repeats // 2)  # a build+execute repeat is slow; fewer of them
    pipeline = build_glacier(glacier_code, env)
    tasks = len(pipeline.dag)
    rows = [Row(shape, "python loop", tasks, best_of(repeats, loop(pipeline)), None)]

    dr = build_hamilton(hamilton_code)
    dr.execute(finals)  # warm-up: Hamilton's first execute imports and caches a little
    rows.append(
        Row(
            shape,
            "hamilton",
            tasks,
            best_of(repeats, lambda: dr.execute(finals)),
            best_of(builds, lambda: build_hamilton(hamilton_code).execute(finals)),
        )
    )

    pipeline.run()  # warm-up, like Hamilton's
    rows.append(
        Row(
            shape,
            "glacier",
            tasks,
            best_of(repeats, pipeline.run),
            best_of(builds, lambda: build_glacier(glacier_code, env).run()),
        )
    )
    one = LocalExecutor(max_workers=1)
    rows.append(
        Row(
            shape,
            "glacier (1 thread)",
            tasks,
            best_of(repeats, lambda: pipeline.run(executor=one)),
            best_of(builds, lambda: build_glacier(glacier_code, env).run(executor=one)),
        )
    )
    # Log capture (each task's records and printed lines kept in its record) is on in every
    # run above; this row runs without it, to show what it costs per task.
    quiet = LocalExecutor(max_workers=1, capture_logs=False)
    rows.append(
        Row(
            shape,
            "glacier (1 thread, no capture)",
            tasks,
            best_of(repeats, lambda: pipeline.run(executor=quiet)),
            None,
        )
    )
    # The run record is part of every run above; timed alone, it shows what it costs. Each
    # repeat records under a new run id, as runs do (replacing a file costs more than
    # creating one).
    result = pipeline.run(executor=one)
    store = env.container.run_store()
    serial = itertools.count()
    rows.append(
        Row(
            shape,
            "  of which run record",
            tasks,
            best_of(
                repeats,
                lambda: store.record(dataclasses.replace(result, run_id=f"rec-{next(serial)}")),
            ),
            None,
        )
    )
    return rows


def chain_loop(pipeline: Pipeline) -> Callable[[], object]:
    fns = [t.fn for t in pipeline.dag.tasks]
    first, rest = fns[0], fns[1:]

    def run() -> object:
        x = first()
        for f in rest:
            x = f(x)
        return x

    return run


def fanout_loop(pipeline: Pipeline) -> Callable[[], object]:
    fns = [t.fn for t in pipeline.dag.tasks]
    root, consumers = fns[0], fns[1:]

    def run() -> object:
        r = root()
        return [f(r) for f in consumers]

    return run


def report(rows: list[Row]) -> None:
    print(
        f"{'shape':<9} {'contender':<30} {'tasks':>6} {'exec µs/task':>13} "
        f"{'build+exec µs/task':>19} {'vs hamilton':>12} {'vs loop':>9}"
    )
    by_shape: dict[str, dict[str, Row]] = {}
    for r in rows:
        by_shape.setdefault(r.shape, {})[r.contender] = r
    for r in rows:
        ref = by_shape[r.shape]
        ham = ref["hamilton"].execute
        loop = ref["python loop"].execute
        compared = r.contender in (
            "hamilton",
            "glacier",
            "glacier (1 thread)",
            "glacier (1 thread, no capture)",
        )
        vs_ham = f"{r.execute / ham:11.2f}x" if compared else "-"
        vs_loop = f"{r.execute / loop:8.0f}x" if compared else "-"
        print(
            f"{r.shape:<9} {r.contender:<30} {r.tasks:>6} {r.per_task(r.execute):>13} "
            f"{r.per_task(r.build_execute):>19} {vs_ham:>12} {vs_loop:>9}"
        )


def verdicts(rows: list[Row]) -> None:
    """One line per shape and executor: are the per-task targets met?"""
    ham = {r.shape: r.execute / r.tasks for r in rows if r.contender == "hamilton"}
    for r in rows:
        if not r.contender.startswith("glacier"):
            continue
        us = r.execute / r.tasks * 1e6
        ratio = r.execute / r.tasks / ham[r.shape]
        ok = "met" if ratio <= 0.5 and us <= 20 else "NOT met"
        print(f"  {r.shape}, {r.contender}: {us:.2f} µs/task, {ratio:.2f}x hamilton: {ok}")


def measure_big_build(env: Environment, repeats: int, with_hamilton: bool) -> None:
    """Decorate a 10,000-task chain and validate it; Hamilton's driver build for scale."""
    source = glacier_chain_source(BIG)
    code = compile(source, "<glacier chain 10k>", "exec")

    def decorate() -> Pipeline:
        namespace: dict[str, Any] = {"ENV": env, "__name__": "glacier_bench"}
        exec(code, namespace)
        pipeline: Pipeline = namespace["pipeline"]
        return pipeline

    decorate_only = best_of(repeats, decorate)
    total = best_of(repeats, lambda: decorate().validate())
    print(
        f"\n{BIG:,}-task chain: decorate {decorate_only:.3f} s, "
        f"decorate + validate {total:.3f} s (target <= 1 s)"
    )
    if with_hamilton:
        hcode = compile(hamilton_chain_source(BIG), "<hamilton chain 10k>", "exec")
        ham = best_of(max(1, repeats // 2), lambda: build_hamilton(hcode))
        print(f"{BIG:,}-node Hamilton driver build (for scale): {ham:.3f} s")


def measure_growth(env: Environment, repeats: int, sizes: tuple[int, ...]) -> None:
    """Declare, validate and run once a chain of each size, with the collector on.

    Each step should grow linearly with the tasks: the largest size's time over the smallest's
    should stay near the ratio of their sizes (target: 100,000 tasks <= 12x of 10,000). The
    source is compiled outside the timing, one code object per task (no per-task ``exec``).
    Wall and CPU seconds are both printed: on a loaded machine the CPU figure is the one to
    read.
    """
    codes = {n: compile(glacier_chain_source(n), f"<glacier chain {n}>", "exec") for n in sizes}
    best: dict[int, list[tuple[float, float]]] = {}
    for n in sizes:
        steps: list[list[tuple[float, float]]] = [[], [], []]
        for _ in range(repeats):
            namespace: dict[str, Any] = {"ENV": env, "__name__": "glacier_bench"}
            gc.collect()
            marks = [(time.perf_counter(), time.process_time())]
            exec(codes[n], namespace)
            marks.append((time.perf_counter(), time.process_time()))
            pipeline: Pipeline = namespace["pipeline"].validate()
            marks.append((time.perf_counter(), time.process_time()))
            pipeline.run()
            marks.append((time.perf_counter(), time.process_time()))
            for k in range(3):
                steps[k].append((marks[k + 1][0] - marks[k][0], marks[k + 1][1] - marks[k][1]))
            del namespace, pipeline
        best[n] = [min(s) for s in steps]
    print(f"\nGrowth, best of {repeats} (collector on): seconds wall / cpu")
    print(f"{'tasks':>9}  {'declare':>15}  {'validate':>15}  {'first run':>15}")
    for n in sizes:
        cells = "  ".join(f"{w:7.3f} / {c:5.3f}" for w, c in best[n])
        print(f"{n:>9,}  {cells}")
    small, large = sizes[0], sizes[-1]
    ratios = [
        (lw / sw, lc / sc) for (sw, sc), (lw, lc) in zip(best[small], best[large], strict=True)
    ]
    cells = "  ".join(f"{w:6.1f}x / {c:4.1f}x" for w, c in ratios)
    print(f"{'ratio':>9}  {cells}   ({large // small}x the tasks; target <= 12x)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a rough figure)")
    parser.add_argument(
        "--growth-only", action="store_true", help="only the 10,000 vs 100,000-task growth"
    )
    args = parser.parse_args(argv)
    # This machine's speed drifts between runs of the same code by up to 1.5x; the best of
    # many repeats is the figure that is stable from one invocation to the next.
    repeats = 3 if args.quick else 15

    with tempfile.TemporaryDirectory(prefix="glacier-bench-") as tmp:
        env = Environment.local(base_path=Path(tmp) / "data", state_dir=Path(tmp) / "state")
        if args.growth_only:
            measure_growth(env, 1 if args.quick else 3, (BIG, 10 * BIG))
            return
        rows = measure_shape(
            "chain",
            compile(glacier_chain_source(WIDTH), "<glacier chain>", "exec"),
            compile(hamilton_chain_source(WIDTH), "<hamilton chain>", "exec"),
            [f"f{WIDTH - 1}"],
            chain_loop,
            env,
            repeats,
        )
        rows += measure_shape(
            "fan-out",
            compile(glacier_fanout_source(WIDTH), "<glacier fan-out>", "exec"),
            compile(hamilton_fanout_source(WIDTH), "<hamilton fan-out>", "exec"),
            [f"c{i}" for i in range(WIDTH)],
            fanout_loop,
            env,
            repeats,
        )
        print(
            f"Python {sys.version.split()[0]}, best of {repeats}; µs per task = run time / "
            "tasks (fan-out: 1 root + 1,000 consumers)\n"
        )
        report(rows)
        print("\nTargets: glacier <= 0.5x hamilton per task, <= 20 µs per task.")
        verdicts(rows)
        measure_big_build(env, 3 if args.quick else 5, with_hamilton=not args.quick)
        measure_growth(env, 1 if args.quick else 3, (BIG, 10 * BIG))


if __name__ == "__main__":
    main()

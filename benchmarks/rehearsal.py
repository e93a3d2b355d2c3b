"""The rehearsal of the medallion example's prod deployment, and the cold import of its Lambda
handler against importing polars alone, in one run.

    .venv/bin/python benchmarks/rehearsal.py [--repeat 5] [--no-rehearsal] [--build-layer]

1. Cold import: the Lambda package of a medallion function is unpacked to a temporary
   directory, as Lambda has it: read-only (``PYTHONDONTWRITEBYTECODE=1``: nothing compiled is
   kept between rounds), the package and the dependencies layer's ``python/`` on the path and
   no site-packages (``python -S``). Each round starts a fresh interpreter; the best round of
   each statement counts (wall time, and the CPU time of the process):
   - ``import polars`` alone (from the same path);
   - ``import glacier_handler``: Lambda's init phase (target: <= 1.5x polars);
   - and loading the task's pipeline: what the first invocation does before the task runs;
   - the floor: polars and dependency-injector (which imports pydantic-settings) alone;
   - the same two without the package's bytecode (as packaged before it was shipped).
   The layer is the one ``glacier`` builds for Lambda (``--build-layer`` builds it: it
   downloads about 60 MB); without it, this interpreter's site-packages stands in (said so).
2. Rehearsal: ``glacier.infra.rehearse`` of medallion's prod stack (4 tasks: 3 Lambda, 1 ECS),
   wall time in total and per task (each task is a subprocess of its own).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cold_import(
    code: Path, site: Path | None, variables: dict[str, str], statement: str, repeat: int
) -> tuple[float, float]:
    """Best wall and CPU time (the process's, all threads) of ``statement`` in a fresh
    interpreter started as Lambda starts one, in s. CPU time moves less than wall time on a
    machine shared with other work."""
    paths = [str(code), str(site)] if site else [str(code)]
    env = {
        **variables,
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join(paths),
        "HOME": str(code),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_REGION": "us-east-1",
    }
    timed = (
        "import time\n_start, _cpu = time.perf_counter(), time.process_time()\n"
        f"{statement}\n"
        "print(time.perf_counter() - _start, time.process_time() - _cpu)\n"
    )
    isolated = ["-S"] if site else []  # no site-packages: only the package and the layer
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, *isolated, "-c", timed],
            cwd=code,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        wall, cpu = map(float, done.stdout.strip().splitlines()[-1].split())
        best, best_cpu = min(best, wall), min(best_cpu, cpu)
    return best, best_cpu


def lambda_layer(build: bool) -> Path | None:
    """The ``python/`` directory of the dependencies layer Glacier builds for the functions."""
    from glacier.infra.layer import LayerSpec, build_layer, built

    spec = LayerSpec.for_function("python3.11", "x86_64")
    layer = build_layer(spec) if build else built(spec)
    return None if layer is None else layer.path / "python"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-rehearsal", action="store_true")
    parser.add_argument("--build-layer", action="store_true")
    args = parser.parse_args()
    os.environ["GLACIER_ENV"] = "prod"
    os.environ["GLACIER_SETTINGS_DIR"] = str(ROOT / "containers")
    import runpy

    from glacier.infra import plan, rehearse
    from glacier.infra.model import build_model
    from glacier.infra.rehearse.artifacts import artifacts

    pipeline = runpy.run_path(str(ROOT / "examples" / "medallion.py"))["pipeline"]
    found = artifacts(plan(pipeline, "prod"), build_model(pipeline))
    site = lambda_layer(args.build_layer)
    print(
        f"dependencies: {'the Lambda layer ' + str(site.parent) if site else sys.prefix}"
        f"{'' if site else ' (site-packages standing in for the layer: --build-layer)'}"
    )
    handler = "import glacier_handler"
    # The first invocation loads the pipeline as run_task does (load_pipeline).
    first = f"{handler}\nfrom glacier.infra.runtime import load_pipeline\n"
    first += "load_pipeline(glacier_handler.TARGET)"
    rows: list[tuple[str, tuple[float, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        # A Lambda function's package (the ECS tasks' images run ``python -m``, no handler).
        art = next(a for a in found.values() if "glacier_handler.py" in a.files)
        code = art.unpack(Path(tmp))
        variables = dict(art.variables)
        polars = cold_import(code, site, variables, "import polars", args.repeat)
        rows.append(
            (
                "import glacier_handler (init)",
                cold_import(code, site, variables, handler, args.repeat),
            )
        )
        rows.append(
            ("init + load the pipeline", cold_import(code, site, variables, first, args.repeat))
        )
        # What any path keeping dependency-injector imports at least (it imports
        # pydantic-settings whenever installed), the collector paused as the handler does.
        floor = "import gc\ngc.disable()\nimport polars, dependency_injector.containers"
        rows.append(
            ("floor: polars + DI (no GC)", cold_import(code, site, variables, floor, args.repeat))
        )
        for cached in code.rglob("__pycache__"):
            shutil.rmtree(cached)
        rows.append(
            ("init, no bytecode shipped", cold_import(code, site, variables, handler, args.repeat))
        )
        rows.append(
            ("init + load, no bytecode", cold_import(code, site, variables, first, args.repeat))
        )
    print(f"{'import polars':<32}{polars[0] * 1000:8.1f} ms wall {polars[1] * 1000:8.1f} ms CPU")
    for label, (wall, cpu) in rows:
        print(
            f"{label:<32}{wall * 1000:8.1f} ms wall ({wall / polars[0]:.2f}x polars) "
            f"{cpu * 1000:8.1f} ms CPU ({cpu / polars[1]:.2f}x polars)"
        )
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

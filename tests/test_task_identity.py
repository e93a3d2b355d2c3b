"""What "the same task" is: the cache key and resume share one identity.

A task's identity is its code (its source and the project code and module-level values it
reads), its params and its inputs' versions. The cache reuses outputs only for the same
identity; ``--resume`` reuses a succeeded task's stored outputs only for the same identity.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from glacier import Dataset, Environment, Pipeline

# -- a user's project: a large module of classes, and a pipeline module using it ------------


def _pipeline_module(classes: int = 57, tasks: int = 10) -> str:
    """A pipeline module of about 1,800 lines: classes, module-level values, and cached tasks
    using them. ``inspect.getsource`` of a class parses its whole module, and from several
    threads at once CPython 3.11's ``ast`` broke at this size (gh-106905)."""
    parts = [
        "from glacier import Dataset, Pipeline\n\n"
        'PAYMENT_METHODS = ["credit_card", "coupon"]\nCALLS = []\n'
    ]
    for n in range(classes):
        methods = "".join(
            f"    def method_{m}(self, x):\n"
            f"        total = x\n"
            f"        for i in range({m + 1}):\n"
            f"            total = total + i * {n}\n"
            f"        return total\n\n"
            for m in range(5)
        )
        parts.append(f"class Model{n}:\n    factor = {n}\n\n{methods}")
    for n in range(tasks):
        parts.append(
            f"def task{n}():\n"
            f"    CALLS.append(1)\n"
            f"    return Model{n * 5}().method_0(1) + len(PAYMENT_METHODS)\n"
        )
    parts.append(
        "def build(env, tasks=10):\n"
        '    pipeline = Pipeline("identity", env=env)\n'
        "    for n in range(tasks):\n"
        "        fn = globals()[f'task{n}']\n"
        "        fn.__annotations__ = {'return': Dataset(f'out{n}')}\n"
        "        pipeline.task(cache=True)(fn)\n"
        "    return pipeline\n"
    )
    return "\n".join(parts)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "project"
    root.mkdir()
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))


def _import(root: Path, tag: str) -> ModuleType:
    (root / f"pipe_{tag}.py").write_text(_pipeline_module())
    sys.modules.pop(f"pipe_{tag}", None)
    return importlib.import_module(f"pipe_{tag}")


def test_the_large_module_is_the_size_that_broke(project: Path) -> None:
    assert 1_700 <= _pipeline_module().count("\n") <= 2_000


# -- 1. no failure from bookkeeping ---------------------------------------------------------


def test_independent_cached_tasks_using_classes_of_a_large_module_never_fail(
    project: Path, glacier_env: Environment
) -> None:
    """Six independent cached tasks run in parallel threads; computing their cache keys read
    class sources on each thread, and CPython 3.11 raised ``SystemError: AST constructor
    recursion depth mismatch`` in about one run of three. Each round builds the pipeline
    afresh (new task objects: nothing remembered from the last round)."""
    module = _import(project, "six")
    failures = []
    for _ in range(30):
        glacier_env.cache.clear()
        result = module.build(glacier_env, tasks=6).run(raise_on_failure=False)
        failures += [f"{n}: {r.error!r}" for n, r in result.tasks.items() if not r.ok]
    assert failures == []


def test_two_hundred_runs_of_a_ten_task_cached_pipeline_never_fail(
    project: Path, glacier_env: Environment
) -> None:
    module = _import(project, "ten")
    failures = []
    cached = 0
    for _ in range(200):
        result = module.build(glacier_env).run(raise_on_failure=False)
        failures += [f"{n}: {r.error!r}" for n, r in result.tasks.items() if not r.ok]
        cached += sum(r.cached for r in result.tasks.values())
    assert failures == []
    assert cached == 199 * 10  # the first run fills the cache, the others read it


# -- 2. no stale result ---------------------------------------------------------------------


def test_editing_a_module_level_list_a_task_reads_misses_the_cache(
    project: Path, glacier_env: Environment
) -> None:
    module = _import(project, "list")
    first = module.build(glacier_env, tasks=1).run()
    assert first["out0"] == 1 + 2 and module.CALLS == [1]

    assert module.build(glacier_env, tasks=1).run()["out0"] == 3
    assert module.CALLS == [1]  # unchanged: from the cache

    module.PAYMENT_METHODS.append("gift_card")  # edited in place
    assert module.build(glacier_env, tasks=1).run()["out0"] == 4
    assert module.CALLS == [1, 1]

    module.PAYMENT_METHODS = ["credit_card"]  # rebound
    assert module.build(glacier_env, tasks=1).run()["out0"] == 2
    assert module.CALLS == [1, 1, 1]

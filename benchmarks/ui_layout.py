"""How long `glacier ui` takes to lay out a large pipeline's DAG in headless Chromium.

Run it with ``.venv/bin/python benchmarks/ui_layout.py [--tasks 2000] [--full]``. It builds a
pipeline of ``--tasks`` tasks in 20 namespaces (``ns07.t042``; each namespace a chain, each
chain's head reading the previous namespace), serves it with ``glacier ui``'s server, opens
the page in Debian's Chromium (``tests/browser.py``) and reports, each the best of
``--repeat`` tries:

- **first view**: from navigation to the drawn DAG (the page opens collapsed by namespace
  above 300 tasks), and dagre's layout alone within it;
- **open a namespace**: expanding one namespace (its 100 tasks beside 19 collapsed ones);
- **search**: typing a task's name and selecting the result (its namespace opens);
- with ``--full``, the whole DAG: every task drawn (grouping "none", datasets hidden), then
  every task and dataset. dagre's cost grows faster than the node count, which is why the
  page opens a large pipeline collapsed.

This is not a test and asserts nothing about time; it prints a table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from browser import Chromium, Page
from glacier.runstore import RunStore
from glacier.testing import local_environment
from glacier.ui import Api, UiServer
from ui_pipelines import large


def layout_ms(page: Page) -> float:
    return float(page.eval("Number(document.querySelector('#dag').dataset.layoutMs)"))


def first_view(page: Page, url: str) -> tuple[float, float]:
    page.goto("about:blank")  # a fresh page: not only a change of its #route
    t0 = time.perf_counter()
    page.goto(url + "#/graph")
    page.wait_for("document.body.dataset.ready === 'graph'")
    return (time.perf_counter() - t0) * 1000, layout_ms(page)


def open_namespace(page: Page) -> tuple[float, float]:
    t0 = time.perf_counter()
    page.click('.node[data-kind="group"][data-name="ns10"]')
    page.wait_for("document.querySelector('.node[data-name=\"ns10.t050\"]')")
    return (time.perf_counter() - t0) * 1000, layout_ms(page)


def search(page: Page) -> tuple[float, float]:
    t0 = time.perf_counter()
    page.eval(
        "(() => { const s = document.querySelector('#search'); s.value = 'ns15.t077';"
        " s.dispatchEvent(new Event('input')); })()"
    )
    page.wait_for("document.querySelector('#search-results li')")
    page.click("#search-results li")
    page.wait_for("document.querySelector('#task-panel[data-task=\"ns15.t077\"]')")
    return (time.perf_counter() - t0) * 1000, layout_ms(page)


def full(page: Page) -> tuple[float, float]:
    t0 = time.perf_counter()
    page.eval(
        "(() => { const s = document.querySelector('#group-by'); s.value = 'none';"
        " s.dispatchEvent(new Event('change')); })()"
    )
    page.wait_for("document.querySelectorAll('.node[data-kind=task]').length > 1000")
    return (time.perf_counter() - t0) * 1000, layout_ms(page)


def full_with_datasets(page: Page) -> tuple[float, float]:
    t0 = time.perf_counter()
    page.click("#show-datasets")
    page.wait_for("document.querySelectorAll('.node[data-kind=dataset]').length > 1000")
    return (time.perf_counter() - t0) * 1000, layout_ms(page)


def best(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return min(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=2000, help="tasks (20 namespaces)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="also lay out every task at once")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="glacier-ui-bench-"))
    pipeline = large(local_environment(root), per_namespace=max(1, args.tasks // 20))
    server = UiServer(Api(pipeline, RunStore(root / "runs")), "127.0.0.1", 0)
    server.start()
    rows: list[tuple[str, Any, Any]] = []
    try:
        with Chromium(root / "profile") as browser:
            page = browser.open("about:blank")
            firsts, opens, searches = [], [], []
            for _ in range(args.repeat):
                firsts.append(first_view(page, server.url))
                opens.append(open_namespace(page))
                searches.append(search(page))
            rows.append(("first view (collapsed by namespace)", *best(firsts)))
            rows.append(("open a namespace (100 of its tasks)", *best(opens)))
            rows.append(("search a task and select it", *best(searches)))
            if args.full:
                first_view(page, server.url)
                n = len(pipeline.dag.tasks)
                rows.append((f"every task drawn ({n})", *full(page)))
                rows.append((f"every task and dataset drawn ({2 * n})", *full_with_datasets(page)))
    finally:
        server.stop()
    print(f"{len(pipeline.dag.tasks)} tasks, headless Chromium, best of {args.repeat}")
    print(f"{'step':<40} {'total ms':>10} {'layout ms':>10}")
    for name, total, lay in rows:
        print(f"{name:<40} {total:>10.0f} {lay:>10.0f}")


if __name__ == "__main__":
    main()

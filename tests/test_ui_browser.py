"""The page of `glacier ui` and its reports, in headless Chromium (tests/browser.py).

Each test serves a real pipeline's records (or opens a report from disk) and reads the page
as a person would see it: the nodes drawn, the bars of the timeline, the text of the logs.
Screenshots are kept in ``.cache/ui-screenshots/`` (git-ignored); ``docs/images/ui-*.png``
are copies of them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import Chromium, Page
from glacier import Environment, RunResult
from glacier.live import LiveRecord
from glacier.runstore import RunStore
from glacier.testing import local_environment
from glacier.ui import Api, UiServer, run_report, write_report
from ui_pipelines import MARKUP_LINE, SCRIPT_NAME, gated, large, shop

SCREENSHOTS = Path(__file__).resolve().parents[1] / ".cache" / "ui-screenshots"


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    with Chromium(tmp_path_factory.mktemp("chromium-profile")) as browser:
        yield browser


@pytest.fixture
def env(tmp_path: Path) -> Environment:
    return local_environment(tmp_path)


@pytest.fixture
def shop_run(env: Environment) -> tuple[Any, RunStore, RunResult]:
    pipeline = shop(env)
    return pipeline, env.container.run_store(), pipeline.run(raise_on_failure=False)


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[UiServer] = []

    def start(pipeline: Any, store: RunStore) -> UiServer:
        server = UiServer(Api(pipeline, store), "127.0.0.1", 0)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def js(value: str) -> str:
    return json.dumps(value)


def ready(page: Page, what: str) -> None:
    page.wait_for(f"document.body.dataset.ready === {js(what)}")


def assert_no_script_ran(page: Page) -> None:
    assert page.eval("window.pwned === undefined")
    assert page.eval("document.querySelectorAll('img').length") == 0
    assert page.eval("document.scripts.length") == 3
    assert page.errors() == []


def timeline_of(page: Page) -> list[dict[str, Any]]:
    """The timeline as drawn: each row's task, status and bars (attempt, outcome)."""
    return list(
        page.eval(
            "[...document.querySelectorAll('#timeline-svg .row')].map(r => ({"
            " task: r.dataset.task, status: r.dataset.status,"
            " bars: [...r.querySelectorAll('rect.bar')].map(b =>"
            "   [Number(b.dataset.attempt), b.getAttribute('class')])}))"
        )
    )


def test_the_dag_shows_every_task_with_its_last_status(
    chromium: Chromium, shop_run: tuple[Any, RunStore, RunResult], serve: Any
) -> None:
    pipeline, store, result = shop_run
    server = serve(pipeline, store)

    page = chromium.open(server.url + "#/graph")
    ready(page, "graph")

    drawn = page.eval(
        "Object.fromEntries([...document.querySelectorAll('.node[data-kind=task]')]"
        ".map(n => [n.dataset.name, n.dataset.status]))"
    )
    assert drawn == {name: run.status for name, run in result.tasks.items()}
    assert drawn[SCRIPT_NAME] == "succeeded" and drawn["report"] == "failed"
    datasets = page.eval(
        "[...document.querySelectorAll('.node[data-kind=dataset]')].map(n => n.dataset.name)"
    )
    assert sorted(datasets) == ["clean", "published", "raw", "summary"]
    # The markup-named task is drawn as its name, in text.
    label = page.eval(
        f"document.querySelector('.node[data-name=\"' + CSS.escape({js(SCRIPT_NAME)}) + '\"] "
        "text').textContent"
    )
    assert label == SCRIPT_NAME
    assert_no_script_ran(page)
    page.screenshot(SCREENSHOTS / "ui-dag.png")


def test_selecting_a_task_shows_its_panel_and_its_logs(
    chromium: Chromium, shop_run: tuple[Any, RunStore, RunResult], serve: Any
) -> None:
    pipeline, store, result = shop_run
    server = serve(pipeline, store)
    page = chromium.open(server.url + "#/graph")
    ready(page, "graph")

    page.click('.node[data-name="extract"]')
    page.wait_for("document.querySelector('#task-panel[data-task=extract]')")
    panel = page.eval("document.querySelector('#task-panel').innerText")
    assert "ui_pipelines.py" in panel and "layer" in panel and "bronze" in panel
    assert MARKUP_LINE in page.eval("document.querySelector('#task-panel pre.logs').textContent")

    page.goto(server.url + f"#/run/{result.run_id}")
    ready(page, "run")
    page.click('#timeline-svg .row[data-task="extract"]')
    logs = page.wait_for(
        "document.querySelector('.task-run[data-task=extract] pre.logs')?.textContent"
    )
    assert MARKUP_LINE in logs
    page.click(f"#timeline-svg .row[data-task={js(SCRIPT_NAME)}]")
    logs = page.wait_for(
        f"document.querySelector('.task-run[data-task=' + CSS.escape({js(SCRIPT_NAME)}) + '] "
        "pre.logs')?.textContent"
    )
    assert "attempt 1 of 3 failed" in logs and "attempt 2 of 3 failed" in logs
    assert_no_script_ran(page)
    page.screenshot(SCREENSHOTS / "ui-run.png")


def test_the_timeline_has_one_bar_per_attempt(
    chromium: Chromium, shop_run: tuple[Any, RunStore, RunResult], serve: Any
) -> None:
    pipeline, store, result = shop_run
    server = serve(pipeline, store)
    page = chromium.open(server.url + f"#/run/{result.run_id}")
    ready(page, "run")

    rows = {row["task"]: row for row in timeline_of(page)}

    assert list(rows) == list(result.tasks)
    for name, run in result.tasks.items():
        assert [a for a, _ in rows[name]["bars"]] == list(range(1, run.attempts + 1)), name
    flaky = [cls for _, cls in rows[SCRIPT_NAME]["bars"]]
    assert flaky == ["bar st-failed", "bar st-failed", "bar st-succeeded"]
    assert rows["publish"]["status"] == "skipped" and rows["publish"]["bars"] == []
    # The failed task is selected first: its error and traceback are shown.
    traceback = page.eval(
        "document.querySelector('.task-run[data-task=report] pre.traceback').textContent"
    )
    assert 'raise ValueError("no summary today")' in traceback


def test_a_report_opened_from_disk_shows_the_same_run(
    chromium: Chromium,
    shop_run: tuple[Any, RunStore, RunResult],
    serve: Any,
    tmp_path: Path,
) -> None:
    pipeline, store, result = shop_run
    server = serve(pipeline, store)
    report = write_report(run_report(Api(None, store), result.run_id), tmp_path / "run.html")

    served = chromium.open(server.url + f"#/run/{result.run_id}")
    ready(served, "run")
    opened = chromium.open(report.as_uri())
    ready(opened, "run")

    assert timeline_of(opened) == timeline_of(served)
    same = (
        "[document.querySelector('.toolbar').innerText,"
        " document.querySelector('#panel').innerText,"
        " document.querySelector('#datasets').innerText]"
    )
    assert opened.eval(same) == served.eval(same)
    datasets = served.eval("document.querySelector('#datasets').innerText").splitlines()
    assert datasets[0].split("\t")[-1] == "rows"  # the run page shows the rows written
    assert next(line for line in datasets if line.startswith("raw\t")).endswith("\t3")
    assert opened.requests() == [report.as_uri()]  # nothing fetched: everything is inline
    assert_no_script_ran(opened)
    opened.screenshot(SCREENSHOTS / "ui-report.png")


def test_a_running_run_s_page_follows_it(chromium: Chromium, env: Environment, serve: Any) -> None:
    started, release = threading.Event(), threading.Event()
    pipeline = gated(env, started, release)
    store = env.container.run_store()
    outcome: list[RunResult] = []
    runner = threading.Thread(
        target=lambda: outcome.append(pipeline.run(hooks=[LiveRecord(store, interval=0.05)]))
    )
    runner.start()
    try:
        assert started.wait(60)
        (run,) = store.list("gated")  # recorded at the run's start
        server = serve(pipeline, store)
        page = chromium.open(server.url + f"#/run/{run['run_id']}")
        page.wait_for("document.querySelector('.row[data-task=wait][data-status=running]')")
        assert page.eval("document.querySelector('.toolbar .badge').dataset.status") == "running"
        assert (
            page.eval("document.querySelector('.row[data-task=last]').dataset.status") == "pending"
        )
    finally:
        release.set()
        runner.join()
    # No reload: the page polls its run and redraws when the record changes.
    page.wait_for("document.querySelector('.toolbar .badge').dataset.status === 'succeeded'")
    rows = {row["task"]: row["status"] for row in timeline_of(page)}
    assert rows == {"first": "succeeded", "wait": "succeeded", "last": "succeeded"}
    assert outcome[0].ok


def test_a_large_pipeline_opens_collapsed_and_search_finds_a_task(
    chromium: Chromium, env: Environment, serve: Any
) -> None:
    pipeline = large(env)  # 2,000 tasks in 20 namespaces
    server = serve(pipeline, env.container.run_store())
    page = chromium.open(server.url + "#/graph")
    ready(page, "graph")

    groups = page.eval(
        "[...document.querySelectorAll('.node[data-kind=group]')].map(n => n.dataset.name)"
    )
    assert groups == [f"ns{i:02d}" for i in range(20)]
    assert page.eval("document.querySelector('#group-by').value") == "namespace"

    page.eval(
        "(() => { const s = document.querySelector('#search'); s.value = 'ns07.t042';"
        " s.dispatchEvent(new Event('input')); })()"
    )
    page.wait_for("document.querySelector('#search-results li')")
    page.click("#search-results li")
    page.wait_for("document.querySelector('#task-panel[data-task=\"ns07.t042\"]')")
    assert page.eval("document.querySelector('.node.selected').dataset.name") == "ns07.t042"
    # Its namespace is open (100 tasks drawn), the others stay collapsed.
    shown = page.eval("document.querySelectorAll('.node[data-kind=task]').length")
    assert shown == 100
    assert page.eval("document.querySelectorAll('.node[data-kind=group]').length") == 19
    page.screenshot(SCREENSHOTS / "ui-large.png")


def test_a_task_s_panel_shows_its_iam_policy_and_the_plan_page_its_environment(
    chromium: Chromium, serve: Any, tmp_path: Path
) -> None:
    from infra_pipelines import aws_prod, create_pipeline

    server = serve(create_pipeline(aws_prod), RunStore(tmp_path / "runs"))
    page = chromium.open(server.url + "#/graph/task/clean")
    page.wait_for("document.querySelector('#task-panel[data-task=clean]')")

    page.click("#show-policy")
    policy = page.wait_for("document.querySelector('#task-policy pre.policy')?.textContent")
    assert "prod-clean-data/clean/data.parquet*" in policy and "s3:PutObject" in policy
    grants = page.eval("document.querySelector('#task-policy table').innerText")
    assert "clean/data.parquet*" in grants and "read, write, list" in grants
    page.screenshot(SCREENSHOTS / "ui-task-policy.png")

    page.goto(server.url + "#/plan/prod")
    ready(page, "plan")
    rows = page.eval("document.querySelectorAll('#plan-resources tr').length - 1")
    assert rows == len(server.api.plan()["environments"]["prod"]["resources"]) > 10
    assert page.errors() == []
    page.screenshot(SCREENSHOTS / "ui-plan.png")


def test_runs_are_filtered_by_pipeline_and_status(
    chromium: Chromium, shop_run: tuple[Any, RunStore, RunResult], env: Environment, serve: Any
) -> None:
    pipeline, store, failed = shop_run
    started, release = threading.Event(), threading.Event()
    release.set()
    succeeded = gated(env, started, release).run()
    server = serve(pipeline, store)
    page = chromium.open(server.url + "#/runs")
    ready(page, "runs")
    rows = "[...document.querySelectorAll('#runs tr[data-run]')].map(r => r.dataset.run)"
    assert page.eval(rows) == [succeeded.run_id, failed.run_id]  # latest first

    page.eval(
        "(() => { const s = document.querySelector('#filter-status'); s.value = 'failed';"
        " s.dispatchEvent(new Event('change')); })()"
    )
    page.wait_for(
        "location.hash.includes('status=failed') && "
        "document.querySelectorAll('#runs tr[data-run]').length === 1"
    )
    assert page.eval(rows) == [failed.run_id]
    page.eval(
        "(() => { const s = document.querySelector('#filter-pipeline'); s.value = 'gated';"
        " s.dispatchEvent(new Event('change')); })()"
    )
    page.wait_for("document.querySelector('#runs') === null")
    assert "No recorded runs match" in page.eval("document.querySelector('main').innerText")


def test_a_dataset_s_panel_shows_its_storage_schema_and_versions(
    chromium: Chromium, shop_run: tuple[Any, RunStore, RunResult], serve: Any
) -> None:
    pipeline, store, result = shop_run
    version = store.load(result.run_id)["dataset_versions"]["raw"]
    server = serve(pipeline, store)
    page = chromium.open(server.url + "#/graph")
    ready(page, "graph")

    page.click('.node[data-kind="dataset"][data-name="raw"]')
    text = page.wait_for("document.querySelector('#dataset-panel[data-dataset=raw]')?.innerText")

    assert "raw/orders.parquet" in text and "parquet" in text.split("format", 1)[1]
    assert "Int64" in text and "Float64" in text
    assert f"{result.run_id}" in text and version in text
    assert f"{version}\t3" in text  # the version's row count, from the run record
    assert "written by\textract" in text and f"read by\t{SCRIPT_NAME}" in text
    page.screenshot(SCREENSHOTS / "ui-dataset.png")


def test_a_graph_report_opened_from_disk_shows_the_dag_and_its_last_run(
    chromium: Chromium, shop_run: tuple[Any, RunStore, RunResult], tmp_path: Path
) -> None:
    from glacier.ui import graph_report

    pipeline, store, result = shop_run
    report = write_report(graph_report(Api(pipeline, store)), tmp_path / "dag.html")

    page = chromium.open(report.as_uri())
    ready(page, "graph")
    drawn = page.eval(
        "Object.fromEntries([...document.querySelectorAll('.node[data-kind=task]')]"
        ".map(n => [n.dataset.name, n.dataset.status]))"
    )
    assert drawn == {name: run.status for name, run in result.tasks.items()}
    page.click('.node[data-name="extract"]')
    logs = page.wait_for("document.querySelector('#task-panel pre.logs')?.textContent")
    assert MARKUP_LINE in logs
    assert page.eval("document.querySelector('#show-policy')") is None  # no plan in a report
    page.click(".toolbar a[href^='#/run/']")  # the last run's page is in the file too
    ready(page, "run")
    assert [row["task"] for row in timeline_of(page)] == list(result.tasks)
    assert page.requests() == [report.as_uri()]
    assert_no_script_ran(page)

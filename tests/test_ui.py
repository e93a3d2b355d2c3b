"""`glacier ui`'s data, server and reports, without a browser (tests/test_ui_browser.py has
the page itself): what the page is given, that records stay text, that the server only reads,
that a running run is recorded and never replaces its final record."""

from __future__ import annotations

import http.client
import itertools
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli.commands import invoke
from glacier import Environment, RunResult
from glacier.cli.runs import project_run_store
from glacier.live import LiveRecord
from glacier.result import TaskRun
from glacier.runstore import RunStore
from glacier.testing import local_environment
from glacier.ui import Api, UiServer, graph_report, run_report, write_report
from glacier.ui.model import attempt_bars, graph_data, plan_data, run_data
from glacier.ui.page import STATIC_FILES
from ui_pipelines import MARKUP_LINE, SCRIPT_NAME, gated, shop


@pytest.fixture
def env(tmp_path: Path) -> Environment:
    return local_environment(tmp_path)


@pytest.fixture
def shop_run(env: Environment) -> tuple[Any, RunStore, RunResult]:
    pipeline = shop(env)
    result = pipeline.run(raise_on_failure=False)
    return pipeline, env.container.run_store(), result


@pytest.fixture
def served(shop_run: tuple[Any, RunStore, RunResult]) -> Iterator[UiServer]:
    pipeline, store, _ = shop_run
    server = UiServer(Api(pipeline, store), "127.0.0.1", 0)
    server.start()
    yield server
    server.stop()


def get(server: UiServer, path: str, method: str = "GET", host: str | None = None) -> Any:
    conn = http.client.HTTPConnection(*server.server_address[:2])
    headers = {"Host": host} if host else {}
    conn.request(method, path, headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, dict(resp.getheaders()), body


# -- the data -------------------------------------------------------------------------------


def test_a_retried_task_gets_one_bar_per_attempt_from_its_recorded_retries(
    shop_run: tuple[Any, RunStore, RunResult],
) -> None:
    _, store, result = shop_run
    run = run_data(store.load(result.run_id))
    tasks = {t["name"]: t for t in run["tasks"]}

    bars = tasks[SCRIPT_NAME]["bars"]
    assert [b["attempt"] for b in bars] == [1, 2, 3]
    assert [b["outcome"] for b in bars] == ["failed", "failed", "succeeded"]
    assert not any(b["estimated"] for b in bars)
    # In order, not overlapping, within the task's span; the retry delay lies between.
    spans = [(b["start"], b["end"]) for b in bars]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    assert spans[0][0] == pytest.approx(tasks[SCRIPT_NAME]["start"], abs=1e-6)
    assert spans[-1][1] == pytest.approx(
        tasks[SCRIPT_NAME]["start"] + tasks[SCRIPT_NAME]["duration"], abs=1e-6
    )
    assert [b["outcome"] for b in tasks["report"]["bars"]] == ["failed"]
    assert tasks["publish"]["status"] == "skipped" and tasks["publish"]["bars"] == []


def test_attempts_without_logged_boundaries_are_split_evenly_and_say_so() -> None:
    task = {"status": "succeeded", "attempts": 2, "offset_ns": 0, "duration_ns": 4_000_000_000}

    bars = attempt_bars(task, run_started=0.0)

    assert [(b["start"], b["end"], b["estimated"]) for b in bars] == [
        (0.0, 2.0, True),
        (2.0, 4.0, False),
    ]


def test_a_failed_task_s_record_keeps_its_traceback(
    shop_run: tuple[Any, RunStore, RunResult],
) -> None:
    _, store, result = shop_run
    record = store.load(result.run_id)
    report = {t["name"]: t for t in run_data(record)["tasks"]}["report"]

    assert report["error"] == "ValueError: no summary today"
    assert report["traceback"].startswith("Traceback (most recent call last):")
    assert 'raise ValueError("no summary today")' in report["traceback"]
    assert set(record["tracebacks"]) == {"report"}  # only the task that failed


def test_the_graph_gives_each_panel_its_facts(env: Environment) -> None:
    data = graph_data(shop(env))

    tasks = {t["name"]: t for t in data["tasks"]}
    assert list(tasks) == ["extract", SCRIPT_NAME, "report", "publish"]
    assert tasks[SCRIPT_NAME]["options"] == {"retries": "2", "retry_delay": "0.01"}
    assert tasks["extract"]["tags"] == {"layer": "bronze"}
    assert re.search(r"ui_pipelines\.py:\d+$", tasks["extract"]["location"])
    raw = {d["name"]: d for d in data["datasets"]}["raw"]
    assert raw["schema"] == {"id": "Int64", "amount": "Float64"}
    assert raw["uri"].startswith("file://") and raw["uri"].endswith("raw/orders.parquet")
    assert (raw["producers"], raw["consumers"]) == (["extract"], [SCRIPT_NAME])


def test_tolerates_check_results_in_any_shape() -> None:
    record = {
        "run_id": "r",
        "tasks": {"t": {"status": "succeeded", "checks": {"unique_id": "passed"}}},
        "checks": [{"dataset": "raw", "check": "not_null(id)", "failing_rows": 2}, "odd"],
    }

    run = run_data(record)

    assert run["tasks"][0]["checks"] == [{"name": "unique_id", "status": "passed"}]
    assert run["checks"] == [
        {"dataset": "raw", "check": "not_null(id)", "failing_rows": "2"},
        {"result": "odd"},
    ]


# -- the page and the reports ---------------------------------------------------------------


def test_a_report_inlines_everything_and_keeps_markup_in_records_as_text(
    shop_run: tuple[Any, RunStore, RunResult], tmp_path: Path
) -> None:
    pipeline, store, result = shop_run
    api = Api(pipeline, store)

    run_page, graph_page = run_report(api, result.run_id), graph_report(api)
    for html in (run_page, graph_page):
        assert SCRIPT_NAME not in html and MARKUP_LINE not in html
        # Three script elements: the data (JSON, inert), dagre, the page's own.
        assert html.count("<script") == 3
        assert re.search(r"<script[^>]* src=", html) is None
        assert "<link" not in html and "http://" not in html.split("</style>")[0]
    # The names and lines are there, escaped: JSON gives them back as they were.
    run = _inlined(run_page)["api"][f"/api/run/{result.run_id}"]
    assert run["tasks"][1]["name"] == SCRIPT_NAME
    assert MARKUP_LINE in [line["message"] for line in run["tasks"][0]["logs"]]
    graph = _inlined(graph_page)["api"]["/api/graph"]["graph"]
    assert graph["tasks"][1]["name"] == SCRIPT_NAME
    for html in (run_page, graph_page):
        assert "connect-src 'none'" in html


def test_the_vendored_layout_library_ships_with_its_license_in_the_package() -> None:
    from importlib import resources

    static = resources.files("glacier.ui").joinpath("static")
    for name in STATIC_FILES:
        assert static.joinpath(name).is_file(), name
    assert "MIT" in static.joinpath("dagre.min.js").read_text()
    assert "Permission is hereby granted" in static.joinpath("dagre.LICENSE").read_text()
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    assert '"ui/static/*"' in pyproject  # package data: in the wheel, not only the checkout


def test_write_report_refuses_a_missing_directory_and_leaves_nothing(tmp_path: Path) -> None:
    from glacier.errors import OutputPathError

    with pytest.raises(OutputPathError, match="does not exist; create it first"):
        write_report("<html></html>", tmp_path / "missing" / "r.html")
    with pytest.raises(OutputPathError, match="is a directory"):
        write_report("<html></html>", tmp_path)
    written = write_report("<html></html>", tmp_path / "r.html")
    assert written.read_text() == "<html></html>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]  # no temporary left


def _inlined(html: str) -> Any:
    found = re.search(r'<script id="glacier-data" type="application/json">(.*?)</script>', html)
    assert found is not None
    return json.loads(found.group(1))


# -- the server -----------------------------------------------------------------------------


def test_the_server_answers_the_page_and_its_data(served: UiServer) -> None:
    status, headers, body = get(served, "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "connect-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert b"connect-src 'self'" in body

    status, _, body = get(served, "/api/runs?status=failed")
    runs = json.loads(body)
    assert status == 200 and [r["status"] for r in runs["runs"]] == ["failed"]
    assert runs["pipelines"] == ["shop"]

    status, _, body = get(served, "/api/graph")
    graph = json.loads(body)
    assert graph["last_run"]["status"] == "failed"
    assert [v["version"] is not None for v in graph["history"]["raw"]] == [True]

    status, _, body = get(served, "/api/run/nope")
    assert status == 404 and "No run 'nope'" in json.loads(body)["error"]


def test_the_server_only_reads(served: UiServer) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        status, headers, _ = get(served, "/api/runs", method=method)
        assert (status, headers.get("Allow")) == (405, "GET, HEAD")


def test_the_server_answers_only_requests_addressed_to_this_machine(served: UiServer) -> None:
    status, _, _ = get(served, "/api/runs", host="attacker.example:80")
    assert status == 421
    status, _, _ = get(served, "/api/runs", host=f"localhost:{served.server_address[1]}")
    assert status == 200


# -- runs in progress ---------------------------------------------------------------------


def test_a_running_record_never_replaces_the_final_one(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    task = TaskRun("t", status="running", attempts=1, started_ns=10)
    store.record(RunResult("p", "r1", tasks={"t": task}, clock_ns=0), running=True)
    assert store.load("r1")["status"] == "running"

    done = TaskRun("t", status="succeeded", attempts=1, started_ns=10, duration_ns=5)
    store.record(RunResult("p", "r1", tasks={"t": done}, clock_ns=0))
    store.record(RunResult("p", "r1", tasks={"t": task}, clock_ns=0), running=True)  # late

    record = store.load("r1")
    assert record["status"] == "succeeded" and record["tasks"]["t"]["status"] == "succeeded"


class _Written(LiveRecord):
    """A LiveRecord that signals each write (so the test waits on events, not time)."""

    def __init__(self, store: RunStore) -> None:
        super().__init__(store, interval=0.01)
        self.writes: list[dict[str, Any]] = []
        self.changed = threading.Condition()

    def _write(self) -> None:
        super()._write()
        with self.changed:
            run = self._run
            if run is not None:
                self.writes.append(self.store.load(run.run_id))
            self.changed.notify_all()


def test_a_run_is_recorded_while_it_runs(env: Environment) -> None:
    started, release = threading.Event(), threading.Event()
    pipeline = gated(env, started, release)
    store = env.container.run_store()
    live = _Written(store)
    outcome: list[RunResult] = []
    runner = threading.Thread(target=lambda: outcome.append(pipeline.run(hooks=[live])))
    runner.start()
    try:
        assert started.wait(60)

        def waiting_shown() -> bool:
            return any(
                w["status"] == "running" and w["tasks"]["wait"]["status"] == "running"
                for w in live.writes
            )

        with live.changed:
            assert live.changed.wait_for(waiting_shown, timeout=60)
        shown = next(w for w in live.writes if w["tasks"]["wait"]["status"] == "running")
        assert shown["tasks"]["first"]["status"] == "succeeded"
        assert shown["tasks"]["last"]["status"] == "pending"
        assert [r["status"] for r in store.list("gated")] == ["running"]
    finally:
        release.set()
        runner.join()
    assert outcome[0].ok
    assert store.load(outcome[0].run_id)["status"] == "succeeded"


# -- the commands -------------------------------------------------------------------------


def test_runs_show_html_writes_the_run_s_report(
    shop_run: tuple[Any, RunStore, RunResult], tmp_path: Path
) -> None:
    _, store, result = shop_run
    out = tmp_path / "run.html"
    state = str(store.directory.parent)

    code, stdout, _ = invoke(
        "runs", "show", result.run_id, "--html", str(out), "--state-dir", state
    )

    assert code == 0 and "wrote" in stdout
    assert result.run_id in out.read_text()
    code, _, stderr = invoke(
        "runs", "show", result.run_id, "--html", str(out), "--json", "--state-dir", state
    )
    assert code == 2 and "not both" in stderr
    code, _, stderr = invoke(
        "runs",
        "show",
        result.run_id,
        "--html",
        str(tmp_path / "no" / "r.html"),
        "--state-dir",
        state,
    )
    assert code == 2 and "does not exist" in stderr
    assert project_run_store(None, None, Path(state)).directory == store.directory


def test_graph_html_writes_the_pipeline_s_page(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "etl.py"
    target.write_text(
        "from glacier import Dataset, Pipeline\n"
        "p = Pipeline('tiny')\nraw = Dataset('raw')\n"
        "@p.task()\ndef extract() -> raw:\n    return 1\n"
    )
    out = tmp_path / "dag.html"

    code, stdout, _ = invoke("graph", str(target), "--html", str(out))

    assert code == 0 and "wrote" in stdout and '\\"tiny\\"' not in out.read_text()
    assert '"pipeline": "tiny"' in out.read_text()
    code, _, stderr = invoke("graph", str(target), "--html", str(out), "-o", "x.png")
    assert code == 2 and "not both" in stderr


def test_the_plan_gives_each_task_its_grants_and_iam_policy_per_environment() -> None:
    from infra_pipelines import aws_prod, create_pipeline

    plan = plan_data(create_pipeline(aws_prod))

    prod = plan["environments"]["prod"]
    assert (prod["account"], prod["region"]) == ("999999999999", "us-east-1")
    assert {"type": "aws:iam/role:Role", "name": "prod-clean-role"} in [
        {"type": r["type"], "name": r["name"]} for r in prod["resources"]
    ]
    clean = prod["tasks"]["clean"]
    assert {g["pattern"]: g["access"] for g in clean["grants"]} == {
        "raw.parquet*": ["read", "list"],
        "clean/data.parquet*": ["read", "write", "list"],
    }
    (policy,) = clean["policies"]
    assert policy["name"] == "prod-clean-policy"
    resources = json.dumps(policy["document"])
    assert "prod-clean-data/clean/data.parquet*" in resources and "PutObject" in resources


def test_glacier_ui_serves_the_target_until_stopped(
    shop_run: tuple[Any, RunStore, RunResult], tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys

    _, store, result = shop_run
    target = tmp_path / "tiny.py"
    target.write_text(
        "from glacier import Dataset, Pipeline\n"
        "p = Pipeline('shop')\nraw = Dataset('raw')\n"
        "@p.task()\ndef extract() -> raw:\n    return 1\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLACIER_")}
    env["COLUMNS"] = "200"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "glacier",
            "ui",
            str(target),
            "--port",
            "0",
            "--state-dir",
            str(store.directory.parent),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # printed once it listens
        url = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert url is not None, line + proc.stderr.read() if proc.stderr else line
        conn = http.client.HTTPConnection("127.0.0.1", int(url.group(1)))
        conn.request("GET", "/api/graph")
        graph = json.loads(conn.getresponse().read())
        conn.close()
        assert [t["name"] for t in graph["graph"]["tasks"]] == ["extract"]
        assert graph["last_run"]["run_id"] == result.run_id  # the shop's runs, from --state-dir
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    assert proc.returncode == 0


def test_glacier_ui_on_a_busy_port_says_so(tmp_path: Path, monkeypatch: Any) -> None:
    import socket

    monkeypatch.chdir(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, stderr = invoke("ui", "--port", str(port), "--state-dir", str(tmp_path))
    assert code == 2 and f"cannot listen on 127.0.0.1:{port}" in stderr and "--port" in stderr


def test_runs_list_and_show_name_a_running_run(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs")
    task = TaskRun("t", status="running", attempts=1, started_ns=10)
    store.record(RunResult("p", "r1", tasks={"t": task}, clock_ns=0), running=True)

    code, stdout, _ = invoke(
        "runs", "list", "--status", "running", "--json", "--state-dir", str(tmp_path)
    )
    assert code == 0 and [r["run_id"] for r in json.loads(stdout)] == ["r1"]
    code, stdout, _ = invoke("runs", "show", "r1", "--state-dir", str(tmp_path))
    assert code == 0 and "pipeline p  running" in stdout


def test_glacier_run_records_the_run_while_it_runs(tmp_path: Path, monkeypatch: Any) -> None:
    from ui_pipelines import CLI_GATE, GATED_TARGET

    monkeypatch.chdir(tmp_path)
    for var in ("GLACIER_ENV", "GLACIER_SETTINGS_DIR"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "gated.py").write_text(GATED_TARGET)
    started, release = CLI_GATE
    started.clear()
    release.clear()
    codes: list[int] = []
    runner = threading.Thread(target=lambda: codes.append(invoke("run", "gated.py")[0]))
    runner.start()
    try:
        assert started.wait(60)
        store = RunStore(tmp_path / ".glacier" / "runs")
        assert [r["status"] for r in store.list("gated_cli")] == ["running"]
    finally:
        release.set()
        runner.join()
    assert codes == [0]
    assert [r["status"] for r in store.list("gated_cli")] == ["succeeded"]

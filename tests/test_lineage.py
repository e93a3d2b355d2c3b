"""OpenLineage events: off by default, on from the settings or ``glacier run --lineage``;
a parent run for the pipeline, START then COMPLETE/FAIL per task with its datasets."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier import Dataset, Environment, Pipeline
from glacier.errors import ConfigError
from glacier.lineage import dataset_id, lineage_hook, settings_from_target
from glacier.settings import GlacierSettings, LineageSettings, LocalConfig

NAMESPACE = "glacier-test"


def build(env: Environment, *, fail: bool = False) -> Pipeline:
    """extract -> raw (stored) -> clean (in memory) -> total (stored)."""
    pipeline = Pipeline("orders", env=env)
    data = Path(env.settings.provider.base_path)  # type: ignore[union-attr]
    raw = Dataset("raw", storage=str(data / "raw.parquet"))
    clean = Dataset("clean")
    total = Dataset("total", storage=str(data / "total.parquet"))

    @pipeline.task()
    def extract() -> raw:
        return pl.DataFrame({"x": [1, 2, 3]})

    @pipeline.task()
    def cleanse(data: raw) -> clean:
        if fail:
            raise ValueError("bad rows")
        return data.filter(pl.col("x") > 1)

    @pipeline.task()
    def summarize(data: clean) -> total:
        return data.select(pl.col("x").sum())

    return pipeline


def environment(tmp_path: Path, lineage: dict[str, Any] | None = None) -> Environment:
    settings = GlacierSettings(
        env="dev",
        provider=LocalConfig(base_path=tmp_path / "data"),
        state_dir=tmp_path / "state",
        **({"lineage": lineage} if lineage is not None else {}),
    )
    return Environment.from_settings(settings)


def events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def by_job(found: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    jobs: dict[str, list[dict[str, Any]]] = {}
    for event in found:
        jobs.setdefault(event["job"]["name"], []).append(event)
    return jobs


def test_off_by_default(tmp_path: Path) -> None:
    env = environment(tmp_path)
    assert not env.settings.lineage.enabled
    build(env).run()
    assert not list(tmp_path.rglob("*.ndjson"))


def test_settings_switch_it_on_with_a_parent_run_and_a_run_per_task(tmp_path: Path) -> None:
    env = environment(
        tmp_path, {"transport": "file", "path": "lineage.ndjson", "namespace": NAMESPACE}
    )
    result = build(env).run()
    # A relative path is under the project's state directory.
    found = events(tmp_path / "state" / "lineage.ndjson")
    jobs = by_job(found)
    assert set(jobs) == {"orders", "orders.extract", "orders.cleanse", "orders.summarize"}
    assert [e["eventType"] for e in jobs["orders"]] == ["START", "COMPLETE"]
    parent_id = jobs["orders"][0]["run"]["runId"]
    assert jobs["orders"][1]["run"]["runId"] == parent_id
    for name in ("extract", "cleanse", "summarize"):
        start, end = jobs[f"orders.{name}"]
        assert (start["eventType"], end["eventType"]) == ("START", "COMPLETE")
        assert start["run"]["runId"] == end["run"]["runId"] != parent_id
        parent = start["run"]["facets"]["parent"]
        assert parent["run"]["runId"] == parent_id and parent["job"]["name"] == "orders"
        assert start["job"]["namespace"] == NAMESPACE
        assert start["job"]["facets"]["jobType"]["jobType"] == "TASK"
    # Datasets: stored ones by their file path (namespace "file"), in-memory ones by name.
    raw = {"namespace": "file", "name": str(tmp_path / "data" / "raw.parquet")}
    total = {"namespace": "file", "name": str(tmp_path / "data" / "total.parquet")}
    clean = {"namespace": "glacier://orders", "name": "clean"}

    def names(event: dict[str, Any], key: str) -> list[dict[str, str]]:
        return [{"namespace": d["namespace"], "name": d["name"]} for d in event[key]]

    start = {n: jobs[f"orders.{n}"][0] for n in ("extract", "cleanse", "summarize")}
    assert names(start["extract"], "inputs") == [] and names(start["extract"], "outputs") == [raw]
    assert names(start["cleanse"], "inputs") == [raw]
    assert names(start["cleanse"], "outputs") == [clean]
    assert names(start["summarize"], "inputs") == [clean]
    assert names(start["summarize"], "outputs") == [total]
    assert result.ok and (tmp_path / "data" / "total.parquet").exists()
    # A stored output's COMPLETE event says how many rows were written (outputStatistics).
    end = {n: jobs[f"orders.{n}"][1] for n in ("extract", "summarize")}
    assert end["extract"]["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == 3
    assert end["summarize"]["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == 1
    assert "outputStatistics" not in start["extract"]["outputs"][0].get("outputFacets", {})
    # A second run appends its own events, with other run ids.
    build(env).run()
    again = by_job(events(tmp_path / "state" / "lineage.ndjson"))
    assert len(again["orders"]) == 4 and again["orders"][2]["run"]["runId"] != parent_id


def test_a_failed_task_fails_its_run_and_the_pipeline_run(tmp_path: Path) -> None:
    env = environment(tmp_path, {"transport": "file", "path": str(tmp_path / "ol.ndjson")})
    result = build(env, fail=True).run(raise_on_failure=False)
    assert not result.ok
    jobs = by_job(events(tmp_path / "ol.ndjson"))
    assert [e["eventType"] for e in jobs["orders.cleanse"]] == ["START", "FAIL"]
    error = jobs["orders.cleanse"][1]["run"]["facets"]["errorMessage"]
    assert error["message"] == "ValueError: bad rows" and "bad rows" in error["stackTrace"]
    assert "orders.summarize" not in jobs  # skipped: never started, so no run of its own
    assert [e["eventType"] for e in jobs["orders"]] == ["START", "FAIL"]
    assert "cleanse" in jobs["orders"][1]["run"]["facets"]["errorMessage"]["message"]
    assert jobs["orders"][0]["job"]["namespace"] == "glacier/dev"  # the default namespace


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, json.loads(body)))
        self.send_response(201)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def lineage_server() -> Iterator[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    """A tiny OpenLineage endpoint on 127.0.0.1 that keeps what it receives."""
    received: list[tuple[str, dict[str, Any]]] = []
    handler = type("Handler", (_Collector,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", received
    finally:
        server.shutdown()
        server.server_close()


def test_http_transport_posts_every_event(
    tmp_path: Path, lineage_server: tuple[str, list[tuple[str, dict[str, Any]]]]
) -> None:
    url, received = lineage_server
    env = environment(tmp_path, {"transport": "http", "url": url})
    build(env).run()
    assert {path for path, _ in received} == {"/api/v1/lineage"}
    kinds = [(e["job"]["name"], e["eventType"]) for _, e in received]
    assert len(kinds) == 8
    assert kinds[0] == ("orders", "START") and kinds[-1] == ("orders", "COMPLETE")
    assert ("orders.summarize", "COMPLETE") in kinds


def test_an_unreachable_server_never_fails_the_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = environment(tmp_path, {"transport": "http", "url": f"http://127.0.0.1:{port}"})
    result = build(env).run()
    assert result.ok
    assert "lineage event START of orders not sent" in caplog.text
    # One event was tried; the other seven were dropped without trying again.
    assert "7 events of run" in caplog.text


def test_cli_lineage_option_writes_the_events(tmp_path: Path, monkeypatch: Any) -> None:
    from typer.testing import CliRunner

    from glacier.cli import app

    monkeypatch.chdir(tmp_path)
    for var in ("GLACIER_ENV", "GLACIER_SETTINGS_DIR"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "etl.py").write_text(
        "import polars as pl\n"
        "from glacier import Dataset, Pipeline\n"
        "pipeline = Pipeline('etl')\n"
        "raw = Dataset('raw', storage='raw.parquet')\n"
        "@pipeline.task()\n"
        "def extract() -> raw:\n"
        "    return pl.DataFrame({'x': [1]})\n"
    )
    done = CliRunner().invoke(app, ["run", "etl.py", "--lineage", "out/lineage.ndjson"])
    assert done.exit_code == 0, done.stdout + done.stderr
    jobs = by_job(events(tmp_path / "out" / "lineage.ndjson"))
    assert [e["eventType"] for e in jobs["etl.extract"]] == ["START", "COMPLETE"]
    (output,) = jobs["etl.extract"][0]["outputs"]
    assert output["namespace"] == "file" and output["name"].endswith("raw.parquet")


@pytest.mark.parametrize(
    ("uri", "account", "namespace", "name"),
    [
        ("s3://lake/sales/2024.parquet", None, "s3://lake", "sales/2024.parquet"),
        ("gs://lake/events/", None, "gs://lake", "events"),
        ("gcs://lake/a.csv", None, "gs://lake", "a.csv"),
        ("az://raw/orders/", "acme", "abfss://raw@acme.dfs.core.windows.net", "orders"),
        (
            "abfss://raw@acme.dfs.core.windows.net/o.parquet",
            None,
            "abfss://raw@acme.dfs.core.windows.net",
            "o.parquet",
        ),
        ("file:///srv/data/clean.parquet", None, "file", "/srv/data/clean.parquet"),
    ],
)
def test_dataset_names_follow_the_openlineage_naming_spec(
    uri: str, account: str | None, namespace: str, name: str
) -> None:
    found = dataset_id(uri, account=account)
    assert (found.namespace, found.name) == (namespace, name)


def test_settings_refuse_a_transport_without_its_target() -> None:
    with pytest.raises(ConfigError, match="needs path="):
        LineageSettings(transport="file")
    with pytest.raises(ConfigError, match="transport"):
        LineageSettings(transport="kafka")  # type: ignore[arg-type]
    assert settings_from_target("https://marquez.example/").url == "https://marquez.example/"


def test_a_hook_given_in_python_without_settings(tmp_path: Path) -> None:
    env = environment(tmp_path)
    pipeline = build(env)
    settings = LineageSettings(transport="file", path=tmp_path / "py.ndjson")
    pipeline.run(hooks=[lineage_hook(settings, pipeline=pipeline, env=env)])
    assert len(events(tmp_path / "py.ndjson")) == 8

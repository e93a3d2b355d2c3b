"""Data checks on datasets (issue 28): declared with the data, run after the producer on what
was written, gating its consumers as ``dbt build`` does, recorded everywhere a run is read."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier import Dataset, Environment, Pipeline
from glacier.checks import (
    accepted_values,
    expect,
    freshness,
    not_null,
    relationships,
    row_count,
    schema,
    unique,
)
from glacier.checks.evaluate import evaluate
from glacier.cli.run import write_junit_xml
from glacier.errors import CheckDefinitionError, CheckFailedError, ConfigError
from glacier.settings import CheckSettings, GlacierSettings, LocalConfig

STATUSES = ["placed", "shipped", "completed", "returned"]


def staging(env: Any, orders_rows: dict[str, list[Any]], **severity: str) -> Pipeline:
    """A jaffle-style pipeline: seeds -> staging (with checks) -> a mart."""
    pipeline = Pipeline("jaffle", env=env)
    customers = Dataset(
        "stg_customers",
        storage="stg_customers.parquet",
        checks=[unique("customer_id"), not_null("customer_id")],
    )
    orders = Dataset(
        "stg_orders",
        storage="stg_orders.parquet",
        checks=[
            unique("order_id"),
            not_null("order_id"),
            accepted_values("status", STATUSES, **severity),
            relationships("customer_id", to=customers),
        ],
    )
    mart = Dataset("customer_orders", storage="customer_orders.parquet")

    @pipeline.task()
    def stage_orders() -> orders:
        return pl.DataFrame(orders_rows)

    @pipeline.task()
    def stage_customers() -> customers:
        return pl.DataFrame({"customer_id": [1, 2, 3], "name": ["Ann", "Bo", "Cy"]})

    @pipeline.task()
    def build_mart(o: orders, c: customers) -> mart:
        return o.join(c, on="customer_id").group_by("customer_id").len()

    return pipeline


GOOD = {"order_id": [1, 2, 3], "customer_id": [1, 1, 2], "status": ["placed"] * 3}
BAD = {"order_id": [1, 2, 2], "customer_id": [1, 7, 2], "status": ["placed", "lost", None]}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Environment:
    monkeypatch.chdir(tmp_path)  # datasets' relative paths are written here
    return Environment.local(tmp_path / "data")


def checks_of(result: Any, task: str) -> dict[str, dict[str, Any]]:
    return {c["check"]: c for c in result.tasks[task].checks}


def test_analyze_lists_each_dataset_s_checks(env: Environment) -> None:
    described = staging(env, GOOD).run(mode="analyze")
    by_name = {d["name"]: d["checks"] for d in described["datasets"]}
    assert by_name["stg_customers"] == ["unique(customer_id)", "not_null(customer_id)"]
    assert by_name["customer_orders"] == []


def test_good_data_passes_every_check_and_the_mart_is_built(env: Environment) -> None:
    result = staging(env, GOOD).run()
    assert result.ok
    assert {c["status"] for c in result.tasks["stage_orders"].checks} == {"passed"}
    assert result["customer_orders"].collect().height == 2


def test_a_failing_error_check_skips_the_consumers_and_keeps_what_was_written(
    env: Environment, tmp_path: Path
) -> None:
    result = staging(env, BAD).run(raise_on_failure=False)
    orders = result.tasks["stage_orders"]
    assert orders.status == "failed"
    assert isinstance(orders.error, CheckFailedError)
    assert "unique(order_id)" in str(orders.error)
    assert result.tasks["build_mart"].status == "skipped"
    assert result.tasks["stage_customers"].status == "succeeded"
    # The data as written stays (dbt build writes the model, then tests it).
    assert pl.read_parquet(tmp_path / "stg_orders.parquet").height == 3
    found = checks_of(result, "stage_orders")
    assert found["unique(order_id)"]["failing_rows"] == 2
    assert {r["order_id"] for r in found["unique(order_id)"]["sample"]} == {2}
    assert found["accepted_values(status)"]["failing_rows"] == 1  # null is not counted
    assert found["accepted_values(status)"]["sample"][0]["status"] == "lost"
    assert found["relationships(customer_id -> stg_customers.customer_id)"]["failing_rows"] == 1
    assert found["not_null(order_id)"]["status"] == "passed"


def test_a_warn_check_is_recorded_and_stops_nothing(env: Environment) -> None:
    rows = {**GOOD, "status": ["placed", "lost", "placed"]}
    result = staging(env, rows, severity="warn").run()
    assert result.ok
    assert [c["status"] for c in result.checks].count("warned") == 1
    assert len(result.checks) == 6
    check = checks_of(result, "stage_orders")["accepted_values(status)"]
    assert (check["status"], check["severity"], check["failing_rows"]) == ("warned", "warn", 1)


def test_the_run_record_keeps_status_count_and_at_most_ten_failing_rows(
    env: Environment,
) -> None:
    pipeline = Pipeline("many", env=env)
    data = Dataset("data", storage="data.parquet", checks=[not_null("v")])

    @pipeline.task()
    def make() -> data:
        return pl.DataFrame({"v": [None] * 25}, schema={"v": pl.Int64})

    result = pipeline.run(raise_on_failure=False)
    record = env.container.run_store().load(result.run_id)
    (check,) = record["tasks"]["make"]["checks"]
    assert (check["status"], check["failing_rows"], len(check["sample"])) == ("failed", 25, 10)


def foreign_key(env: Environment) -> Pipeline:
    """Two independent tasks; a check of the first's output refers to the second's."""
    pipeline = Pipeline("fk", env=env)
    customers = Dataset("customers", storage="customers.parquet")
    orders = Dataset(
        "orders", storage="orders.parquet", checks=[relationships("cid", to=customers, field="id")]
    )

    @pipeline.task()
    def make_orders() -> orders:
        return pl.DataFrame({"cid": [1, 2, None]})

    @pipeline.task()
    def make_customers() -> customers:
        return pl.DataFrame({"id": [1, 2]})

    return pipeline


def test_relationships_waits_for_the_producer_of_the_dataset_it_refers_to(
    env: Environment,
) -> None:
    # The referring task is declared (and would run) first; the check needs the other.
    result = foreign_key(env).run()
    assert result.tasks["make_customers"].started_ns < result.tasks["make_orders"].started_ns
    assert result.tasks["make_orders"].checks[0]["status"] == "passed"


def test_a_custom_check_returns_failing_rows_or_a_bool(env: Environment) -> None:
    pipeline = Pipeline("custom", env=env)
    data = Dataset("data", storage="data.parquet")

    @pipeline.task()
    def make() -> data:
        return pl.DataFrame({"amount": [5, -1, 3]})

    @pipeline.check(data, severity="warn")
    def no_negative_amounts(frame: pl.LazyFrame) -> pl.LazyFrame:
        return frame.filter(pl.col("amount") < 0)

    @pipeline.check(data, name="has_rows")
    def enough(frame: pl.LazyFrame) -> bool:
        return frame.select(pl.len()).collect().item() > 10

    result = pipeline.run(raise_on_failure=False)
    found = checks_of(result, "make")
    assert found["no_negative_amounts"]["status"] == "warned"
    assert found["no_negative_amounts"]["sample"] == [{"amount": -1}]
    assert (found["has_rows"]["status"], found["has_rows"]["message"]) == (
        "failed",
        "returned False",
    )


def test_every_builtin_passes_and_fails_where_dbt_would() -> None:
    frame = pl.DataFrame({"a": [1, 1, 2], "b": ["x", "y", "x"]})
    checks = [
        unique(["a", "b"]),
        unique("a"),
        expect(pl.col("a") > 0, name="positive"),
        expect(pl.col("a") < 2, name="small"),
        row_count(min=1, max=3),
        row_count(min=4),
        schema({"a": pl.Int64, "b": pl.Utf8}),
    ]
    results = {r.check: r for r in evaluate("t", checks, frame)}
    assert {name: r.status for name, r in results.items()} == {
        "unique(a, b)": "passed",
        "unique(a)": "failed",
        "positive": "passed",
        "small": "failed",
        "row_count(min=1, max=3)": "passed",
        "row_count(min=4)": "failed",
        "schema": "passed",
    }
    assert results["small"].failing_rows == 1
    assert "3 rows, fewer than min=4" in results["row_count(min=4)"].message
    (wrong,) = evaluate("t", [schema({"a": pl.Utf8, "c": pl.Int64}, severity="warn")], frame)
    assert wrong.status == "warned"
    assert "column 'c' is missing" in wrong.message
    assert "column 'a' is Int64, not String" in wrong.message


def test_freshness_passes_on_recent_data_and_fails_on_old() -> None:
    now = dt.datetime.now(dt.UTC)
    frame = pl.DataFrame({"ts": [now - dt.timedelta(hours=1)]})
    fresh = evaluate("t", [freshness("ts", max_age=dt.timedelta(hours=2))], frame)
    stale = evaluate("t", [freshness("ts", max_age=dt.timedelta(minutes=5))], frame)
    assert (fresh[0].status, stale[0].status) == ("passed", "failed")
    assert "older than max_age" in stale[0].message


def test_the_builtins_of_a_dataset_read_the_data_in_one_pass() -> None:
    reads: list[int] = []

    def source(s: pl.Series) -> pl.Series:
        reads.append(len(s))
        return s

    frame = pl.LazyFrame({"id": [1, 2, 3], "s": ["a", "b", "a"]}).with_columns(
        pl.col("id").map_batches(source, return_dtype=pl.Int64)
    )
    checks = [
        unique("id"),
        not_null(["id", "s"]),
        accepted_values("s", ["a", "b"]),
        expect(pl.col("id") > 0, name="positive"),
        row_count(min=1),
    ]
    results = evaluate("t", checks, frame)
    assert all(r.passed for r in results)
    assert len(reads) == 1


def test_a_check_that_cannot_be_evaluated_fails_alone() -> None:
    frame = pl.DataFrame({"n": [1, 2]})
    results = evaluate("t", [accepted_values("n", ["x"]), not_null("n")], frame)
    # Comparing integers with strings fails in polars; the other check still runs.
    assert results[1].status == "passed"
    assert results[0].status == "failed"


def test_a_column_the_data_lacks_fails_the_check_naming_it(env: Environment) -> None:
    pipeline = Pipeline("missing", env=env)
    data = Dataset("data", checks=[not_null("amount"), unique("id")])

    @pipeline.task()
    def make() -> data:
        return pl.DataFrame({"id": [1, 2]})

    result = pipeline.run(raise_on_failure=False)
    found = checks_of(result, "make")
    assert found["not_null(amount)"]["status"] == "failed"
    assert "column 'amount' is not in dataset 'data'" in found["not_null(amount)"]["message"]
    assert found["unique(id)"]["status"] == "passed"


def test_a_column_the_declared_schema_lacks_is_refused_at_declaration() -> None:
    with pytest.raises(CheckDefinitionError, match="names column 'amount', which its schema"):
        Dataset("data", schema={"id": pl.Int64}, checks=[not_null("amount")])


def test_relationships_to_a_dataset_outside_the_pipeline_is_refused_at_declaration() -> None:
    pipeline = Pipeline("outside")
    elsewhere = Dataset("customers", storage="customers.parquet")
    orders = Dataset("orders", checks=[relationships("cid", to=elsewhere, field="id")])

    @pipeline.task()
    def make() -> orders:
        return pl.DataFrame({"cid": [1]})

    with pytest.raises(CheckDefinitionError, match="'customers', which is outside the pipeline"):
        pipeline.validate()


def test_relationships_to_a_dataset_made_from_the_checked_one_is_refused_before_running(
    env: Environment,
) -> None:
    pipeline = Pipeline("loop", env=env)
    derived = Dataset("derived")
    base = Dataset("base", checks=[relationships("id", to=derived)])
    ran: list[str] = []

    @pipeline.task()
    def make_base() -> base:
        ran.append("make_base")
        return pl.DataFrame({"id": [1]})

    @pipeline.task()
    def make_derived(b: base) -> derived:
        ran.append("make_derived")
        return b

    with pytest.raises(CheckDefinitionError, match="which is made from 'base'"):
        pipeline.run()
    assert ran == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: unique([]), "give a column name"),
        (lambda: accepted_values("s", []), "non-empty list"),
        (lambda: row_count(), "give min=, max= or both"),
        (lambda: row_count(min=5, max=1), "min is above max"),
        (lambda: not_null("x", severity="fatal"), "not a check severity"),
        (lambda: freshness("ts", max_age=3), "positive datetime.timedelta"),
        (lambda: relationships("cid", to="customers"), "to= is the Dataset"),
        (lambda: Dataset("d", checks=[unique("a"), unique("a")]), "two checks named"),
        (lambda: Dataset("d", checks=["unique"]), "not a check"),
    ],
)
def test_bad_declarations_are_refused_with_the_fix(make: Any, message: str) -> None:
    with pytest.raises(CheckDefinitionError, match=message):
        make()


def settings_env(tmp_path: Path, checks: dict[str, Any]) -> Environment:
    return Environment.from_settings(
        GlacierSettings(
            provider=LocalConfig(base_path=tmp_path / "data"),
            state_dir=tmp_path / "state",
            checks=checks,
        )
    )


def test_settings_relax_error_checks_to_warnings_per_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    dev = settings_env(tmp_path, {"severity": "warn"})
    result = staging(dev, BAD).run()
    assert result.ok
    assert {c["severity"] for c in result.tasks["stage_orders"].checks} == {"warn"}


def test_settings_tighten_one_check_of_one_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    prod = settings_env(
        tmp_path, {"datasets": {"stg_orders": {"accepted_values(status)": "error"}}}
    )
    rows = {**GOOD, "status": ["placed", "lost", "placed"]}
    result = staging(prod, rows, severity="warn").run(raise_on_failure=False)
    assert result.tasks["stage_orders"].status == "failed"
    assert result.tasks["build_mart"].status == "skipped"


def test_settings_naming_a_check_the_dataset_lacks_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = settings_env(tmp_path, {"datasets": {"stg_orders": {"unique(id)": "warn"}}})
    with pytest.raises(ConfigError, match=r"name check\(s\) \['unique\(id\)'\]"):
        staging(env, GOOD).run()


def test_check_settings_refuse_unknown_fields_and_severities() -> None:
    with pytest.raises(ConfigError, match="severity"):
        CheckSettings(severity="fatal")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown field"):
        CheckSettings(datasetz={})  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="has an empty key: a check is named by its name"):
        CheckSettings(datasets={"orders": {" ": "warn"}})


def test_junit_has_a_test_case_per_check(env: Environment, tmp_path: Path) -> None:
    result = staging(env, BAD).run(raise_on_failure=False)
    path = tmp_path / "report.xml"
    write_junit_xml(path, result)
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    cases = {
        c.get("name"): c for c in suite.iter("testcase") if ".checks" in c.get("classname", "")
    }
    assert len(cases) == 6  # 4 on stg_orders, 2 on stg_customers
    assert cases["stg_orders: unique(order_id)"].find("failure") is not None
    assert cases["stg_customers: unique(customer_id)"].find("failure") is None
    assert suite.get("tests") == str(3 + 6)


def test_lineage_events_carry_the_data_quality_assertions(env: Environment, tmp_path: Path) -> None:
    from glacier.lineage import lineage_hook, settings_from_target

    events_file = tmp_path / "lineage.ndjson"
    pipeline = staging(env, BAD)
    hook = lineage_hook(settings_from_target(str(events_file)), pipeline=pipeline, env=env)
    pipeline.run(raise_on_failure=False, hooks=[hook])
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    (end,) = [
        e for e in events if e["job"]["name"] == "jaffle.stage_orders" and e["eventType"] == "FAIL"
    ]
    (checked,) = [i for i in end["inputs"] if "inputFacets" in i]
    facet = checked["inputFacets"]["dataQualityAssertions"]
    assert "DataQualityAssertionsDatasetFacet.json" in facet["_schemaURL"]
    unique_order = next(a for a in facet["assertions"] if a["name"] == "unique(order_id)")
    assert unique_order["success"] is False
    assert (unique_order["assertion"], unique_order["column"]) == ("unique", "order_id")
    assert checked["name"].endswith("stg_orders.parquet")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    import distributed

    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None
    ) as local:
        yield local


def test_checks_gate_on_dask_too(cluster: Any, env: Environment) -> None:
    from glacier.executors.dask import DaskExecutor

    result = staging(env, BAD).run(
        executor=DaskExecutor(cluster.scheduler_address), raise_on_failure=False
    )
    assert result.tasks["stage_orders"].status == "failed"
    assert result.tasks["build_mart"].status == "skipped"
    found = checks_of(result, "stage_orders")
    assert found["relationships(customer_id -> stg_customers.customer_id)"]["failing_rows"] == 1
    assert found["unique(order_id)"]["failing_rows"] == 2


def test_data_flow_tasks_take_checks_and_a_failure_stops_the_body(tmp_path: Path) -> None:
    from glacier.errors import PipelineRunError

    env = Environment.local(tmp_path / "data")
    reached: list[str] = []

    @env.task(checks=[unique("id"), accepted_values("s", ["a"], severity="warn")])
    def extract(ids: list[int]) -> pl.DataFrame:
        return pl.DataFrame({"id": ids, "s": ["a", "b"][: len(ids)]})

    @env.task()
    def load(frame: pl.DataFrame) -> int:
        reached.append("load")
        return frame.height

    @env.pipeline()
    def flow(ids: list[int]) -> int:
        return load(extract(ids))

    result = flow.run(args=([1, 2],))
    assert result.output == 2
    checks = {c["check"]: c["status"] for c in result.tasks["extract"].checks}
    assert checks == {"unique(id)": "passed", "accepted_values(s)": "warned"}
    with pytest.raises(PipelineRunError) as caught:
        flow.run(args=([3, 3],))
    assert reached == ["load"]  # the second run stopped at the failed check
    failed = caught.value.result.tasks["extract"]
    assert isinstance(failed.error, CheckFailedError)
    assert failed.checks[0]["failing_rows"] == 2


def test_pipeline_tasks_refuse_checks_and_point_at_the_dataset() -> None:
    pipeline = Pipeline("p")
    with pytest.raises(CheckDefinitionError, match="belong to the datasets a task returns"):
        pipeline.task(checks=[unique("id")])


def test_relationships_on_dask_returns_both_results(cluster: Any, env: Environment) -> None:
    from glacier.executors.dask import DaskExecutor

    result = foreign_key(env).run(executor=DaskExecutor(cluster.scheduler_address))
    assert result.tasks["make_orders"].checks[0]["status"] == "passed"
    # make_customers now precedes make_orders, yet it is still a result of the run.
    assert result["customers"].collect()["id"].to_list() == [1, 2]
    assert result["orders"].collect().height == 3

"""``glacier test``: the data checks of a pipeline against what is stored, like ``dbt test``."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from .commands import invoke

PIPELINE = textwrap.dedent(
    """
    import polars as pl
    from glacier import Dataset, Pipeline
    from glacier.checks import accepted_values, not_null, unique

    pipeline = Pipeline("shop")
    customers = Dataset("customers", storage="customers.parquet", checks=[unique("id")])
    orders = Dataset(
        "orders",
        storage="orders.parquet",
        checks=[unique("order_id"), accepted_values("status", ["placed"], severity="warn")],
    )
    scratch = Dataset("scratch", checks=[not_null("x")])

    @pipeline.task()
    def make_customers() -> customers:
        raise RuntimeError("glacier test must not run tasks")

    @pipeline.task()
    def make_orders(c: customers) -> orders:
        raise RuntimeError("glacier test must not run tasks")

    @pipeline.task()
    def make_scratch(o: orders) -> scratch:
        raise RuntimeError("glacier test must not run tasks")
    """
)


def write_project(project: Path, order_ids: list[int]) -> None:
    import polars as pl

    (project / "shop.py").write_text(PIPELINE)
    pl.DataFrame({"id": [1, 2]}).write_parquet(project / "customers.parquet")
    pl.DataFrame(
        {"order_id": order_ids, "status": ["placed", "lost"][: len(order_ids)]}
    ).write_parquet(project / "orders.parquet")


def test_stored_data_that_passes_exits_0_and_runs_no_task(project: Path) -> None:
    write_project(project, [1, 2])
    code, out, _ = invoke("test", "shop.py")
    assert code == 0, out
    assert "3 check(s): 2 passed, 1 warned, 0 failed" in out
    assert "not tested (in memory only, nothing stored): scratch" in out


def test_a_failed_error_check_exits_1_with_its_failing_rows(project: Path) -> None:
    write_project(project, [7, 7])
    code, out, _ = invoke("test", "shop.py", "--junit-xml", "report.xml")
    assert code == 1
    assert "unique(order_id)" in out and "failed" in out
    assert '{"order_id": 7, "status": "placed"}' in out
    assert 'failures="1"' in (project / "report.xml").read_text()


def test_select_tests_only_the_matching_datasets(project: Path) -> None:
    write_project(project, [7, 7])
    code, out, _ = invoke("test", "shop.py", "--select", "cust*", "--json")
    assert code == 0
    records = json.loads(out)
    assert [(r["dataset"], r["check"], r["status"]) for r in records] == [
        ("customers", "unique(id)", "passed")
    ]


def test_select_matching_no_dataset_with_checks_is_a_usage_error(project: Path) -> None:
    write_project(project, [1])
    code, _, err = invoke("test", "shop.py", "--select", "nothing")
    assert code == 2
    assert "--select 'nothing' matches no dataset with checks" in err


def test_runs_show_prints_each_check_of_a_run(project: Path) -> None:
    (project / "p.py").write_text(
        textwrap.dedent(
            """
            import polars as pl
            from glacier import Dataset, Pipeline
            from glacier.checks import unique

            pipeline = Pipeline("p")
            data = Dataset("data", storage="data.parquet", checks=[unique("id")])

            @pipeline.task()
            def make() -> data:
                return pl.DataFrame({"id": [3, 3]})
            """
        )
    )
    code, out, _ = invoke("run", "p.py", "--json")
    assert code == 1
    record = json.loads(out)
    (task,) = record["tasks"]
    assert task["checks"][0]["failing_rows"] == 2
    code, shown, _ = invoke("runs", "show", record["run_id"])
    assert code == 0
    assert "unique(id)" in shown and "failing rows of data: unique(id)" in shown

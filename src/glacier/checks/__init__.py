"""Data checks on datasets, as dbt's tests and Dagster's asset checks: declared with the data.

::

    from glacier.checks import accepted_values, not_null, relationships, unique

    orders = Dataset(
        "orders",
        storage="data/orders.parquet",
        checks=[
            unique("order_id"),
            not_null(["order_id", "customer_id"]),
            accepted_values("status", ["placed", "shipped", "completed", "returned"]),
            relationships("customer_id", to=customers, field="customer_id"),
        ],
    )

    @pipeline.check(orders, severity="warn")
    def no_future_orders(orders: pl.LazyFrame) -> pl.LazyFrame:
        return orders.filter(pl.col("order_date") > pl.lit(date.today()))

A dataset's checks run right after its producer, on the data as written, in one lazy pass
where they allow. A failing check of severity ``error`` (the default) fails the producing task
with :class:`~glacier.errors.CheckFailedError` and skips the dataset's consumers, as
``dbt build`` does; one of severity ``warn`` is recorded and nothing stops. The settings'
``[checks]`` section changes severities per environment (:mod:`glacier.settings.checks`);
``glacier test FILE`` runs the checks against what is stored, like ``dbt test``.

Where each part lives: :mod:`~glacier.checks.builtins` (the checks),
:mod:`~glacier.checks.evaluate` (evaluating a dataset's checks on a frame),
:mod:`~glacier.checks.gate` (the checks of a run: when they run, what a failure stops),
:mod:`~glacier.checks.report` (results for JUnit and OpenLineage).
"""

from glacier.checks.builtins import (
    SEVERITIES,
    Check,
    accepted_values,
    custom,
    expect,
    freshness,
    not_null,
    relationships,
    row_count,
    schema,
    unique,
)

__all__ = [
    "SEVERITIES",
    "Check",
    "accepted_values",
    "custom",
    "expect",
    "freshness",
    "not_null",
    "relationships",
    "row_count",
    "schema",
    "unique",
]

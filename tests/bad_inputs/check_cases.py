"""Bad inputs of data checks (``glacier.checks``, ``Dataset(checks=)``, ``@pipeline.check``,
the settings' ``[checks]``), as rows of the catalogue (see ``catalogue.py``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

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
from glacier.errors import CheckDefinitionError, ConfigError
from glacier.settings import CheckSettings, GlacierSettings, LocalConfig

from .catalogue import Case, rows


def _outside_relationship(tmp: Path) -> Any:
    pipeline = Pipeline("p")
    elsewhere = Dataset("customers", storage="customers.parquet")
    orders = Dataset("orders", checks=[relationships("cid", to=elsewhere, field="id")])

    @pipeline.task()
    def make() -> orders:
        return pl.DataFrame({"cid": [1]})

    return pipeline.validate()


def _check_on_outside_dataset(tmp: Path) -> Any:
    pipeline = Pipeline("p")
    inside, outside = Dataset("inside"), Dataset("outside")

    @pipeline.task()
    def make() -> inside:
        return pl.DataFrame({"x": [1]})

    pipeline.check(outside)(lambda data: True)
    return pipeline.validate()


def _settings_naming_unknown_check(tmp: Path) -> Any:
    env = Environment.from_settings(
        GlacierSettings(
            provider=LocalConfig(base_path=tmp / "data"),
            state_dir=tmp / "state",
            checks={"datasets": {"orders": {"uniqe(order_id)": "warn"}}},
        )
    )
    pipeline = Pipeline("p", env=env)
    orders = Dataset("orders", checks=[unique("order_id")])

    @pipeline.task()
    def make() -> orders:
        return pl.DataFrame({"order_id": [1]})

    return pipeline.run()


CHECKS: list[Case] = (
    rows(
        "glacier.checks built-ins",
        [
            ("unique([])", lambda t: unique([]), CheckDefinitionError, ["unique([])", "give"]),
            (
                "accepted_values([])",
                lambda t: accepted_values("s", []),
                CheckDefinitionError,
                ["non-empty list"],
            ),
            ("row_count()", lambda t: row_count(), CheckDefinitionError, ["min=", "max="]),
            (
                "row_count(min>max)",
                lambda t: row_count(min=5, max=1),
                CheckDefinitionError,
                ["min=5", "max=1"],
            ),
            (
                "row_count(min=-1)",
                lambda t: row_count(min=-1),
                CheckDefinitionError,
                ["min=-1", ">= 0"],
            ),
            (
                "severity='fatal'",
                lambda t: not_null("x", severity="fatal"),
                CheckDefinitionError,
                ["'fatal'", "'warn'"],
            ),
            (
                "freshness(max_age=3)",
                lambda t: freshness("ts", max_age=3),  # type: ignore[arg-type]
                CheckDefinitionError,
                ["max_age=3", "timedelta"],
            ),
            (
                "freshness(max_age<0)",
                lambda t: freshness("ts", max_age=-dt.timedelta(hours=1)),
                CheckDefinitionError,
                ["max_age=", "positive"],
            ),
            (
                "expect(not an expression)",
                lambda t: expect("amount > 0"),  # type: ignore[arg-type]
                CheckDefinitionError,
                ["'amount > 0'", "polars expression"],
            ),
            (
                "schema({'a': int})",
                lambda t: schema({"a": int}),
                CheckDefinitionError,
                ["'a'", "polars type"],
            ),
            (
                "relationships(to='customers')",
                lambda t: relationships("cid", to="customers"),
                CheckDefinitionError,
                ["to='customers'", "Dataset"],
            ),
        ],
    )
    + rows(
        "Dataset(checks=)",
        [
            (
                "a column the schema lacks",
                lambda t: Dataset("d", schema={"id": pl.Int64}, checks=[not_null("amount")]),
                CheckDefinitionError,
                ["'amount'", "its schema lacks", "['id']"],
            ),
            (
                "two checks of one name",
                lambda t: Dataset("d", checks=[unique("a"), unique("a")]),
                CheckDefinitionError,
                ["unique(a)", "give one of them another"],
            ),
            (
                "not a check",
                lambda t: Dataset("d", checks=["unique"]),
                CheckDefinitionError,
                ["'unique'", "glacier.checks"],
            ),
        ],
    )
    + rows(
        "Pipeline.validate (checks)",
        [
            (
                "relationships outside the pipeline",
                _outside_relationship,
                CheckDefinitionError,
                ["'customers'", "outside the pipeline"],
            ),
            (
                "@pipeline.check on a dataset outside it",
                _check_on_outside_dataset,
                CheckDefinitionError,
                ["'outside'", "on a dataset of the pipeline"],
            ),
        ],
    )
    + rows(
        "settings [checks]",
        [
            (
                "severity='fatal'",
                lambda t: CheckSettings(severity="fatal"),  # type: ignore[arg-type]
                ConfigError,
                ["severity", "'fatal'"],
            ),
            (
                "a check name the dataset lacks",
                _settings_naming_unknown_check,
                ConfigError,
                ["uniqe(order_id)", "unique(order_id)", "fix the names"],
            ),
        ],
    )
)

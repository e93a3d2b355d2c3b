"""The built-in data checks, as dbt's generic tests are: each says what a failing row is.

A check is plain data: its name (``unique(order_id)``), its severity, the columns it reads, and
how to evaluate it. Most are a row predicate (true on a failing row) or an aggregate, so the
checks of a dataset are evaluated together in one ``select`` (see :mod:`glacier.checks.evaluate`);
``relationships`` joins another dataset and a custom check is the user's function.

Example:
    >>> from glacier.checks import unique, not_null, accepted_values
    >>> [c.name for c in (unique("id"), not_null(["id", "ts"]), accepted_values("s", ["a"]))]
    ['unique(id)', 'not_null(id, ts)', 'accepted_values(s)']
    >>> unique("id", severity="warn").severity
    'warn'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from glacier.errors import CheckDefinitionError

__all__ = [
    "SEVERITIES",
    "AggregateCheck",
    "Check",
    "CustomCheck",
    "RelationshipsCheck",
    "RowCheck",
    "SchemaCheck",
    "accepted_values",
    "check_declarations",
    "check_references",
    "custom",
    "expect",
    "freshness",
    "not_null",
    "relationships",
    "row_count",
    "schema",
    "unique",
]

#: ``error``: a failure stops the dataset's consumers (as in ``dbt build``); ``warn``: it is
#: recorded and nothing stops.
SEVERITIES = ("error", "warn")


@dataclass(frozen=True, slots=True)
class Check:
    """One data check on a dataset: its name (unique per dataset), its severity, and the
    columns it reads (a column the data lacks fails the check, naming it)."""

    name: str
    severity: str
    columns: tuple[str, ...]

    def with_severity(self, severity: str) -> Check:
        """This check with another severity (the settings' ``[checks]`` override)."""
        return self if severity == self.severity else replace(self, severity=severity)


@dataclass(frozen=True, slots=True)
class RowCheck(Check):
    """A check whose ``failing`` expression is true on each failing row."""

    failing: pl.Expr


@dataclass(frozen=True, slots=True)
class AggregateCheck(Check):
    """A check on one aggregate of the data (``measure``), judged by ``judge``: a message
    when the value fails, ``None`` when it passes."""

    measure: pl.Expr
    judge: Callable[[Any], str | None]


@dataclass(frozen=True, slots=True)
class SchemaCheck(Check):
    """The data has these columns with these types (other columns are allowed)."""

    expected: Mapping[str, Any]

    def problems(self, actual: Mapping[str, Any]) -> list[str]:
        """What differs between ``actual`` (a frame's schema) and what is expected."""
        out = [f"column {c!r} is missing" for c in self.expected if c not in actual]
        out += [
            f"column {c!r} is {actual[c]}, not {t}"
            for c, t in self.expected.items()
            if c in actual and actual[c] != t
        ]
        return out


@dataclass(frozen=True, slots=True)
class RelationshipsCheck(Check):
    """Every non-null ``columns[0]`` is a ``field`` of dataset ``to`` (a foreign key)."""

    to: Any
    field: str


@dataclass(frozen=True, slots=True)
class CustomCheck(Check):
    """A user's function of the data (a LazyFrame): returns the failing rows (a frame, empty
    when it passes) or a bool (``True``: passes)."""

    fn: Callable[[pl.LazyFrame], Any]


def unique(columns: str | Sequence[str], *, severity: str = "error") -> RowCheck:
    """No two rows share a (non-null) value of ``columns``; the failing rows are those whose
    value repeats. dbt: ``unique`` (on one column; several columns: dbt_utils'
    ``unique_combination_of_columns``)."""
    cols = _columns("unique", columns)
    key = pl.col(cols[0]) if len(cols) == 1 else pl.struct(cols)
    present = pl.any_horizontal([pl.col(c).is_not_null() for c in cols])
    return RowCheck(
        f"unique({', '.join(cols)})", _severity(severity), cols, key.is_duplicated() & present
    )


def not_null(columns: str | Sequence[str], *, severity: str = "error") -> RowCheck:
    """No row has a null in any of ``columns``. dbt: ``not_null``."""
    cols = _columns("not_null", columns)
    return RowCheck(
        f"not_null({', '.join(cols)})",
        _severity(severity),
        cols,
        pl.any_horizontal([pl.col(c).is_null() for c in cols]),
    )


def accepted_values(column: str, values: Iterable[Any], *, severity: str = "error") -> RowCheck:
    """Every non-null ``column`` is one of ``values``. dbt: ``accepted_values``."""
    (col,) = _columns("accepted_values", column, one=True)
    allowed = list(values) if not isinstance(values, str) else None
    if not allowed:
        raise CheckDefinitionError(
            f"accepted_values({col!r}, {values!r}): give the accepted values as a non-empty "
            "list, e.g. accepted_values('status', ['placed', 'shipped'])."
        )
    return RowCheck(
        f"accepted_values({col})",
        _severity(severity),
        (col,),
        pl.col(col).is_not_null() & ~pl.col(col).is_in(allowed),
    )


def expect(expression: pl.Expr, *, name: str | None = None, severity: str = "error") -> RowCheck:
    """``expression`` holds on every row (a row where it is false or null fails).
    dbt: dbt_utils' ``expression_is_true``.

    >>> expect(pl.col("amount") >= 0, name="amount_not_negative").columns
    ('amount',)
    """
    if not isinstance(expression, pl.Expr):
        raise CheckDefinitionError(
            f"expect({expression!r}): give a polars expression that is true on every good row, "
            "e.g. expect(pl.col('amount') >= 0, name='amount_not_negative')."
        )
    label = name if name is not None else f"expect({_short(str(expression))})"
    _name("expect", label)
    columns = tuple(dict.fromkeys(expression.meta.root_names()))
    return RowCheck(label, _severity(severity), columns, ~expression.fill_null(False))


def row_count(
    min: int | None = None,  # the names dbt users know
    max: int | None = None,
    *,
    severity: str = "error",
) -> AggregateCheck:
    """The dataset has at least ``min`` and at most ``max`` rows. dbt: dbt_utils'
    ``expression_is_true`` on ``count(*)``; dbt-expectations'
    ``expect_table_row_count_to_be_between``.
    """
    for label, bound in (("min", min), ("max", max)):
        if bound is not None and (
            isinstance(bound, bool) or not isinstance(bound, int) or bound < 0
        ):
            raise CheckDefinitionError(
                f"row_count({label}={bound!r}): give a whole number of rows >= 0, e.g. "
                "row_count(min=1)."
            )
    if min is None and max is None:
        raise CheckDefinitionError("row_count(): give min=, max= or both, e.g. row_count(min=1).")
    if min is not None and max is not None and min > max:
        raise CheckDefinitionError(
            f"row_count(min={min}, max={max}): min is above max; give min <= max."
        )
    lo, hi = min, max

    def judge(rows: Any) -> str | None:
        if lo is not None and rows < lo:
            return f"{rows} rows, fewer than min={lo}"
        if hi is not None and rows > hi:
            return f"{rows} rows, more than max={hi}"
        return None

    bounds = ", ".join(f"{k}={v}" for k, v in (("min", lo), ("max", hi)) if v is not None)
    return AggregateCheck(f"row_count({bounds})", _severity(severity), (), pl.len(), judge)


def freshness(column: str, *, max_age: dt.timedelta, severity: str = "error") -> AggregateCheck:
    """The newest ``column`` (a date or datetime; a naive one is taken as UTC) is at most
    ``max_age`` old. dbt: a source's ``freshness`` (``loaded_at_field``, ``error_after``)."""
    (col,) = _columns("freshness", column, one=True)
    if not isinstance(max_age, dt.timedelta) or max_age <= dt.timedelta(0):
        raise CheckDefinitionError(
            f"freshness({col!r}, max_age={max_age!r}): max_age is a positive "
            "datetime.timedelta, e.g. max_age=timedelta(hours=6)."
        )

    def judge(newest: Any) -> str | None:
        if newest is None:
            return f"no value in {col!r} (no rows, or all null)"
        if isinstance(newest, dt.datetime):
            at = newest if newest.tzinfo else newest.replace(tzinfo=dt.UTC)
        elif isinstance(newest, dt.date):
            at = dt.datetime(newest.year, newest.month, newest.day, tzinfo=dt.UTC)
        else:
            return f"column {col!r} holds {type(newest).__name__}, not a date or datetime"
        age = dt.datetime.now(dt.UTC) - at
        if age > max_age:
            return f"newest {col} is {newest} ({age} old), older than max_age={max_age}"
        return None

    return AggregateCheck(
        f"freshness({col})", _severity(severity), (col,), pl.col(col).max(), judge
    )


def schema(columns: Mapping[str, Any], *, severity: str = "error") -> SchemaCheck:
    """The data has these columns with these polars types (other columns are allowed).
    dbt: a model contract's ``columns`` with ``data_type``."""
    if not isinstance(columns, Mapping) or not columns:
        raise CheckDefinitionError(
            f"schema({columns!r}): give a mapping of column names to polars types, e.g. "
            "schema({'order_id': pl.Int64})."
        )
    for col, dtype in columns.items():
        is_type = isinstance(dtype, pl.DataType) or (
            isinstance(dtype, type) and issubclass(dtype, pl.DataType)
        )
        if not isinstance(col, str) or not is_type:
            raise CheckDefinitionError(
                f"schema(...): {col!r}: {dtype!r} is not a column name with a polars type; "
                "give e.g. {'amount': pl.Float64}."
            )
    return SchemaCheck("schema", _severity(severity), (), dict(columns))


def relationships(
    column: str, *, to: Any, field: str | None = None, severity: str = "error"
) -> RelationshipsCheck:
    """Every non-null ``column`` is a ``field`` (default: the same name) of dataset ``to``,
    which must be part of the pipeline. dbt: ``relationships``."""
    (col,) = _columns("relationships", column, one=True)
    target = getattr(to, "name", None)
    if not isinstance(target, str) or not hasattr(to, "is_stored"):
        raise CheckDefinitionError(
            f"relationships({col!r}, to={to!r}): to= is the Dataset the column refers to, "
            f"e.g. relationships({col!r}, to=customers, field='customer_id')."
        )
    key = field if field is not None else col
    _columns("relationships", key, one=True)
    return RelationshipsCheck(
        f"relationships({col} -> {target}.{key})", _severity(severity), (col,), to, key
    )


def custom(
    fn: Callable[[pl.LazyFrame], Any], *, name: str | None = None, severity: str = "error"
) -> CustomCheck:
    """A check from a function of the data returning its failing rows or a bool (what
    ``@pipeline.check(dataset)`` registers). dbt: a singular test."""
    if not callable(fn):
        raise CheckDefinitionError(f"A custom check is a function of the data; got {fn!r}.")
    label = name if name is not None else getattr(fn, "__name__", "check")
    _name("custom check", label)
    return CustomCheck(label, _severity(severity), (), fn)


def check_declarations(
    dataset: str, checks: Iterable[Any], known: Mapping[str, Any] | None
) -> tuple[Check, ...]:
    """A dataset's ``checks=`` checked where it is declared: checks, no name twice, and (when
    the dataset's schema is ``known``) only columns it has.

    >>> check_declarations("t", [unique("id")], {"ID": pl.Int64})
    Traceback (most recent call last):
    ...
    glacier.errors.CheckDefinitionError: Dataset 't': check unique(id) names column 'id', ...
    """
    out: list[Check] = []
    if isinstance(checks, Check) or not isinstance(checks, Iterable):
        checks = [checks]
    for c in checks:
        if not isinstance(c, Check):
            raise CheckDefinitionError(
                f"Dataset {dataset!r}: checks= holds {c!r}, which is not a check; use those of "
                "glacier.checks, e.g. checks=[unique('id'), not_null('id')]."
            )
        out.append(c)
    names = [c.name for c in out]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise CheckDefinitionError(
            f"Dataset {dataset!r} has two checks named {twice}; a check's name keys its "
            "results and settings: give one of them another (e.g. name= on expect)."
        )
    if known is not None:
        for c in out:
            missing = [col for col in c.columns if col not in known]
            if missing:
                raise CheckDefinitionError(
                    f"Dataset {dataset!r}: check {c.name} names column {missing[0]!r}, which "
                    f"its schema lacks (its columns: {list(known)}); fix the column name or "
                    "the schema."
                )
    return tuple(out)


def check_references(
    pipeline: str,
    checks: Mapping[Any, Sequence[Check]],
    registered: Iterable[Any],
    datasets: Iterable[Any],
) -> None:
    """Refuse, when the pipeline's DAG is built, checks that reach outside it: a
    ``relationships`` check to a dataset no task of the pipeline consumes or produces, or a
    ``@pipeline.check`` on such a dataset. ``checks`` maps each dataset of the pipeline that has
    checks to them; ``registered`` are the datasets ``@pipeline.check`` was given; ``datasets``
    are the pipeline's."""
    known = set(datasets)
    names = {ds.name for ds in known}
    for ds in registered:
        if ds not in known:
            raise CheckDefinitionError(
                f"Pipeline {pipeline!r}: @pipeline.check({ds.name!r}) is on a dataset no task "
                f"of the pipeline consumes or produces (its datasets: {sorted(names)}); use "
                "@pipeline.check on a dataset of the pipeline."
            )
    for ds, own in checks.items():
        for c in own:
            if isinstance(c, RelationshipsCheck) and c.to not in known:
                raise CheckDefinitionError(
                    f"Pipeline {pipeline!r}: dataset {ds.name!r}'s check {c.name} refers to "
                    f"dataset {c.to.name!r}, which is outside the pipeline (no task consumes or "
                    "produces it); refer to a dataset of the pipeline, or make a task read it."
                )
            other = getattr(c.to, "schema", None) if isinstance(c, RelationshipsCheck) else None
            if other is not None and isinstance(c, RelationshipsCheck) and c.field not in other:
                raise CheckDefinitionError(
                    f"Pipeline {pipeline!r}: dataset {ds.name!r}'s check {c.name} names column "
                    f"{c.field!r} of {c.to.name!r}, whose schema lacks it (its columns: "
                    f"{list(other)}); fix the field name."
                )


def _columns(kind: str, columns: Any, *, one: bool = False) -> tuple[str, ...]:
    cols = (columns,) if isinstance(columns, str) else tuple(columns or ())
    if not cols or not all(isinstance(c, str) and c for c in cols) or (one and len(cols) != 1):
        what = "one column name" if one else "a column name or a list of them"
        raise CheckDefinitionError(f"{kind}({columns!r}): give {what}, e.g. {kind}('order_id').")
    return cols


def _severity(severity: Any) -> str:
    if severity not in SEVERITIES:
        raise CheckDefinitionError(
            f"severity={severity!r} is not a check severity; use 'error' (a failure skips the "
            "dataset's consumers) or 'warn' (recorded, nothing stops)."
        )
    return str(severity)


def _name(kind: str, name: Any) -> None:
    if not isinstance(name, str) or not name.strip():
        raise CheckDefinitionError(
            f"{kind}: name={name!r} is not a name; give a short one, e.g. name='amount_positive'."
        )


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."

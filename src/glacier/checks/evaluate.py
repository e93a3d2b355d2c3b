"""Evaluating a dataset's checks on its data, in one lazy pass where the checks allow.

Row checks (``unique``, ``not_null``, ``accepted_values``, ``expect``) become a count of their
failing rows and aggregate checks (``row_count``, ``freshness``) their aggregate: all in one
``select``, so polars reads the data once and computes them together. Only a check that fails
costs a second look, for up to :data:`SAMPLE_ROWS` of its failing rows. ``schema`` needs the
schema only; ``relationships`` is an anti-join with the other dataset; a custom check is the
user's function.

Example:
    >>> import polars as pl
    >>> from glacier.checks import unique, not_null
    >>> frame = pl.DataFrame({"id": [1, 2, 2, None]})
    >>> results = evaluate("t", [unique("id"), not_null("id")], frame)
    >>> [(r.check, r.status, r.failing_rows) for r in results]
    [('unique(id)', 'failed', 2), ('not_null(id)', 'failed', 1)]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from glacier.checks.builtins import (
    AggregateCheck,
    Check,
    CustomCheck,
    RelationshipsCheck,
    RowCheck,
    SchemaCheck,
)

__all__ = ["FAILED", "PASSED", "SAMPLE_ROWS", "WARNED", "CheckResult", "evaluate"]

#: How many failing rows a result keeps (the record's sample; the count is exact).
SAMPLE_ROWS = 10

PASSED = "passed"
#: A failed check of severity ``warn``.
WARNED = "warned"
#: A failed check of severity ``error``: the dataset's consumers do not run.
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one check on one dataset.

    ``failing_rows`` counts the rows that fail a row check (``None`` for checks on the whole
    dataset: schema, row count, freshness); ``sample`` holds up to :data:`SAMPLE_ROWS` of them;
    ``message`` says what failed (empty when it passed). ``duration_ns`` is the time of the
    dataset's checks shared out equally among them (the built-ins run as one query).
    """

    dataset: str
    check: str
    severity: str
    status: str
    failing_rows: int | None = None
    sample: tuple[dict[str, Any], ...] = ()
    message: str = ""
    duration_ns: int = 0
    columns: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        """Whether the check held."""
        return self.status == PASSED

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form, as kept in the run record."""
        return {
            "dataset": self.dataset,
            "check": self.check,
            "severity": self.severity,
            "status": self.status,
            "failing_rows": self.failing_rows,
            "sample": list(self.sample),
            "message": self.message,
            "duration_ns": self.duration_ns,
            "columns": list(self.columns),
        }


def evaluate(
    dataset: str,
    checks: Sequence[Check],
    data: Any,
    *,
    lookup: Callable[[Any], Any] | None = None,
) -> list[CheckResult]:
    """Evaluate ``checks`` on ``data`` (a polars DataFrame or LazyFrame) of ``dataset``.

    ``lookup(to)`` gives the data of another dataset, for ``relationships``. A check that
    cannot be evaluated (a column the data lacks, a type its values do not compare with)
    fails, its message naming why; it never stops the other checks.
    """
    if not checks:
        return []
    t0 = time.perf_counter_ns()
    if isinstance(data, pl.DataFrame):
        data = data.lazy()
    if not isinstance(data, pl.LazyFrame):
        message = (
            f"the data of {dataset!r} is a {type(data).__name__}, not a polars frame: checks "
            "read frames"
        )
        return [_failed(dataset, c, message) for c in checks]
    try:
        actual = dict(data.collect_schema())
    except Exception as exc:  # e.g. nothing stored yet: every check says so, none stops
        return [_failed(dataset, c, f"the data cannot be read: {_error(exc)}") for c in checks]
    results: dict[int, CheckResult] = {}
    batched: list[tuple[int, Check, pl.Expr]] = []
    for k, check in enumerate(checks):
        missing = [c for c in check.columns if c not in actual]
        if missing:
            results[k] = _failed(
                dataset,
                check,
                f"column {missing[0]!r} is not in dataset {dataset!r} (its columns: "
                f"{list(actual)})",
            )
        elif isinstance(check, SchemaCheck):
            problems = check.problems(actual)
            results[k] = _result(dataset, check, "; ".join(problems), None)
        elif isinstance(check, RowCheck):
            batched.append((k, check, check.failing.sum().alias(f"_{k}")))
        elif isinstance(check, AggregateCheck):
            batched.append((k, check, check.measure.alias(f"_{k}")))
    values = _one_pass(data, batched)
    for k, check, _ in batched:
        value = values[k]
        if isinstance(value, BaseException):
            results[k] = _failed(dataset, check, f"could not be evaluated: {_error(value)}")
        elif isinstance(check, RowCheck):
            failing = int(value or 0)
            sample = _sample(data.filter(check.failing)) if failing else ()
            message = f"{failing} failing row(s)" if failing else ""
            results[k] = _result(dataset, check, message, failing, sample)
        else:
            assert isinstance(check, AggregateCheck)
            results[k] = _result(dataset, check, check.judge(value) or "", None)
    for k, check in enumerate(checks):
        if k in results:
            continue
        try:
            if isinstance(check, RelationshipsCheck):
                results[k] = _relationships(dataset, check, data, lookup)
            elif isinstance(check, CustomCheck):
                results[k] = _custom(dataset, check, data)
            else:  # pragma: no cover - every kind of check is handled above
                raise TypeError(f"unknown kind of check {type(check).__name__}")
        except Exception as exc:
            results[k] = _failed(dataset, check, f"could not be evaluated: {_error(exc)}")
    per_check = (time.perf_counter_ns() - t0) // len(checks)
    return [_timed(results[k], per_check) for k in range(len(checks))]


def _one_pass(data: pl.LazyFrame, batched: Sequence[tuple[int, Check, pl.Expr]]) -> dict[int, Any]:
    """Every batched check's value from one ``select``; if that fails (one check's types do
    not fit the data), each check alone, so only the broken one fails."""
    if not batched:
        return {}
    try:
        row = data.select([e for _, _, e in batched]).collect().row(0, named=True)
        return {k: row[f"_{k}"] for k, _, _ in batched}
    except pl.exceptions.PolarsError:
        out: dict[int, Any] = {}
        for k, _, expr in batched:
            try:
                out[k] = data.select(expr).collect().item()
            except pl.exceptions.PolarsError as exc:
                out[k] = exc
        return out


def _relationships(
    dataset: str,
    check: RelationshipsCheck,
    data: pl.LazyFrame,
    lookup: Callable[[Any], Any] | None,
) -> CheckResult:
    (column,) = check.columns
    target = check.to.name
    other = lookup(check.to) if lookup is not None else None
    if isinstance(other, pl.DataFrame):
        other = other.lazy()
    if not isinstance(other, pl.LazyFrame):
        return _failed(
            dataset,
            check,
            f"dataset {target!r} has no data here (it is not stored, and not produced in this "
            "run); store it, or run its producer in the same run",
        )
    if check.field not in other.collect_schema():
        return _failed(
            dataset,
            check,
            f"column {check.field!r} is not in dataset {target!r} (its columns: "
            f"{list(other.collect_schema())})",
        )
    keys = other.select(pl.col(check.field).alias("__glacier_key")).unique()
    orphans = data.filter(pl.col(column).is_not_null()).join(
        keys, left_on=column, right_on="__glacier_key", how="anti"
    )
    failing = int(orphans.select(pl.len()).collect().item())
    sample = _sample(orphans) if failing else ()
    message = f"{failing} row(s) whose {column} is not a {target}.{check.field}" if failing else ""
    return _result(dataset, check, message, failing, sample)


def _custom(dataset: str, check: CustomCheck, data: pl.LazyFrame) -> CheckResult:
    value = check.fn(data)
    if isinstance(value, bool):
        return _result(dataset, check, "" if value else "returned False", None)
    if isinstance(value, pl.DataFrame):
        value = value.lazy()
    if isinstance(value, pl.LazyFrame):
        failing = int(value.select(pl.len()).collect().item())
        sample = _sample(value) if failing else ()
        return _result(
            dataset, check, f"{failing} failing row(s)" if failing else "", failing, sample
        )
    return _failed(
        dataset,
        check,
        f"returned a {type(value).__name__}; a check function returns the failing rows (a "
        "polars frame, empty when the data is good) or a bool (True: good)",
    )


def _sample(rows: pl.LazyFrame) -> tuple[dict[str, Any], ...]:
    return tuple(rows.head(SAMPLE_ROWS).collect().to_dicts())


def _result(
    dataset: str,
    check: Check,
    message: str,
    failing: int | None,
    sample: tuple[dict[str, Any], ...] = (),
) -> CheckResult:
    """``check``'s result: passed when there is no ``message``, else failed or warned."""
    status = PASSED if not message else (FAILED if check.severity == "error" else WARNED)
    return CheckResult(
        dataset, check.name, check.severity, status, failing, sample, message, 0, check.columns
    )


def _failed(dataset: str, check: Check, message: str) -> CheckResult:
    return _result(dataset, check, message, None)


def _timed(result: CheckResult, duration_ns: int) -> CheckResult:
    return CheckResult(
        result.dataset,
        result.check,
        result.severity,
        result.status,
        result.failing_rows,
        result.sample,
        result.message,
        duration_ns,
        result.columns,
    )


def _error(exc: BaseException) -> str:
    first = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {first[0] if first else ''}"


def results_from(records: Sequence[Mapping[str, Any]]) -> list[CheckResult]:
    """Results back from their records (:meth:`CheckResult.as_dict`), e.g. a stored run's."""
    return [
        CheckResult(
            r["dataset"],
            r["check"],
            r["severity"],
            r["status"],
            r.get("failing_rows"),
            tuple(r.get("sample") or ()),
            r.get("message", ""),
            int(r.get("duration_ns") or 0),
            tuple(r.get("columns") or ()),
        )
        for r in records
    ]

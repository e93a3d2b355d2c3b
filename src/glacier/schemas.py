"""Schema comparison: which columns of a frame are missing, unexpected or of another type
than a schema says. The one comparison behind every schema check: a task's output against its
dataset's declared schema (:mod:`glacier.executors.base`), an append to a stored object
(:mod:`glacier.adapters.bucket`) and a table's schema-evolution policy
(:func:`glacier.adapters.tables.check_evolution`).

>>> import polars as pl
>>> diff = compare_schemas({"a": pl.Int64, "b": pl.String}, {"a": pl.String, "c": pl.Int64})
>>> diff.describe()
"missing columns ['b'], unexpected columns ['c'], different types (a: expected Int64, got String)"
>>> bool(compare_schemas({"a": pl.Int64}, {"a": pl.Null}, nulls_match=True))
False
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

__all__ = ["SchemaDiff", "compare_schemas"]


@dataclass(frozen=True)
class SchemaDiff:
    """How an actual schema differs from an expected one (falsy when it does not).

    Attributes:
        missing: Expected columns the actual schema lacks, in the expected order.
        extra: Actual columns the expected schema lacks, in the actual order.
        differing: ``(column, expected type, actual type)`` of the columns in both whose
            types differ, in the expected order.
    """

    missing: tuple[str, ...]
    extra: tuple[str, ...]
    differing: tuple[tuple[str, Any, Any], ...]

    def __bool__(self) -> bool:
        return bool(self.missing or self.extra or self.differing)

    def describe(self, expected: str = "expected", actual: str = "got") -> str:
        """The differences in words: ``missing columns [...], unexpected columns [...],
        different types (c: <expected> T, <actual> U)``."""
        details = []
        if self.missing:
            details.append(f"missing columns {list(self.missing)}")
        if self.extra:
            details.append(f"unexpected columns {list(self.extra)}")
        if self.differing:
            types = "; ".join(f"{c}: {expected} {e}, {actual} {a}" for c, e, a in self.differing)
            details.append(f"different types ({types})")
        return ", ".join(details)


def compare_schemas(
    expected: Mapping[str, Any], actual: Mapping[str, Any], *, nulls_match: bool = False
) -> SchemaDiff:
    """How ``actual`` differs from ``expected`` (column names to polars types).

    Args:
        expected: The schema the data should have (declared, or stored).
        actual: The data's schema.
        nulls_match: Whether a ``Null`` column of ``actual`` matches any type (an all-null
            column says nothing about the type it will be read as).
    """
    return SchemaDiff(
        missing=tuple(c for c in expected if c not in actual),
        extra=tuple(c for c in actual if c not in expected),
        differing=tuple(
            (c, expected[c], actual[c])
            for c in expected
            if c in actual
            and actual[c] != expected[c]
            and not (nulls_match and actual[c] == pl.Null)
        ),
    )

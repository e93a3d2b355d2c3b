"""Hive partitions of a dataset directory, and pruning them by a query's predicate.

polars prunes hive partitions itself when it reads a store natively. Where it cannot reach
the store (memory, the GCS emulator) the bucket adapter fetches whole objects through fsspec,
and this module is what keeps that from fetching partitions the query rules out: it reads the
typed partition values of each file from its key (``.../day=mon/00000000.parquet``) and
decides, from the parts of the predicate that read partition columns alone, whether a file
may hold matching rows.

>>> hive_values("events/day=mon/part.parquet", ["day"])
{'day': 'mon'}
>>> import polars as pl
>>> may_match({"day": "mon"}, pl.Schema({"day": pl.String}), pl.col("day") == "tue")
False
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote

import polars as pl

__all__ = ["HIVE_NULL", "hive_target", "hive_values", "may_match", "partition_values"]

#: The directory name polars gives the partition of a null value.
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def hive_target(path: str, partition_by: Sequence[str]) -> str | pl.PartitionBy:
    """Where polars writes: ``path`` itself, or hive partition directories under it.

    Hive convention: a partition's values are in its directory name, not in its files
    (readers such as ``pyarrow.dataset`` refuse a column that is in both).
    """
    if not partition_by:
        return path
    return pl.PartitionBy(path, key=list(partition_by), include_key=False)


def hive_values(key: str, columns: Sequence[str]) -> dict[str, str | None]:
    """``{"k": "a"}`` from ``.../k=a/file.parquet`` for the given partition columns."""
    values: dict[str, str | None] = {}
    for segment in key.split("/")[:-1]:
        name, sep, raw = segment.partition("=")
        if sep and name in columns:
            values[name] = None if raw == HIVE_NULL else unquote(raw)
    return values


def _infer_hive_dtype(values: pl.Series) -> pl.DataType:
    for dtype in (pl.Int64(), pl.Float64()):
        with contextlib.suppress(pl.exceptions.InvalidOperationError):
            values.cast(dtype, strict=True)
            return dtype
    return pl.String()


def partition_values(
    files: Sequence[str], columns: Sequence[str], known: pl.Schema | None
) -> tuple[pl.Schema, list[dict[str, Any]]]:
    """Typed hive partition values of each file, and their types (``known``, else inferred
    like polars does: integers, then floats, else strings)."""
    raw = [hive_values(key, columns) for key in files]
    types: dict[str, pl.DataType] = {}
    typed: dict[str, list[Any]] = {}
    for column in columns:
        strings = pl.Series(column, [r.get(column) for r in raw], dtype=pl.String)
        dtype = known[column] if known and column in known else _infer_hive_dtype(strings)
        types[column] = dtype
        typed[column] = _typed(strings, dtype).to_list()
    return pl.Schema(types), [{c: typed[c][i] for c in columns} for i in range(len(files))]


def _typed(strings: pl.Series, dtype: pl.DataType) -> pl.Series:
    """A partition column's directory values as ``dtype``. polars names a Boolean partition
    ``k=true``/``k=false`` but cannot cast those strings back to Boolean.

    >>> _typed(pl.Series(["true", "false", None]), pl.Boolean()).to_list()
    [True, False, None]
    """
    if dtype == pl.Boolean:
        words = {"true": True, "false": False}
        return strings.str.to_lowercase().replace_strict(words, return_dtype=pl.Boolean)
    return strings.cast(dtype)


def _conjuncts(predicate: pl.Expr) -> list[pl.Expr]:
    """The AND-ed parts of a predicate (the predicate itself if it is not an AND)."""
    try:
        node = json.loads(predicate.meta.serialize(format="json"))
    except Exception:  # a predicate polars cannot serialise is simply not split
        return [predicate]
    binary = node.get("BinaryExpr") if isinstance(node, dict) else None
    if binary and binary.get("op") in ("And", "LogicalAnd"):
        return [part for sub in predicate.meta.pop() for part in _conjuncts(sub)]
    return [predicate]


def may_match(values: Mapping[str, Any], types: pl.Schema, predicate: pl.Expr | None) -> bool:
    """False only if a part of ``predicate`` that reads partition columns alone rules out
    the partition ``values``; anything undecidable keeps the file."""
    if predicate is None or not values:
        return True
    row = pl.DataFrame({k: [v] for k, v in values.items()}, schema={k: types[k] for k in values})
    for part in _conjuncts(predicate):
        if not set(part.meta.root_names()) <= set(values):
            continue
        try:
            result = row.select(part).to_series()
        except Exception:  # e.g. a function polars cannot evaluate on one row
            continue
        if result.len() == 1 and result[0] is not True:
            return False
    return True

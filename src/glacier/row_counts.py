"""How many rows a write wrote, known without reading the data again.

A run records, per dataset it wrote, the rows of that write (``glacier runs show``, the UI,
lineage). Counting must not cost a second pass over the data:

- an eager ``DataFrame`` knows its height;
- a ``LazyFrame`` written to a Delta table is collected once before the commit (which takes
  a collected frame anyway): its height;
- a ``LazyFrame`` streamed to files is counted as it flows into the writer: :func:`counted`
  puts a pass-through step on top of the query that adds up the height of each batch polars
  hands to the sink, so the count is of what was written, in the same pass (each layout puts
  it after the schema check of a text-format append, whose sample of the query is not a
  write);
- a database table's write receives a collected frame (see
  :func:`glacier.executors.outputs.check_writes`): its height.

Values that are not tables (a model, a text) have no rows: ``None``.

Example:
    >>> import polars as pl
    >>> frame, rows = counted(pl.LazyFrame({"x": [1, 2, 3]}).filter(pl.col("x") > 1))
    >>> frame.collect().height, rows()
    (2, 2)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

__all__ = ["counted", "rows_of"]


def counted(frame: pl.LazyFrame) -> tuple[pl.LazyFrame, Callable[[], int]]:
    """``frame`` with a step that counts the rows passing through it, and the count so far.

    The step keeps the schema and every row; polars may call it from several threads, so
    each batch's height is appended (atomic under the GIL) and summed when asked.
    """
    heights: list[int] = []

    def count(batch: pl.DataFrame) -> pl.DataFrame:
        heights.append(batch.height)
        return batch

    return frame.map_batches(count, streamable=True), lambda: sum(heights)


def rows_of(value: Any, reported: int | None = None) -> int | None:
    """The rows a write of ``value`` wrote: what the store reported, else an eager frame's
    height; ``None`` for a lazy frame nobody counted or a value that is not a table.

    >>> import polars as pl
    >>> rows_of(pl.DataFrame({"x": [1, 2]})), rows_of(pl.LazyFrame({"x": [1]})), rows_of("a")
    (2, None, None)
    """
    if reported is not None:
        return reported
    if isinstance(value, pl.DataFrame):
        return value.height
    return None

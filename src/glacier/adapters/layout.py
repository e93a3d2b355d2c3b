"""What the Bucket adapter asks of a storage layout.

A Bucket's data is in one of three layouts, each in a module of its own: a single object
(:class:`glacier.adapters.objects.ObjectLayout`), a directory of text files with a manifest
(:class:`glacier.adapters.text_datasets.TextDirectoryLayout`) or a Delta table
(:class:`glacier.adapters.table_layout.TableLayout`); a directory in the old ``_glacier/``
manifest layout is read through the latter two (:mod:`glacier.adapters.manifest`). The adapter
(:class:`glacier.adapters.bucket.FsspecBucketAdapter`) chooses the layout once, from the
Bucket's path and format, checks the arguments, translates storage errors, and delegates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import polars as pl

from glacier.adapters.tables import SchemaPolicy, Version

__all__ = ["Layout"]


class Layout(Protocol):
    """One Bucket's data in one layout; arguments arrive checked, errors leave untranslated."""

    def scan(self, version: Version, options: Mapping[str, Any]) -> pl.LazyFrame:
        """A LazyFrame over the current data (or a table's ``version``)."""
        ...

    def read(self, version: Version, options: Mapping[str, Any]) -> pl.DataFrame:
        """The whole data (or a table's ``version``)."""
        ...

    def write(
        self,
        frame: pl.LazyFrame,
        mode: str,
        on: Sequence[str],
        delete_when: str | None,
        schema: SchemaPolicy,
    ) -> int | None:
        """Write ``frame`` atomically in ``mode`` (the modes valid for the layout); returns
        the rows of ``frame`` written, counted as they went (:func:`glacier.row_counts.counted`),
        or ``None`` where the caller knows them (a Delta table's collected frame)."""
        ...

    def exists(self) -> bool:
        """Whether there is data."""
        ...

    def list(self) -> list[str]:
        """Keys (relative to the bucket) of the objects holding the current data."""
        ...

    def delete(self) -> None:
        """Delete the data with all its versions."""
        ...

    def fingerprint(self) -> str:
        """A token that changes when the data changes, from metadata only."""
        ...

"""Reading the files of one snapshot of a Bucket: polars' own readers where polars reaches
the store, else a lazy source fetching whole objects through fsspec at ``collect()``,
skipping the hive partitions a predicate rules out (see :mod:`glacier.adapters.bucket`)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl
from polars.io.plugins import register_io_source

from glacier.adapters.filesystems import (
    NativeAccess,
    Store,
)
from glacier.adapters.manifest import (
    Manifest,
)
from glacier.adapters.partitions import may_match, partition_values
from glacier.formats import Format

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem


__all__ = ["FsspecReads", "Snapshot"]

_FETCH_BATCH = 8  # objects fetched concurrently by the fsspec reader


@dataclass(frozen=True)
class Snapshot:
    """What a read sees: the files of the current version and, when known, their schema."""

    files: tuple[str, ...]
    format: Format
    partition_by: tuple[str, ...] = ()
    schema: pl.Schema | None = None
    manifest: Manifest | None = None


class FsspecReads:
    """The reading half of :class:`~glacier.adapters.bucket.FsspecBucketAdapter`."""

    if TYPE_CHECKING:  # what the Bucket adapter provides
        fs: AbstractFileSystem
        store: Store

        @property
        def native(self) -> NativeAccess | None: ...

        def get_uri(self) -> str: ...
        def _path(self, key: str) -> str: ...
        def _key(self, path: str) -> str: ...
        def _errors(self, action: str) -> contextlib.AbstractContextManager[None]: ...

    def _scan(self, snapshot: Snapshot, options: Mapping[str, Any]) -> pl.LazyFrame:
        fmt = snapshot.format
        if not snapshot.files:  # e.g. a partitioned write of an empty frame
            return pl.LazyFrame(schema=snapshot.schema)
        if self.native is None or fmt.scan is None:
            return self._fsspec_scan(snapshot, options)
        sources = [self.store.native_path(self._path(key)) for key in snapshot.files]
        hive: dict[str, pl.DataType] | None = None
        if snapshot.partition_by and not fmt.typed:
            # polars reads hive partitions of parquet only: the text formats get their
            # partition values from the keys, one scan per file.
            types, values = partition_values(snapshot.files, snapshot.partition_by, snapshot.schema)
            frame = pl.concat(
                [
                    fmt.scan(source, self.native, None, options).with_columns(
                        pl.lit(row[c], dtype=types[c]).alias(c) for c in snapshot.partition_by
                    )
                    for source, row in zip(sources, values, strict=True)
                ],
                how="diagonal_relaxed",
            )
        else:
            if snapshot.partition_by:  # types from the manifest, else polars infers them
                known = snapshot.schema or pl.Schema()
                hive = {c: known[c] for c in snapshot.partition_by if c in known}
            source = sources if hive is not None or len(sources) > 1 else sources[0]
            frame = fmt.scan(source, self.native, hive, options)
        # Hive columns come out where polars puts them; keep the order the data was written in.
        return frame.select(list(snapshot.schema)) if snapshot.schema else frame

    def _fsspec_scan(self, snapshot: Snapshot, options: Mapping[str, Any]) -> pl.LazyFrame:
        """A lazy source that fetches whole objects through fsspec only when collected."""
        cache: dict[str, bytes] = {}  # objects fetched to infer the schema, read once
        resolved: list[pl.Schema] = []

        def schema() -> pl.Schema:
            if not resolved:
                resolved.append(snapshot.schema or self._infer_schema(snapshot, cache, options))
            return resolved[0]

        def source(
            with_columns: list[str] | None,
            predicate: pl.Expr | None,
            n_rows: int | None,
            batch_size: int | None,
        ) -> Iterator[pl.DataFrame]:
            yield from self._fsspec_frames(
                snapshot, options, cache, with_columns, predicate, n_rows
            )

        return register_io_source(
            source,
            schema=schema,
            explain_name=f"glacier:{self.store.protocol}",
            explain_detail=self.get_uri(),
        )

    def _fsspec_frames(
        self,
        snapshot: Snapshot,
        options: Mapping[str, Any],
        cache: dict[str, bytes],
        with_columns: Sequence[str] | None = None,
        predicate: pl.Expr | None = None,
        n_rows: int | None = None,
    ) -> Iterator[pl.DataFrame]:
        """One frame per object, fetched ``_FETCH_BATCH`` at a time; partitions the
        predicate rules out are never fetched."""
        fmt, partition_by = snapshot.format, snapshot.partition_by
        hive_types, partitions = partition_values(snapshot.files, partition_by, snapshot.schema)
        data_columns = None
        if with_columns is not None:
            roots = predicate.meta.root_names() if predicate is not None else []
            data_columns = [c for c in {*with_columns, *roots} if c not in partition_by]
        columns = with_columns if with_columns is not None else snapshot.schema
        wanted = [
            (key, values)
            for key, values in zip(snapshot.files, partitions, strict=True)
            if may_match(values, hive_types, predicate)
        ]
        remaining = n_rows
        # A table's older files lack the columns a schema merge added later: read as nulls.
        read_options = {**options, "missing_columns": "insert"} if fmt.table else options
        with self._errors("read"):
            for start in range(0, len(wanted), _FETCH_BATCH):
                batch = wanted[start : start + _FETCH_BATCH]
                blobs = self._fetch([key for key, _ in batch], cache)
                for key, values in batch:
                    frame = fmt.read(blobs.pop(key), data_columns, read_options)
                    if fmt.table and snapshot.schema:  # columns added after this file
                        frame = frame.with_columns(
                            pl.lit(None, dtype=t).alias(c)
                            for c, t in snapshot.schema.items()
                            if c not in partition_by
                            and (c not in frame.columns or frame[c].dtype == pl.Null)
                        )
                    frame = frame.with_columns(
                        pl.lit(values[c], dtype=hive_types[c]).alias(c) for c in partition_by
                    )
                    if predicate is not None:
                        frame = frame.filter(predicate)
                    if columns is not None:
                        frame = frame.select(list(columns))
                    if remaining is not None:
                        frame = frame.head(remaining)
                        remaining -= frame.height
                    yield frame
                    if remaining == 0:
                        return

    def _fetch(self, keys: Sequence[str], cache: dict[str, bytes]) -> dict[str, bytes]:
        """The bytes of ``keys``, fetched concurrently (async filesystems) unless cached."""
        paths = [self._path(k) for k in keys if k not in cache]
        fetched: dict[str, bytes] = self.fs.cat(paths) if paths else {}
        found = {self._key(p): data for p, data in fetched.items()}
        return {k: cache.pop(k) if k in cache else found[k] for k in keys}

    def _infer_schema(
        self, snapshot: Snapshot, cache: dict[str, bytes], options: Mapping[str, Any]
    ) -> pl.Schema:
        """Schema of data without a manifest: from the first file (its footer, for parquet)."""
        key, fmt = snapshot.files[0], snapshot.format
        path = self._path(key)
        if fmt.typed:
            size = self.fs.size(path)
            tail = self.fs.cat_file(path, start=max(0, size - 65536))
            footer = int.from_bytes(tail[-8:-4], "little") + 8
            if footer > len(tail):
                tail = self.fs.cat_file(path, start=max(0, size - footer))
            data_schema = pl.Schema(pl.read_parquet_schema(io.BytesIO(tail[-footer:])))
        else:
            # Text formats are inferred from the data itself; keep the bytes for the read.
            cache[key] = self.fs.cat_file(path)
            data_schema = fmt.read(cache[key], None, options).schema
        hive, _ = partition_values(snapshot.files, snapshot.partition_by, None)
        return pl.Schema({**data_schema, **{c: t for c, t in hive.items() if c not in data_schema}})

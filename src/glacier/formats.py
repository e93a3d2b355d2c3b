"""The format catalogue: every data format Glacier reads and writes, one row each.

A storage path names its format by its extension (``data/x.jsonl`` is ndjson), a Bucket by
``format=``; both are looked up here, so the extensions, readers and writers of a format are
written once. Adding a format is adding a row to :data:`FORMATS`.

Each :class:`Format` knows how polars scans it lazily from a path or URI (when polars can),
how to read it from bytes fetched through fsspec, and how to write a LazyFrame to a local path
or URI (streaming where the format allows it; a JSON array cannot stream).

This module sits low in the layers (errors, then settings, then formats and storage URIs):
it imports only polars, the standard library and :mod:`glacier.errors`.

>>> format_for_path("data/events.jsonl").name
'ndjson'
>>> sorted(f.name for f in FORMATS.values() if f.partitions)
['delta', 'parquet']
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, Protocol

import polars as pl

from glacier.errors import ConfigError, UnknownFormatError

__all__ = [
    "DEFAULT_FORMAT",
    "FORMATS",
    "TABLE_FORMAT",
    "Format",
    "NativeIO",
    "format_for_path",
    "get_format",
    "resolve_format",
]


class NativeIO(Protocol):
    """How polars' own readers and writers reach a store: the keyword arguments
    (``storage_options``, ``credential_provider``) of ``pl.scan_*`` and ``sink_*``.

    :class:`glacier.adapters.filesystems.NativeAccess` is the implementation; the catalogue
    names only this much of it so that it stays below the adapters in the layers.
    """

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``pl.scan_*`` / ``sink_*``."""
        ...


Source = str | list[str]
#: A local path or URI, a directory of hive partitions, or a writable binary file object.
Target = str | pl.PartitionBy | IO[bytes]
#: Types of hive partition columns, or ``None`` to let polars infer them.
Hive = Mapping[str, pl.DataType] | None
Options = Mapping[str, Any]


@dataclass(frozen=True)
class Format:
    """Readers and writers of one data format.

    Attributes:
        name: The ``format=`` value of a Bucket.
        extensions: File name endings of this format; the first names new files.
        typed: Whether the format stores column types (parquet) or they are inferred on read.
        scan: Lazy reader over paths/URIs through polars' own I/O, or ``None`` when the
            format has no lazy reader (a JSON array).
        read: Eager reader from bytes, with an optional column projection.
        sink: Writer of a LazyFrame to a local path, a URI, a ``PartitionBy`` or a file object.
        partitions: Whether hive-style ``partition_by=`` directories are supported.
        frame: Whether the data is a table (read as a polars frame); formats that hold any
            Python value or raw bytes are not, and have no schema to check or append to.
        cloud_sink: Whether ``sink`` can write to a cloud URI (else the adapter spools the
            file locally and uploads it).
        table: Whether the format is a table format (Delta Lake): a directory of data files
            in another format (``extensions`` are theirs) plus a commit log. It never names
            a single object, and a path's extension never selects it.

    Readers take ``options``: keyword arguments of the matching polars reader
    (``separator=";"`` for CSV, ...), passed on from ``Bucket.scan(**options)``.
    """

    name: str
    extensions: tuple[str, ...]
    typed: bool
    scan: Callable[[Source, NativeIO, Hive, Options], pl.LazyFrame] | None
    read: Callable[[bytes, Sequence[str] | None, Options], pl.DataFrame]
    sink: Callable[[pl.LazyFrame, Target, NativeIO | None], None]
    partitions: bool = False
    frame: bool = True
    cloud_sink: bool = True
    table: bool = False

    @property
    def extension(self) -> str:
        """The ending given to files Glacier writes."""
        return self.extensions[0]


def _list(columns: Sequence[str] | None) -> list[str] | None:
    return list(columns) if columns is not None else None


def _native(access: NativeIO | None) -> dict[str, Any]:
    return access.kwargs() if access is not None else {}


def _mkdir(target: Target) -> dict[str, Any]:
    # Local targets need their parent directory; cloud URIs have no directories.
    if isinstance(target, pl.PartitionBy):
        return {"mkdir": True}
    return {"mkdir": True} if isinstance(target, str) and "://" not in target else {}


# -- parquet -------------------------------------------------------------------------------


def _scan_parquet(source: Source, access: NativeIO, hive: Hive, options: Options) -> pl.LazyFrame:
    return pl.scan_parquet(
        source,
        hive_partitioning=hive is not None,
        hive_schema=dict(hive) if hive else None,
        **access.kwargs(),
        **options,
    )


def _read_parquet(data: bytes, columns: Sequence[str] | None, options: Options) -> pl.DataFrame:
    return pl.read_parquet(data, columns=_list(columns), **options)


def _sink_parquet(frame: pl.LazyFrame, target: Target, access: NativeIO | None) -> None:
    frame.sink_parquet(target, **_native(access), **_mkdir(target))


# -- csv -----------------------------------------------------------------------------------


def _scan_csv(source: Source, access: NativeIO, hive: Hive, options: Options) -> pl.LazyFrame:
    return pl.scan_csv(source, **access.kwargs(), **options)


def _read_csv(data: bytes, columns: Sequence[str] | None, options: Options) -> pl.DataFrame:
    return pl.read_csv(data, columns=_list(columns), **options)


def _sink_csv(frame: pl.LazyFrame, target: Target, access: NativeIO | None) -> None:
    frame.sink_csv(target, **_native(access), **_mkdir(target))


# -- ndjson --------------------------------------------------------------------------------


def _scan_ndjson(source: Source, access: NativeIO, hive: Hive, options: Options) -> pl.LazyFrame:
    return pl.scan_ndjson(source, **access.kwargs(), **options)


def _read_ndjson(data: bytes, columns: Sequence[str] | None, options: Options) -> pl.DataFrame:
    frame = pl.read_ndjson(data, **options)
    return frame.select(columns) if columns is not None else frame


def _sink_ndjson(frame: pl.LazyFrame, target: Target, access: NativeIO | None) -> None:
    frame.sink_ndjson(target, **_native(access), **_mkdir(target))


# -- json (one array of records: no streaming reader or writer exists) -----------------------


def _read_json(data: bytes, columns: Sequence[str] | None, options: Options) -> pl.DataFrame:
    frame = pl.read_json(io.BytesIO(data), **options)
    return frame.select(columns) if columns is not None else frame


def _sink_json(frame: pl.LazyFrame, target: Target, access: NativeIO | None) -> None:
    # A local path or a file object: the table says cloud_sink=False, so URIs never come.
    if isinstance(target, pl.PartitionBy):
        raise TypeError("JSON cannot be partitioned")
    data = frame.collect()
    if isinstance(target, str):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        data.write_json(target)
    else:
        target.write(data.write_json().encode())


#: Supported formats by name.
FORMATS: Mapping[str, Format] = {
    row.name: row
    for row in (
        Format(
            "parquet",
            (".parquet", ".pq"),
            typed=True,
            scan=_scan_parquet,
            read=_read_parquet,
            sink=_sink_parquet,
            partitions=True,
        ),
        Format("csv", (".csv",), typed=False, scan=_scan_csv, read=_read_csv, sink=_sink_csv),
        Format(
            "ndjson",
            (".ndjson", ".jsonl"),
            typed=False,
            scan=_scan_ndjson,
            read=_read_ndjson,
            sink=_sink_ndjson,
        ),
        Format(
            "json",
            (".json",),
            typed=False,
            scan=None,
            read=_read_json,
            sink=_sink_json,
            cloud_sink=False,
        ),
        # A Delta Lake table: parquet data files and a _delta_log/ (glacier.adapters.tables).
        Format(
            "delta",
            (".parquet",),
            typed=True,
            scan=_scan_parquet,
            read=_read_parquet,
            sink=_sink_parquet,
            partitions=True,
            table=True,
        ),
    )
}

#: The table format of a directory-shaped parquet dataset: Glacier writes every
#: multi-file parquet dataset as a Delta table, so that other engines read it right.
TABLE_FORMAT = "delta"

#: The format of a storage path without an extension (a dataset directory), as it is the
#: ``format=`` default of a Bucket.
DEFAULT_FORMAT = "parquet"

# Longest ending first, so that a two-part ending (".csv.gz") wins over its last part.
_BY_EXTENSION: tuple[tuple[str, Format], ...] = tuple(
    sorted(
        ((ext, fmt) for fmt in FORMATS.values() if not fmt.table for ext in fmt.extensions),
        key=lambda pair: -len(pair[0]),
    )
)


def get_format(name: str) -> Format:
    """The :class:`Format` called ``name`` (case-insensitive).

    Raises:
        UnknownFormatError: listing the supported formats.

    Example:
        >>> get_format("Parquet").extension
        '.parquet'
    """
    try:
        return FORMATS[name.lower()]
    except KeyError:
        supported = ", ".join(FORMATS)
        raise UnknownFormatError(
            f"Unknown data format {name!r}. Glacier reads and writes: {supported}. "
            f"Pass format='parquet' (the default) or one of the others to provider.bucket()."
        ) from None


def resolve_format(name: str, partition_by: Sequence[str] = ()) -> Format:
    """The format of a Bucket, checked against its ``partition_by``.

    Raises:
        UnknownFormatError: if ``name`` is not a supported format.
        ConfigError: if ``partition_by`` is set for a format that cannot be partitioned.
    """
    fmt = get_format(name)
    if partition_by and not fmt.partitions:
        partitionable = ", ".join(f.name for f in FORMATS.values() if f.partitions)
        raise ConfigError(
            f"partition_by={list(partition_by)} needs a partitionable format "
            f"({partitionable}), not {fmt.name!r}."
        )
    return fmt


def format_for_path(path: str) -> Format | None:
    """The format a path's extension names (case-insensitive), or ``None`` when the path
    has no extension or ends in ``/`` (a dataset directory, in the Bucket's format).

    Raises:
        UnknownFormatError: if the extension names no format, listing the known ones.

    Example:
        >>> format_for_path("s3://lake/sales/2024.PQ").name
        'parquet'
        >>> format_for_path("data/events/") is None
        True
    """
    if path.endswith("/"):
        return None
    name = PurePosixPath(path).name.lower()
    for extension, fmt in _BY_EXTENSION:
        if name.endswith(extension):
            return fmt
    suffix = PurePosixPath(name).suffix
    if not suffix:
        return None
    known = ", ".join(f"{f.name} ({' '.join(f.extensions)})" for f in FORMATS.values())
    raise UnknownFormatError(
        f"{path!r} ends in {suffix!r}, which names no data format Glacier reads and writes: "
        f"{known}. Give it one of these extensions."
    )

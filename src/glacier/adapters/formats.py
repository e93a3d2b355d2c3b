"""The data formats a Bucket reads and writes, as one table of readers and writers.

Each :class:`Format` knows three things: how polars scans it lazily from a path or URI (when
polars can), how to read it from bytes fetched through fsspec, and how to write a LazyFrame to
a local path or URI (streaming where the format allows it; a JSON array cannot stream).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import polars as pl

from glacier.errors import ConfigError, UnknownFormatError

if TYPE_CHECKING:
    from glacier.adapters.filesystems import NativeAccess

__all__ = ["FORMATS", "Format", "get_format", "resolve_format"]

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
        cloud_sink: Whether ``sink`` can write to a cloud URI (else the adapter spools the
            file locally and uploads it).

    Readers take ``options``: keyword arguments of the matching polars reader
    (``separator=";"`` for CSV, ...), passed on from ``Bucket.scan(**options)``.
    """

    name: str
    extensions: tuple[str, ...]
    typed: bool
    scan: Callable[[Source, NativeAccess, Hive, Options], pl.LazyFrame] | None
    read: Callable[[bytes, Sequence[str] | None, Options], pl.DataFrame]
    sink: Callable[[pl.LazyFrame, Target, NativeAccess | None], None]
    partitions: bool = False
    cloud_sink: bool = True

    @property
    def extension(self) -> str:
        """The ending given to files Glacier writes."""
        return self.extensions[0]


def _list(columns: Sequence[str] | None) -> list[str] | None:
    return list(columns) if columns is not None else None


def _native(access: NativeAccess | None) -> dict[str, Any]:
    return access.kwargs() if access is not None else {}


def _mkdir(target: Target) -> dict[str, Any]:
    # Local targets need their parent directory; cloud URIs have no directories.
    if isinstance(target, pl.PartitionBy):
        return {"mkdir": True}
    return {"mkdir": True} if isinstance(target, str) and "://" not in target else {}


# -- parquet -------------------------------------------------------------------------------


def _scan_parquet(
    source: Source, access: NativeAccess, hive: Hive, options: Options
) -> pl.LazyFrame:
    return pl.scan_parquet(
        source,
        hive_partitioning=hive is not None,
        hive_schema=dict(hive) if hive else None,
        **access.kwargs(),
        **options,
    )


def _read_parquet(data: bytes, columns: Sequence[str] | None, options: Options) -> pl.DataFrame:
    return pl.read_parquet(data, columns=_list(columns), **options)


def _sink_parquet(frame: pl.LazyFrame, target: Target, access: NativeAccess | None) -> None:
    frame.sink_parquet(target, **_native(access), **_mkdir(target))


# -- csv -----------------------------------------------------------------------------------


def _scan_csv(source: Source, access: NativeAccess, hive: Hive, options: Options) -> pl.LazyFrame:
    return pl.scan_csv(source, **access.kwargs(), **options)


def _read_csv(data: bytes, columns: Sequence[str] | None, options: Options) -> pl.DataFrame:
    return pl.read_csv(data, columns=_list(columns), **options)


def _sink_csv(frame: pl.LazyFrame, target: Target, access: NativeAccess | None) -> None:
    frame.sink_csv(target, **_native(access), **_mkdir(target))


# -- ndjson --------------------------------------------------------------------------------


def _scan_ndjson(
    source: Source, access: NativeAccess, hive: Hive, options: Options
) -> pl.LazyFrame:
    return pl.scan_ndjson(source, **access.kwargs(), **options)


def _read_ndjson(data: bytes, columns: Sequence[str] | None, options: Options) -> pl.DataFrame:
    frame = pl.read_ndjson(data, **options)
    return frame.select(columns) if columns is not None else frame


def _sink_ndjson(frame: pl.LazyFrame, target: Target, access: NativeAccess | None) -> None:
    frame.sink_ndjson(target, **_native(access), **_mkdir(target))


# -- json (one array of records: no streaming reader or writer exists) -----------------------


def _read_json(data: bytes, columns: Sequence[str] | None, options: Options) -> pl.DataFrame:
    frame = pl.read_json(io.BytesIO(data), **options)
    return frame.select(columns) if columns is not None else frame


def _sink_json(frame: pl.LazyFrame, target: Target, access: NativeAccess | None) -> None:
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
    "parquet": Format(
        "parquet",
        (".parquet", ".pq"),
        typed=True,
        scan=_scan_parquet,
        read=_read_parquet,
        sink=_sink_parquet,
        partitions=True,
    ),
    "csv": Format("csv", (".csv",), typed=False, scan=_scan_csv, read=_read_csv, sink=_sink_csv),
    "ndjson": Format(
        "ndjson",
        (".ndjson", ".jsonl"),
        typed=False,
        scan=_scan_ndjson,
        read=_read_ndjson,
        sink=_sink_ndjson,
    ),
    "json": Format(
        "json",
        (".json",),
        typed=False,
        scan=None,
        read=_read_json,
        sink=_sink_json,
        cloud_sink=False,
    ),
}


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

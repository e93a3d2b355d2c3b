"""The format catalogue: every data format Glacier reads and writes, one row each.

A storage path names its format by its extension (``data/x.jsonl`` is ndjson), a Bucket by
``format=``; both are looked up here, so the extensions, readers and writers of a format are
written once. Adding a format is adding a row to :data:`FORMATS`.

Each :class:`Format` knows how polars scans it lazily from a path or URI (when polars can),
how to read it from bytes fetched through fsspec, and how to write a LazyFrame to a local path
or URI (streaming where the format allows it; a JSON array cannot stream).

Not every stored thing is a table: a trained model, a metrics document, an image. Formats
with ``frame=False`` hold one Python value (``pickle``, ``joblib``, ``json-document``... see
:data:`FORMATS`) and have a ``load``/``dump`` pair over bytes and file objects instead. Each
row also says what values it holds (:func:`check_value`) and which reader and writer its
per-dataset options go to (:func:`check_options`), so both are refused where they are
written, before any data moves.

This module sits low in the layers (errors, then settings, then formats and storage URIs):
it imports only polars, the standard library and :mod:`glacier.errors`.

>>> format_for_path("data/events.jsonl").name
'ndjson'
>>> sorted(f.name for f in FORMATS.values() if f.partitions)
['csv', 'delta', 'ndjson', 'parquet']
>>> [f.name for f in FORMATS.values() if not f.frame]
['pickle', 'joblib', 'text', 'json-document', 'bytes']
"""

from __future__ import annotations

import difflib
import inspect
import io
import json
import pickle
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, Protocol

import polars as pl

from glacier.errors import (
    ConfigError,
    InvalidDataError,
    MissingExtraError,
    SheetNotFoundError,
    UnknownFormatError,
    UnknownOptionError,
)
from glacier.extras import check_installed, install_command, require

__all__ = [
    "DEFAULT_FORMAT",
    "FORMATS",
    "TABLE_FORMAT",
    "Format",
    "NativeIO",
    "check_extra",
    "check_options",
    "check_value",
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
_NONE: Options = {}


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
        load: Reader of a value from a binary file object (formats that are not frames).
        dump: Writer of a value to a binary file object (formats that are not frames).
        holds: What values the format stores, as error messages name them.
        accepts: Whether a value is one the format stores (checked before any write).
        read_api: The functions read options go to; an option must be a keyword of all.
        write_api: The functions write options go to.
        executes_code: Whether loading runs code from the data (pickle): refused where
            ``allow_pickle=False``.
        extra: The package extra its reader or writer needs, if any.
        table: Whether the format is a table format (Delta Lake): a directory of data files
            in another format (``extensions`` are theirs) plus a commit log. It never names
            a single object, and a path's extension never selects it.

    Readers take ``options``: keyword arguments of the matching polars reader
    (``separator=";"`` for CSV, ...), passed on from ``Bucket.scan(**options)`` and a
    Dataset's or Bucket's ``read_options``; writers take ``write_options`` likewise.
    """

    name: str
    extensions: tuple[str, ...]
    typed: bool
    scan: Callable[[Source, NativeIO, Hive, Options], pl.LazyFrame] | None
    read: Callable[[bytes, Sequence[str] | None, Options], pl.DataFrame]
    sink: Callable[..., None]  # (frame, target, access, options={}) -> None
    partitions: bool = False
    frame: bool = True
    cloud_sink: bool = True
    load: Callable[[IO[bytes], Options], Any] | None = None
    dump: Callable[[Any, IO[bytes], Options], None] | None = None
    holds: str = "a polars DataFrame or LazyFrame"
    accepts: Callable[[Any], bool] = lambda value: isinstance(value, pl.DataFrame | pl.LazyFrame)
    read_api: tuple[Callable[..., Any], ...] = ()
    write_api: tuple[Callable[..., Any], ...] = ()
    executes_code: bool = False
    extra: str | None = None
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


def _sink_parquet(
    frame: pl.LazyFrame, target: Target, access: NativeIO | None, options: Options = _NONE
) -> None:
    frame.sink_parquet(target, **_native(access), **_mkdir(target), **options)


# -- csv -----------------------------------------------------------------------------------


def _scan_csv(source: Source, access: NativeIO, hive: Hive, options: Options) -> pl.LazyFrame:
    return pl.scan_csv(source, **access.kwargs(), **options)


def _read_csv(data: bytes, columns: Sequence[str] | None, options: Options) -> pl.DataFrame:
    return pl.read_csv(data, columns=_list(columns), **options)


def _sink_csv(
    frame: pl.LazyFrame, target: Target, access: NativeIO | None, options: Options = _NONE
) -> None:
    frame.sink_csv(target, **_native(access), **_mkdir(target), **options)


# -- ndjson --------------------------------------------------------------------------------


def _scan_ndjson(source: Source, access: NativeIO, hive: Hive, options: Options) -> pl.LazyFrame:
    return pl.scan_ndjson(source, **access.kwargs(), **options)


def _read_ndjson(data: bytes, columns: Sequence[str] | None, options: Options) -> pl.DataFrame:
    frame = pl.read_ndjson(data, **options)
    return frame.select(columns) if columns is not None else frame


def _sink_ndjson(
    frame: pl.LazyFrame, target: Target, access: NativeIO | None, options: Options = _NONE
) -> None:
    frame.sink_ndjson(target, **_native(access), **_mkdir(target), **options)


# -- json (one array of records: no streaming reader or writer exists) -----------------------


def _read_json(data: bytes, columns: Sequence[str] | None, options: Options) -> pl.DataFrame:
    frame = pl.read_json(io.BytesIO(data), **options)
    return frame.select(columns) if columns is not None else frame


def _sink_json(
    frame: pl.LazyFrame, target: Target, access: NativeIO | None, options: Options = _NONE
) -> None:
    # A local path or a file object: the table says cloud_sink=False, so URIs never come.
    if isinstance(target, pl.PartitionBy):
        raise TypeError("JSON cannot be partitioned")
    data = frame.collect()
    if isinstance(target, str):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        data.write_json(target)
    else:
        target.write(data.write_json().encode())


# -- xlsx (an Excel workbook: polars' default engine reads, xlsxwriter writes) -------------


def _read_xlsx(data: bytes, columns: Sequence[str] | None, options: Options) -> pl.DataFrame:
    try:
        frame = pl.read_excel(data, **options)
    except ImportError as exc:  # polars names the engine; say which extra brings it
        raise _missing_extra("excel", exc) from None
    except ValueError as exc:
        if "no matching sheet" not in str(exc):
            raise
        sheets = _sheet_names(data)
        raise SheetNotFoundError(
            f"{exc}; the workbook's sheets are {sheets}. Fix sheet_name=/sheet_id= in the "
            "read_options (sheet_id counts from 1)."
        ) from None
    return frame.select(columns) if columns is not None else frame


def _sheet_names(data: bytes) -> list[str]:
    import fastexcel  # polars' default Excel engine, installed with the 'excel' extra

    names: list[str] = fastexcel.read_excel(data).sheet_names
    return names


def _sink_xlsx(
    frame: pl.LazyFrame, target: Target, access: NativeIO | None, options: Options = _NONE
) -> None:
    # A workbook is a zip archive written at the end: there is no streaming writer.
    if isinstance(target, pl.PartitionBy):
        raise TypeError("xlsx cannot be partitioned")
    buffer = io.BytesIO()
    try:
        frame.collect().write_excel(buffer, **options)
    except ImportError as exc:
        raise _missing_extra("excel", exc) from None
    if isinstance(target, str):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_bytes(buffer.getvalue())
    else:
        target.write(buffer.getvalue())


# -- values that are not frames ------------------------------------------------------------


def _no_frame_read(data: bytes, columns: Sequence[str] | None, options: Options) -> pl.DataFrame:
    raise InvalidDataError("this format holds a Python value, not a table: use Bucket.read()")


def _no_frame_sink(frame: pl.LazyFrame, target: Target, *_: Any) -> None:
    raise InvalidDataError("this format holds a Python value, not a table")


def _load_pickle(file: IO[bytes], options: Options) -> Any:
    # Runs code from the data: Buckets refuse this format where allow_pickle=False.
    return pickle.load(file, **options)


def _dump_pickle(value: Any, file: IO[bytes], options: Options) -> None:
    pickle.dump(value, file, **{"protocol": pickle.HIGHEST_PROTOCOL, **options})


def _joblib() -> Any:
    return require("joblib", "models", "format 'joblib'")


def _load_joblib(file: IO[bytes], options: Options) -> Any:
    return _joblib().load(file, **options)


def _dump_joblib(value: Any, file: IO[bytes], options: Options) -> None:
    _joblib().dump(value, file, **options)


def _decode_text(data: bytes, encoding: str = "utf-8", errors: str = "strict") -> str:
    return data.decode(encoding, errors)


def _encode_text(value: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    return value.encode(encoding, errors)


def _load_text(file: IO[bytes], options: Options) -> str:
    return _decode_text(file.read(), **options)


def _dump_text(value: Any, file: IO[bytes], options: Options) -> None:
    file.write(_encode_text(value, **options))


def _load_document(file: IO[bytes], options: Options) -> Any:
    return json.loads(file.read(), **options)


def _dump_document(value: Any, file: IO[bytes], options: Options) -> None:
    # Serialised whole before the first byte is written: a value json cannot hold fails here.
    file.write(json.dumps(value, **options).encode())


def _load_bytes(file: IO[bytes], options: Options) -> bytes:
    return file.read()


def _dump_bytes(value: Any, file: IO[bytes], options: Options) -> None:
    file.write(bytes(value))


def _is_json_value(value: Any) -> bool:
    return value is None or isinstance(value, dict | list | tuple | str | int | float | bool)


def _is_bytes(value: Any) -> bool:
    return isinstance(value, bytes | bytearray | memoryview)


def _is_not_frame(value: Any) -> bool:
    # A frame in a pickle is almost always a mistaken format: parquet keeps types and is
    # readable by every other tool.
    return not isinstance(value, pl.DataFrame | pl.LazyFrame)


def _value_format(
    name: str,
    extensions: tuple[str, ...],
    load: Callable[[IO[bytes], Options], Any],
    dump: Callable[[Any, IO[bytes], Options], None],
    holds: str,
    accepts: Callable[[Any], bool],
    read_api: tuple[Callable[..., Any], ...] = (),
    write_api: tuple[Callable[..., Any], ...] = (),
    *,
    executes_code: bool = False,
    extra: str | None = None,
) -> Format:
    """A row for a format holding one Python value: one object, never a table."""
    return Format(
        name,
        extensions,
        typed=True,
        scan=None,
        read=_no_frame_read,
        sink=_no_frame_sink,
        frame=False,
        cloud_sink=False,
        load=load,
        dump=dump,
        holds=holds,
        accepts=accepts,
        read_api=read_api,
        write_api=write_api,
        executes_code=executes_code,
        extra=extra,
    )


def _joblib_load_api(filename: Any, ensure_native_byte_order: Any = "auto") -> Any:
    """joblib.load's options (its ``mmap_mode`` needs a local file, so it is not one)."""


def _joblib_dump_api(value: Any, filename: Any, compress: Any = 0, protocol: Any = None) -> Any:
    """joblib.dump's options: signatures are checked without importing joblib."""


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
            read_api=(pl.scan_parquet, pl.read_parquet),
            write_api=(pl.LazyFrame.sink_parquet,),
        ),
        Format(
            "csv",
            (".csv",),
            typed=False,
            scan=_scan_csv,
            read=_read_csv,
            sink=_sink_csv,
            partitions=True,
            read_api=(pl.scan_csv, pl.read_csv),
            write_api=(pl.LazyFrame.sink_csv,),
        ),
        Format(
            "ndjson",
            (".ndjson", ".jsonl"),
            typed=False,
            scan=_scan_ndjson,
            read=_read_ndjson,
            sink=_sink_ndjson,
            partitions=True,
            read_api=(pl.scan_ndjson, pl.read_ndjson),
            write_api=(pl.LazyFrame.sink_ndjson,),
        ),
        Format(
            "json",
            (".json",),
            typed=False,
            scan=None,
            read=_read_json,
            sink=_sink_json,
            cloud_sink=False,
            read_api=(pl.read_json,),
            write_api=(pl.DataFrame.write_json,),
        ),
        Format(
            "xlsx",
            (".xlsx",),
            typed=False,
            scan=None,
            read=_read_xlsx,
            sink=_sink_xlsx,
            cloud_sink=False,
            read_api=(pl.read_excel,),
            write_api=(pl.DataFrame.write_excel,),
            extra="excel",
        ),
        _value_format(
            "pickle",
            (".pkl", ".pickle"),
            _load_pickle,
            _dump_pickle,
            "any picklable Python value (not a polars frame: store tables as parquet)",
            _is_not_frame,
            (pickle.load,),
            (pickle.dump,),
            executes_code=True,
        ),
        _value_format(
            "joblib",
            (".joblib",),
            _load_joblib,
            _dump_joblib,
            "any picklable Python value, e.g. a trained model (not a polars frame)",
            _is_not_frame,
            (_joblib_load_api,),
            (_joblib_dump_api,),
            executes_code=True,
            extra="models",
        ),
        _value_format(
            "text",
            (".txt", ".md", ".sql"),
            _load_text,
            _dump_text,
            "a str",
            lambda value: isinstance(value, str),
            (_decode_text,),
            (_encode_text,),
        ),
        _value_format(
            "json-document",
            # A plain JSON file; the two-part ending tells it from a table (".json").
            (".doc.json",),
            _load_document,
            _dump_document,
            "a JSON value: dict, list, str, number, bool or None",
            _is_json_value,
            (json.loads,),
            (json.dumps,),
        ),
        _value_format(
            "bytes",
            (".bin", ".bytes", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".pdf"),
            _load_bytes,
            _dump_bytes,
            "bytes, a bytearray or a memoryview",
            _is_bytes,
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
    except (KeyError, AttributeError):  # AttributeError: not a string (format=None)
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


def check_value(fmt: Format, value: Any, where: str) -> None:
    """Refuse, before anything is written, a value ``fmt`` does not hold.

    ``where`` names the write in the message (``"write s3://lake/model.joblib"``, or a
    task and its dataset).

    Raises:
        InvalidDataError: naming the value's type, what the format holds and the fix.

    Example:
        >>> check_value(FORMATS["text"], "hello", "write notes.txt")
        >>> try:
        ...     check_value(FORMATS["text"], b"hi", "write notes.txt")
        ... except InvalidDataError as exc:
        ...     print(str(exc)[:60])
        write notes.txt: got builtins.bytes, but format 'text' holds
    """
    if fmt.accepts(value):
        return
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    if fmt.frame:
        fix = (
            "Return or write a polars DataFrame or LazyFrame (pl.from_pandas(df), "
            "pl.from_arrow(table)), or store the value with an object format: "
            f"{', '.join(f.name for f in FORMATS.values() if not f.frame)}."
        )
    elif isinstance(value, pl.DataFrame | pl.LazyFrame):
        fix = "Store tables with a table format: " + ", ".join(
            f.name for f in FORMATS.values() if f.frame
        )
        fix += "."
    else:
        fits = [f.name for f in FORMATS.values() if not f.frame and f.accepts(value)]
        fix = f"Convert it, or store it as {' or '.join(fits) or 'pickle'}."
    raise InvalidDataError(f"{where}: got {kind}, but format {fmt.name!r} holds {fmt.holds}. {fix}")


# Parameters Glacier fills itself: the data, the target, the store's credentials, hive layout.
_TAKEN = frozenset(
    {
        *("self", "source", "path", "file", "workbook", "obj", "value", "filename", "data"),
        *("s", "columns", "storage_options", "credential_provider", "hive_partitioning"),
        *("hive_schema", "glob", "mkdir", "lazy", "sinked_paths_callback", "encoding_errors"),
    }
)


def allowed_options(fmt: Format, direction: str) -> frozenset[str]:
    """The option names the format's reader (``direction="read"``) or writer takes: the
    keyword parameters every function of its ``read_api``/``write_api`` shares.

    Example:
        >>> "separator" in allowed_options(FORMATS["csv"], "read")
        True
    """
    apis = fmt.read_api if direction == "read" else fmt.write_api
    shared: set[str] | None = None
    for api in apis:
        names = {
            name
            for name, param in inspect.signature(api).parameters.items()
            if param.kind in (param.KEYWORD_ONLY, param.POSITIONAL_OR_KEYWORD)
            and not name.startswith("_")
            and name not in _TAKEN
        }
        shared = names if shared is None else shared & names
    return frozenset(shared or ())


#: The modules each extra a format names must bring (checked where a dataset is declared).
EXTRA_MODULES: Mapping[str, tuple[str, ...]] = {
    "excel": ("fastexcel", "xlsxwriter"),
    "models": ("joblib",),
}


def _missing_extra(extra: str, exc: ImportError) -> MissingExtraError:
    missing = exc.name or " and ".join(EXTRA_MODULES.get(extra, ()))
    return MissingExtraError(
        f"This format needs {missing}, which is not installed: {install_command(extra)}"
    )


def check_extra(fmt: Format, where: str) -> None:
    """Refuse, where a dataset is declared, a format whose extra is not installed: the need is
    known then, and a task should not run only to fail at its write.

    Raises:
        MissingExtraError: naming the modules missing and the install command.
    """
    if fmt.extra is not None:
        modules = EXTRA_MODULES.get(fmt.extra, ())
        check_installed(modules, fmt.extra, f"{where} is stored as {fmt.name!r}, which")


def check_options(fmt: Format, direction: str, options: Mapping[str, Any], where: str) -> None:
    """Refuse an option the format's reader or writer does not take, where it is written.

    Raises:
        UnknownOptionError: naming the option, ``where`` it was given and close matches.

    Example:
        >>> try:
        ...     check_options(FORMATS["csv"], "read", {"seperator": ";"}, "Dataset 'sales'")
        ... except UnknownOptionError as exc:
        ...     print(str(exc)[:90])
        Dataset 'sales': read option 'seperator' is not one the csv reader takes (did you mean 'se
    """
    if not isinstance(options, Mapping):
        raise UnknownOptionError(
            f"{where}: {direction}_options is a mapping of option names to values, e.g. "
            f"{{'separator': ';'}}; got {type(options).__name__}."
        )
    if not options:
        return  # nothing to check; the readers' signatures cost a few ms to inspect
    allowed = allowed_options(fmt, direction)
    for name in options:
        if name in allowed:
            continue
        close = difflib.get_close_matches(str(name), sorted(allowed), n=3)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        taken = " Glacier sets it itself." if name in _TAKEN else ""
        listed = ", ".join(sorted(allowed)) or "none"
        raise UnknownOptionError(
            f"{where}: {direction} option {name!r} is not one the {fmt.name} {direction}er "
            f"takes{hint}.{taken} It takes: {listed}."
        )

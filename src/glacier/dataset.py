"""Datasets: the named data artifacts that tasks consume and produce.

A :class:`Dataset` is the node that connects tasks. A task whose parameter is annotated with a
dataset consumes it; a task whose return annotation is a dataset produces it::

    raw = Dataset("raw")                      # ephemeral: lives in memory during a run
    clean = Dataset("clean", storage=bucket)  # written once through its storage
    orders = Dataset("orders", storage=table, write={"mode": "merge", "on": ["order_id"]})
    sales = Dataset("sales", storage=table, catalog=True)  # queryable from Athena, deployed

Datasets compare by identity, so two datasets with the same name are still two datasets;
the pipeline refuses that ambiguity when it validates.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from glacier.checks.builtins import Check, check_declarations
from glacier.errors import ConfigError, PipelineDefinitionError, UnknownFormatError
from glacier.format_checks import check_dataset_storage
from glacier.uris import parse_uri

#: What a dataset or pipeline name may be: it becomes part of paths, run records and
#: generated resource names.
_B = TypeVar("_B")

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")

#: What ``Dataset(write=...)`` may say: the keyword arguments of ``Bucket.write``.
WRITE_OPTIONS = frozenset({"mode", "on", "delete_when", "schema"})


class Dataset:
    """A named data artifact, optionally backed by storage.

    Args:
        name: Unique name within a pipeline (letters, digits, ``_``, ``-``, ``.``).
        storage: Where the data lives: a :class:`glacier.Bucket`, a local path or URI string
            (``"data/raw.parquet"``, ``"s3://bucket/key.parquet"``; the extension names the
            format, see :data:`glacier.formats.FORMATS`), a database table
            (``env.database.postgres("warehouse").table("orders")``; a whole database is the
            table of the dataset's name), or a raw Pulumi bucket resource.
            ``None`` means ephemeral: the value passes from producer to consumers in memory
            and is never written.
        schema: Optional ``{column: polars dtype}``; data written to the dataset must have
            these columns with these types.
        description: Free text shown by ``glacier graph`` and ``pipeline.describe()``.
        read_options: Keyword arguments of the storage format's reader, e.g.
            ``{"schema_overrides": {"id": pl.Utf8}, "separator": ";"}`` for CSV or
            ``{"sheet_name": "shuttles"}`` for Excel; checked here against the reader.
        write_options: Keyword arguments of the format's writer, e.g.
            ``{"compression": "zstd"}`` for parquet or ``{"compress": 3}`` for joblib.
        read_only: Refuse writes to the storage (``write()``, ``open("w")``, ``delete()``).
        write: How the producing task writes it: keyword arguments of
            :meth:`glacier.Bucket.write`, e.g. ``{"mode": "merge", "on": ["order_id"]}``
            to upsert each run's rows into a table, or ``{"mode": "append"}``. The default
            is an overwrite.
        catalog: Register the dataset, a Delta table on S3, in the AWS Glue Data Catalog
            when the pipeline is deployed, so Athena (and other engines reading the
            catalog) can query it: one Glue database per pipeline and environment, one
            table per dataset (see the deploying docs). Only a table can be registered: a
            Bucket whose path is a directory (``"orders/"``) in parquet or delta format.
        checks: Data checks from :mod:`glacier.checks` (``[unique("id"), not_null("id")]``),
            run on the data as written right after the producing task; a failing check of
            severity ``error`` skips the dataset's consumers. A check naming a column that
            ``schema`` lacks is refused here.

    Raises:
        UnknownFormatError: a storage path whose extension names no known format.
        UnknownOptionError: an option the format's reader or writer does not take.

    Example:
        >>> raw = Dataset("raw")
        >>> raw.is_stored
        False
        >>> Dataset("sales", storage="data/sales.csv", read_options={"separator": ";"}).name
        'sales'
    """

    __slots__ = (
        "__weakref__",
        "_declared_at",
        "catalog",
        "checks",
        "description",
        "name",
        "read_only",
        "read_options",
        "schema",
        "storage",
        "write",
        "write_options",
    )

    def __init__(
        self,
        name: str,
        storage: Any = None,
        schema: Mapping[str, Any] | None = None,
        description: str = "",
        read_options: Mapping[str, Any] | None = None,
        write_options: Mapping[str, Any] | None = None,
        read_only: bool = False,
        write: Mapping[str, Any] | None = None,
        catalog: bool = False,
        checks: Sequence[Check] = (),
    ) -> None:
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise PipelineDefinitionError(
                f"Dataset name {name!r} is invalid: use letters, digits, '_', '-' or '.', "
                "starting with a letter or '_' (e.g. Dataset('raw_sales'))."
            )
        if isinstance(storage, Path):
            storage = str(storage)
        if getattr(storage, "kind", None) == "database":
            # A whole database (seed 001's ``storage=database``): the table of the dataset's
            # name, as ``storage=database.table(name)`` says.
            storage = storage.dataset_table(name)
        if not _is_storage(storage):
            raise PipelineDefinitionError(
                f"Dataset {name!r} has storage of type {type(storage).__name__} "
                f"({_describe_storage(storage)}), which Glacier cannot read or write. Give a "
                "Bucket (provider.bucket(...) or env.storage.s3(...)), a path or URI string, a "
                "database table (env.database.postgres(name).table(...)), or a Pulumi bucket "
                "resource (aws.s3.Bucket, gcp.storage.Bucket, azure-native storage.BlobContainer)."
            )
        if isinstance(storage, str):
            _check_storage_string(name, storage)
        self.name = name
        caller = sys._getframe(1)
        # The code and instruction, not f_lineno: computing a line scans the code's line table
        # from its start, which made declaring N datasets in one module O(N^2). The line is
        # found when a message needs it.
        self._declared_at = (caller.f_code, caller.f_lasti)
        self.storage = storage
        self.schema = _check_schema(name, schema)
        self.description = description
        self.read_options: dict[str, Any] = _mapping(name, "read_options", read_options)
        self.write_options: dict[str, Any] = _mapping(name, "write_options", write_options)
        self.read_only = read_only
        self.write: Mapping[str, Any] = MappingProxyType(_write_options(name, storage, write))
        self.catalog = _check_catalog(name, storage, catalog)
        self.checks: tuple[Check, ...] = check_declarations(name, checks, self.schema)
        if getattr(storage, "kind", None) == "database_table":
            _check_table_options(self)
        else:
            check_dataset_storage(self)

    def refine(self, bucket: _B) -> _B:
        """``bucket`` (this dataset's storage as a Bucket) with this dataset's options."""
        refined: _B = bucket.with_options(  # type: ignore[attr-defined]
            self.read_options,
            self.write_options,
            read_only=self.read_only,
            where=f"Dataset {self.name!r}",
        )
        return refined

    @property
    def declared_at(self) -> str:
        """Where the dataset was declared (``file.py:12``), for messages naming it."""
        code, instruction = self._declared_at
        line = next((n for start, end, n in code.co_lines() if start <= instruction < end), None)
        filename = code.co_filename
        return f"{filename}:{line}"

    @property
    def is_stored(self) -> bool:
        """Whether the dataset is persisted through storage rather than kept in memory."""
        return self.storage is not None

    def __repr__(self) -> str:
        if self.storage is None:
            return f"Dataset({self.name!r})"
        return f"Dataset({self.name!r}, storage={_describe_storage(self.storage)})"

    # Datasets appear in annotations (``def f(x: raw) -> clean``). ``typing`` insists that
    # evaluated forward references be callable; being callable costs nothing and keeps
    # ``typing.get_type_hints`` usable on task functions.
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"Dataset {self.name!r} is not callable; it marks a task's input or output."
        )


#: The raw Pulumi resources a dataset may live in (used as is): object-store buckets and
#: containers of the clouds, by class name. Anything else (a role, a queue) is not storage.
RAW_STORAGE_TYPES = frozenset({"Bucket", "BucketV2", "BlobContainer"})


def _is_storage(storage: Any) -> bool:
    """None, a path or URI, a Bucket (anything that scans and writes), or a Pulumi bucket."""
    if storage is None or isinstance(storage, str):
        return True
    if callable(getattr(storage, "scan", None)) and callable(getattr(storage, "write", None)):
        return True
    return is_raw_bucket(storage)


def is_raw_resource(obj: Any) -> bool:
    """Whether ``obj`` is a Pulumi resource the user declared (``aws.lambda_.Function(...)``),
    used as is rather than described by Glacier."""
    return type(obj).__module__.startswith("pulumi")


def is_raw_bucket(storage: Any) -> bool:
    """Whether ``storage`` is a Pulumi bucket resource (``aws.s3.Bucket(...)``)."""
    return is_raw_resource(storage) and type(storage).__name__ in RAW_STORAGE_TYPES


def _check_schema(name: str, schema: Any) -> dict[str, Any] | None:
    """``schema=`` as a dict of column name -> polars dtype, or a message saying what to give."""
    if schema is None:
        return None
    if not isinstance(schema, Mapping) or not all(isinstance(k, str) for k in schema):
        raise PipelineDefinitionError(
            f"Dataset {name!r}: schema={schema!r} is not a mapping of column names to polars "
            "types; give e.g. schema={'amount': pl.Float64, 'id': pl.Int64}."
        )
    import polars as pl

    for column, dtype in schema.items():
        is_class = isinstance(dtype, type) and issubclass(dtype, pl.DataType)
        if not (is_class or isinstance(dtype, pl.DataType)):
            raise PipelineDefinitionError(
                f"Dataset {name!r}: schema column {column!r} has type {dtype!r}, which is not a "
                "polars data type; give e.g. pl.Float64, pl.Utf8 or pl.Datetime('us')."
            )
    return dict(schema)


def _mapping(name: str, argument: str, value: Mapping[str, Any] | None) -> dict[str, Any]:
    """``value`` of a keyword that takes a mapping of option names (``None``: no options)."""
    if value is not None and not isinstance(value, Mapping):
        raise PipelineDefinitionError(
            f"Dataset {name!r}: {argument}= takes a mapping of option names to values, e.g. "
            f"{{'separator': ';'}}; got {type(value).__name__} {value!r}."
        )
    return dict(value or {})


def _write_options(name: str, storage: Any, write: Mapping[str, Any] | None) -> dict[str, Any]:
    """``write=`` checked where the dataset is declared: known keys, and storage to write."""
    options = _mapping(name, "write", write)
    # A database table also takes what an upsert does with a key twice in its frame.
    table = getattr(storage, "kind", None) == "database_table"
    allowed = WRITE_OPTIONS | ({"duplicates"} if table else set())
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise PipelineDefinitionError(
            f"Dataset {name!r}: write= has unknown option(s) {unknown}; it takes "
            f"{sorted(allowed)} (the keyword arguments of "
            f"{'DatabaseTable' if table else 'Bucket'}.write)."
        )
    if options and storage is None:
        raise PipelineDefinitionError(
            f"Dataset {name!r}: write= needs storage (an ephemeral dataset is never written)."
        )
    if options.get("mode") == "merge" and not options.get("on"):
        raise PipelineDefinitionError(
            f"Dataset {name!r}: write={{'mode': 'merge'}} needs the key columns, e.g. "
            "write={'mode': 'merge', 'on': ['order_id']}."
        )
    return options


def _check_catalog(name: str, storage: Any, catalog: Any) -> bool:
    """``catalog=`` checked where the dataset is declared: a bool, on a Delta table.

    Which cloud the table is on is checked when the pipeline is planned (a Bucket's cloud is
    its provider's; only AWS has the Glue Data Catalog)."""
    if not isinstance(catalog, bool):
        raise PipelineDefinitionError(
            f"Dataset {name!r}: catalog={catalog!r} is not True or False; catalog=True "
            "registers the dataset's Delta table in the AWS Glue Data Catalog."
        )
    if not catalog:
        return False
    path, fmt, partition_by = _table_location(storage)
    if path is None or not is_table_layout(path, fmt, partition_by):
        what = (
            "it has no storage (it lives in memory)"
            if storage is None
            else f"its storage {_describe_storage(storage)} is not a table"
        )
        raise PipelineDefinitionError(
            f"Dataset {name!r}: catalog=True registers a Delta table in the AWS Glue Data "
            f"Catalog, but {what}. Store it "
            f"as a directory of parquet, e.g. env.storage.s3(bucket=..., path='{name}/'), or "
            "leave catalog out."
        )
    return True


def _table_location(storage: Any) -> tuple[str | None, str, tuple[str, ...]]:
    """A storage's path, format and partition columns, or ``None`` as the path when it has
    none Glacier lays out (a raw Pulumi bucket holds one object; a database table no path)."""
    if isinstance(storage, str):
        parsed = parse_uri(storage)
        return parsed.key, parsed.format, ()
    path = getattr(storage, "path", None)
    if not isinstance(path, str) or is_raw_bucket(storage):
        return None, "", ()
    return path, str(getattr(storage, "format", "")), tuple(getattr(storage, "partition_by", ()))


#: Formats whose dataset directories are Delta Lake tables; a directory of another frame
#: format keeps Glacier's ``_glacier/`` manifest layout (see :mod:`glacier.adapters.bucket`).
TABLE_FORMATS = frozenset({"parquet", "delta"})


def is_table_layout(path: str, fmt: str, partition_by: Sequence[str] = ()) -> bool:
    """Whether a dataset at ``path`` in format ``fmt`` is a Delta table: a dataset directory
    (an empty path, one ending in ``/``, or partitioned) of a table format.

    >>> is_table_layout("orders/", "parquet"), is_table_layout("orders.parquet", "parquet")
    (True, False)
    >>> is_table_layout("events/", "csv"), is_table_layout("", "delta")
    (False, True)
    """
    return is_directory(path, partition_by) and fmt in TABLE_FORMATS


def is_directory(path: str, partition_by: Sequence[str] = ()) -> bool:
    """Whether ``path`` names a dataset directory rather than one object."""
    return not path or path.endswith("/") or bool(partition_by)


#: The write modes of a database table (``DatabaseTable.write``).
_TABLE_MODES = frozenset({"replace", "append", "upsert", "overwrite", "merge"})


def _check_table_options(dataset: Dataset) -> None:
    """A database table has no file format: no reader/writer options; its write modes."""
    where = f"Dataset {dataset.name!r}"
    if dataset.read_options or dataset.write_options:
        raise ConfigError(
            f"{where} is stored in {dataset.storage!r}: read_options and write_options are "
            "options of file formats, and a database table takes none. Select columns and "
            "rows in SQL (db.query(...)); say how to write with write={'mode': 'upsert', ...}."
        )
    mode = dataset.write.get("mode")
    if mode is not None and mode not in _TABLE_MODES:
        raise PipelineDefinitionError(
            f"{where}: write mode {mode!r} is not one a database table takes; use 'replace', "
            "'append' or 'upsert' (with 'on': [key columns] unless the table has a key)."
        )
    for option in ("delete_when", "schema"):
        if option in dataset.write:
            raise PipelineDefinitionError(
                f"{where}: write={{{option!r}: ...}} is an option of Delta tables; a database "
                "table takes 'mode', 'on' and 'duplicates'."
            )
    on = dataset.write.get("on")
    if "on" in dataset.write and (
        isinstance(on, str) or not isinstance(on, list | tuple) or not on
    ):
        raise PipelineDefinitionError(
            f"{where}: write={{'on': {on!r}}} is not a list of key columns; write e.g. "
            "{'mode': 'upsert', 'on': ['order_id']}, or leave 'on' out to upsert on the "
            "table's key."
        )


def _check_storage_string(name: str, storage: str) -> None:
    """Refuse, where the dataset is declared, a path whose scheme or format is unknown."""
    if not storage.strip() or "\x00" in storage:
        raise PipelineDefinitionError(
            f"Dataset {name!r}: storage={storage!r} is not a path; give a file path or URI "
            f"such as 'data/{name}.parquet' or 's3://bucket/{name}.parquet', or leave storage "
            "out for an in-memory dataset."
        )
    try:
        parse_uri(storage)
    except (ConfigError, UnknownFormatError) as exc:
        raise type(exc)(f"Dataset {name!r}: {exc}") from None


def _describe_storage(storage: Any) -> str:
    uri = getattr(storage, "get_uri", None)
    if callable(uri):
        try:
            return repr(uri())
        except Exception:  # a URI that needs cloud access is not worth failing a repr over
            pass
    if isinstance(storage, str | int | float | list | tuple | dict):
        text = repr(storage)
        return text if len(text) <= 80 else f"{text[:77]}..."
    return type(storage).__name__

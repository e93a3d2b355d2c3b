"""One Bucket for every store: local files, memory, S3, GCS and Azure Blob."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any, ClassVar, Literal

from glacier.adapters.tables import DEFAULT_RETENTION
from glacier.dataset import is_directory
from glacier.errors import ConfigError, ReadOnlyError
from glacier.format_checks import check_pickle_allowed
from glacier.formats import check_options, resolve_format
from glacier.resources.base import Resource
from glacier.settings.names import validate_bucket_segment

if TYPE_CHECKING:
    from pathlib import Path

    import polars as pl

#: ``overwrite`` and ``append`` for every Bucket; tables (directory datasets of parquet)
#: also ``overwrite_partitions`` (replace only the partitions the new data holds) and
#: ``merge`` (upsert by key columns ``on=``).
WriteMode = Literal["overwrite", "append", "overwrite_partitions", "merge"]


#: Characters a table's (dataset directory's) bucket name or path cannot hold: delta-rs
#: cannot open such a location (found by ``tests/test_properties.py``).
TABLE_LOCATION_CHARACTERS = "[]^|"


class Bucket(Resource):
    """A dataset location in an object store, read and written as polars frames.

    The same class serves every cloud: its adapter (chosen by the provider config's kind)
    talks to the store through fsspec. Create it with ``provider.bucket(...)`` or an
    environment's ``env.storage.s3(...)``.

    Args:
        bucket_name: The bucket (S3, GCS) or container (Azure); for local providers a
            directory under ``base_path``.
        path: The object key or prefix inside the bucket (``"sales/2024.parquet"``). Empty or
            ending in ``/`` means a directory dataset.
        format: ``parquet`` (default) or another row of :data:`glacier.formats.FORMATS`:
            tables (``csv``, ``json``, ``ndjson``, ``xlsx``) or one Python value (``pickle``,
            ``joblib``, ``text``, ``json-document``, ``bytes``); a directory of parquet
            (``parquet`` or ``delta``) is a Delta Lake table, which every engine reads right
            and which keeps versions (see ``docs/storage.md``).
        partition_by: Columns to partition a table by (hive-style directories).
        read_options: Keyword arguments of the format's reader (``{"separator": ";"}`` for
            CSV, ``{"sheet_name": "shuttles"}`` for Excel), used by every read.
        write_options: Keyword arguments of the format's writer (``{"compression":
            "zstd", "row_group_size": 100_000}`` for parquet).
        read_only: Refuse ``write()``, ``open("w")`` and ``delete()`` (a source owned by
            someone else).
        retention: How much history a table's :meth:`vacuum` keeps (default 7 days);
            a shorter one needs ``force=True``.

    Raises:
        UnknownFormatError: for a format Glacier does not read and write.
        ConfigError: for ``partition_by`` on a format that cannot be partitioned, or an
            object format on a dataset directory.
        UnknownOptionError: for an option the format's reader or writer does not take.
        PickleNotAllowedError: for ``pickle``/``joblib`` where the provider config sets
            ``allow_pickle=False``.

    Example:
        >>> from glacier import Provider
        >>> from glacier.config import LocalConfig
        >>> b = Provider(config=LocalConfig(base_path="/tmp/x")).bucket("raw", path="a.parquet")
        >>> b.get_uri().endswith("raw/a.parquet")
        True
    """

    kind: ClassVar[str] = "bucket"

    def __init__(
        self,
        bucket_name: str,
        path: str = "",
        format: str = "parquet",
        partition_by: Sequence[str] | None = None,
        read_options: Mapping[str, Any] | None = None,
        write_options: Mapping[str, Any] | None = None,
        read_only: bool = False,
        retention: timedelta | None = None,
        **kwargs: Any,
    ) -> None:
        validate_bucket_segment(bucket_name)
        _check_path(bucket_name, path)
        self.bucket_name = bucket_name
        self.path = path.lstrip("/")
        self.partition_by: tuple[str, ...] = _partition_columns(bucket_name, partition_by)
        # Fail where the Bucket is declared, not at its first read.
        fmt = resolve_format(format, self.partition_by)
        self.format = fmt.name
        directory = is_directory(self.path, self.partition_by)
        if directory and any(c in TABLE_LOCATION_CHARACTERS for c in bucket_name + self.path):
            # delta-rs parses a table's location as a URL and panics (a BaseException, not an
            # error) on these characters.
            raise ConfigError(
                f"Bucket {bucket_name!r} (path {self.path!r}) names a dataset directory with "
                f"one of {' '.join(TABLE_LOCATION_CHARACTERS)}, which table locations cannot "
                "hold; rename it without brackets, '^' or '|' (e.g. path='sales_2024/')."
            )
        if self.format == "delta" and not directory:
            raise ConfigError(
                f"Bucket {bucket_name!r}: format='delta' is a directory of files; give a "
                f"directory path (ending in '/', e.g. {self.path.rsplit('.', 1)[0]!r} + '/')."
            )
        self.retention = retention if retention is not None else DEFAULT_RETENTION
        self.read_only = read_only
        #: Where read_only was declared, for the message refusing a write.
        self.declared_by = ""
        self.read_options: dict[str, Any] = {}
        self.write_options: dict[str, Any] = {}
        super().__init__(**kwargs)
        where = f"Bucket {bucket_name!r} (path {self.path!r})"
        if not fmt.frame and (not self.path or self.path.endswith("/")):
            raise ConfigError(
                f"{where}: format {fmt.name!r} stores one value as one object, and an empty "
                "path or one ending in '/' names a dataset directory. Name the object, e.g. "
                f"path='models/regressor{fmt.extension}'."
            )
        check_pickle_allowed(fmt, getattr(self.provider, "config", None), where)
        self._set_options(read_options or {}, write_options or {}, where)

    def _set_options(
        self, read_options: Mapping[str, Any], write_options: Mapping[str, Any], where: str
    ) -> None:
        fmt = resolve_format(self.format)
        check_options(fmt, "read", read_options, where)
        check_options(fmt, "write", write_options, where)
        self.read_options = {**self.read_options, **read_options}
        self.write_options = {**self.write_options, **write_options}

    def with_options(
        self,
        read_options: Mapping[str, Any] | None = None,
        write_options: Mapping[str, Any] | None = None,
        *,
        read_only: bool = False,
        where: str = "",
    ) -> Bucket:
        """This Bucket with more reader/writer options (a Dataset's refine its storage's),
        or itself when there are none to add.

        Raises:
            UnknownOptionError: for an option the format's reader or writer does not take.
        """
        if not read_options and not write_options and (self.read_only or not read_only):
            return self
        refined = copy.copy(self)
        if read_only and not self.read_only:
            refined.read_only, refined.declared_by = True, where

        refined._set_options(read_options or {}, write_options or {}, where or repr(self))
        return refined

    def check_writable(self, action: str) -> None:
        """Refuse ``action`` (a write, ``open("w")``, a delete) on a read-only Bucket."""
        if self.read_only:
            who = self.declared_by or f"Bucket {self.name!r}"
            raise ReadOnlyError(
                f"{action} {self.bucket_name}/{self.path}: {who} is declared read_only. "
                "Write to a dataset of your own, or drop read_only=True where it is declared."
            )

    def _default_name(self) -> str:
        stem = self.path.rstrip("/").replace("/", "_").rsplit(".", 1)[0]
        return f"{self.bucket_name}_{stem}" if stem else self.bucket_name

    # -- I/O: all of it goes through the adapter -------------------------------------------

    def scan(self, version: int | datetime | None = None, **options: Any) -> pl.LazyFrame:
        """A lazy frame over the data (predicate and projection pushdown preserved; a
        table's partitions and row groups are pruned by its statistics).

        ``version`` reads a table as it was at that version number or timestamp.
        ``options`` go to the polars reader of the format, e.g. ``separator=";"`` for CSV.

        Raises:
            VersionNotFoundError: if the table has no such version.
        """
        return self.adapter.scan(version, **options)  # type: ignore[no-any-return]

    def read(self, version: int | datetime | None = None, **options: Any) -> pl.DataFrame | Any:
        """The whole dataset as a DataFrame (``version`` and ``options`` as for :meth:`scan`),
        or the value of a format that is not a table (a model, a str, a dict, bytes)."""
        return self.adapter.read(version, **options)

    def load(self) -> pl.LazyFrame | Any:
        """What a task receives from this storage: a lazy scan of a table, or the value."""
        if resolve_format(self.format).frame:
            return self.scan()
        return self.read()

    def write(
        self,
        data: pl.DataFrame | pl.LazyFrame | Any,
        mode: WriteMode = "overwrite",
        *,
        on: Sequence[str] | None = None,
        delete_when: str | None = None,
        schema: Literal["merge"] | None = None,
    ) -> int | None:
        """Write atomically: readers see the old data or the new data, never a mix; returns
        the rows written (counted as they went to the store, no second pass over the data),
        ``None`` for a value that is not a table.

        Args:
            data: A polars DataFrame or LazyFrame for table formats; for the others one
                value of the kind they hold (a model for ``joblib``, a ``str`` for
                ``text``...), checked before anything is written.
            mode: ``overwrite`` (replace), ``append`` (add rows), and for tables
                ``overwrite_partitions`` (replace the partitions present in ``data``) and
                ``merge`` (upsert: update rows whose ``on`` keys match, insert the others).
            on: The key columns of a merge.
            delete_when: With ``merge``: a boolean column of ``data``; where it is true,
                the matching stored row is deleted (the column itself is not stored).
            schema: ``"merge"`` lets a table gain new columns (old rows read null);
                type changes are refused (use ``mode="overwrite"``).

        Raises:
            MergeKeyError: a merge without ``on``, or keys missing from the data or table.
            SchemaEvolutionError: a schema change the policy forbids.
            ConcurrentWriteError: another writer committed a conflicting change first.

        Example:
            >>> orders.write(changes, mode="merge", on=["order_id"])  # doctest: +SKIP
        """
        if schema not in (None, "merge"):
            raise ConfigError(
                f"Bucket {self.bucket_name!r} (path {self.path!r}): write(schema={schema!r}) is "
                "not a schema policy; use schema='merge' (add new columns) or leave it out "
                "(changes of the schema are refused)."
            )
        rows = self.adapter.write(data, mode=mode, on=on, delete_when=delete_when, schema=schema)
        return rows if isinstance(rows, int) else None

    def history(self, limit: int | None = None) -> list[dict[str, Any]]:
        """A table's commits, newest first: ``version``, ``timestamp``, ``operation``, ..."""
        return list(self.adapter.history(limit))

    def vacuum(
        self, retention: timedelta | None = None, *, force: bool = False, dry_run: bool = False
    ) -> list[str]:
        """Delete a table's files that no version within ``retention`` (default: the
        Bucket's) needs, orphans of killed writers included; returns their paths.

        Raises:
            RetentionError: for a retention shorter than the Bucket's, unless ``force``.
        """
        return list(self.adapter.vacuum(retention, force=force, dry_run=dry_run))

    def optimize(self) -> dict[str, Any]:
        """Compact a table's small files (appends leave many) into larger ones."""
        return dict(self.adapter.optimize())

    def convert(self) -> bool:
        """Convert a dataset in the old ``_glacier/`` manifest layout (a Delta table for
        parquet, visible files for csv/json/ndjson); ``False`` if there was nothing to
        convert."""
        return bool(self.adapter.convert())

    def exists(self) -> bool:
        """Whether the object (or directory dataset) exists."""
        return bool(self.adapter.exists())

    def list(self) -> list[str]:
        """Keys (relative to the bucket) of the objects holding the current data."""
        return list(self.adapter.list())

    def delete(self) -> None:
        """Delete the object or directory dataset (every version of it)."""
        self.check_writable("delete")
        self.adapter.delete()

    def open(self, mode: str = "rb", encoding: str = "utf-8") -> IO[Any]:
        """The object as a file, for libraries that take file objects.

        ``mode`` is ``"rb"``/``"r"`` (read) or ``"wb"``/``"w"`` (write). A written object
        appears whole when the file is closed; leaving a ``with`` block by an exception
        (or calling ``discard()``) leaves the previous version in place.

        Example:
            >>> from glacier import Provider
            >>> from glacier.config import LocalConfig
            >>> import tempfile
            >>> p = Provider(config=LocalConfig(base_path=tempfile.mkdtemp()))
            >>> notes = p.bucket("docs", path="notes.txt", format="text")
            >>> with notes.open("w") as f:
            ...     _ = f.write("hello")
            >>> notes.read()
            'hello'
        """
        if mode.startswith("w"):
            self.check_writable(f"open({mode!r})")
        return self.adapter.open(mode, encoding)  # type: ignore[no-any-return]

    @contextlib.contextmanager
    def local_path(self, mode: Literal["r", "w"] = "r") -> Iterator[Path]:
        """A local path of the object, for libraries that take only paths.

        On the local disk it is the object's own path; elsewhere a temporary download
        (``mode="r"``), or a temporary file uploaded atomically when the block ends without
        an exception (``mode="w"``). Temporary files are removed on exit.

        Example:
            >>> import polars as pl
            >>> from glacier import Provider
            >>> from glacier.config import LocalConfig
            >>> import tempfile
            >>> p = Provider(config=LocalConfig(base_path=tempfile.mkdtemp()))
            >>> book = p.bucket("raw", path="shuttles.xlsx", format="xlsx")
            >>> book.write(pl.DataFrame({"id": [1]}))
            >>> with book.local_path() as path:
            ...     pl.read_excel(path).height
            1
        """
        if mode == "w":
            self.check_writable("local_path('w')")
        with self.adapter.local_path(mode) as path:
            yield path

    def get_uri(self) -> str:
        """``s3://bucket/key``, ``gs://...``, ``abfs://container/...``, ``file:///...``."""
        return str(self.adapter.get_uri())

    def fingerprint(self) -> str:
        """A cheap token that changes when the stored data changes (used by the task cache)."""
        return str(self.adapter.fingerprint())

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out.update(
            bucket_name=self.bucket_name,
            path=self.path,
            format=self.format,
            partition_by=list(self.partition_by),
        )
        if self.read_options or self.write_options or self.read_only:
            out.update(
                read_options=dict(self.read_options),
                write_options=dict(self.write_options),
                read_only=self.read_only,
            )
        if self.config is not None:
            out["config"] = self.config.model_dump(mode="json")
        return out


def _check_path(bucket_name: str, path: object) -> None:
    """Refuse a path that is not a key inside the bucket (``..``, control characters)."""
    if not isinstance(path, str):
        raise ConfigError(
            f"Bucket {bucket_name!r}: path={path!r} is not a string; give the object key or "
            "prefix inside the bucket, e.g. path='sales/2024.parquet'."
        )
    if ".." in path.replace("\\", "/").split("/"):
        raise ConfigError(
            f"Bucket {bucket_name!r}: path={path!r} leaves the bucket; give a path inside "
            "it, without '..' (e.g. 'sales/2024/')."
        )
    if any(ord(c) < 32 or c == "\x7f" for c in path):
        raise ConfigError(
            f"Bucket {bucket_name!r}: path={path!r} holds a control character; give a path "
            "of printable characters (e.g. 'sales/2024/')."
        )


def _partition_columns(bucket_name: str, partition_by: object) -> tuple[str, ...]:
    """``partition_by`` as column names; a bare string would be split into letters."""
    if partition_by is None:
        return ()
    if isinstance(partition_by, str):
        raise ConfigError(
            f"Bucket {bucket_name!r}: partition_by={partition_by!r} is not a list of column "
            f"names; give a list, e.g. partition_by=[{partition_by!r}]."
        )
    if not isinstance(partition_by, Sequence) or not all(
        isinstance(c, str) and c for c in partition_by
    ):
        raise ConfigError(
            f"Bucket {bucket_name!r}: partition_by={partition_by!r} is not a list of column "
            "names; give e.g. partition_by=['day']."
        )
    return tuple(partition_by)

"""Bucket I/O on any fsspec filesystem: local disk, memory, S3, GCS and Azure Blob.

:class:`FsspecBucketAdapter` serves every :class:`~glacier.resources.Bucket`. What differs
between stores comes from :data:`glacier.adapters.filesystems.STORES`; what differs between
formats from :data:`glacier.formats.FORMATS`. The layout of versions and manifests is
:mod:`glacier.adapters.manifest`, partition pruning :mod:`glacier.adapters.partitions`, the
kinds of storage failure :mod:`glacier.adapters.storage_errors` and the local scratch space
:mod:`glacier.adapters.spool`; this module is the I/O over them.

Layout and atomicity
--------------------
A Bucket whose ``path`` names an object (``sales/2024.parquet``) is one object. On object
stores polars streams the data into an upload that becomes the object only when it is
completed (S3 multipart upload, GCS resumable session, Azure block list): Glacier completes
it after the write succeeded and aborts it otherwise, and a killed process never completes
it (:mod:`glacier.adapters.uploads`; S3 parts upload concurrently while polars writes). On
the local disk and in memory the data goes to a temporary key under ``_glacier/tmp/``
(bucket root) that is renamed into place; leftovers of killed writes are removed by the next
write on the same host (or after :data:`TMP_GRACE`). Never does polars write straight to the
key: when the query feeding its streaming sink fails, it may still finish the file,
publishing an empty or partial object.

A Bucket whose ``path`` is empty, ends in ``/`` or has ``partition_by`` is a *dataset
directory*. Of parquet (the default, or ``format="delta"``) it is a Delta Lake *table*
(:mod:`glacier.adapters.tables`; on stores delta-rs cannot reach,
:mod:`glacier.adapters.table_mirror`): each write is one commit of its ``_delta_log/``, so
readers see the old version or the new one, every engine reads the same rows, and concurrent
writers never overwrite each other's commits. A directory in Glacier's old manifest layout
(:mod:`glacier.adapters.manifest`) is refused until converted (:meth:`convert`). Directories
of csv, json or ndjson keep their current files at visible paths (hive partitions for csv and
ndjson) and a hidden manifest as their commit record (:mod:`glacier.adapters.manifest`): a
write (:mod:`glacier.adapters.text_datasets`) places its files, replaces the manifest, then
deletes what it superseded, so other engines read what Glacier reads; such a directory in
the old layout is read and rewritten by its next write. A directory with neither (written
by another tool) is read as plain files, skipping hidden (``_``/``.``) names.

Failures
--------
A commit whose answer is lost (the store applied it; the client saw a 500, a reset, a
timeout) is recognised and reported as the success it was: uploads and table commits carry
a write token (:mod:`glacier.adapters.uploads`, :mod:`glacier.adapters.tables`), a manifest
is read back. A stored file that cannot be parsed is a
:class:`~glacier.errors.CorruptDataError` naming it (:mod:`glacier.adapters.corruption`).
See ``docs/reliability.md``.

Reading
-------
``scan()`` uses polars' own readers where polars reaches the store (local files, S3, Azure,
GCS without an emulator), so predicates and projections reach the files (row groups and
columns are skipped). Elsewhere (memory, the GCS emulator) it registers a lazy source that
fetches whole objects through fsspec only at ``collect()``, skipping hive partitions the
predicate rules out. ``read()`` fetches whole objects with one GET each on remote stores,
which measured faster than polars' ranged reads for a full read (``benchmarks/bucket_io.py``).
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import hashlib
import io
import posixpath
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast
from urllib.parse import unquote

import polars as pl
from polars.io.plugins import register_io_source

from glacier.adapters.corruption import (
    corrupt_commits,
    corrupt_parquet_files,
    looks_corrupt,
    missing_footers,
)
from glacier.adapters.filesystems import (
    NativeAccess,
    Store,
    check_endpoint,
    read_back_timeout,
    store_for,
)
from glacier.adapters.manifest import (
    GLACIER_DIR,
    LEGACY_MANIFEST,
    MANIFEST_FORMAT,
    TMP_DIR,
    TMP_GRACE,
    VERSION_GRACE,
    Manifest,
    manifest_key,
    stamp_age,
    temp_name,
    versions_key,
    writer_is_gone,
)
from glacier.adapters.objects import local_path, open_object, read_value, write_value
from glacier.adapters.partitions import hive_target, may_match, partition_values
from glacier.adapters.spool import remove_until_quiet, spool
from glacier.adapters.storage_errors import classify
from glacier.adapters.table_mirror import TableMirror
from glacier.adapters.tables import (
    DEFAULT_RETENTION,
    DELTA_LOG,
    SchemaPolicy,
    TableIO,
    TableMode,
    Version,
    check_schema,
    refuse_before_oldest,
)
from glacier.adapters.text_datasets import write_text_dataset
from glacier.adapters.uploads import open_upload
from glacier.dataset import is_directory, is_table_layout
from glacier.errors import (
    BucketNotFoundError,
    ConfigError,
    CorruptDataError,
    EndpointUnreachableError,
    GlacierError,
    InvalidDataError,
    LegacyLayoutError,
    MergeKeyError,
    NotSupportedError,
    ObjectNotFoundError,
    RetentionError,
    SchemaMismatchError,
    StorageError,
    StoragePermissionError,
    StorageTimeoutError,
    TableCreatedConcurrentlyError,
    VersionNotFoundError,
)
from glacier.formats import TABLE_FORMAT, Format, check_options, get_format, resolve_format

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from glacier.resources.bucket import Bucket

# The layout names are re-exported: callers (the infrastructure's temporary-object grants)
# knew them from here before the layout had a module of its own.
#: A staging file of delta-rs' local store (``part-...parquet#1``), renamed when complete.
_STAGED_FILE = re.compile(r"#\d+$")

__all__ = [
    "MANIFEST_FORMAT",
    "TMP_DIR",
    "TMP_GRACE",
    "UPLOAD_PART_SIZE",
    "VERSION_GRACE",
    "FsspecBucketAdapter",
    "Manifest",
]

#: Part size of streamed uploads (fastest of 5, 16, 50 and 128 MiB on S3 in our benchmark).
UPLOAD_PART_SIZE = 16 * 2**20

#: Tries of a table write that keeps finding the table created meanwhile (once suffices
#: unless the table is deleted and created again in between).
_CREATION_ATTEMPTS = 3
_ANSWERED: set[str] = set()  # configured endpoints that accepted a connection
_FETCH_BATCH = 8  # objects fetched concurrently by the fsspec reader

# Info fields that change when an object is rewritten, across fsspec implementations.
_CHANGE_FIELDS = (
    *("ETag", "etag", "generation", "size", "LastModified", "last_modified"),
    *("mtime", "updated", "created", "ino"),
)


@dataclass(frozen=True)
class _Snapshot:
    """What a read sees: the files of the current version and, when known, their schema."""

    files: tuple[str, ...]
    format: Format
    partition_by: tuple[str, ...] = ()
    schema: pl.Schema | None = None
    manifest: Manifest | None = None


# -- the adapter ---------------------------------------------------------------------------


class FsspecBucketAdapter:
    """Reads and writes one Bucket through an fsspec filesystem (see the module docstring).

    Args:
        resource: The Bucket served.
        filesystem: The fsspec filesystem of the provider's store (the cloud container's
            ``filesystem`` provider; override it to swap stores in tests).
        config: The provider config (region, endpoint, base path, ...).

    Raises:
        UnknownFormatError: if the Bucket's format is not supported.
        ConfigError: if ``partition_by`` is set for a format that cannot be partitioned.
    """

    def __init__(self, resource: Bucket, filesystem: AbstractFileSystem, config: Any) -> None:
        self.resource = resource
        self.fs = filesystem
        self.config = config
        self.partition_by: tuple[str, ...] = tuple(resource.partition_by)
        self.format = resolve_format(resource.format, self.partition_by)
        self.store: Store = store_for(filesystem)
        self.root = self.store.bucket_root(config, resource.bucket_name).rstrip("/")
        path = resource.path
        self.is_dataset = is_directory(path, self.partition_by)
        self.key = path.strip("/")
        # Every multi-file parquet dataset is a Delta table (see glacier.adapters.tables).
        self.is_table = is_table_layout(path, self.format.name, self.partition_by)
        if self.is_table:
            self.format = get_format(TABLE_FORMAT)
        self.retention: timedelta = getattr(resource, "retention", DEFAULT_RETENTION)

    @functools.cached_property
    def native(self) -> NativeAccess | None:
        """How polars reaches the store itself, or ``None`` if it cannot."""
        return self.store.native(self.config)

    # -- public API (what Bucket delegates to) ---------------------------------------------

    def scan(self, version: Version = None, **options: Any) -> pl.LazyFrame:
        """A LazyFrame over the current data (or a table's ``version``: a number or a
        timestamp); ``options`` go to the polars reader."""
        self._check_read_options("scan", options)
        options = {**self.resource.read_options, **options}
        if not self.format.frame:
            raise InvalidDataError(
                f"scan {self.get_uri()}: format {self.format.name!r} holds a Python value, "
                "not a table; use read()."
            )
        with self._errors("scan"):
            if self.is_table:
                return self._table_scan(version, options, check_footers=True)
            self._no_versions(version)
            snapshot = self._snapshot()
            self._check_footers(snapshot.files)
            return self._scan(snapshot, options)

    def read(self, version: Version = None, **options: Any) -> pl.DataFrame:
        """The whole dataset (or a table's ``version``); ``options`` go to the polars reader."""
        self._check_read_options("read", options)
        options = {**self.resource.read_options, **options}
        if not self.format.frame:
            self._no_versions(version)
            return read_value(self, options)  # type: ignore[no-any-return]
        with self._errors("read"):
            if self.is_table:
                return self._table_scan(version, options).collect()
            self._no_versions(version)
            # No existence check first: the fetch itself reports a missing object.
            snapshot = self._snapshot(check_object=False)
            try:
                return self._read_snapshot(snapshot, options)
            except Exception:
                # An overwrite that committed while this read ran removed the files it was
                # reading: read the new version once (never a mix of the two).
                if snapshot.manifest is None or not self._superseded(snapshot.manifest):
                    raise
                return self._read_snapshot(self._snapshot(check_object=False), options)

    def _check_read_options(self, action: str, options: Mapping[str, Any]) -> None:
        """Refuse a reader option given to this call that the format's reader does not take
        (those declared on the Bucket were checked there); a table refuses any, later."""
        if options and not self.is_table:
            check_options(self.format, "read", options, f"{action} {self.get_uri()}")

    def _read_snapshot(self, snapshot: _Snapshot, options: Mapping[str, Any]) -> pl.DataFrame:
        if self.native is not None and self.store.native_full_reads and snapshot.format.scan:
            return self._scan(snapshot, options).collect()
        frames = list(self._fsspec_frames(snapshot, options, {}))
        if not frames:
            return pl.DataFrame(schema=snapshot.schema)
        return pl.concat(frames, how="vertical_relaxed")

    def _superseded(self, manifest: Manifest) -> bool:
        """Whether a newer version than ``manifest``'s has been committed since."""
        try:
            current = self._manifest()
        except Exception:
            return False
        return current is not None and current.version != manifest.version

    def write(
        self,
        data: pl.DataFrame | pl.LazyFrame,
        mode: str = "overwrite",
        *,
        on: Sequence[str] | None = None,
        delete_when: str | None = None,
        schema: SchemaPolicy = None,
    ) -> None:
        """Write atomically (see the module docstring); ``append`` checks the schema.

        Tables (multi-file datasets) also take ``mode="overwrite_partitions"`` and
        ``mode="merge"`` with key columns ``on`` (see :meth:`glacier.resources.Bucket.write`).
        """
        self.resource.check_writable("write")
        if not self.format.frame:
            if mode != "overwrite" or on or delete_when or schema:
                raise ConfigError(
                    f"write {self.get_uri()}: format {self.format.name!r} stores one value, "
                    f"written whole; mode={mode!r} is for tables. Use mode='overwrite'."
                )
            write_value(self, data, dict(self.resource.write_options), UPLOAD_PART_SIZE)
            return
        modes = (
            "overwrite",
            "append",
            *(("overwrite_partitions", "merge") if self.is_table else ()),
        )
        if mode not in modes:
            table_modes = (
                ""
                if self.is_table
                else " (merge and overwrite_partitions need a table: a directory path)"
            )
            raise ConfigError(
                f"write {self.get_uri()}: mode={mode!r} is not a write mode; use "
                f"{', '.join(repr(m) for m in modes)}{table_modes}."
            )
        if not self.is_table and (on or delete_when or schema):
            raise ConfigError(
                f"write {self.get_uri()}: on=, delete_when= and schema= apply to tables "
                "(directory datasets) only."
            )
        if not isinstance(data, pl.DataFrame | pl.LazyFrame):
            raise InvalidDataError(
                f"write {self.get_uri()}: got {type(data).__module__}.{type(data).__name__}; "
                "Bucket.write takes a polars DataFrame or LazyFrame (convert pandas with "
                "pl.from_pandas(df), Arrow with pl.from_arrow(table))."
            )
        frame = data.lazy()
        self._check_writable(frame.collect_schema())
        with self._errors("write"):
            self._prepare_bucket()
            if self.is_table:
                self._write_table_once_created(
                    frame, cast("TableMode", mode), on or (), delete_when, schema
                )
            elif self.is_dataset:
                write_text_dataset(self, frame, append=mode == "append")
            else:
                self._write_object(frame, append=mode == "append")

    def _check_writable(self, schema: pl.Schema) -> None:
        """Refuse, before anything is written, data this Bucket's layout or format can't hold."""
        uri = self.get_uri()
        missing = [c for c in self.partition_by if c not in schema]
        if missing:
            raise SchemaMismatchError(
                f"write {uri}: the data has no column(s) {missing} to partition by; its "
                f"columns are {list(schema)}. Add them, or fix partition_by= of the Bucket."
            )
        objects = [c for c, t in schema.items() if t == pl.Object]
        if objects:
            raise InvalidDataError(
                f"write {uri}: column(s) {objects} hold Python objects, which no data format "
                "stores. Convert them to strings, numbers, lists or structs first."
            )
        nested = [c for c, t in schema.items() if t.is_nested()]
        if nested and self.format.name == "csv":
            raise InvalidDataError(
                f"write {uri}: csv cannot hold the nested column(s) {nested}. Use "
                "format='parquet' or 'ndjson', or flatten them first (e.g. "
                "pl.col(c).list.join(',') or .struct.unnest())."
            )

    def open(self, mode: str = "rb", encoding: str = "utf-8") -> IO[Any]:
        """The object as a file object; writes are atomic (:mod:`glacier.adapters.objects`)."""
        return open_object(self, mode, encoding, UPLOAD_PART_SIZE)

    def local_path(self, mode: str = "r") -> contextlib.AbstractContextManager[Path]:
        """The object at a local path (:func:`glacier.adapters.objects.local_path`)."""
        return local_path(self, mode, UPLOAD_PART_SIZE)

    def exists(self) -> bool:
        """Whether the object, or a dataset version (or plain data files), exists."""
        with self._errors("check"):
            try:
                if not self.is_dataset:
                    return self._object_info() is not None
                if self.is_table and self._table_exists():
                    return True
                manifests = self._manifest_paths()
                return any(self.fs.exists(p) for p in manifests) or bool(self._plain_files())
            except BucketNotFoundError:
                return False

    def list(self) -> list[str]:
        """Keys (relative to the bucket) of the objects holding the current data."""
        with self._errors("list"):
            if not self.is_dataset:
                return [self.key] if self._object_info() is not None else []
            if self.is_table and self._table_exists("list"):
                return [f"{self._prefix}{f}" for f in self._table_files()]
            manifest = self._manifest()
            return list(manifest.files) if manifest else self._plain_files()

    def delete(self) -> None:
        """Delete the object, or the dataset directory with all its versions."""
        with self._errors("delete"):
            if not self.is_dataset:
                if self._object_info() is None:
                    raise self._not_found("delete")
                self.fs.rm_file(self._path(self.key))
                return
            table = self.is_table and self._table_exists()
            manifests = [] if table else [p for p in self._manifest_paths() if self.fs.exists(p)]
            manifest = bool(manifests)
            begun = self.is_table and not table and self._log.creation_begun()
            if not table and not manifest and not begun and not self._plain_files():
                raise self._not_found("delete")
            with contextlib.suppress(FileNotFoundError):
                # The log or manifest goes first: readers then see no dataset, not a part.
                if table:
                    self.fs.rm(self._path(f"{self._prefix}{DELTA_LOG}"), recursive=True)
                else:
                    for path in manifests:
                        self.fs.rm_file(path)
            if self.key:
                self.fs.rm(self._path(self.key), recursive=True)
            elif leftovers := self._root_files():  # never rm the bucket itself
                self.fs.rm(leftovers)

    def get_uri(self) -> str:
        """``s3://bucket/key``, ``gs://...``, ``abfs://container/...``, ``file:///...``;
        a dataset directory's URI ends in ``/``."""
        uri = self.store.uri(self._path(self.key))
        return f"{uri.rstrip('/')}/" if self.is_dataset else uri

    def fingerprint(self) -> str:
        """A token that changes when the data changes, from metadata only (no data read)."""
        with self._errors("fingerprint"):
            if not self.is_dataset:
                info = self._object_info()
                if info is None:
                    raise self._not_found("fingerprint")
                return _token([info])
            commit = self._log.latest_commit() if self.is_table else None
            if commit is not None:
                return _token([commit])
            manifest = self._manifest()
            if manifest is not None:
                return f"v-{manifest.version}"
            infos = [self.fs.info(self._path(k)) for k in self._plain_files()]
            if not infos:
                raise self._not_found("fingerprint")
            return _token(infos)

    # -- tables (Delta Lake: glacier.adapters.tables) --------------------------------------

    def history(self, limit: int | None = None) -> builtins.list[dict[str, Any]]:
        """The table's commits, newest first (``version``, ``timestamp``, ``operation``)."""
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise ConfigError(
                f"history of {self.get_uri()}: limit={limit!r} is not a number of commits; "
                "give a whole number of at least 1, or None for every commit."
            )
        with self._errors("read the history of"):
            self._require_table("history")
            with self._log.reading() as table:
                return table.history(limit)

    def vacuum(
        self, retention: timedelta | None = None, *, force: bool = False, dry_run: bool = False
    ) -> builtins.list[str]:
        """Delete data files no version younger than ``retention`` needs (default: the
        Bucket's ``retention``), and orphans of killed writers; returns their paths."""
        if retention is not None and (
            not isinstance(retention, timedelta) or retention < timedelta(0)
        ):
            raise RetentionError(
                f"vacuum {self.get_uri()}: retention={retention!r} is not a length of time "
                "to keep; give a timedelta of 0 or more (e.g. timedelta(days=7)), or None "
                "for the Bucket's retention."
            )
        with self._errors("vacuum"):
            self._require_table("vacuum")
            if self._mirror is not None:
                raise NotSupportedError(
                    f"vacuum {self.get_uri()}: delta-rs cannot reach this store (see "
                    "glacier.adapters.table_mirror), and a local copy does not know the ages "
                    "of the stored files. Vacuum the table where delta-rs reaches it."
                )
            keep = retention if retention is not None else self.retention
            removed = self._table_io().vacuum(keep, self.retention, force=force, dry_run=dry_run)
            return [*removed, *self._remove_staged_files(keep, dry_run=dry_run)]

    def _remove_staged_files(self, retention: timedelta, *, dry_run: bool) -> builtins.list[str]:
        """Staging files of a killed writer that no table vacuum sees: delta-rs' local store
        writes ``<file>#<n>`` and renames it when complete, so a writer killed in between
        leaves one behind, which is no data file to delta-rs."""
        root = self._path(self.key)
        cutoff = time.time() - retention.total_seconds()
        removed = []
        for path in self.fs.find(root):
            if not _STAGED_FILE.search(path):
                continue
            info = self.fs.info(path)
            modified = info.get("mtime") or info.get("created")
            if retention and (modified is None or float(modified) > cutoff):
                continue
            if not dry_run:
                self.fs.rm_file(path)
            removed.append(self._key(path))
        return removed

    def optimize(self) -> dict[str, Any]:
        """Compact the table's small files into larger ones (a new version)."""
        with self._errors("optimize"):
            self._require_table("optimize")
            if self._mirror is None:
                return self._table_io().optimize()
            with self._mirror.writing(with_data=True) as table:
                return table.optimize()

    def convert(self) -> bool:
        """Rewrite a dataset in the old ``_glacier/`` manifest layout, which other engines
        misread: a parquet directory as a Delta table, a csv/json/ndjson directory in the
        visible layout of :mod:`glacier.adapters.manifest`; ``False`` if there was nothing
        to convert."""
        with self._errors("convert"):
            if not self.is_dataset or (self.is_table and self._table_exists()):
                return False
            manifest = self._manifest()
            if manifest is None or (not self.is_table and not manifest.legacy):
                return False
            frame = self._scan(self._manifest_snapshot(manifest), {}).collect()
            if self.is_table:
                self._commit(frame, "overwrite", manifest.partition_by, exists=False)
                self.fs.rm(self._path(f"{self._prefix}_glacier"), recursive=True)
                return True
            write_text_dataset(self, frame.lazy(), append=False)
            self._discard([self._path(self._versions_key())])
            return True

    @functools.cached_property
    def _log(self) -> TableMirror:
        """The table read through fsspec. Existence, history and fingerprints come from the
        log through it on every store: delta-rs' ``is_deltatable`` and ``history`` hold the
        GIL while they wait on the network, which stalls a process that serves the store
        itself (an emulator on a thread, as in tests)."""
        return TableMirror(self.fs, self._path(self.key), self.get_uri())

    @functools.cached_property
    def _mirror(self) -> TableMirror | None:
        """The local-mirror fallback where delta-rs cannot reach the store, else ``None``."""
        return self._log if self.store.delta(self.config) is None else None

    def _table_io(self) -> TableIO:
        options = self.store.delta(self.config) or {}
        return TableIO(
            self.store.delta_uri(self._path(self.key)),
            options,
            self.get_uri(),
            self._log.commits_with,
        )

    def _table_exists(self, action: str | None = None) -> bool:
        """Whether the table has a commit; with ``action``, a damaged log is refused first
        (:meth:`TableMirror.check <glacier.adapters.table_mirror.TableMirror.check>`)."""
        return self._log.check(action) if action else self._log.exists()

    def _require_table(self, action: str) -> None:
        if not self.is_table:
            raise ConfigError(
                f"{action} {self.get_uri()}: only tables (directory datasets of parquet) have "
                "versions; this Bucket is a single object or a text-format directory."
            )
        if not self._table_exists(action):
            self._refuse_legacy(action)
            raise self._not_found(action)

    def _refuse_legacy(self, action: str) -> None:
        if self._manifest() is not None:
            raise LegacyLayoutError(
                f"{action} {self.get_uri()}: this dataset is in Glacier's old _glacier/ "
                "manifest layout, which other engines misread. Convert it to a Delta table "
                "once: `glacier tables convert DATASET FILE --env ENV`, or bucket.convert()."
            )

    def _no_versions(self, version: Version) -> None:
        if version is not None:
            raise ConfigError(
                f"read {self.get_uri()}: version= needs a table (a directory dataset of "
                "parquet); a single object or text-format directory has no versions."
            )

    def _table_files(self) -> builtins.list[str]:
        if self._mirror is None:
            return self._table_io().files()
        with self._mirror.reading() as table:
            return table.files()

    def _table_scan(
        self, version: Version, options: Mapping[str, Any], *, check_footers: bool = False
    ) -> pl.LazyFrame:
        """A table's scan; ``check_footers``: refuse truncated data files now, by name, not
        when the LazyFrame is collected (``scan()``; ``read()`` names them on failure)."""
        footers = self._check_footers if check_footers else None
        if version is None:
            check = footers
        else:  # an older version's files may have been vacuumed

            def check(keys: Sequence[str]) -> None:
                self._check_kept(version, keys)
                if footers is not None:
                    footers(keys)

        if not self._table_exists("read"):
            self._refuse_legacy("read")
            if self._log.creation_begun():
                raise ObjectNotFoundError(
                    f"read {self.get_uri()}: no such table: a write began creating it and "
                    "never committed (its writer was killed or failed), so none of the files "
                    "it left holds data. Write it first (vacuum then removes the files "
                    "left), or remove them with bucket.delete()."
                )
            self._no_versions(version)
            snapshot = self._snapshot()  # plain files of another tool
            if check is not None:
                check(snapshot.files)
            return self._scan(snapshot, options)
        if options:
            raise ConfigError(
                f"read {self.get_uri()}: reader options {sorted(options)} do not apply to a "
                "Delta table (its files are parquet, read by polars' scan_delta)."
            )
        if isinstance(version, datetime):
            version = self._version_at(version)
        if self._mirror is None:
            prefixed = None if check is None else self._in_table(check)
            return self._table_io().scan(version, check=prefixed)
        with self._mirror.reading() as table:
            delta = table.open(version)
            files = tuple(f"{self._prefix}{f}" for f in table.files(delta))
            schema = table.schema(delta)
            partition_by = tuple(delta.metadata().partition_columns)
        if check is not None:
            check(files)
        return self._scan(_Snapshot(files, self.format, partition_by, schema), {})

    def _version_at(self, when: datetime) -> int:
        """The version a time reads: the newest committed at or before it, by the commit
        times ``history()`` shows (delta-rs would go by the commit files' modification
        times, which a mirror's copy resets and Azure rounds to the second), on every store.

        Raises:
            VersionNotFoundError: for a time before the oldest commit kept.
        """
        moment = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
        version, oldest = self._log.version_at(round(moment.timestamp() * 1000))
        if version is None and oldest is not None:
            refuse_before_oldest(self.get_uri(), when, *oldest)
        if version is None:
            raise self._not_found("read")
        return version

    def _check_kept(self, version: Version, keys: Sequence[str]) -> None:
        """Refuse a version whose data files are gone (one listing of the table, on time
        travel only), saying whether vacuum removed them."""
        try:
            present = {self._key(p) for p in self.fs.find(self._path(self.key))}
        except FileNotFoundError:
            present = set()
        # Partition values may be percent-encoded in the log and not in the store's names.
        gone = [k for k in keys if k not in present and unquote(k) not in present]
        if not gone:
            return
        with self._log.reading() as table:
            vacuumed = any("VACUUM" in str(c.get("operation", "")) for c in table.history())
        what = f"version {version}" if isinstance(version, int) else f"the version at {version}"
        first = self.store.uri(self._path(gone[0]))
        if vacuumed:
            raise VersionNotFoundError(
                f"read {self.get_uri()}: {what} was vacuumed: {len(gone)} of its "
                f"{len(keys)} data files (e.g. {first}) were deleted by vacuum, which keeps "
                "only what versions within the retention need. Read a later version (see "
                "bucket.history()), or restore the files from the bucket's versioning."
            )
        raise CorruptDataError(
            f"read {self.get_uri()}: {len(gone)} of the {len(keys)} data files of {what} are "
            f"missing (e.g. {first}; deleted outside Glacier, no vacuum ran). Repair: restore "
            "them from the bucket's versioning, or write the data again with mode='overwrite'."
        )

    def _in_table(self, check: Callable[[Sequence[str]], None]) -> Callable[[Sequence[str]], None]:
        """``check`` of keys, taking paths relative to the table's directory."""
        return lambda files: check([f"{self._prefix}{f}" for f in files])

    def _check_footers(self, keys: Sequence[str]) -> None:
        """Raise CorruptDataError naming the parquet files among ``keys`` that have no
        footer (:func:`glacier.adapters.corruption.missing_footers`)."""
        if not (self.is_table or self.format.name == "parquet"):
            return
        if self.is_table and self.store.protocol not in ("file", "memory"):
            # A table's files on an object store are written once by delta-rs and never
            # rewritten in place; a ranged read of each file's tail would cost a request per
            # file at every scan. A file damaged outside Glacier is named by read() (and by
            # the collect's error); see docs/reliability.md.
            return
        broken = missing_footers(self.fs, [self._path(k) for k in keys])
        if broken:
            names = ", ".join(self.store.uri(p) for p in broken)
            raise CorruptDataError(
                f"scan {self.get_uri()}: {names} is corrupt (no parquet footer at its end: "
                "truncated or overwritten outside Glacier). Repair: write the data again "
                "with mode='overwrite', or restore the file from the bucket's versioning."
            )

    def _write_table_once_created(
        self,
        frame: pl.LazyFrame,
        mode: TableMode,
        on: Sequence[str],
        delete_when: str | None,
        schema: SchemaPolicy,
    ) -> None:
        """:meth:`_write_table`, applied again to the table another writer created while this
        write was creating it: the creation was refused whole (nothing of it committed), and
        the table now exists, so the write is an append, merge or overwrite on top of the
        other writer's version: both land, in some order, and neither is lost."""
        for attempt in range(_CREATION_ATTEMPTS):
            try:
                self._write_table(frame, mode, on, delete_when, schema)
                return
            except TableCreatedConcurrentlyError:
                if attempt == _CREATION_ATTEMPTS - 1:
                    raise

    def _write_table(
        self,
        frame: pl.LazyFrame,
        mode: TableMode,
        on: Sequence[str],
        delete_when: str | None,
        schema: SchemaPolicy,
    ) -> None:
        uri = self.get_uri()
        incoming = frame.collect_schema()
        if mode == "merge":
            self._check_merge(incoming, on, delete_when)
        elif delete_when is not None or on:
            raise ConfigError(f"write {uri}: on= and delete_when= apply to mode='merge' only.")
        exists = self._table_exists(None if mode == "overwrite" else "write")
        if exists and mode == "overwrite" and self._log.damaged():
            # An overwrite replaces everything, so it may also replace a log that cannot be
            # read past its damage; the old data files go once the new table holds.
            self.fs.rm(self._path(f"{self._prefix}{DELTA_LOG}"), recursive=True)
            exists = False
        plain: builtins.list[str] = []
        if exists and mode != "overwrite":
            stored_table = self._stored_table()
            stored, partitioned = stored_table
            if partitioned != self.partition_by:
                raise SchemaMismatchError(
                    f"{mode} {uri}: the stored data is partitioned by {list(partitioned)}, "
                    f"this Bucket by {list(self.partition_by)}. Declare partition_by="
                    f"{list(partitioned)}, or write with mode='overwrite'."
                )
            data_schema = pl.Schema({c: t for c, t in incoming.items() if c != delete_when})
            check_schema(
                f"{mode} {uri}", stored, data_schema, schema, "write with mode='overwrite'"
            )
            if mode == "merge":
                absent = [k for k in on if k not in stored]
                if absent:
                    raise MergeKeyError(
                        f"merge into {uri}: key column(s) {absent} are not in the table "
                        f"(columns {list(stored)}). Merge on columns the table has."
                    )
            ordered = [c for c in stored if c in data_schema]
            extra = [c for c in incoming if c not in stored]
            frame = frame.select(ordered + extra)
        elif not exists:
            self._refuse_legacy("write")
            plain = self._plain_files()
            if mode == "append" and plain:
                snapshot = _Snapshot(tuple(plain), self.format, self.partition_by)
                stored_frame = self._scan(snapshot, {})
                check_schema(
                    f"append to {uri}",
                    stored_frame.collect_schema(),
                    incoming,
                    schema,
                    "write with mode='overwrite'",
                )
                frame = pl.concat([stored_frame, frame], how="diagonal_relaxed")
        data = frame.collect()
        options: dict[str, Any] = {"on": on, "delete_when": delete_when, "schema": schema}
        try:
            self._commit(data, mode, self.partition_by, exists=exists, **options)
        except Exception as exc:
            log = self._path(f"{self._prefix}{DELTA_LOG}")
            if not (mode == "overwrite" and looks_corrupt(exc) and corrupt_commits(self.fs, log)):
                raise
            # An overwrite replaces everything, so it may also replace a log that can no
            # longer be read; the old data files go once the new table holds.
            self.fs.rm(log, recursive=True)
            plain = self._plain_files()
            self._commit(data, mode, self.partition_by, exists=False, **options)
        if plain:  # the table holds them now (append) or replaced them (overwrite)
            self._discard([self._path(key) for key in plain])

    def _commit(
        self,
        data: pl.DataFrame,
        mode: TableMode,
        partition_by: Sequence[str],
        **options: Any,
    ) -> None:
        if not options["exists"] and not self._plain_files():
            # A creation in an empty directory: mark it first, so that the data files of a
            # creator killed before its commit are never taken for another tool's files.
            self._log.mark_creation()
        if self._mirror is None:
            self._table_io().write(data, mode, partition_by, **options)
            return
        with self._mirror.writing(with_data=mode in ("merge", "overwrite_partitions")) as table:
            table.write(data, mode, partition_by, **options)

    def _stored_table(self) -> tuple[pl.Schema, tuple[str, ...]]:
        """The table's schema and partition columns (from its log: no data read)."""
        if self._mirror is None:
            io = self._table_io()
            delta = io.open()
            return io.schema(delta), tuple(delta.metadata().partition_columns)
        with self._mirror.reading() as table:
            delta = table.open()
            return table.schema(delta), tuple(delta.metadata().partition_columns)

    def _check_merge(self, incoming: pl.Schema, on: Sequence[str], delete_when: str | None) -> None:
        uri = self.get_uri()
        if not on:
            raise MergeKeyError(
                f"merge into {uri}: no key columns. Say which columns identify a row, e.g. "
                "bucket.write(frame, mode='merge', on=['order_id'])."
            )
        if isinstance(on, str):
            raise MergeKeyError(f"merge into {uri}: on= takes a list of columns: on=[{on!r}].")
        missing = [k for k in on if k not in incoming]
        if missing:
            raise MergeKeyError(
                f"merge into {uri}: key column(s) {missing} are not in the new data (columns "
                f"{list(incoming)}). Add them, or fix on=."
            )
        if delete_when is not None and incoming.get(delete_when) != pl.Boolean:
            raise MergeKeyError(
                f"merge into {uri}: delete_when={delete_when!r} must name a boolean column of "
                f"the new data (columns {dict(incoming)}); rows where it is true delete the "
                "matching stored row."
            )

    # -- paths -----------------------------------------------------------------------------

    def _path(self, key: str) -> str:
        """The fsspec path of a key relative to the bucket."""
        return f"{self.root}/{key}" if key else self.root

    def _key(self, path: str) -> str:
        """The key relative to the bucket of an fsspec path returned by a listing."""
        stripped: str = self.fs._strip_protocol(path).rstrip("/")
        root: str = self.fs._strip_protocol(self.root).rstrip("/")
        return stripped[len(root) + 1 :] if stripped.startswith(root + "/") else stripped

    @property
    def _prefix(self) -> str:
        """Key prefix of the dataset directory (``""`` at the bucket root)."""
        return f"{self.key}/" if self.key else ""

    def _manifest_path(self) -> str:
        return self._path(manifest_key(self._prefix, self.format.extensions))

    def _legacy_manifest_path(self) -> str | None:
        """Where an earlier release kept this dataset's manifest, if not where it is now."""
        legacy = self._path(f"{self._prefix}{GLACIER_DIR}/{LEGACY_MANIFEST}")
        return legacy if legacy != self._manifest_path() else None

    def _manifest_paths(self) -> builtins.list[str]:
        legacy = self._legacy_manifest_path()
        return [self._manifest_path(), *([legacy] if legacy else [])]

    def _versions_key(self) -> str:
        return versions_key(self._prefix)

    # -- reading ---------------------------------------------------------------------------

    def _object_info(self) -> dict[str, Any] | None:
        try:
            info: dict[str, Any] = self.fs.info(self._path(self.key))
        except FileNotFoundError:
            self._raise_if_bucket_missing("read")
            return None
        return info if info.get("type") != "directory" else None

    def _manifest(self, *, strict: bool = True) -> Manifest | None:
        """The dataset's manifest, ``None`` without one. A manifest that cannot be parsed
        raises CorruptDataError, or (``strict=False``: an overwrite replaces it anyway)
        counts as absent."""
        for path in self._manifest_paths():
            try:
                data = self.fs.cat_file(path)
                break
            except FileNotFoundError:
                continue
        else:
            return None
        try:
            return Manifest.from_json(data)
        except Exception as exc:
            if not strict:
                return None
            raise CorruptDataError(
                f"{self.get_uri()}: the dataset's manifest {self.store.uri(path)} is corrupt "
                f"({type(exc).__name__}: {exc}; {len(data)} bytes), so which files hold the "
                "data is unknown. Repair it by writing the dataset again with "
                "mode='overwrite' (which replaces the manifest), or remove it with "
                "bucket.delete()."
            ) from exc

    def _plain_files(self) -> builtins.list[str]:
        """Data files under the dataset directory that no Glacier manifest describes (none
        where a table's creation began and never committed: those are its orphans)."""
        if self.is_table and self._log.creation_begun():
            return []
        try:
            paths = self.fs.find(self._path(self.key)) if self.key else self._root_files()
        except FileNotFoundError:
            self._raise_if_bucket_missing("list")
            return []
        files = []
        for path in paths:
            relative = self._key(path)[len(self._prefix) :]
            if any(part.startswith(("_", ".")) for part in relative.split("/")):
                continue  # hidden: Glacier's own objects, _SUCCESS markers, temporary files
            if relative.endswith(self.format.extensions):
                files.append(self._key(path))
        if not files:
            self._raise_if_bucket_missing("list")
        return sorted(files)

    def _root_files(self) -> builtins.list[str]:
        paths: builtins.list[str] = self.fs.find(self.root)
        return paths

    def _snapshot(self, *, check_object: bool = True) -> _Snapshot:
        if not self.is_dataset:
            if check_object and self._object_info() is None:
                raise self._not_found("read")
            return _Snapshot((self.key,), self.format)
        manifest = self._manifest()
        if manifest is not None:
            if self.is_table:
                self._refuse_legacy("read")
            return self._manifest_snapshot(manifest)
        files = self._plain_files()
        if not files:
            raise self._not_found("read")
        return _Snapshot(tuple(files), self.format, self.partition_by)

    def _manifest_snapshot(self, manifest: Manifest) -> _Snapshot:
        return _Snapshot(
            manifest.files,
            get_format(manifest.format),
            manifest.partition_by,
            manifest.schema,
            manifest,
        )

    def _scan(self, snapshot: _Snapshot, options: Mapping[str, Any]) -> pl.LazyFrame:
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

    def _fsspec_scan(self, snapshot: _Snapshot, options: Mapping[str, Any]) -> pl.LazyFrame:
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
        snapshot: _Snapshot,
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
        self, snapshot: _Snapshot, cache: dict[str, bytes], options: Mapping[str, Any]
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

    # -- writing ---------------------------------------------------------------------------

    def _prepare_bucket(self) -> None:
        policy = self.store.bucket_policy(self.config)
        if policy == "create":
            self.fs.makedirs(self.root, exist_ok=True)
        elif policy == "require" and not self.fs.isdir(self.root):
            raise self._bucket_missing("write")

    def _write_object(self, frame: pl.LazyFrame, *, append: bool) -> None:
        if append and self._object_info() is not None:
            stored = self._scan(_Snapshot((self.key,), self.format), self.resource.read_options)
            frame = pl.concat([stored, self._conform(frame, stored.collect_schema())])
        target = self._path(self.key)
        if not self.store.renames:
            self._upload(frame, target)
            return
        tmp = self._path(f"{TMP_DIR}/{temp_name(posixpath.basename(self.key))}")
        try:
            self._sink(frame, tmp)
            self._rename(tmp, target)
        except BaseException:
            self._discard([tmp])
            raise
        self._sweep(TMP_DIR, TMP_GRACE)

    def _upload(self, frame: pl.LazyFrame, target: str) -> None:
        """Stream ``frame`` into an upload that becomes the object only once completed."""
        upload = open_upload(self.fs, target, UPLOAD_PART_SIZE, read_back_timeout(self.config))
        try:
            # polars calls only write/flush/tell on a file object.
            self.format.sink(frame, cast("IO[bytes]", upload), None, self.resource.write_options)
            upload.close()  # completes the upload; aborts it itself if that fails
        except BaseException as exc:
            upload.discard()
            if upload.failure is not None and upload.failure is not exc:
                raise upload.failure from exc  # the store's error; polars reports it untyped
            raise

    def _plain_snapshot(self, files: Sequence[str]) -> _Snapshot:
        """The snapshot of data files no manifest describes (another tool's)."""
        return _Snapshot(tuple(files), self.format, self.partition_by)

    def _conform(self, frame: pl.LazyFrame, stored: pl.Schema) -> pl.LazyFrame:
        """``frame`` in the stored column order, or SchemaMismatchError naming what differs."""
        incoming = frame.collect_schema()
        missing = [c for c in stored if c not in incoming]
        extra = [c for c in incoming if c not in stored]
        # Text formats store no types: compare what a reader would infer from both. This runs
        # the first 100 rows of the query once more (text-format appends only).
        seen = incoming if self.format.typed else self._round_trip_schema(frame.head(100))
        differing = [
            f"{c}: stored {stored[c]}, new {seen[c]}"
            for c in stored
            if c in seen and seen[c] != stored[c] and seen[c] != pl.Null
        ]
        if missing or extra or differing:
            details = []
            if missing:
                details.append(f"missing columns {missing}")
            if extra:
                details.append(f"unexpected columns {extra}")
            if differing:
                details.append("different types (" + "; ".join(differing) + ")")
            raise SchemaMismatchError(
                f"append to {self.get_uri()}: the new data does not match the stored schema: "
                f"{', '.join(details)}. Stored schema: {dict(stored)}. Cast or select the "
                f"columns to match, or write with mode='overwrite'."
            )
        return frame.select(list(stored))

    def _round_trip_schema(self, sample: pl.LazyFrame) -> pl.Schema:
        with spool() as scratch:
            local = f"{scratch}/sample{self.format.extension}"
            self.format.sink(sample, local, None)
            frame = self.format.read(Path(local).read_bytes(), None, {})
        # An all-null sample column says nothing about the type it will be read as.
        return pl.Schema(
            {
                c: pl.Null() if frame[c].null_count() == frame.height else frame[c].dtype
                for c in frame.columns
            }
        )

    def _sink(self, frame: pl.LazyFrame, path: str, partition_by: Sequence[str] = ()) -> None:
        """Write ``frame`` at ``path`` (a file, or a directory of hive partitions)."""
        target = self.store.native_path(path)
        if self.native is not None and (self.format.cloud_sink or "://" not in target):
            self.format.sink(
                frame, hive_target(target, partition_by), self.native, self.resource.write_options
            )
            return
        # polars cannot reach this store: stream to a local spool, then upload it.
        with spool() as scratch:
            local = scratch if partition_by else f"{scratch}/{posixpath.basename(path)}"
            self.format.sink(
                frame, hive_target(local, partition_by), None, self.resource.write_options
            )
            sources = [p for p in Path(scratch).rglob("*") if p.is_file()]
            if partition_by:
                targets = [f"{path}/{p.relative_to(scratch).as_posix()}" for p in sources]
            else:
                targets = [path]
            if sources:
                self.fs.put([str(p) for p in sources], targets)

    def _rename(self, source: str, target: str) -> None:
        self.fs.makedirs(posixpath.dirname(target), exist_ok=True)
        self.fs.mv(source, target)

    def _publish_bytes(self, data: bytes, target: str) -> None:
        if not self.store.renames:
            self.fs.pipe_file(target, data)  # one PUT of bytes in hand: it appears whole
            return
        tmp = self._path(f"{TMP_DIR}/{temp_name(posixpath.basename(target))}")
        try:
            self.fs.makedirs(posixpath.dirname(tmp), exist_ok=True)
            self.fs.pipe_file(tmp, data)
            self._rename(tmp, target)
        except BaseException:
            self._discard([tmp])
            raise

    def _discard(self, paths: Sequence[str]) -> None:
        """Best-effort removal of objects a failed or finished write leaves behind."""
        for path in paths:
            with contextlib.suppress(Exception):
                self.fs.rm(path, recursive=True)

    def _discard_tree(self, path: str) -> None:
        """Delete everything under ``path`` once nothing new appears there."""

        def remove_all() -> bool:
            try:
                paths = self.fs.find(path)
            except Exception:
                return False
            self._discard(paths)
            return bool(paths)

        remove_until_quiet(remove_all)
        self._discard([path])

    def _sweep(self, key: str, grace: timedelta, keep: Set[str] = frozenset()) -> None:
        """Delete entries of directory ``key`` named ``<stamp>-...`` older than ``grace``."""
        try:
            entries: list[str] = self.fs.ls(self._path(key), detail=False)
        except (FileNotFoundError, NotADirectoryError):
            return
        stale = []
        for entry in entries:
            name = posixpath.basename(entry.rstrip("/"))
            age = stamp_age(name)
            if name in keep or age is None:
                continue
            if age > grace or writer_is_gone(name):
                stale.append(entry)
        self._discard(stale)

    # -- errors ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Translate store exceptions into GlacierError subclasses naming the URI."""
        self._check_endpoint(action)
        for key in (self.key, TMP_DIR):  # the data, and where writes are staged
            self.store.confine(self.config, self._path(key))
        try:
            yield
        except CorruptDataError:
            raise
        except Exception as exc:
            if looks_corrupt(exc):
                raise self._corrupt(action, exc) from exc
            if isinstance(exc, GlacierError):
                raise
            translated = self._translate(exc, action)
            if translated is None:
                raise
            raise translated from exc
        except BaseException as exc:
            # polars panics (a pyo3 PanicException, not an Exception) on some truncated
            # files; say which file, if one is, rather than crash with an assertion.
            if type(exc).__name__ != "PanicException":
                raise
            corrupt = self._corrupt(action, Exception(str(exc)))
            if "a data file of" in str(corrupt):  # no broken file found: not corruption
                raise
            raise corrupt from exc

    def _corrupt(self, action: str, exc: Exception) -> CorruptDataError:
        """The error naming the stored file that could not be parsed, and the repair."""
        uri, cause = self.get_uri(), f"{type(exc).__name__}: {exc}"
        broken: builtins.list[str] = []
        try:
            if self.is_table:
                broken = corrupt_commits(self.fs, self._path(f"{self._prefix}{DELTA_LOG}"))
                if broken:
                    names = ", ".join(self.store.uri(p) for p in broken)
                    return CorruptDataError(
                        f"{action} {uri}: the table's log entry {names} is corrupt "
                        f"(truncated or overwritten; {cause}). Repair: write the dataset "
                        "again with mode='overwrite' (it starts a new history), or, if no "
                        "writer is running, delete that commit file (the table then reads "
                        "as the version before it)."
                    )
                files = [f"{self._prefix}{f}" for f in self._table_files()]
            else:
                files = builtins.list(self._snapshot(check_object=False).files)
            if self.format.typed:
                broken = corrupt_parquet_files(self.fs, [self._path(k) for k in files])
        except Exception:  # diagnosis is best effort: the message still names the dataset
            broken = []
        what = ", ".join(self.store.uri(p) for p in broken) or f"a data file of {uri}"
        return CorruptDataError(
            f"{action} {uri}: {what} is corrupt (truncated or overwritten outside Glacier; "
            f"{cause}). Repair: write the data again with mode='overwrite', or restore the "
            "file from the bucket's versioning."
        )

    def _check_endpoint(self, action: str) -> None:
        # Adapters are built per operation; an endpoint that answered once is not probed
        # again in this process (if it goes away later, the SDKs' retries take over).
        endpoint = self.store.endpoint(self.config)
        if not endpoint or endpoint in _ANSWERED:
            return
        try:
            check_endpoint(endpoint, getattr(self.config, "connect_timeout", 3.0))
        except EndpointUnreachableError as exc:
            raise EndpointUnreachableError(f"{action} {self.get_uri()}: {exc}") from exc
        _ANSWERED.add(endpoint)

    def _translate(self, exc: Exception, action: str) -> StorageError | None:
        kind = classify(exc)
        uri = self.get_uri()
        cause = f"{type(exc).__name__}: {exc}".strip()
        if kind == "timeout":
            endpoint = self.store.endpoint(self.config) or f"the {self.store.protocol} service"
            connect = getattr(self.config, "connect_timeout", None)
            read = getattr(self.config, "read_timeout", None)
            return StorageTimeoutError(
                f"{action} {uri}: {endpoint} timed out (connect_timeout={connect} s, "
                f"read_timeout={read} s, with retries; {cause}). Check that the store is up "
                "and reachable; on a slow link, raise connect_timeout or read_timeout in the "
                "provider config."
            )
        if kind == "unreachable":
            endpoint = self.store.endpoint(self.config) or f"the {self.store.protocol} service"
            return EndpointUnreachableError(
                f"{action} {uri}: {endpoint} did not answer ({cause}). Check the network, or "
                f"that the emulator behind endpoint_url is running."
            )
        if kind == "denied":
            return StoragePermissionError(
                f"{action} {uri}: permission denied ({cause}). Check that the credentials in "
                f"use (profile, role, identity) may {action} this location."
            )
        if kind == "missing":
            try:
                self._raise_if_bucket_missing(action)
            except BucketNotFoundError as missing:
                return missing
            return self._not_found(action, cause)
        if kind == "io":
            return StorageError(f"{action} {uri} failed: {cause}")
        return None

    def _raise_if_bucket_missing(self, action: str) -> None:
        if self.store.bucket_policy(self.config) == "create":
            return  # buckets are directories made on demand: never "missing"
        try:
            present = self.fs.exists(self.root)
        except Exception:
            return  # cannot tell; the caller reports the object as missing
        if not present:
            raise self._bucket_missing(action)

    def _bucket_missing(self, action: str) -> BucketNotFoundError:
        name = self.resource.bucket_name
        return BucketNotFoundError(
            f"{action} {self.get_uri()}: the bucket {name!r} does not exist "
            f"({self.store.uri(self.root)}). Create it (glacier deploy, or the cloud console), "
            f"or fix bucket_name."
        )

    def _not_found(self, action: str, cause: str = "") -> ObjectNotFoundError:
        what = "dataset" if self.is_dataset else "object"
        hint = "" if self.is_dataset else " (a path ending in '/' names a dataset directory)"
        detail = f" ({cause})" if cause else ""
        return ObjectNotFoundError(
            f"{action} {self.get_uri()}: no such {what}{detail}. Write it first, or fix the "
            f"path{hint}."
        )


def _token(infos: Sequence[Mapping[str, Any]]) -> str:
    """A digest of the fields that change when an object is rewritten."""
    digest = hashlib.sha256()
    for info in infos:
        fields = [str(info.get("name", ""))]
        fields += [f"{k}={info[k]}" for k in _CHANGE_FIELDS if k in info]
        digest.update("|".join(fields).encode())
    return digest.hexdigest()[:32]

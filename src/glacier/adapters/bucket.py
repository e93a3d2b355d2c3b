"""Bucket I/O on any fsspec filesystem: local disk, memory, S3, GCS and Azure Blob.

:class:`FsspecBucketAdapter` serves every :class:`~glacier.resources.Bucket`. What differs
between stores comes from :data:`glacier.adapters.filesystems.STORES`; what differs between
formats from :data:`glacier.formats.FORMATS`. The layout of versions and manifests is
:mod:`glacier.adapters.manifest`, partition pruning :mod:`glacier.adapters.partitions`, the
kinds of storage failure :mod:`glacier.adapters.storage_errors` and the local scratch space
:mod:`glacier.adapters.spool`; this module is the I/O over them. The adapter checks each
call's arguments, chooses the Bucket's layout once (:class:`~glacier.adapters.layout.Layout`:
an object, a text directory or a Delta table) and delegates to it; what it shares with the
layouts is split by concern: the Delta table's operations
(:mod:`glacier.adapters.table_layout`), the readers of a snapshot's files
(:mod:`glacier.adapters.fsspec_reads`) and the translation of storage errors
(:mod:`glacier.adapters.storage_errors`).

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
import posixpath
import re
from collections.abc import Mapping, Sequence, Set
from datetime import timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import polars as pl

from glacier.adapters.filesystems import (
    NativeAccess,
    Store,
    store_for,
)
from glacier.adapters.fsspec_reads import FsspecReads
from glacier.adapters.fsspec_reads import Snapshot as _Snapshot
from glacier.adapters.layout import Layout
from glacier.adapters.manifest import (
    GLACIER_DIR,
    LEGACY_MANIFEST,
    MANIFEST_FORMAT,
    TMP_DIR,
    TMP_GRACE,
    VERSION_GRACE,
    Manifest,
    manifest_key,
    read_manifest,
    stamp_age,
    temp_name,
    versions_key,
    writer_is_gone,
)
from glacier.adapters.objects import (
    ObjectLayout,
    change_token,
    local_path,
    open_object,
    read_value,
    write_value,
)
from glacier.adapters.partitions import hive_target
from glacier.adapters.spool import remove_until_quiet, spool
from glacier.adapters.storage_errors import StorageErrorTranslation
from glacier.adapters.table_layout import DeltaTableOps, TableLayout
from glacier.adapters.tables import (
    DEFAULT_RETENTION,
    DELTA_LOG,
    SchemaPolicy,
    Version,
)
from glacier.adapters.text_datasets import TextDirectoryLayout
from glacier.dataset import is_directory, is_table_layout
from glacier.errors import (
    BucketNotFoundError,
    ConfigError,
    InvalidDataError,
    SchemaMismatchError,
)
from glacier.formats import TABLE_FORMAT, check_options, get_format, resolve_format
from glacier.schemas import compare_schemas

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


# -- the adapter ---------------------------------------------------------------------------


class FsspecBucketAdapter(StorageErrorTranslation, DeltaTableOps, FsspecReads):
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
        #: Where the data is, chosen once: what every operation below delegates to.
        self.layout: Layout = self._choose_layout()

    def _choose_layout(self) -> Layout:
        if not self.is_dataset:
            return ObjectLayout(self, UPLOAD_PART_SIZE)
        if self.is_table:
            return TableLayout(self)
        return TextDirectoryLayout(self)

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
            return self.layout.scan(version, options)

    def read(self, version: Version = None, **options: Any) -> pl.DataFrame:
        """The whole dataset (or a table's ``version``); ``options`` go to the polars reader."""
        self._check_read_options("read", options)
        options = {**self.resource.read_options, **options}
        if not self.format.frame:
            self._no_versions(version)
            return read_value(self, options)  # type: ignore[no-any-return]
        with self._errors("read"):
            return self.layout.read(version, options)

    def _scan_files(self, version: Version, options: Mapping[str, Any]) -> pl.LazyFrame:
        """The scan of an object's or a text directory's files (no versions)."""
        self._no_versions(version)
        snapshot = self._snapshot()
        self._check_footers(snapshot.files)
        return self._scan(snapshot, options)

    def _read_files(self, version: Version, options: Mapping[str, Any]) -> pl.DataFrame:
        """The read of an object's or a text directory's files (no versions)."""
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
    ) -> int | None:
        """Write atomically (see the module docstring); ``append`` checks the schema.

        Tables (multi-file datasets) also take ``mode="overwrite_partitions"`` and
        ``mode="merge"`` with key columns ``on`` (see :meth:`glacier.resources.Bucket.write`).
        Returns the rows written, counted as they went to the store
        (:mod:`glacier.row_counts`); ``None`` for a value that is not a table.
        """
        self.resource.check_writable("write")
        if not self.format.frame:
            if mode != "overwrite" or on or delete_when or schema:
                raise ConfigError(
                    f"write {self.get_uri()}: format {self.format.name!r} stores one value, "
                    f"written whole; mode={mode!r} is for tables. Use mode='overwrite'."
                )
            write_value(self, data, dict(self.resource.write_options), UPLOAD_PART_SIZE)
            return None
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
        known = data.height if isinstance(data, pl.DataFrame) else None
        with self._errors("write"):
            if known is None and self.is_table:
                # A Delta commit takes a collected frame anyway: collected once here, its
                # height is the count, and a commit retried after a concurrent creation
                # does not run the query again.
                collected = frame.collect()
                known, frame = collected.height, collected.lazy()
            self._prepare_bucket()
            # Files are counted by their layout as polars hands the rows to the sink.
            counted_rows = self.layout.write(frame, mode, on or (), delete_when, schema)
        return known if known is not None else counted_rows

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
                return self.layout.exists()
            except BucketNotFoundError:
                return False

    def _directory_exists(self) -> bool:
        """Whether a dataset directory has a manifest or plain data files."""
        manifests = self._manifest_paths()
        return any(self.fs.exists(p) for p in manifests) or bool(self._plain_files())

    def list(self) -> list[str]:
        """Keys (relative to the bucket) of the objects holding the current data."""
        with self._errors("list"):
            return self.layout.list()

    def _directory_list(self) -> builtins.list[str]:
        """The files of a dataset directory's manifest, or its plain data files."""
        manifest = self._manifest()
        return builtins.list(manifest.files) if manifest else self._plain_files()

    def delete(self) -> None:
        """Delete the object, or the dataset directory with all its versions."""
        with self._errors("delete"):
            self.layout.delete()

    def _delete_directory(self) -> None:
        """Delete a dataset directory (a table's or a text directory's) and all its versions."""
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
            return self.layout.fingerprint()

    def _directory_fingerprint(self) -> str:
        """A dataset directory's manifest version, else a token of its plain files."""
        manifest = self._manifest()
        if manifest is not None:
            return f"v-{manifest.version}"
        infos = [self.fs.info(self._path(k)) for k in self._plain_files()]
        if not infos:
            raise self._not_found("fingerprint")
        return change_token(infos)

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
        return read_manifest(
            self.fs, self._manifest_paths(), self.get_uri(), self.store.uri, strict=strict
        )

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

    # -- writing ---------------------------------------------------------------------------

    def _prepare_bucket(self) -> None:
        policy = self.store.bucket_policy(self.config)
        if policy == "create":
            self.fs.makedirs(self.root, exist_ok=True)
        elif policy == "require" and not self.fs.isdir(self.root):
            raise self._bucket_missing("write")

    def _plain_snapshot(self, files: Sequence[str]) -> _Snapshot:
        """The snapshot of data files no manifest describes (another tool's)."""
        return _Snapshot(tuple(files), self.format, self.partition_by)

    def _conform(self, frame: pl.LazyFrame, stored: pl.Schema) -> pl.LazyFrame:
        """``frame`` in the stored column order, or SchemaMismatchError naming what differs."""
        incoming = frame.collect_schema()
        # Text formats store no types: compare what a reader would infer from both. This runs
        # the first 100 rows of the query once more (text-format appends only).
        seen = incoming if self.format.typed else self._round_trip_schema(frame.head(100))
        # A column the sample does not show says nothing about its type, as an all-null one.
        actual = {c: seen[c] if c in seen else pl.Null() for c in incoming}
        diff = compare_schemas(stored, actual, nulls_match=True)
        if diff:
            raise SchemaMismatchError(
                f"append to {self.get_uri()}: the new data does not match the stored schema: "
                f"{diff.describe('stored', 'new')}. Stored schema: {dict(stored)}. Cast or "
                f"select the columns to match, or write with mode='overwrite'."
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

"""A Bucket's Delta Lake table: versions, time travel, commits, merges, vacuum, optimize
and the conversion of the old ``_glacier/`` layout (over :mod:`glacier.adapters.tables` and
:mod:`glacier.adapters.table_mirror`; see :mod:`glacier.adapters.bucket`)."""

from __future__ import annotations

import builtins
import contextlib
import functools
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote

import polars as pl

from glacier.adapters.corruption import (
    corrupt_commits,
    looks_corrupt,
    missing_footers,
)
from glacier.adapters.filesystems import (
    Store,
)
from glacier.adapters.manifest import (
    Manifest,
)
from glacier.adapters.objects import change_token
from glacier.adapters.table_mirror import TableMirror
from glacier.adapters.tables import (
    DELTA_LOG,
    SchemaPolicy,
    TableIO,
    TableMode,
    Version,
    check_evolution,
    refuse_before_oldest,
)
from glacier.adapters.text_datasets import TextDatasetStore, write_text_dataset
from glacier.errors import (
    ConfigError,
    CorruptDataError,
    LegacyLayoutError,
    MergeKeyError,
    NotSupportedError,
    ObjectNotFoundError,
    RetentionError,
    SchemaMismatchError,
    TableCreatedConcurrentlyError,
    VersionNotFoundError,
)
from glacier.formats import Format

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

from glacier.adapters.fsspec_reads import Snapshot

__all__ = ["DeltaTableOps", "TableLayout"]

#: A staging file of delta-rs' local store (``part-...parquet#1``), renamed when complete.
_STAGED_FILE = re.compile(r"#\d+$")

#: Tries of a table write that keeps finding the table created meanwhile (once suffices
#: unless the table is deleted and created again in between).
_CREATION_ATTEMPTS = 3


class DeltaTableOps:
    """The Delta-table half of :class:`~glacier.adapters.bucket.FsspecBucketAdapter`."""

    if TYPE_CHECKING:  # what the Bucket adapter provides
        fs: AbstractFileSystem
        store: Store
        config: Any
        key: str
        format: Format
        partition_by: tuple[str, ...]
        retention: timedelta
        is_table: bool
        is_dataset: bool

        @property
        def _prefix(self) -> str: ...
        def get_uri(self) -> str: ...
        def _path(self, key: str) -> str: ...
        def _key(self, path: str) -> str: ...
        def _errors(self, action: str) -> contextlib.AbstractContextManager[None]: ...
        def _not_found(self, action: str, cause: str = "") -> ObjectNotFoundError: ...
        def _manifest(self, *, strict: bool = True) -> Manifest | None: ...
        def _manifest_snapshot(self, manifest: Manifest) -> Snapshot: ...
        def _snapshot(self, *, check_object: bool = True) -> Snapshot: ...
        def _plain_files(self) -> builtins.list[str]: ...
        def _scan(self, snapshot: Snapshot, options: Mapping[str, Any]) -> pl.LazyFrame: ...
        def _discard(self, paths: Sequence[str]) -> None: ...
        def _versions_key(self) -> str: ...
        def _directory_exists(self) -> bool: ...
        def _directory_list(self) -> builtins.list[str]: ...
        def _delete_directory(self) -> None: ...
        def _directory_fingerprint(self) -> str: ...

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
            write_text_dataset(cast("TextDatasetStore", self), frame.lazy(), append=False)
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
        return self._scan(Snapshot(files, self.format, partition_by, schema), {})

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
            check_evolution(
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
                snapshot = Snapshot(tuple(plain), self.format, self.partition_by)
                stored_frame = self._scan(snapshot, {})
                check_evolution(
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


class TableLayout:
    """A directory dataset of parquet as a Delta table (the
    :class:`~glacier.adapters.layout.Layout` of tables); before its first commit, the plain
    files of another tool are read (and taken in by the first write), and a directory in
    the old ``_glacier/`` manifest layout is refused until converted."""

    def __init__(self, adapter: DeltaTableOps) -> None:
        self.adapter = adapter

    def scan(self, version: Version, options: Mapping[str, Any]) -> pl.LazyFrame:
        return self.adapter._table_scan(version, options, check_footers=True)

    def read(self, version: Version, options: Mapping[str, Any]) -> pl.DataFrame:
        return self.adapter._table_scan(version, options).collect()

    def write(
        self,
        frame: pl.LazyFrame,
        mode: str,
        on: Sequence[str],
        delete_when: str | None,
        schema: SchemaPolicy,
    ) -> None:
        self.adapter._write_table_once_created(
            frame, cast("TableMode", mode), on, delete_when, schema
        )

    def exists(self) -> bool:
        return self.adapter._table_exists() or self.adapter._directory_exists()

    def list(self) -> builtins.list[str]:
        adapter = self.adapter
        if adapter._table_exists("list"):
            return [f"{adapter._prefix}{f}" for f in adapter._table_files()]
        return adapter._directory_list()

    def delete(self) -> None:
        self.adapter._delete_directory()

    def fingerprint(self) -> str:
        commit = self.adapter._log.latest_commit()
        if commit is not None:
            return change_token([commit])
        return self.adapter._directory_fingerprint()

"""Writing a text-format dataset directory (csv, json, ndjson): its files in view, a manifest
as the commit.

A write puts the new version's files at visible paths (hive partition directories when the
Bucket is partitioned), replaces the manifest -- the commit point: Glacier's readers go
through it, so they see the old version or the new one -- and then deletes the files the
new version superseded, so that an engine reading the directory (DuckDB's ``**/*.csv``,
``pyarrow.dataset``, Spark) reads what Glacier reads. Where the files and the manifest live,
and how they are named, is :mod:`glacier.adapters.manifest`; this module is the order of the
operations and what a failure at each step leaves. A manifest whose answer was lost (the
store applied the PUT, the client saw an error) is read back and counts as the success it
was. Parquet directories are Delta tables instead (:mod:`glacier.adapters.tables`).

The I/O goes through the bucket adapter (:class:`TextDatasetStore` says what of it is
used), as :mod:`glacier.adapters.objects` does for single objects.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from glacier.adapters.manifest import (
    TMP_DIR,
    TMP_GRACE,
    VERSION_GRACE,
    Manifest,
    data_file_name,
    is_stale_part,
    new_version,
    staging_key,
)
from glacier.adapters.partitions import hive_target
from glacier.adapters.spool import spool
from glacier.adapters.tables import SchemaPolicy, Version
from glacier.errors import SchemaMismatchError
from glacier.formats import Format
from glacier.row_counts import counted

__all__ = ["TextDatasetStore", "TextDirectoryLayout", "write_text_dataset"]


class TextDatasetStore(Protocol):
    """What a text dataset's write uses of
    :class:`glacier.adapters.bucket.FsspecBucketAdapter`: the dataset's place and format,
    its manifest, and the adapter's sinks, renames, deletions and sweeps (shared with
    single objects, so both are written and cleaned up alike)."""

    fs: Any
    store: Any
    resource: Any
    format: Format
    partition_by: tuple[str, ...]

    @property
    def _prefix(self) -> str: ...

    def get_uri(self) -> str: ...

    def _path(self, key: str) -> str: ...

    def _key(self, path: str) -> str: ...

    def _manifest(self, *, strict: bool = True) -> Manifest | None: ...

    def _manifest_path(self) -> str: ...

    def _legacy_manifest_path(self) -> str | None: ...

    def _versions_key(self) -> str: ...

    def _plain_files(self) -> list[str]: ...

    def _plain_snapshot(self, files: Sequence[str]) -> Any: ...

    def _manifest_snapshot(self, manifest: Manifest) -> Any: ...

    def _scan(self, snapshot: Any, options: Any) -> pl.LazyFrame: ...

    def _conform(self, frame: pl.LazyFrame, stored: pl.Schema) -> pl.LazyFrame: ...

    def _sink(self, frame: pl.LazyFrame, path: str, partition_by: Sequence[str] = ()) -> None: ...

    def _rename(self, source: str, target: str) -> None: ...

    def _publish_bytes(self, data: bytes, target: str) -> None: ...

    def _discard(self, paths: Sequence[str]) -> None: ...

    def _discard_tree(self, path: str) -> None: ...

    def _sweep(self, key: str, grace: timedelta, keep: Any = ...) -> None: ...

    def _scan_files(self, version: Version, options: Mapping[str, Any]) -> pl.LazyFrame: ...

    def _read_files(self, version: Version, options: Mapping[str, Any]) -> pl.DataFrame: ...

    def _directory_exists(self) -> bool: ...

    def _directory_list(self) -> list[str]: ...

    def _delete_directory(self) -> None: ...

    def _directory_fingerprint(self) -> str: ...


class TextDirectoryLayout:
    """A directory of csv, json or ndjson files with a manifest as its commit record (the
    :class:`~glacier.adapters.layout.Layout` of text datasets); one in the old ``_glacier/``
    layout, or another tool's plain files, is read and rewritten by its next write."""

    def __init__(self, adapter: TextDatasetStore) -> None:
        self.adapter = adapter

    def scan(self, version: Version, options: Mapping[str, Any]) -> pl.LazyFrame:
        return self.adapter._scan_files(version, options)

    def read(self, version: Version, options: Mapping[str, Any]) -> pl.DataFrame:
        return self.adapter._read_files(version, options)

    def write(
        self,
        frame: pl.LazyFrame,
        mode: str,
        on: Sequence[str],
        delete_when: str | None,
        schema: SchemaPolicy,
    ) -> int:
        return write_text_dataset(self.adapter, frame, append=mode == "append")

    def exists(self) -> bool:
        return self.adapter._directory_exists()

    def list(self) -> list[str]:
        return self.adapter._directory_list()

    def delete(self) -> None:
        self.adapter._delete_directory()

    def fingerprint(self) -> str:
        return self.adapter._directory_fingerprint()


def write_text_dataset(adapter: TextDatasetStore, frame: pl.LazyFrame, *, append: bool) -> int:
    """Write a text-format dataset directory (layout: :mod:`glacier.adapters.manifest`):
    the new files at visible paths, then the manifest (the commit), then the removal of
    the files the new version supersedes. Returns the rows of ``frame`` written."""
    manifest = adapter._manifest(strict=append)  # an overwrite repairs a corrupt manifest
    plain = [] if manifest is not None else adapter._plain_files()
    partition_by = adapter.partition_by
    legacy = manifest is not None and manifest.legacy
    if append and (manifest is not None or plain):
        if manifest is not None and manifest.partition_by != partition_by:
            raise SchemaMismatchError(
                f"append to {adapter.get_uri()}: the stored data is partitioned by "
                f"{list(manifest.partition_by)}, this Bucket by {list(partition_by)}."
            )
        stored = (
            manifest.schema
            if manifest is not None
            else adapter._scan(adapter._plain_snapshot(plain), {}).collect_schema()
        )
        # Counted after the schema check, which runs a sample of the query once more.
        frame, rows = counted(adapter._conform(frame, stored))
        if legacy and manifest is not None:
            # The old layout hides its files from other engines: this write moves the
            # stored rows to visible paths too (the dataset is converted).
            old = adapter._scan(adapter._manifest_snapshot(manifest), {})
            frame = pl.concat([old, frame], how="vertical_relaxed")
    else:
        frame, rows = counted(frame)
    schema = frame.collect_schema()
    version = new_version()
    written: list[str] = []
    base = manifest.files if manifest is not None else tuple(plain)
    kept = base if append and not legacy else ()
    try:
        _write_files(adapter, frame, version, written)
        new = Manifest(
            version=version,
            format=adapter.format.name,
            partition_by=partition_by,
            files=(*kept, *sorted(written)),
            previous=(),
            schema=pl.Schema(schema),
        )
        # A writer that committed since this one read the manifest: an append keeps its
        # files, an overwrite supersedes them (this narrows the race; it does not close
        # it: text directories have no conditional commit, Delta tables do).
        current = adapter._manifest(strict=False)
        if current is not None and manifest is not None and current.version != manifest.version:
            base = (*base, *(f for f in current.files if f not in base))
            if append and not current.legacy:
                new = replace(new, files=(*current.files, *sorted(written)))
        _publish_manifest(adapter, new)
    except BaseException:
        if _published(adapter, version) is False:
            adapter._discard([adapter._path(key) for key in written])
        # else the manifest may point at this version (it landed, or cannot be read back
        # to tell): its files stay; unreferenced files are swept after VERSION_GRACE.
        raise
    # The commit holds: what it superseded goes now, so other engines read this version.
    current_files = set(new.files)
    adapter._discard([adapter._path(key) for key in base if key not in current_files])
    legacy_manifest = adapter._legacy_manifest_path()
    if legacy_manifest is not None and manifest is not None and manifest.legacy:
        adapter._discard([legacy_manifest])  # a json glob would read it as data
    _sweep_leftovers(adapter, new)
    if adapter.store.renames:  # the only stores that write temporary objects
        adapter._sweep(TMP_DIR, TMP_GRACE)
    return rows()


def _write_files(
    adapter: TextDatasetStore, frame: pl.LazyFrame, version: str, written: list[str]
) -> None:
    """Write ``frame`` as the data files of ``version`` at their visible paths, adding
    each key to ``written`` once it may exist. No file is visible before it is whole: on
    stores that rename, polars writes to a hidden staging directory and each finished
    file is renamed into place; elsewhere each file is spooled locally and uploaded
    whole (one PUT, or a multipart upload that appears only on completion)."""
    extension = adapter.format.extension

    def place(relative: str, index: int) -> str:
        directory = posixpath.dirname(relative)
        name = data_file_name(version, index, extension)
        return f"{adapter._prefix}{directory}/{name}" if directory else f"{adapter._prefix}{name}"

    if adapter.store.renames:
        staging = adapter._path(f"{staging_key(adapter._prefix)}/{version}")
        try:
            if adapter.partition_by:
                adapter._sink(frame, staging, adapter.partition_by)
            else:
                adapter._sink(frame, f"{staging}/part{extension}")
            start = len(adapter._key(staging)) + 1
            for index, source in enumerate(sorted(adapter.fs.find(staging))):
                key = place(adapter._key(source)[start:], index)
                written.append(key)
                adapter._rename(source, adapter._path(key))
        except BaseException:
            adapter._discard_tree(staging)
            raise
        adapter._discard([staging])
        return
    with spool() as scratch:
        local = scratch if adapter.partition_by else f"{scratch}/part{extension}"
        adapter.format.sink(
            frame, hive_target(local, adapter.partition_by), None, adapter.resource.write_options
        )
        sources = sorted(p for p in Path(scratch).rglob("*") if p.is_file())
        keys = [place(p.relative_to(scratch).as_posix(), i) for i, p in enumerate(sources)]
        written.extend(keys)
        if sources:
            adapter.fs.put([str(p) for p in sources], [adapter._path(k) for k in keys])


def _sweep_leftovers(adapter: TextDatasetStore, manifest: Manifest) -> None:
    """Remove what writes that never committed left in the dataset directory: data files
    no manifest names (once :data:`VERSION_GRACE` old, or at once when their writer on
    this host has ended), staging directories, and versions of the legacy layout."""
    current = set(manifest.files)
    stale = [
        adapter._path(key)
        for key in adapter._plain_files()
        if key not in current and is_stale_part(posixpath.basename(key), VERSION_GRACE)
    ]
    adapter._discard(stale)
    versions = adapter._versions_key()
    adapter._sweep(versions, VERSION_GRACE, keep=manifest.versions_in_use(versions))
    if adapter.store.renames:
        adapter._sweep(staging_key(adapter._prefix), VERSION_GRACE)


def _publish_manifest(adapter: TextDatasetStore, manifest: Manifest) -> None:
    """Replace the manifest: the commit of a dataset directory's write. An error after
    which the stored manifest is this one (the store applied the PUT and the answer was
    lost) is a commit that landed: a success."""
    try:
        adapter._publish_bytes(manifest.to_json(), adapter._manifest_path())
    except Exception:
        if not _published(adapter, manifest.version):
            raise


def _published(adapter: TextDatasetStore, version: str) -> bool | None:
    """Whether the stored manifest names ``version``; ``None`` if it cannot be read."""
    try:
        current = adapter._manifest(strict=True)
    except Exception:
        return None
    return current is not None and current.version == version

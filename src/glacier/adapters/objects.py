"""One stored object as a file: ``Bucket.open()``, ``Bucket.local_path()`` and the values of
formats that are not tables (models, documents, images).

Many libraries take a file object or a local path, never a URI (``pl.read_excel``,
``joblib.load``, most ML libraries), so a Bucket hands out the object itself:

- :func:`open_object` gives a readable fsspec file, or a writable file that is *atomic* like
  every other write of the Bucket: on the local disk and in memory the data goes to a
  temporary key renamed into place on ``close()``; on object stores into an upload completed
  on ``close()`` (:mod:`glacier.adapters.uploads`). Leaving a ``with`` block by an exception
  discards it: the object keeps its previous version.
- :func:`local_path` is the object's own path on the local disk, or elsewhere a temporary copy
  (downloaded before, uploaded atomically after when writing) removed on exit.
- :func:`read_value` / :func:`write_value` are the ``read()``/``write()`` of an object format:
  a value checked against the format before the first byte moves, then dumped into an atomic
  writer.
- :class:`ObjectLayout` is the :class:`~glacier.adapters.layout.Layout` of a Bucket naming one
  object: its ``scan``/``read``/``write``/``exists``/``list``/``delete``/``fingerprint``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import posixpath
import shutil
from collections.abc import Iterator, Mapping, Sequence, Set
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import IO, Any, Protocol, cast

import polars as pl

from glacier.adapters.filesystems import read_back_timeout
from glacier.adapters.fsspec_reads import Snapshot
from glacier.adapters.manifest import TMP_DIR, TMP_GRACE, temp_name
from glacier.adapters.spool import spool
from glacier.adapters.tables import SchemaPolicy, Version
from glacier.adapters.uploads import Upload, open_upload
from glacier.errors import ConfigError
from glacier.format_checks import check_pickle_allowed
from glacier.formats import Format, check_value
from glacier.row_counts import counted

__all__ = [
    "MODES",
    "AtomicWriter",
    "ObjectLayout",
    "ObjectStore",
    "change_token",
    "local_path",
    "open_object",
    "read_value",
    "write_value",
]

#: The modes of :func:`open_object`: whole-object reads and atomic whole-object writes.
MODES = ("rb", "r", "wb", "w")


class ObjectStore(Protocol):
    """What these functions use of :class:`glacier.adapters.bucket.FsspecBucketAdapter`: the
    one object a Bucket names, its store, and the adapter's error translation and atomic
    rename (so objects are written, named and reported exactly as tables are)."""

    fs: Any
    store: Any
    config: Any
    key: str
    is_dataset: bool
    format: Format

    def get_uri(self) -> str: ...

    def _path(self, key: str) -> str: ...

    def _errors(self, action: str) -> AbstractContextManager[None]: ...

    def _object_info(self) -> dict[str, Any] | None: ...

    def _not_found(self, action: str, cause: str = "") -> Exception: ...

    def _raise_if_bucket_missing(self, action: str) -> None: ...

    def _prepare_bucket(self) -> None: ...

    def _rename(self, source: str, target: str) -> None: ...

    def _discard(self, paths: Sequence[str]) -> None: ...

    def _scan_files(self, version: Version, options: Mapping[str, Any]) -> pl.LazyFrame: ...

    def _read_files(self, version: Version, options: Mapping[str, Any]) -> pl.DataFrame: ...

    resource: Any

    def _scan(self, snapshot: Snapshot, options: Mapping[str, Any]) -> pl.LazyFrame: ...

    def _conform(self, frame: pl.LazyFrame, stored: pl.Schema) -> pl.LazyFrame: ...

    def _sink(self, frame: pl.LazyFrame, path: str, partition_by: Sequence[str] = ()) -> None: ...

    def _sweep(self, key: str, grace: timedelta, keep: Set[str] = frozenset()) -> None: ...


class ObjectLayout:
    """A Bucket whose path names one object (the :class:`~glacier.adapters.layout.Layout`
    of single objects): read through the adapter's readers, written by its atomic upload or
    rename."""

    def __init__(self, adapter: ObjectStore, part_size: int) -> None:
        self.adapter = adapter
        self.part_size = part_size

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
        adapter = self.adapter
        if mode == "append" and adapter._object_info() is not None:
            stored = adapter._scan(
                Snapshot((adapter.key,), adapter.format), adapter.resource.read_options
            )
            # Counted after the schema check, which runs a sample of the query once more.
            incoming, rows = counted(adapter._conform(frame, stored.collect_schema()))
            frame = pl.concat([stored, incoming])
        else:
            frame, rows = counted(frame)
        target = adapter._path(adapter.key)
        if not adapter.store.renames:
            self._upload(frame, target)
            return rows()
        tmp = adapter._path(f"{TMP_DIR}/{temp_name(posixpath.basename(adapter.key))}")
        try:
            adapter._sink(frame, tmp)
            adapter._rename(tmp, target)
        except BaseException:
            adapter._discard([tmp])
            raise
        adapter._sweep(TMP_DIR, TMP_GRACE)
        return rows()

    def _upload(self, frame: pl.LazyFrame, target: str) -> None:
        """Stream ``frame`` into an upload that becomes the object only once completed."""
        adapter = self.adapter
        upload = open_upload(adapter.fs, target, self.part_size, read_back_timeout(adapter.config))
        try:
            # polars calls only write/flush/tell on a file object.
            adapter.format.sink(
                frame, cast("IO[bytes]", upload), None, adapter.resource.write_options
            )
            upload.close()  # completes the upload; aborts it itself if that fails
        except BaseException as exc:
            upload.discard()
            if upload.failure is not None and upload.failure is not exc:
                raise upload.failure from exc  # the store's error; polars reports it untyped
            raise

    def exists(self) -> bool:
        return self.adapter._object_info() is not None

    def list(self) -> list[str]:
        adapter = self.adapter
        return [adapter.key] if adapter._object_info() is not None else []

    def delete(self) -> None:
        adapter = self.adapter
        if adapter._object_info() is None:
            raise adapter._not_found("delete")
        adapter.fs.rm_file(adapter._path(adapter.key))

    def fingerprint(self) -> str:
        info = self.adapter._object_info()
        if info is None:
            raise self.adapter._not_found("fingerprint")
        return change_token([info])


class _RenameOnClose:
    """The :class:`~glacier.adapters.uploads.Upload` of stores that rename (local disk,
    memory): a temporary key renamed into place on close, removed on discard."""

    def __init__(self, adapter: ObjectStore, target: str) -> None:
        self.adapter = adapter
        self.target = target
        self.tmp = adapter._path(f"{TMP_DIR}/{temp_name(posixpath.basename(target))}")
        adapter.fs.makedirs(posixpath.dirname(self.tmp), exist_ok=True)
        self.handle = adapter.fs.open(self.tmp, "wb")
        self.failure: BaseException | None = None
        self.done = False

    def write(self, data: bytes) -> int:
        written: int = self.handle.write(data)
        return written

    def flush(self) -> None:
        self.handle.flush()

    def tell(self) -> int:
        position: int = self.handle.tell()
        return position

    def close(self) -> None:
        if self.done:
            return
        try:
            self.handle.close()
            self.adapter._rename(self.tmp, self.target)
        except BaseException:
            self.discard()
            raise
        self.done = True

    def discard(self) -> None:
        if self.done:
            return
        self.done = True
        with contextlib.suppress(Exception):
            self.handle.close()
        self.adapter._discard([self.tmp])


class AtomicWriter(io.RawIOBase):
    """A writable binary file whose data becomes the object only on :meth:`close`.

    Used as a context manager, an exception inside the block discards what was written;
    :meth:`discard` does the same explicitly. Garbage collection never publishes it.
    """

    def __init__(self, upload: Upload, uri: str) -> None:
        super().__init__()
        self.upload = upload
        self.uri = uri
        self.discarded = False

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.discarded:  # a buffered wrapper flushing after discard: the data is dropped
            return len(data)
        # No copy: every Upload copies what it keeps (into its part buffer or file).
        return self.upload.write(data)

    def tell(self) -> int:
        return self.upload.tell()

    def close(self) -> None:
        if self.closed:
            return
        try:
            if not self.discarded:
                self.upload.close()
        finally:
            super().close()

    def discard(self) -> None:
        """Abandon the write: the object keeps its previous version (or stays absent)."""
        if not self.discarded and not self.closed:
            self.discarded = True
            self.upload.discard()

    def __del__(self) -> None:
        # io.IOBase.__del__ would close, and closing publishes a half-written object.
        if not self.closed:
            self.discard()
            super().close()

    def __exit__(self, kind: Any, *rest: Any) -> None:
        if kind is not None:
            self.discard()
        self.close()


class _AtomicText(io.TextIOWrapper):
    """Text mode over an :class:`AtomicWriter`, discarding it when a block fails."""

    def __exit__(self, kind: Any, *rest: Any) -> None:
        if kind is not None:
            self.discard()
        self.close()

    def discard(self) -> None:
        """See :meth:`AtomicWriter.discard`."""
        raw = self.buffer.raw  # type: ignore[attr-defined]
        raw.discard()


def _writer(adapter: ObjectStore, part_size: int) -> AtomicWriter:
    adapter._prepare_bucket()
    target = adapter._path(adapter.key)
    if adapter.store.renames:
        upload: Upload = _RenameOnClose(adapter, target)
    else:
        upload = open_upload(adapter.fs, target, part_size, read_back_timeout(adapter.config))
    return AtomicWriter(upload, adapter.get_uri())


def _check_object(adapter: ObjectStore, action: str) -> None:
    if adapter.is_dataset:
        raise ConfigError(
            f"{action} {adapter.get_uri()}: this Bucket is a dataset directory (versions of "
            "files under a manifest), not one object. Give a path naming an object "
            "(e.g. 'models/regressor.joblib'), or use read()/scan()."
        )


def open_object(adapter: ObjectStore, mode: str, encoding: str, part_size: int) -> IO[Any]:
    """The object as a file: see the module docstring. ``mode`` is one of :data:`MODES`;
    uploads are cut in parts of ``part_size`` bytes."""
    if mode not in MODES:
        raise ConfigError(
            f"open {adapter.get_uri()}: mode={mode!r} is not one of {', '.join(MODES)}. "
            "Objects are read or written whole (no append, no update in place)."
        )
    _check_object(adapter, "open")
    if mode.startswith("r"):
        with adapter._errors("open"):
            if adapter._object_info() is None:
                raise adapter._not_found("open")
            path = adapter._path(adapter.key)
            if mode == "r":
                handle: IO[Any] = adapter.fs.open(path, "r", encoding=encoding)
            else:
                handle = adapter.fs.open(path, "rb")
            return handle
    with adapter._errors("open"):
        raw = _writer(adapter, part_size)
    if mode == "wb":
        return raw  # type: ignore[return-value]
    return _AtomicText(io.BufferedWriter(raw), encoding=encoding)


@contextlib.contextmanager
def local_path(adapter: ObjectStore, mode: str, part_size: int) -> Iterator[Path]:
    """The object at a local path: its own on the local disk, else a temporary download
    (``mode="r"``) or a temporary file uploaded atomically when the block ends (``"w"``)."""
    if mode not in ("r", "w"):
        raise ConfigError(f"local_path {adapter.get_uri()}: mode={mode!r}; use 'r' or 'w'.")
    _check_object(adapter, "local_path")
    name = posixpath.basename(adapter.key)
    if mode == "r":
        with adapter._errors("read"):
            if adapter._object_info() is None:
                raise adapter._not_found("read")
        if adapter.store.protocol == "file":
            yield Path(adapter.fs._strip_protocol(adapter._path(adapter.key)))
            return
        with spool() as scratch:
            local = Path(scratch) / name
            with adapter._errors("read"):
                adapter.fs.get_file(adapter._path(adapter.key), str(local))
            yield local
        return
    with spool() as scratch:
        local = Path(scratch) / name
        yield local
        if not local.exists():
            raise ConfigError(
                f"local_path {adapter.get_uri()}: nothing was written to {local}; the object "
                "is left as it was."
            )
        with (
            adapter._errors("write"),
            open_object(adapter, "wb", "utf-8", part_size) as target,
            open(local, "rb") as source,
        ):
            shutil.copyfileobj(source, target, 16 * 2**20)  # type: ignore[misc]


def read_value(adapter: ObjectStore, options: dict[str, Any]) -> Any:
    """The value of an object format, loaded from the object streamed as a file (on S3,
    ``joblib.load`` of a 100 MB object took 1.0 s so, 2.3 s from the bytes of one GET)."""
    fmt = adapter.format
    assert fmt.load is not None
    check_pickle_allowed(fmt, adapter.config, f"read {adapter.get_uri()}")
    with adapter._errors("read"):
        try:
            handle = adapter.fs.open(adapter._path(adapter.key), "rb")
        except FileNotFoundError:
            adapter._raise_if_bucket_missing("read")
            raise adapter._not_found("read") from None
        with handle:
            return fmt.load(handle, options)


def write_value(adapter: ObjectStore, value: Any, options: dict[str, Any], part_size: int) -> None:
    """Write the value of an object format atomically, after checking it fits the format."""
    fmt = adapter.format
    assert fmt.dump is not None
    where = f"write {adapter.get_uri()}"
    check_value(fmt, value, where)
    check_pickle_allowed(fmt, adapter.config, where)
    _check_object(adapter, "write")
    with adapter._errors("write"), _writer(adapter, part_size) as target:
        fmt.dump(value, target, options)  # type: ignore[arg-type]


# Info fields that change when an object is rewritten, across fsspec implementations.
_CHANGE_FIELDS = (
    *("ETag", "etag", "generation", "size", "LastModified", "last_modified"),
    *("mtime", "updated", "created", "ino"),
)


def change_token(infos: Sequence[Mapping[str, Any]]) -> str:
    """A digest of the fields that change when an object is rewritten."""
    digest = hashlib.sha256()
    for info in infos:
        fields = [str(info.get("name", ""))]
        fields += [f"{k}={info[k]}" for k in _CHANGE_FIELDS if k in info]
        digest.update("|".join(fields).encode())
    return digest.hexdigest()[:32]

"""The layout of Glacier's own objects in a bucket: text-format dataset directories and
their manifest.

A dataset directory of csv, json or ndjson (a Bucket whose path is empty, ends in ``/`` or is
partitioned) keeps the files of its current version at visible paths, in hive partition
directories when it is partitioned, and one small manifest, hidden under ``_glacier/``, says
which files make the current version::

    events/_glacier/manifest.json                       the current version: files, schema
    events/day=mon/part-<version>-00000.csv             a data file (no partition column inside)
    events/_glacier/staging/<version>/...               an in-flight write (local stores)

So any engine that reads ``events/**/*.csv`` (DuckDB, pyarrow.dataset with hive
partitioning, pandas, Spark) reads the current version and nothing else once a write has
finished: an append adds files, an overwrite writes its files, replaces the manifest (the
commit point: Glacier's readers go through the manifest, so they see the old version or the
new one, never a mix) and then removes the files it superseded. See ``docs/storage.md`` for
what another engine may see while a write is in flight and what a killed writer leaves.

Format ``glacier-dataset/1`` (:data:`LEGACY_FORMAT`) kept every version's files under
``_glacier/v/<version>/``, which other engines misread; such a manifest is still read, and
the next write (or ``convert()``) rewrites the dataset in this layout.

This module holds that layout -- where the manifest, staging and data files live, what the
manifest says, how versions and temporary objects are named and aged -- apart from the
adapter that does the I/O.

>>> manifest_key("events/", (".csv",))
'events/_glacier/manifest.json'
>>> manifest_key("docs/", (".json",))
'docs/_glacier/manifest'
>>> data_file_name("20260101T000000000000Z-0a1b2c3d-wdeadbeef.42", 0, ".csv")
'part-20260101T000000000000Z-0a1b2c3d-wdeadbeef.42-00000.csv'
>>> stamp_age("not-a-stamp") is None
True
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from glacier.errors import CorruptDataError, StorageError

__all__ = [
    "GLACIER_DIR",
    "LEGACY_FORMAT",
    "LEGACY_MANIFEST",
    "MANIFEST_FORMAT",
    "TMP_DIR",
    "TMP_GRACE",
    "VERSION_GRACE",
    "Manifest",
    "data_file_name",
    "is_stale_part",
    "manifest_key",
    "new_stamp",
    "new_version",
    "read_manifest",
    "staging_key",
    "stamp_age",
    "temp_name",
    "versions_key",
    "writer_is_gone",
]

#: Glacier's own objects live under this name; readers skip it like any ``_`` name.
GLACIER_DIR = "_glacier"
#: Temporary objects of in-flight writes, at the bucket root.
TMP_DIR = f"{GLACIER_DIR}/tmp"
MANIFEST_FORMAT = "glacier-dataset/2"
#: The first layout: every version's files under ``_glacier/v/`` (read, never written).
LEGACY_FORMAT = "glacier-dataset/1"
#: Unreferenced data files (and legacy versions) older than this are deleted by the next
#: write: a concurrent writer's files are younger; a killed writer's on this host go at once.
VERSION_GRACE = timedelta(hours=1)
#: Temporary objects older than this are leftovers of a crashed write, deleted by the next one
#: (those of a writer on this host that no longer runs go at once: :func:`writer_is_gone`).
TMP_GRACE = timedelta(hours=24)

_STAMP = "%Y%m%dT%H%M%S%fZ"
_WRITER = re.compile(r"-w([0-9a-f]{8})\.(\d+)(?:-|$)")
_PART = "part-"
#: The manifest's name in every layout before the one a json glob cannot see.
LEGACY_MANIFEST = "manifest.json"


def manifest_key(prefix: str, extensions: Sequence[str] = ()) -> str:
    """Key of the manifest of the dataset directory at ``prefix`` (``""`` or ending in ``/``)
    whose data files end in one of ``extensions``.

    The manifest is JSON, named ``manifest.json`` -- unless the data files end in ``.json``
    too: a ``**/*.json`` glob (DuckDB's ``read_json``, which does not skip ``_`` names)
    would read it as data, so there it is ``manifest`` (see :data:`LEGACY_MANIFEST`).
    """
    name = "manifest" if ".json" in extensions else LEGACY_MANIFEST
    return f"{prefix}{GLACIER_DIR}/{name}"


def versions_key(prefix: str) -> str:
    """Key of the directory holding the versions of a legacy dataset directory at ``prefix``."""
    return f"{prefix}{GLACIER_DIR}/v"


def staging_key(prefix: str) -> str:
    """Key of the directory where writes to the dataset directory at ``prefix`` stage their
    files on stores that rename (local, memory) before moving them into place."""
    return f"{prefix}{GLACIER_DIR}/staging"


def new_version() -> str:
    """A new version name: a stamp, then who writes it (see :func:`temp_name`)."""
    return f"{new_stamp()}-{_writer_tag()}"


def data_file_name(version: str, index: int, extension: str) -> str:
    """The name of the ``index``-th data file of ``version``."""
    return f"{_PART}{version}-{index:05d}{extension}"


def is_stale_part(name: str, grace: timedelta) -> bool:
    """Whether ``name`` is a data file Glacier wrote (:func:`data_file_name`) that is older
    than ``grace`` or whose writer on this host has ended: not in a manifest, it is the
    leftover of a write that never committed (or lost a race), not a write in flight."""
    if not name.startswith(_PART):
        return False
    age = stamp_age(name[len(_PART) :])
    return age is not None and (age > grace or writer_is_gone(name))


@dataclass(frozen=True)
class Manifest:
    """The current version of a dataset directory: which files, which schema.

    ``files`` are keys relative to the bucket. ``previous`` is kept for manifests of
    :data:`LEGACY_FORMAT` (the files of the version it replaced); ``spec`` is the manifest's
    format, :data:`LEGACY_FORMAT` for a dataset still in the old layout.
    """

    version: str
    format: str
    partition_by: tuple[str, ...]
    files: tuple[str, ...]
    previous: tuple[str, ...]
    schema: pl.Schema
    spec: str = MANIFEST_FORMAT

    @property
    def legacy(self) -> bool:
        """Whether the files sit under ``_glacier/v/`` (the old layout others misread)."""
        return self.spec == LEGACY_FORMAT

    def to_json(self) -> bytes:
        """The manifest as JSON bytes; the schema is an empty Arrow IPC file (exact dtypes)."""
        ipc = pl.DataFrame(schema=self.schema).write_ipc(None).getvalue()
        return json.dumps(
            {
                "format": self.spec,
                "version": self.version,
                "data_format": self.format,
                "partition_by": list(self.partition_by),
                "columns": {name: str(dtype) for name, dtype in self.schema.items()},
                "schema_ipc": base64.b64encode(ipc).decode(),
                "files": list(self.files),
                "previous": list(self.previous),
            },
            indent=1,
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        """Parse :meth:`to_json` output."""
        raw = json.loads(data)
        if raw.get("format") not in (MANIFEST_FORMAT, LEGACY_FORMAT):
            raise StorageError(f"unsupported manifest format {raw.get('format')!r}")
        schema = pl.read_ipc_schema(io.BytesIO(base64.b64decode(raw["schema_ipc"])))
        return cls(
            version=raw["version"],
            format=raw["data_format"],
            partition_by=tuple(raw["partition_by"]),
            files=tuple(raw["files"]),
            previous=tuple(raw["previous"]),
            schema=pl.Schema(schema),
            spec=raw["format"],
        )

    def versions_in_use(self, versions: str) -> set[str]:
        """Names of the versions under the directory ``versions`` whose files this manifest
        references (current or previous): the ones a sweep must keep."""
        start = f"{versions}/"
        return {
            key[len(start) :].split("/", 1)[0]
            for key in (*self.files, *self.previous)
            if key.startswith(start)
        }


def read_manifest(
    fs: Any,
    paths: Sequence[str],
    dataset: str,
    uri: Callable[[str], str],
    *,
    strict: bool = True,
) -> Manifest | None:
    """The manifest at the first of ``paths`` that exists (where it is kept now, then where
    an earlier release kept it: the old ``_glacier/`` layout is read, never written), ``None``
    without one. A manifest that cannot be parsed raises CorruptDataError naming ``dataset``
    and the file (``uri`` of its path), or (``strict=False``: an overwrite replaces it
    anyway) counts as absent."""
    for path in paths:
        try:
            data = fs.cat_file(path)
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
            f"{dataset}: the dataset's manifest {uri(path)} is corrupt "
            f"({type(exc).__name__}: {exc}; {len(data)} bytes), so which files hold the "
            "data is unknown. Repair it by writing the dataset again with "
            "mode='overwrite' (which replaces the manifest), or remove it with "
            "bucket.delete()."
        ) from exc


def new_stamp() -> str:
    """A new version or temporary-object name: its UTC time, then a random part."""
    return f"{datetime.now(UTC).strftime(_STAMP)}-{uuid.uuid4().hex[:8]}"


def temp_name(basename: str) -> str:
    """The name of a temporary object: a stamp, then who writes it (a hash of this host and
    the process id), then ``basename``; a later write on this host removes the temporary
    objects of writers that no longer run (:func:`writer_is_gone`) without waiting for
    :data:`TMP_GRACE`."""
    return f"{new_stamp()}-{_writer_tag()}-{basename}"


def writer_is_gone(name: str) -> bool:
    """Whether ``name`` is a temporary object of a process of this host that has ended (a
    killed writer's leftover). Unknown names and other hosts' writers: ``False``."""
    match = _WRITER.search(name)
    if match is None or match.group(1) != _host_hash() or os.name != "posix":
        return False
    try:
        os.kill(int(match.group(2)), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # alive, owned by another user
    return False


def _host_hash() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def _writer_tag() -> str:
    return f"w{_host_hash()}.{os.getpid()}"


def stamp_age(name: str) -> timedelta | None:
    """Age of a ``<stamp>-<uuid>...`` name, or ``None`` if it is not one of Glacier's."""
    try:
        born = datetime.strptime(name.split("-", 1)[0], _STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None
    return datetime.now(UTC) - born

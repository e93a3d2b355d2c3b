"""The layout of Glacier's own objects in a bucket: dataset versions and their manifest.

A dataset directory (a Bucket whose path is empty, ends in ``/`` or is partitioned) is
written as versions, and one small manifest says which version is current::

    events/_glacier/manifest.json                 the current version: its files and schema
    events/_glacier/v/<version>/k=a/00000000.parquet

A write puts a new version's files under ``_glacier/v/<version>/`` and then replaces the
manifest, so readers see the old version or the new one and never a mix. This module holds
that layout — where the manifest and the versions live, what the manifest says, how versions
and temporary objects are named and aged — apart from the adapter that does the I/O, so that
the format of what is stored can be read (and changed) in one place.

>>> manifest_key("events/")
'events/_glacier/manifest.json'
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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl

from glacier.errors import StorageError

__all__ = [
    "GLACIER_DIR",
    "MANIFEST_FORMAT",
    "TMP_DIR",
    "TMP_GRACE",
    "VERSION_GRACE",
    "Manifest",
    "manifest_key",
    "new_stamp",
    "stamp_age",
    "temp_name",
    "versions_key",
    "writer_is_gone",
]

#: Glacier's own objects live under this name; readers skip it like any ``_`` name.
GLACIER_DIR = "_glacier"
#: Temporary objects of in-flight writes, at the bucket root.
TMP_DIR = f"{GLACIER_DIR}/tmp"
MANIFEST_FORMAT = "glacier-dataset/1"
#: Unreferenced dataset versions older than this are deleted by the next write.
VERSION_GRACE = timedelta(hours=1)
#: Temporary objects older than this are leftovers of a crashed write, deleted by the next one
#: (those of a writer on this host that no longer runs go at once: :func:`writer_is_gone`).
TMP_GRACE = timedelta(hours=24)

_STAMP = "%Y%m%dT%H%M%S%fZ"
_WRITER = re.compile(r"-w([0-9a-f]{8})\.(\d+)-")


def manifest_key(prefix: str) -> str:
    """Key of the manifest of the dataset directory at ``prefix`` (``""`` or ending in ``/``)."""
    return f"{prefix}{GLACIER_DIR}/manifest.json"


def versions_key(prefix: str) -> str:
    """Key of the directory holding the versions of the dataset directory at ``prefix``."""
    return f"{prefix}{GLACIER_DIR}/v"


@dataclass(frozen=True)
class Manifest:
    """The current version of a dataset directory: which files, which schema.

    ``files`` are keys relative to the bucket; ``previous`` are the files of the version it
    replaced, kept until the next write for readers that are still reading them.
    """

    version: str
    format: str
    partition_by: tuple[str, ...]
    files: tuple[str, ...]
    previous: tuple[str, ...]
    schema: pl.Schema

    def to_json(self) -> bytes:
        """The manifest as JSON bytes; the schema is an empty Arrow IPC file (exact dtypes)."""
        ipc = pl.DataFrame(schema=self.schema).write_ipc(None).getvalue()
        return json.dumps(
            {
                "format": MANIFEST_FORMAT,
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
        if raw.get("format") != MANIFEST_FORMAT:
            raise StorageError(f"unsupported manifest format {raw.get('format')!r}")
        schema = pl.read_ipc_schema(io.BytesIO(base64.b64decode(raw["schema_ipc"])))
        return cls(
            version=raw["version"],
            format=raw["data_format"],
            partition_by=tuple(raw["partition_by"]),
            files=tuple(raw["files"]),
            previous=tuple(raw["previous"]),
            schema=pl.Schema(schema),
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

"""Storage URIs: one parser from a storage string to its cloud, bucket, key and format.

A dataset's storage may be a path or URI string (``data/x.jsonl``, ``s3://lake/sales.pq``).
The environment that resolves it to a Bucket, the infrastructure model that grants access to
it, the deployed-task runtime and the DAG picture all need the same four answers from it;
:func:`parse_uri` gives them, from the one scheme table :data:`SCHEMES` and the format
catalogue :data:`glacier.formats.FORMATS` — as Kedro's ``get_protocol_and_path`` is its one
helper for fsspec protocols.

Like the format catalogue, this module sits low in the layers and imports only the standard
library, :mod:`glacier.errors` and :mod:`glacier.formats`.

>>> uri = parse_uri("s3://lake/sales/2024.jsonl")
>>> uri.cloud, uri.bucket, uri.key, uri.format
('aws', 'lake', 'sales/2024.jsonl', 'ndjson')
>>> str(parse_uri("gcs://lake/events/"))
'gs://lake/events/'
>>> parse_uri("data/raw.csv").cloud
'local'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from glacier.errors import ConfigError
from glacier.formats import DEFAULT_FORMAT, format_for_path

__all__ = ["SCHEMES", "Scheme", "StorageURI", "parse_uri", "scheme_named", "scheme_of_cloud"]


@dataclass(frozen=True)
class Scheme:
    """The URI schemes of one store, the cloud it belongs to and its fsspec protocol.

    Attributes:
        cloud: The provider kind whose store this is (``aws``, ``gcp``, ``azure``,
            ``local``), or ``memory`` for fsspec's in-memory test store.
        protocol: The fsspec protocol, the key of
            :data:`glacier.adapters.filesystems.STORES`.
        names: URI schemes that name the store (fsspec's aliases included); the first is
            the one Glacier writes.
    """

    cloud: str
    protocol: str
    names: tuple[str, ...]

    @property
    def name(self) -> str:
        """The scheme of URIs Glacier writes for this store (``gs`` for GCS)."""
        return self.names[0]


#: One row per store. Adding a store is adding a row (and its row in ``STORES``).
SCHEMES: tuple[Scheme, ...] = (
    Scheme("local", "file", ("file", "local")),
    Scheme("memory", "memory", ("memory",)),
    Scheme("aws", "s3", ("s3", "s3a")),
    Scheme("gcp", "gcs", ("gs", "gcs")),
    Scheme("azure", "abfs", ("abfs", "az", "abfss")),
)

_BY_NAME: Mapping[str, Scheme] = {name: row for row in SCHEMES for name in row.names}
_BY_CLOUD: Mapping[str, Scheme] = {row.cloud: row for row in SCHEMES}
_LOCAL = _BY_CLOUD["local"]


def scheme_named(name: str) -> Scheme | None:
    """The row of a URI scheme or fsspec protocol (case-insensitive), or ``None``.

    Example:
        >>> scheme_named("gs").protocol
        'gcs'
    """
    return _BY_NAME.get(name.lower())


def scheme_of_cloud(cloud: str) -> Scheme | None:
    """The row of a provider kind's store, or ``None`` for a kind without one.

    Example:
        >>> scheme_of_cloud("azure").name
        'abfs'
    """
    return _BY_CLOUD.get(cloud)


@dataclass(frozen=True)
class StorageURI:
    """A storage string, parsed.

    Attributes:
        scheme: The store's row of :data:`SCHEMES`.
        bucket: The bucket (a container on Azure); ``""`` for a local path.
        key: The object key or directory prefix inside the bucket; for a local path, the
            path as given (relative paths stay relative).
        format: The data format the extension names, :data:`~glacier.formats.DEFAULT_FORMAT`
            when there is none (a directory, or a name without an extension).
    """

    scheme: Scheme
    bucket: str
    key: str
    format: str

    @property
    def cloud(self) -> str:
        """``aws``, ``gcp``, ``azure``, ``local`` or ``memory``."""
        return self.scheme.cloud

    @property
    def is_local(self) -> bool:
        """Whether this is a path on the local disk."""
        return self.scheme is _LOCAL

    @property
    def path(self) -> Path:
        """The local path, ``~`` expanded (meaningful when :attr:`is_local`)."""
        return Path(self.key).expanduser()

    def __str__(self) -> str:
        if self.is_local:
            return self.key
        return f"{self.scheme.name}://{self.bucket}/{self.key}"


def parse_uri(text: str) -> StorageURI:
    """Parse a storage path or URI: ``s3://bucket/key``, ``gs://...``, ``abfs://container/...``,
    ``file:///abs/path`` or a plain local path.

    Raises:
        ConfigError: if the scheme names no store Glacier knows, or a URI has no bucket.
        UnknownFormatError: if the key's extension names no known format.

    Example:
        >>> parse_uri("az://container/x.parquet").scheme.name
        'abfs'
        >>> parse_uri("file:///tmp/x.csv").key
        '/tmp/x.csv'
    """
    head, sep, rest = text.partition("://")
    if not sep:
        return StorageURI(_LOCAL, "", text, _format_of(text))
    scheme = scheme_named(head)
    if scheme is None:
        known = ", ".join(f"{name}://" for row in SCHEMES for name in row.names)
        raise ConfigError(
            f"Storage {text!r} has the scheme {head!r}, which names no store Glacier knows; "
            f"use one of {known}, or a local path without a scheme."
        )
    if scheme is _LOCAL:
        return StorageURI(scheme, "", rest, _format_of(rest))
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise ConfigError(
            f"Storage {text!r} names no bucket: write {scheme.name}://<bucket>/<key>."
        )
    return StorageURI(scheme, bucket, key, _format_of(key))


def _format_of(key: str) -> str:
    fmt = format_for_path(key)
    return fmt.name if fmt is not None else DEFAULT_FORMAT

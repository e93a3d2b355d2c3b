"""Where a dataset lives in an environment: worked out once, by :func:`locate`.

The runtime reads and writes a dataset through the Bucket its location names
(:meth:`glacier.Environment.bucket_for`); the infrastructure model grants a deployed task
exactly that location (:mod:`glacier.infra.model`); the graph labels datasets with it, the
lineage events name it, and the Glue catalog registers its tables there. One function keeps
them from disagreeing: a task is never denied what it ran against locally.

>>> from glacier import Dataset
>>> loc = locate(Dataset("sales", storage="s3://lake/sales/"), Site("aws", "111111111111"))
>>> loc.cloud, loc.bucket, loc.key, loc.layout, loc.format
('aws', 'lake', 'sales/', 'table', 'parquet')
>>> locate(Dataset("tmp"), Site("local")).layout
'memory'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glacier.dataset import Dataset, is_directory, is_raw_bucket, is_table_layout
from glacier.errors import ConfigError
from glacier.resources import Bucket, DatabaseTable
from glacier.uris import parse_uri, scheme_of_cloud

__all__ = [
    "DATABASE",
    "DIRECTORY",
    "MEMORY",
    "OBJECT",
    "TABLE",
    "DatasetLocation",
    "Site",
    "layout_of",
    "locate",
    "locate_storage",
    "site_of",
]

#: One object (``sales.parquet``).
OBJECT = "object"
#: A directory in Glacier's ``_glacier/`` manifest layout (csv, json, ndjson, ...): each write
#: sweeps the versions its manifest no longer names.
DIRECTORY = "directory"
#: A Delta table (a directory of parquet or ``delta``).
TABLE = "table"
#: A table of a database (:class:`~glacier.resources.DatabaseTable`).
DATABASE = "database"
#: Kept in memory by a run; between two cloud processes it travels through the artifacts bucket.
MEMORY = "memory"


@dataclass(frozen=True)
class Site:
    """Where a dataset is used from: an environment's cloud, account and region.

    ``account`` is the AWS account, GCP project or Azure subscription; ``storage_account``
    the Azure storage account (a container's URI does not say it); ``name`` the
    environment's, for messages.
    """

    cloud: str
    account: str | None = None
    region: str | None = None
    storage_account: str | None = None
    name: str | None = field(default=None, compare=False)


def site_of(provider: Any, name: str | None = None) -> Site:
    """The site of a provider (an environment's, or a Bucket's): read from its config;
    ``name`` is the environment's."""
    config = getattr(provider, "config", None)
    cloud = str(getattr(config, "kind", None) or getattr(provider, "kind", None) or "local")
    account = (
        getattr(config, "account_id", None)
        or getattr(config, "project", None)
        or getattr(config, "subscription_id", None)
    )
    region = getattr(config, "region", None) or getattr(config, "location", None)
    storage_account = getattr(config, "storage_account", None)
    return Site(
        cloud,
        None if account is None else str(account),
        None if region is None else str(region),
        None if storage_account is None else str(storage_account),
        name,
    )


@dataclass(frozen=True)
class DatasetLocation:
    """Where one dataset lives.

    Attributes:
        dataset: The dataset's name.
        source: What its storage was declared as: ``bucket`` (a Bucket), ``uri`` (an
            ``s3://``-style string), ``path`` (a local path), ``raw`` (a Pulumi bucket
            resource), ``database`` (a database table) or ``memory`` (no storage).
        cloud: The store's cloud (``aws``, ``gcp``, ``azure``, ``local``, ``memory``);
            ``None`` in memory.
        account: The account (AWS), project (GCP) or subscription (Azure), when known.
        region: The region, when known.
        storage_account: The Azure storage account, when known.
        bucket: The bucket or container (a raw Pulumi bucket: its logical name; a local
            path: its directory's name); ``None`` in memory or in a database.
        key: The object key, or the prefix of a directory (``""``: the bucket's root; a
            database table: the table's name).
        layout: :data:`OBJECT`, :data:`DIRECTORY`, :data:`TABLE`, :data:`DATABASE` or
            :data:`MEMORY`.
        format: The file format's name (``""`` in memory).
        partition_by: The partition columns of a directory.
        base_path: A local store's root directory (``None`` elsewhere).
        storage: The storage object itself (a Bucket, a table, a Pulumi resource), to build
            on; not part of the location's equality.
    """

    dataset: str
    source: str
    cloud: str | None
    account: str | None
    region: str | None
    storage_account: str | None
    bucket: str | None
    key: str
    layout: str
    format: str
    partition_by: tuple[str, ...] = ()
    base_path: str | None = None
    storage: Any = field(default=None, compare=False, repr=False)

    @property
    def sweeps(self) -> bool:
        """Whether writing here deletes objects (a directory of the manifest layout)."""
        return self.layout == DIRECTORY

    @property
    def uri(self) -> str | None:
        """``s3://bucket/key``, ``file:///abs/dir/key``, ``memory://bucket/key``, as the
        store's adapter names it (a directory's ends in ``/``); ``None`` for a dataset in
        memory or in a database table. A raw Pulumi bucket is named by its logical name, as
        the runtime reaches it.
        """
        if self.bucket is None:
            return None
        key = self.key.strip("/")
        if self.layout in (DIRECTORY, TABLE):
            key = f"{key}/" if key else ""
        if self.cloud == "local":
            base = Path(self.base_path or ".glacier/data").expanduser().resolve().as_posix()
            return f"file://{base}/{self.bucket}/{key}"
        scheme = scheme_of_cloud(str(self.cloud))
        return f"{scheme.name if scheme is not None else 'bucket'}://{self.bucket}/{key}"


def layout_of(path: str, fmt: str, partition_by: tuple[str, ...] = ()) -> str:
    """The layout of a dataset at ``path`` in format ``fmt``: a table, a directory or an
    object (see :func:`glacier.dataset.is_table_layout`).

    >>> layout_of("orders/", "parquet"), layout_of("events/", "csv"), layout_of("x.csv", "csv")
    ('table', 'directory', 'object')
    """
    if is_table_layout(path, fmt, partition_by):
        return TABLE
    return DIRECTORY if is_directory(path, partition_by) else OBJECT


def locate(dataset: Dataset, site: Site) -> DatasetLocation:
    """Where ``dataset`` lives when used from ``site`` (an environment's cloud).

    A Bucket or a database table is where it was declared (its own provider's cloud); a URI
    and a raw Pulumi bucket are in ``site``'s cloud; a local path is a file on this machine.
    Raises :class:`~glacier.errors.ConfigError` for a URI of another cloud than ``site``'s
    and for storage Glacier cannot read or write.
    """
    return locate_storage(dataset.name, dataset.storage, site)


def locate_storage(name: str, storage: Any, site: Site) -> DatasetLocation:
    """Where ``storage`` (a dataset's, or a Bucket a task takes as a resource) lives, for
    the dataset (or parameter) ``name``: :func:`locate` without a Dataset."""
    if storage is None:
        return DatasetLocation(name, "memory", None, None, None, None, None, "", MEMORY, "")
    if isinstance(storage, Bucket):
        where = site_of(storage.provider)
        partition_by = tuple(storage.partition_by)
        base = getattr(getattr(storage.provider, "config", None), "base_path", None)
        return _at(
            name, "bucket", where, storage.bucket_name, storage.path, storage.format,
            layout_of(storage.path, storage.format, partition_by), partition_by, storage,
            base_path=None if base is None or where.cloud != "local" else str(base),
        )  # fmt: skip
    if isinstance(storage, DatabaseTable):
        where = site_of(getattr(storage.database, "provider", None))
        return _at(name, "database", where, None, storage.table, "", DATABASE, (), storage)
    if isinstance(storage, str):
        return _from_string(name, storage, site)
    if is_raw_bucket(storage):
        # Glacier reads and writes a dataset on a raw bucket as one object, <dataset>.parquet,
        # in the bucket the resource declares (by its logical name until it is deployed).
        logical = str(getattr(storage, "_name", None) or name)
        key = f"{name}.parquet"
        return _at(name, "raw", site, logical, key, "parquet", OBJECT, (), storage)
    raise ConfigError(
        f"Dataset {name!r} has storage of type {type(storage).__name__}, which Glacier cannot "
        "read or write. Use a Bucket (provider.bucket(...)), a path, or a Pulumi bucket "
        "resource."
    )


def _from_string(name: str, storage: str, site: Site) -> DatasetLocation:
    uri = parse_uri(storage)
    if uri.is_local:
        path = uri.path.absolute()
        layout = layout_of(path.name, uri.format)
        return _at(
            name, "path", Site("local"), path.parent.name, path.name, uri.format, layout, (),
            storage, base_path=str(path.parent.parent),
        )  # fmt: skip
    if uri.cloud != site.cloud:
        raise ConfigError(
            f"Dataset {name!r} is stored at {storage!r}, but environment {site.name!r} is on "
            f"{site.cloud}. Use a path on this environment's store, or a Bucket from the right "
            "provider."
        )
    layout = layout_of(uri.key, uri.format)
    return _at(name, "uri", site, uri.bucket, uri.key, uri.format, layout, (), storage)


def _at(
    name: str,
    source: str,
    site: Site,
    bucket: str | None,
    key: str,
    fmt: str,
    layout: str,
    partition_by: tuple[str, ...],
    storage: Any,
    *,
    base_path: str | None = None,
) -> DatasetLocation:
    return DatasetLocation(
        dataset=name,
        source=source,
        cloud=site.cloud,
        account=site.account,
        region=site.region,
        storage_account=site.storage_account,
        bucket=bucket,
        key=key,
        layout=layout,
        format=fmt,
        partition_by=partition_by,
        base_path=base_path,
        storage=storage,
    )

"""One Bucket for every store: local files, memory, S3, GCS and Azure Blob."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from glacier.adapters.tables import DEFAULT_RETENTION
from glacier.errors import ConfigError
from glacier.formats import resolve_format
from glacier.resources.base import Resource

if TYPE_CHECKING:
    import polars as pl

#: ``overwrite`` and ``append`` for every Bucket; tables (directory datasets of parquet)
#: also ``overwrite_partitions`` (replace only the partitions the new data holds) and
#: ``merge`` (upsert by key columns ``on=``).
WriteMode = Literal["overwrite", "append", "overwrite_partitions", "merge"]


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
        format: ``parquet`` (default), ``csv``, ``json`` or ``ndjson`` for one object;
            a directory of parquet (``parquet`` or ``delta``) is a Delta Lake table, which
            every engine reads right and which keeps versions (see ``docs/storage.md``).
        partition_by: Columns to partition a table by (hive-style directories).
        retention: How much history a table's :meth:`vacuum` keeps (default 7 days);
            a shorter one needs ``force=True``.

    Raises:
        UnknownFormatError: for a format Glacier does not read and write.
        ConfigError: for ``partition_by`` on a format that cannot be partitioned.

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
        retention: timedelta | None = None,
        **kwargs: Any,
    ) -> None:
        if ".." in path.split("/"):
            raise ConfigError(
                f"Bucket {bucket_name!r}: path={path!r} leaves the bucket; give a path inside "
                "it, without '..' (e.g. 'sales/2024/')."
            )
        self.bucket_name = bucket_name
        self.path = path.lstrip("/")
        self.partition_by: tuple[str, ...] = tuple(partition_by or ())
        # Fail where the Bucket is declared, not at its first read.
        self.format = resolve_format(format, self.partition_by).name
        directory = not self.path or self.path.endswith("/") or bool(self.partition_by)
        if self.format == "delta" and not directory:
            raise ConfigError(
                f"Bucket {bucket_name!r}: format='delta' is a directory of files; give a "
                f"directory path (ending in '/', e.g. {self.path.rsplit('.', 1)[0]!r} + '/')."
            )
        self.retention = retention if retention is not None else DEFAULT_RETENTION
        super().__init__(**kwargs)

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

    def read(self, version: int | datetime | None = None, **options: Any) -> pl.DataFrame:
        """The whole dataset as a DataFrame (``version`` and ``options`` as for :meth:`scan`)."""
        return self.adapter.read(version, **options)  # type: ignore[no-any-return]

    def write(
        self,
        data: pl.DataFrame | pl.LazyFrame,
        mode: WriteMode = "overwrite",
        *,
        on: Sequence[str] | None = None,
        delete_when: str | None = None,
        schema: Literal["merge"] | None = None,
    ) -> None:
        """Write atomically: readers see the old data or the new data, never a mix.

        Args:
            data: A polars DataFrame or LazyFrame.
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
        self.adapter.write(data, mode=mode, on=on, delete_when=delete_when, schema=schema)

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
        """Convert a dataset in the old ``_glacier/`` manifest layout into a Delta table;
        ``False`` if there was nothing to convert."""
        return bool(self.adapter.convert())

    def exists(self) -> bool:
        """Whether the object (or directory dataset) exists."""
        return bool(self.adapter.exists())

    def list(self) -> list[str]:
        """Keys (relative to the bucket) of the objects holding the current data."""
        return list(self.adapter.list())

    def delete(self) -> None:
        """Delete the object or directory dataset (every version of it)."""
        self.adapter.delete()

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
        if self.config is not None:
            out["config"] = self.config.model_dump(mode="json")
        return out

"""One Bucket for every store: local files, memory, S3, GCS and Azure Blob."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from glacier.errors import ConfigError
from glacier.formats import resolve_format
from glacier.resources.base import Resource

if TYPE_CHECKING:
    import polars as pl

WriteMode = Literal["overwrite", "append"]


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
        format: ``parquet`` (default), ``csv``, ``json`` or ``ndjson``.
        partition_by: Columns to partition a parquet directory by (hive style).

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
        super().__init__(**kwargs)

    def _default_name(self) -> str:
        stem = self.path.rstrip("/").replace("/", "_").rsplit(".", 1)[0]
        return f"{self.bucket_name}_{stem}" if stem else self.bucket_name

    # -- I/O: all of it goes through the adapter -------------------------------------------

    def scan(self, **options: Any) -> pl.LazyFrame:
        """A lazy frame over the data (predicate and projection pushdown preserved).

        ``options`` go to the polars reader of the format, e.g. ``separator=";"`` for CSV.
        """
        return self.adapter.scan(**options)  # type: ignore[no-any-return]

    def read(self, **options: Any) -> pl.DataFrame:
        """The whole dataset as a DataFrame (``options`` as for :meth:`scan`)."""
        return self.adapter.read(**options)  # type: ignore[no-any-return]

    def write(self, data: pl.DataFrame | pl.LazyFrame, mode: WriteMode = "overwrite") -> None:
        """Write atomically: readers see the old data or the new data, never a mix."""
        self.adapter.write(data, mode=mode)

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

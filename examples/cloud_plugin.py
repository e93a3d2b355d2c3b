"""A new cloud as a plugin: a config class, a bucket adapter, one registration.

"Folder cloud" keeps each bucket as a directory under a root: small enough to read in one
sitting, yet it runs a real pipeline. A package would register it with an entry point
(``[project.entry-points."glacier.clouds"] folder = "cloud_plugin:plugin"``); a script calls
``register_cloud`` itself.

Run it::

    python examples/cloud_plugin.py /tmp/folder-cloud
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel

from glacier import Bucket, Environment, Provider
from glacier.clouds import CloudPlugin, register_cloud


class FolderCloudConfig(BaseModel):
    """Where the folder cloud keeps its buckets."""

    kind: Literal["folder"] = "folder"
    root: Path


class FolderBucketAdapter:
    """The bucket adapter protocol (glacier.clouds.BucketAdapter) over parquet files."""

    def __init__(self, resource: Any, provider: Any) -> None:
        self.resource = resource
        self.file = Path(provider.config.root) / resource.bucket_name / resource.path

    def scan(self, version: int | datetime | None = None, **options: Any) -> pl.LazyFrame:
        return pl.scan_parquet(self.file, **options)

    def read(self, version: int | datetime | None = None, **options: Any) -> pl.DataFrame:
        return pl.read_parquet(self.file, **options)

    def write(
        self,
        data: pl.DataFrame | pl.LazyFrame,
        *,
        mode: str = "overwrite",
        on: Sequence[str] | None = None,
        delete_when: Any = None,
        schema: str | None = None,
    ) -> None:
        frame = data.collect() if isinstance(data, pl.LazyFrame) else data
        self.file.parent.mkdir(parents=True, exist_ok=True)
        partial = self.file.with_name(self.file.name + ".partial")
        frame.write_parquet(partial)
        partial.replace(self.file)  # readers never see half a file

    def exists(self) -> bool:
        return self.file.is_file()

    def get_uri(self) -> str:
        return f"folder://{self.resource.bucket_name}/{self.resource.path}"

    def fingerprint(self) -> str:
        stat = self.file.stat()
        return f"{stat.st_size}:{stat.st_mtime_ns}"


#: What an entry point in the group "glacier.clouds" would name.
plugin = CloudPlugin(FolderCloudConfig, bucket=FolderBucketAdapter)


def main(root: Path) -> None:
    register_cloud(FolderCloudConfig, bucket=FolderBucketAdapter)
    provider = Provider(config=FolderCloudConfig(root=root))  # no Provider subclass
    env = Environment(provider, name="folder")
    sales = env.register("sales", provider.bucket("lake", path="sales.parquet"))
    env.register("totals", provider.bucket("lake", path="totals.parquet"))
    sales.write(pl.DataFrame({"region": ["n", "s", "n"], "amount": [1.0, 2.0, 3.0]}))

    @env.task()
    def summarise(sales: Bucket, totals: Bucket) -> None:
        totals.write(sales.scan().group_by("region").agg(pl.col("amount").sum()).sort("region"))

    summarise.run()
    print(env.get("totals").get_uri(), env.get("totals").read().to_dicts())


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "folder-cloud"))

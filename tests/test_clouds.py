"""New clouds as plugins (seed 004, "Adding a New Cloud Provider"): a config class and its
adapters registered — by a function, or by an installed package's entry point — make
Provider(config=...) serve the cloud, no subclass; adapters are checked against the
documented protocols when registered."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl
import pytest
from pydantic import BaseModel

from glacier import Provider
from glacier.clouds import register_cloud, registered_clouds
from glacier.errors import ConfigError, NotSupportedError

REPO = Path(__file__).resolve().parents[1]


class MemoryStore:
    frames: dict[str, pl.DataFrame] = {}


class BucketAdapter:
    """The documented bucket adapter shape, over a dict."""

    def __init__(self, resource: Any, provider: Any) -> None:
        self.key = f"{provider.config.space}/{resource.bucket_name}/{resource.path}"

    def scan(self, version: int | datetime | None = None, **options: Any) -> pl.LazyFrame:
        return MemoryStore.frames[self.key].lazy()

    def read(self, version: int | datetime | None = None, **options: Any) -> pl.DataFrame:
        return MemoryStore.frames[self.key]

    def write(
        self,
        data: pl.DataFrame | pl.LazyFrame,
        *,
        mode: str = "overwrite",
        on: Sequence[str] | None = None,
        delete_when: Any = None,
        schema: str | None = None,
    ) -> None:
        MemoryStore.frames[self.key] = data.collect() if isinstance(data, pl.LazyFrame) else data

    def exists(self) -> bool:
        return self.key in MemoryStore.frames

    def get_uri(self) -> str:
        return f"mem://{self.key}"

    def fingerprint(self) -> str:
        return str(MemoryStore.frames[self.key].hash_rows().sum())


class DatabaseAdapter:
    """The documented SQL database adapter shape, over polars' SQL context."""

    tables: dict[str, pl.DataFrame] = {}

    def __init__(self, resource: Any, provider: Any) -> None:
        self.resource = resource

    def query(self, sql: str) -> pl.DataFrame:
        return pl.SQLContext(self.tables).execute(sql, eager=True)

    def execute(self, statements: Sequence[str]) -> None:
        raise NotImplementedError

    def read_table(self, table: str) -> pl.DataFrame:
        return self.tables[table]

    def schema(self, table: str) -> Any:
        return self.tables[table].schema

    def write(self, table: str, data: pl.DataFrame, mode: str, keys: Sequence[str] | None) -> None:
        self.tables[table] = data

    def exists(self, table: str) -> bool:
        return table in self.tables

    def fingerprint(self, table: str) -> str:
        return str(self.tables[table].height)


class MemCloudConfig(BaseModel):
    kind: Literal["memcloud"] = "memcloud"
    space: str


def test_a_registered_cloud_serves_provider_resources_without_a_subclass() -> None:
    register_cloud(MemCloudConfig, bucket=BucketAdapter, database=DatabaseAdapter)
    provider = Provider(config=MemCloudConfig(space="s1"))
    assert type(provider) is Provider
    assert provider.kind == "memcloud"
    bucket = provider.bucket("raw", path="sales.parquet")
    bucket.write(pl.DataFrame({"amount": [1, 2]}))
    assert bucket.scan().collect()["amount"].to_list() == [1, 2]
    assert bucket.get_uri() == "mem://s1/raw/sales.parquet"
    assert "memcloud" in registered_clouds()

    db = provider.database("warehouse", "postgres")
    db.table("orders").write(pl.DataFrame({"id": [1, 2, 3]}))
    assert db.query("SELECT COUNT(*) AS n FROM orders")["n"].to_list() == [3]
    # An optional method the adapter lacks is refused when called, named.
    with pytest.raises(NotSupportedError, match=r"BucketAdapter has no list\(\)"):
        bucket.list()
    # What the plugin does not provide at all is refused when used.
    with pytest.raises(NotSupportedError, match="invoking serverless functions"):
        provider.serverless("fn").invoke({})


def test_an_unregistered_config_names_the_way_to_register() -> None:
    class Unknown(BaseModel):
        kind: str = "unknown"

    with pytest.raises(ConfigError, match=r"got Unknown.*glacier\.clouds\.register_cloud"):
        Provider(config=Unknown())  # type: ignore[arg-type]


class SeedShapedAdapter:
    """The adapter as seed 004 wrote it: scan() takes no version."""

    def __init__(self, resource: Any, provider: Any) -> None: ...

    def scan(self) -> pl.LazyFrame:
        return pl.LazyFrame()


def _without(method: str) -> type:
    return type("Partial", (BucketAdapter,), {method: None})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"bucket": type("Seedish", (BucketAdapter,), {"scan": SeedShapedAdapter.scan})},
            r"Seedish\.scan\(self\) -> .*LazyFrame'? cannot take Glacier's call "
            r"scan\(version=None, \*\*options\)",
        ),
        (
            {"bucket": type("NoRead", (BucketAdapter,), {"read": None})},
            r"NoRead has no read\(\); the bucket adapter protocol needs read\(version=None",
        ),
        (
            {
                "bucket": BucketAdapter,
                "database": type("NoQuery", (DatabaseAdapter,), {"query": None}),
            },
            r"NoQuery has no query\(\); the database adapter protocol needs query\(x\)",
        ),
        (
            {
                "bucket": BucketAdapter,
                "database": type(
                    "BadWrite",
                    (DatabaseAdapter,),
                    {"write": lambda self, data: None},
                ),
            },
            r"BadWrite\.write\(self, data\) cannot take Glacier's call write\(table, data, "
            r"mode, keys\)",
        ),
        (
            {"bucket": type("NoInit", (BucketAdapter,), {"__init__": lambda self: None})},
            r"NoInit\(resource=\.\.\., provider=\.\.\.\) cannot be made",
        ),
    ],
)
def test_an_adapter_not_of_the_documented_shape_is_refused_naming_the_method(
    kwargs: dict[str, Any], message: str
) -> None:
    class Cfg(BaseModel):
        kind: Literal["badcloud"] = "badcloud"

    with pytest.raises(ConfigError, match=message):
        register_cloud(Cfg, **kwargs)


def test_a_config_needs_a_kind_of_its_own() -> None:
    class NoKind(BaseModel):
        region: str

    class Aws(BaseModel):
        kind: Literal["aws"] = "aws"

    with pytest.raises(ConfigError, match="needs a 'kind' field"):
        register_cloud(NoKind, bucket=BucketAdapter)
    with pytest.raises(ConfigError, match="kind 'aws' is a built-in cloud's"):
        register_cloud(Aws, bucket=BucketAdapter)


def test_an_installed_package_registers_its_cloud_by_entry_point(tmp_path: Path) -> None:
    site = tmp_path / "site"
    package = site / "glacier_folder"
    package.mkdir(parents=True)
    # The example plugin, installed as a third-party package would be.
    package.joinpath("__init__.py").write_text(
        (REPO / "examples" / "cloud_plugin.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    dist = site / "glacier_folder-0.1.dist-info"
    dist.mkdir()
    dist.joinpath("METADATA").write_text(
        "Metadata-Version: 2.1\nName: glacier-folder\nVersion: 0.1\n", encoding="utf-8"
    )
    dist.joinpath("entry_points.txt").write_text(
        "[glacier.clouds]\nfolder = glacier_folder:plugin\n", encoding="utf-8"
    )
    script = textwrap.dedent(
        f"""
        import polars as pl
        from glacier import Provider
        from glacier.clouds import registered_clouds
        from glacier_folder import FolderCloudConfig

        provider = Provider(config=FolderCloudConfig(root={str(tmp_path / "root")!r}))
        bucket = provider.bucket("lake", path="a.parquet")
        bucket.write(pl.DataFrame({{"x": [7]}}))
        print(sorted(registered_clouds()), bucket.get_uri(), bucket.read()["x"].to_list())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "['folder'] folder://lake/a.parquet [7]" in done.stdout
    assert (tmp_path / "root" / "lake" / "a.parquet").is_file()


def test_a_plugin_clouds_plan_is_refused_and_its_state_says_why() -> None:
    from glacier import Bucket, Environment, infra
    from glacier.errors import InfraError

    class PlanCloudConfig(BaseModel):
        kind: Literal["plancloud"] = "plancloud"
        space: str

    register_cloud(PlanCloudConfig, bucket=BucketAdapter)
    env = Environment(Provider(config=PlanCloudConfig(space="p")), name="plugin")
    env.register("raw", env.provider.bucket("lake", path="a.parquet"))

    @env.task()
    def touch(raw: Bucket) -> None:
        return None

    @env.pipeline()
    def touching() -> None:
        touch()

    with pytest.raises(InfraError, match=r"Cloud 'plancloud' is a plugin cloud .*cannot generate"):
        infra.plan(touching, env=env)
    state = env.get_state()
    assert state["planned"] == {}
    assert "plugin cloud" in state["plan_refused"]["touching"]

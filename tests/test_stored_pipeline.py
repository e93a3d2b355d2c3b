"""A pipeline with stored datasets, end to end: the medallion example on local files (dev)
and on S3 (staging, its AWS account played by moto), from the same code and settings files."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from conftest import clear_cloud_variables
from glacier import Environment, RunResult
from glacier.errors import BucketNotFoundError, PipelineRunError

REPO = Path(__file__).resolve().parents[1]
STAGING_BUCKETS = (
    "finks-staging-bronze-zone",
    "finks-staging-silver-zone",
    "finks-staging-gold-zone",
)
GOLD = ("daily_revenue", "customers")


@pytest.fixture
def medallion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """examples/medallion.py in a copy of the project at ``tmp_path`` (its containers/ too:
    a settings file's relative paths are relative to the project it is in)."""
    shutil.copytree(REPO / "containers", tmp_path / "containers")
    monkeypatch.chdir(tmp_path)
    clear_cloud_variables(monkeypatch, prefixes=("GLACIER_",), names=())
    monkeypatch.setenv("GLACIER_SETTINGS_DIR", str(tmp_path / "containers"))
    spec = importlib.util.spec_from_file_location(
        "medallion_e2e", REPO / "examples" / "medallion.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def staging_on_moto(
    moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """The staging buckets on moto, and the "staging" profile its settings file names."""
    import boto3

    config = tmp_path / "aws-config"
    config.write_text(
        "[profile staging]\nregion = ca-central-1\n"
        "aws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="ca-central-1")
    for name in STAGING_BUCKETS:
        _empty_bucket(client, name)
        client.create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": "ca-central-1"}
        )
    yield client
    for name in STAGING_BUCKETS:
        _empty_bucket(client, name)


def _empty_bucket(client: Any, name: str) -> None:
    try:
        keys = [o["Key"] for o in client.list_objects_v2(Bucket=name).get("Contents", [])]
    except client.exceptions.NoSuchBucket:
        return
    for key in keys:
        client.delete_object(Bucket=name, Key=key)
    client.delete_bucket(Bucket=name)


def _run(medallion: ModuleType, env: Environment) -> dict[str, pl.DataFrame]:
    result = medallion.build(env).run(params={"ingest.rows": 3_000})
    assert result.ok, result.summary()
    assert [r.status for r in result.tasks.values()] == ["succeeded"] * 4
    return {name: result[name].collect() for name in GOLD}


def test_medallion_on_local_files(medallion: ModuleType, tmp_path: Path) -> None:
    gold = _run(medallion, Environment.from_env("dev"))

    zones = tmp_path / "data" / "dev"
    assert (zones / "dev-silver-zone" / "orders.parquet").is_file()
    bronze = zones / "dev-bronze-zone" / "orders"  # a partitioned dataset: a Delta table
    assert (bronze / "_delta_log" / "00000000000000000000.json").is_file()
    assert pl.read_delta(str(bronze)).height == 3_000
    written = pl.read_parquet(zones / "dev-gold-zone" / "daily_revenue.parquet")
    assert_frame_equal(written, gold["daily_revenue"])
    assert gold["daily_revenue"]["orders"].sum() == gold["customers"]["orders"].sum() > 0


def test_medallion_on_moto_s3_matches_local(
    medallion: ModuleType,
    staging_on_moto: Any,
    moto_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    local = _run(medallion, Environment.from_env("dev"))
    # The staging settings file as it is; only its endpoint is moto's.
    monkeypatch.setenv("GLACIER_PROVIDER__ENDPOINT_URL", moto_endpoint)
    env = Environment.from_env("staging")
    assert env.config.kind == "aws" and env.config.profile == "staging"

    on_s3 = _run(medallion, env)

    for name in GOLD:
        # Ties in the gold sort orders may come out either way; the rows must be the same.
        assert_frame_equal(on_s3[name].sort(pl.all()), local[name].sort(pl.all()))
    keys = {
        bucket: sorted(
            o["Key"] for o in staging_on_moto.list_objects_v2(Bucket=bucket).get("Contents", [])
        )
        for bucket in STAGING_BUCKETS
    }
    assert keys["finks-staging-silver-zone"] == ["orders.parquet"]
    assert keys["finks-staging-gold-zone"] == ["customers.parquet", "daily_revenue.parquet"]
    assert "orders/_delta_log/00000000000000000000.json" in keys["finks-staging-bronze-zone"]
    # Nothing went to local disk: the run's data lives in the staging buckets only.
    assert not (tmp_path / "data" / "staging").exists()


def test_missing_staging_bucket_names_it(
    medallion: ModuleType,
    staging_on_moto: Any,
    moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _empty_bucket(staging_on_moto, "finks-staging-silver-zone")
    monkeypatch.setenv("GLACIER_PROVIDER__ENDPOINT_URL", moto_endpoint)
    pipeline = medallion.build(Environment.from_env("staging"))

    with pytest.raises(PipelineRunError, match="finks-staging-silver-zone") as failed:
        pipeline.run(params={"ingest.rows": 100})

    result = failed.value.result
    assert isinstance(result, RunResult) and not result.ok
    assert result.tasks["ingest"].status == "succeeded"
    assert result.tasks["clean"].status == "failed"
    assert {result.tasks[t].status for t in ("revenue", "customer_value")} == {"skipped"}
    error = result.tasks["clean"].error
    assert isinstance(error, BucketNotFoundError)
    assert "Create it" in str(error)

"""Writes, reads and commits through a fault-injecting proxy in front of the S3 emulator.

Issue 17, items 1 and 7: when the store applies a commit and the client sees an error (a 500,
a reset), no data is lost, the commit is not applied twice and the write reports success;
when the store did not apply it, the write fails and readers keep the whole old version.
Transient faults on reads (503, resets, truncated answers, latency) are absorbed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import polars as pl
import pytest

from faults import Fault, FaultProxy
from glacier.errors import GlacierError, StorageError
from glacier.provider import Provider
from glacier.settings import AwsConfig


@pytest.fixture(scope="module")
def faulty(moto_server: Any) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of the session's moto server."""
    proxy = FaultProxy(moto_server.target_port)
    yield proxy
    proxy.close()


@pytest.fixture
def s3(faulty: FaultProxy, bucket_name: str) -> Provider:
    import boto3

    boto3.client("s3", endpoint_url=faulty.url, region_name="us-east-1").create_bucket(
        Bucket=bucket_name
    )
    return Provider(config=AwsConfig(region="us-east-1", endpoint_url=faulty.url))


def _keys(provider: Provider, bucket_name: str) -> list[str]:
    fs = provider.cloud.filesystem()
    return sorted(p[len(bucket_name) + 1 :] for p in fs.find(bucket_name))


# -- single objects (item 7) -----------------------------------------------------------------


@pytest.mark.parametrize("action", ["commit_then_error", "commit_then_reset"])
def test_an_object_put_that_landed_is_a_success(
    s3: Provider, faulty: FaultProxy, bucket_name: str, action: Any
) -> None:
    bucket = s3.bucket(bucket_name, "sales.parquet")
    bucket.write(pl.DataFrame({"x": [1]}))
    # Every attempt (the SDK retries) lands and answers with an error.
    with faulty.inject(Fault(action, "PUT", r"/sales\.parquet", times=10)) as (fault,):
        bucket.write(pl.DataFrame({"x": [2]}))
    assert fault.hits >= 1
    assert bucket.read()["x"].to_list() == [2]
    assert _keys(s3, bucket_name) == ["sales.parquet"]


def test_a_multipart_upload_completed_then_answered_500_is_a_success(
    s3: Provider, faulty: FaultProxy, bucket_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("glacier.adapters.bucket.UPLOAD_PART_SIZE", 5 * 2**20)
    bucket = s3.bucket(bucket_name, "big.parquet")
    rng = np.random.default_rng(0)
    frame = pl.DataFrame({"x": rng.integers(0, 2**62, 1_600_000)})  # ~12 MiB: 3 parts
    with faulty.inject(Fault("commit_then_error", "POST", r"uploadId=", times=10)) as (fault,):
        bucket.write(frame)
    assert fault.hits >= 1  # the completion was hit (and landed)
    assert bucket.read()["x"].sum() == frame["x"].sum()
    assert _keys(s3, bucket_name) == ["big.parquet"]


def test_an_object_put_that_never_landed_fails_and_keeps_the_old_object(
    s3: Provider, faulty: FaultProxy, bucket_name: str
) -> None:
    bucket = s3.bucket(bucket_name, "sales.parquet")
    bucket.write(pl.DataFrame({"x": [1]}))
    fault = Fault("error", "PUT", r"/sales\.parquet", times=10, status=503)
    with faulty.inject(fault), pytest.raises(StorageError, match=r"sales\.parquet"):
        bucket.write(pl.DataFrame({"x": [2]}))
    assert bucket.read()["x"].to_list() == [1]


# -- manifest directories (item 1) -----------------------------------------------------------


def test_a_manifest_commit_that_landed_keeps_the_new_version(
    s3: Provider, faulty: FaultProxy, bucket_name: str
) -> None:
    bucket = s3.bucket(bucket_name, "events/", format="csv")
    bucket.write(pl.DataFrame({"x": [1]}))
    with faulty.inject(Fault("commit_then_error", "PUT", r"manifest\.json", times=10)) as (f,):
        bucket.write(pl.DataFrame({"x": [2]}), mode="append")
    assert f.hits >= 1
    assert sorted(bucket.read()["x"].to_list()) == [1, 2]  # applied once, nothing lost


def test_a_manifest_commit_that_failed_keeps_the_old_version(
    s3: Provider, faulty: FaultProxy, bucket_name: str
) -> None:
    bucket = s3.bucket(bucket_name, "events/", format="csv")
    bucket.write(pl.DataFrame({"x": [1]}))
    before = _keys(s3, bucket_name)
    fault = Fault("error", "PUT", r"manifest\.json", times=10)
    with faulty.inject(fault), pytest.raises(StorageError):
        bucket.write(pl.DataFrame({"x": [2]}))
    assert bucket.read()["x"].to_list() == [1]
    assert _keys(s3, bucket_name) == before  # the failed version's files are gone


# -- Delta tables (item 1) -------------------------------------------------------------------


@pytest.mark.parametrize("action", ["commit_then_error", "commit_then_reset"])
def test_a_table_append_that_landed_is_applied_once(
    s3: Provider, faulty: FaultProxy, bucket_name: str, action: Any
) -> None:
    bucket = s3.bucket(bucket_name, "t/")
    bucket.write(pl.DataFrame({"x": [1]}))
    with faulty.inject(Fault(action, "PUT", r"_delta_log/0+1\.json", times=3)) as (fault,):
        bucket.write(pl.DataFrame({"x": [2]}), mode="append")
    assert fault.hits >= 1
    assert sorted(bucket.read()["x"].to_list()) == [1, 2]


def test_a_table_merge_that_landed_is_a_success(
    s3: Provider, faulty: FaultProxy, bucket_name: str
) -> None:
    bucket = s3.bucket(bucket_name, "t/")
    bucket.write(pl.DataFrame({"k": [1, 2], "v": ["a", "b"]}))
    update = pl.DataFrame({"k": [2, 3], "v": ["B", "c"]})
    with faulty.inject(Fault("commit_then_error", "PUT", r"_delta_log/0+1\.json", times=3)):
        bucket.write(update, mode="merge", on=["k"])
    assert bucket.read().sort("k").rows() == [(1, "a"), (2, "B"), (3, "c")]


def test_a_table_commit_that_never_landed_fails_and_keeps_the_old_version(
    s3: Provider, faulty: FaultProxy, bucket_name: str
) -> None:
    bucket = s3.bucket(bucket_name, "t/")
    bucket.write(pl.DataFrame({"x": [1]}))
    fault = Fault("error", "PUT", r"_delta_log/0+1\.json", times=50)
    with faulty.inject(fault), pytest.raises(GlacierError):
        bucket.write(pl.DataFrame({"x": [2]}), mode="append")
    assert bucket.read()["x"].to_list() == [1]
    assert [h["version"] for h in bucket.history()] == [0]


# -- reads through transient faults ----------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        Fault("error", "GET", r"/data\.parquet", status=503),
        Fault("error", "GET", r"/data\.parquet", status=500),
        Fault("reset", "GET", r"/data\.parquet"),
        Fault("truncate", "GET", r"/data\.parquet"),
        Fault("latency", "GET", r"/data\.parquet", delay=0.5),
    ],
    ids=["503", "500", "reset", "truncate", "latency"],
)
def test_transient_read_faults_are_absorbed(
    s3: Provider, faulty: FaultProxy, bucket_name: str, fault: Fault
) -> None:
    bucket = s3.bucket(bucket_name, "data.parquet")
    frame = pl.DataFrame({"x": list(range(5000))})
    bucket.write(frame)
    fault.hits = 0
    with faulty.inject(fault):
        got = bucket.read()
    assert fault.hits == 1
    assert got.equals(frame)


def test_transient_table_read_faults_are_absorbed(
    s3: Provider, faulty: FaultProxy, bucket_name: str
) -> None:
    bucket = s3.bucket(bucket_name, "t/")
    bucket.write(pl.DataFrame({"x": [1, 2, 3]}))
    with faulty.inject(
        Fault("error", "GET", r"_delta_log", status=503),
        Fault("reset", "GET", r"\.parquet"),
    ) as faults:
        got = bucket.read()
    assert [f.hits for f in faults] == [1, 1]
    assert sorted(got["x"].to_list()) == [1, 2, 3]


def test_transient_write_faults_are_absorbed(
    s3: Provider, faulty: FaultProxy, bucket_name: str
) -> None:
    bucket = s3.bucket(bucket_name, "t/")
    with faulty.inject(
        Fault("error", "PUT", r"\.parquet", status=503),
        Fault("reset", "PUT", r"_delta_log"),
    ):
        bucket.write(pl.DataFrame({"x": [1, 2]}))
    assert sorted(bucket.read()["x"].to_list()) == [1, 2]
    assert os.environ.get("AWS_ACCESS_KEY_ID") == "testing"


# -- tables on stores delta-rs cannot reach (the local mirror) -------------------------------


def test_a_mirrored_table_commit_that_landed_is_applied_once(
    memory: Provider, bucket_name: str
) -> None:
    fs = memory.cloud.filesystem()
    real = fs.pipe_file
    lost: list[str] = []

    def pipe_file(path: str, value: bytes, **kwargs: Any) -> None:
        real(path, value, **kwargs)
        if "_delta_log/00000000000000000001.json" in path and not lost:
            lost.append(path)
            raise ConnectionResetError("the answer to the commit was lost")

    fs.pipe_file = pipe_file
    bucket = memory.bucket(bucket_name, "t/")
    bucket.write(pl.DataFrame({"x": [1]}))
    bucket.write(pl.DataFrame({"x": [2]}), mode="append")
    assert lost  # the commit landed and its answer was lost
    assert sorted(bucket.read()["x"].to_list()) == [1, 2]
    assert [h["version"] for h in bucket.history()] == [1, 0]


# -- GCS and Azure objects (item 7 on the other stores) --------------------------------------


@pytest.fixture(scope="module")
def faulty_gcs(gcs_server: Any) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of the session's GCS emulator."""
    proxy = FaultProxy(gcs_server.target_port)
    yield proxy
    proxy.close()


@pytest.fixture(scope="module")
def faulty_azurite(azurite_server: Any) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of the session's Azurite."""
    proxy = FaultProxy(azurite_server.target_port)
    yield proxy
    proxy.close()


@pytest.fixture(params=["gcs", "azure"])
def other_store(
    request: pytest.FixtureRequest, bucket_name: str
) -> tuple[Provider, FaultProxy, str]:
    """(provider, proxy, the request that commits a small object) for GCS and Azure: the
    last request of a resumable upload session, the block list's commit."""
    from glacier.settings import AzureConfig, GcpConfig

    if request.param == "gcs":
        from gcsfs.core import GCSFileSystem

        proxy: FaultProxy = request.getfixturevalue("faulty_gcs")
        GCSFileSystem(endpoint_url=proxy.url, token="anon", project="glacier-test").mkdir(
            bucket_name
        )
        config: Any = GcpConfig(project="glacier-test", endpoint_url=proxy.url, anonymous=True)
        return Provider(config=config), proxy, r"upload_id="
    from azure.storage.blob import BlobServiceClient

    connection = request.getfixturevalue("azurite_connection_string")
    proxy = request.getfixturevalue("faulty_azurite")
    with BlobServiceClient.from_connection_string(connection) as service:
        service.create_container(bucket_name)
    config = AzureConfig(
        storage_account="devstoreaccount1", endpoint_url=f"{proxy.url}/devstoreaccount1"
    )
    return Provider(config=config), proxy, r"sales\.parquet\?comp=blocklist"


@pytest.mark.parametrize("action", ["commit_then_error", "commit_then_reset"])
def test_a_gcs_or_azure_object_write_that_landed_is_a_success(
    other_store: tuple[Provider, FaultProxy, str], bucket_name: str, action: Any
) -> None:
    provider, proxy, commit = other_store
    bucket = provider.bucket(bucket_name, "sales.parquet")
    bucket.write(pl.DataFrame({"x": [1]}))
    with proxy.inject(Fault(action, "*", commit, times=10)) as (fault,):
        bucket.write(pl.DataFrame({"x": [2]}))
    assert fault.hits >= 1, proxy.requests[-8:]  # the store applied it, the client saw an error
    assert bucket.read()["x"].to_list() == [2]
    assert bucket.list() == ["sales.parquet"]


def test_a_gcs_or_azure_object_write_that_never_landed_fails_and_keeps_the_old_object(
    other_store: tuple[Provider, FaultProxy, str], bucket_name: str
) -> None:
    provider, proxy, commit = other_store
    bucket = provider.bucket(bucket_name, "sales.parquet")
    bucket.write(pl.DataFrame({"x": [1]}))
    with (
        proxy.inject(Fault("error", "*", commit, times=10, status=503)) as (fault,),
        pytest.raises(StorageError, match=r"sales\.parquet"),
    ):
        bucket.write(pl.DataFrame({"x": [2]}))
    assert fault.hits >= 1
    assert bucket.read()["x"].to_list() == [1]


# -- symbolic links under the base path (item 2, traversal, through a link) ---------------


@pytest.mark.parametrize("link", ["lake", "lake/t"])
@pytest.mark.parametrize("operation", ["write", "read", "delete", "open"])
def test_a_symlink_out_of_the_base_path_is_refused_naming_the_path(
    tmp_path: Any, link: str, operation: str
) -> None:
    from glacier.errors import ConfigError
    from glacier.settings import LocalConfig

    base, outside = tmp_path / "base", tmp_path / "outside"
    outside.mkdir()
    (base / link).parent.mkdir(parents=True, exist_ok=True)
    (base / link).symlink_to(outside, target_is_directory=True)
    pl.DataFrame({"x": [1]}).write_parquet(outside / "a.parquet")  # what a read would leak
    bucket = Provider(config=LocalConfig(base_path=base)).bucket("lake", "t/a.parquet")
    with pytest.raises(ConfigError, match="outside the base path") as caught:
        if operation == "write":
            bucket.write(pl.DataFrame({"x": [2]}))
        elif operation == "read":
            bucket.read()
        elif operation == "delete":
            bucket.delete()
        else:
            bucket.open("wb").close()
    assert str(base / link) in str(caught.value)
    assert sorted(p.name for p in outside.rglob("*")) == ["a.parquet"]

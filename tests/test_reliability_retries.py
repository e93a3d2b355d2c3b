"""Output writes inside the task's retries, and timeouts on every store client (issue 17,
item 6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier import Dataset, Pipeline
from glacier.adapters.bucket import FsspecBucketAdapter
from glacier.errors import PipelineRunError, SchemaMismatchError, StorageError
from glacier.testing import local_environment


def _flaky_writes(monkeypatch: pytest.MonkeyPatch, failures: list[Exception]) -> list[str]:
    """Make the next writes raise ``failures`` in turn; returns the log of write calls."""
    real = FsspecBucketAdapter.write
    calls: list[str] = []

    def write(self: FsspecBucketAdapter, data: Any, *args: Any, **kwargs: Any) -> None:
        calls.append(self.get_uri())
        if failures:
            raise failures.pop(0)
        real(self, data, *args, **kwargs)

    monkeypatch.setattr(FsspecBucketAdapter, "write", write)
    return calls


def _pipeline(tmp_path: Path, runs: list[int], retries: int) -> Pipeline:
    pipeline = Pipeline("flaky", env=local_environment(tmp_path))
    out = Dataset("out", storage=str(tmp_path / "out.parquet"))

    @pipeline.task(retries=retries, retry_delay=0)
    def make() -> out:
        runs.append(1)
        return pl.DataFrame({"x": [1, 2]})

    return pipeline


def test_a_transient_write_failure_is_retried_within_the_task_retries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _flaky_writes(
        monkeypatch, [StorageError("write failed: 503 SlowDown"), ConnectionResetError()]
    )
    runs: list[int] = []
    result = _pipeline(tmp_path, runs, retries=3).run()
    assert result.ok
    assert len(calls) == 3 and runs == [1]  # the write retried, the function ran once
    assert result.tasks["make"].attempts == 3
    assert result["out"].collect()["x"].to_list() == [1, 2]


def test_write_retries_stop_at_the_task_retries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _flaky_writes(monkeypatch, [StorageError(f"503 #{n}") for n in range(5)])
    with pytest.raises(PipelineRunError, match="503 #2"):
        _pipeline(tmp_path, [], retries=2).run()
    assert len(calls) == 3


def test_a_deterministic_write_failure_is_not_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _flaky_writes(monkeypatch, [SchemaMismatchError("stored schema differs")])
    with pytest.raises(PipelineRunError, match="stored schema differs"):
        _pipeline(tmp_path, [], retries=3).run()
    assert len(calls) == 1


# -- timeouts ---------------------------------------------------------------------------------


def test_the_configured_timeouts_reach_every_client(monkeypatch: pytest.MonkeyPatch) -> None:
    from glacier.adapters.filesystems import (
        STORES,
        azure_filesystem,
        gcs_filesystem,
        s3_filesystem,
    )
    from glacier.settings import AwsConfig, AzureConfig, GcpConfig

    limits = {"connect_timeout": 1.5, "read_timeout": 2.5}
    aws = AwsConfig(region="us-east-1", endpoint_url="http://127.0.0.1:9", **limits)
    gcp = GcpConfig(project="glacier-test", endpoint_url="http://127.0.0.1:9", **limits)
    azure = AzureConfig(storage_account="devstoreaccount1", **limits)

    s3 = s3_filesystem(aws)
    assert s3.config_kwargs["connect_timeout"] == 1.5
    assert s3.config_kwargs["read_timeout"] == 2.5
    gcs = gcs_filesystem(gcp)
    assert (gcs.requests_timeout.sock_connect, gcs.requests_timeout.sock_read) == (1.5, 2.5)
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    blob = azure_filesystem(azure)
    assert blob._timeout_kwargs == {"connection_timeout": 2, "read_timeout": 3}
    for config, store in ((aws, "s3"), (azure, "abfs")):
        native = STORES[store].native(config)
        assert native is not None and native.storage_options is not None
        assert native.storage_options["connect_timeout"] == "1500ms"
        assert native.storage_options["read_timeout"] == "2500ms"
        delta = STORES[store].delta(config)
        assert delta is not None
        assert (delta["connect_timeout"], delta["timeout"]) == ("1500ms", "5000ms")
    assert STORES["gcs"].native(gcp.model_copy(update={"endpoint_url": None})) is not None


def test_a_silent_endpoint_fails_with_a_timeout_naming_it(aws_test_credentials: None) -> None:
    from faults import SilentServer
    from glacier.errors import StorageTimeoutError
    from glacier.provider import Provider
    from glacier.settings import AwsConfig

    silent = SilentServer()
    try:
        config = AwsConfig(
            region="us-east-1", endpoint_url=silent.url, connect_timeout=0.2, read_timeout=0.2
        )
        bucket = Provider(config=config).bucket("lake-silent", "k.parquet")
        with pytest.raises(StorageTimeoutError) as caught:
            bucket.read()
    finally:
        silent.close()
    message = str(caught.value)
    assert silent.url in message and "read_timeout=0.2" in message
    assert "connect_timeout" in message and "s3://lake-silent/k.parquet" in message

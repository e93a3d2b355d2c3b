"""Output writes inside the task's retries, and timeouts on every store client (issue 17,
item 6)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from glacier import Dataset, Pipeline
from glacier.adapters.bucket import FsspecBucketAdapter
from glacier.errors import (
    ConfigError,
    MissingExtraError,
    NotSupportedError,
    PipelineRunError,
    SchemaMismatchError,
    StorageError,
)
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


def test_the_configured_timeouts_and_attempts_reach_every_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from glacier.adapters.filesystems import (
        S3FS_ATTEMPTS,
        STORES,
        azure_filesystem,
        gcs_filesystem,
        s3_filesystem,
    )
    from glacier.settings import AwsConfig, AzureConfig, GcpConfig

    limits = {"connect_timeout": 1.5, "read_timeout": 2.5, "max_attempts": 3}
    aws = AwsConfig(region="us-east-1", endpoint_url="http://127.0.0.1:9", **limits)
    gcp = GcpConfig(project="glacier-test", endpoint_url="http://127.0.0.1:9", **limits)
    azure = AzureConfig(storage_account="devstoreaccount1", **limits)

    s3 = s3_filesystem(aws)
    assert s3.config_kwargs["connect_timeout"] == 1.5
    assert s3.config_kwargs["read_timeout"] == 2.5
    assert s3.config_kwargs["retries"] == {"total_max_attempts": 3, "mode": "standard"}
    assert s3.retries == S3FS_ATTEMPTS
    gcs = gcs_filesystem(gcp)
    assert (gcs.requests_timeout.sock_connect, gcs.requests_timeout.sock_read) == (1.5, 2.5)
    assert gcs.glacier_attempts == 3 and "_request" in vars(gcs)  # re-wrapped on the instance
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    blob = azure_filesystem(azure)
    assert blob._timeout_kwargs == {"connection_timeout": 2, "read_timeout": 3}
    connection = blob.service_client._pipeline._transport.connection_config
    assert (connection.timeout, connection.read_timeout) == (1.5, 2.5)
    policy = blob.service_client._config.retry_policy
    assert (policy.total_retries, policy.connect_retries, policy.read_retries) == (2, 2, 2)
    assert policy.initial_backoff < 1
    for config, store in ((aws, "s3"), (azure, "abfs")):
        native = STORES[store].native(config)
        assert native is not None and native.storage_options is not None
        assert native.storage_options["connect_timeout"] == "1500ms"
        assert native.storage_options["read_timeout"] == "2500ms"
        assert native.storage_options["max_retries"] == 2
        delta = STORES[store].delta(config)
        assert delta is not None
        assert (delta["connect_timeout"], delta["timeout"]) == ("1500ms", "5000ms")
        assert delta["retry_timeout"] == "10000ms"  # two more whole requests
    assert STORES["gcs"].native(gcp.model_copy(update={"endpoint_url": None})) is not None


# -- dead endpoints ------------------------------------------------------------------------

#: Operations against a dead endpoint: a read, a small write, a multipart write (parts of
#: 5 MiB, 6 MiB of data), a Delta table commit and a listing.
DEAD_ENDPOINT_OPERATIONS = ("read", "write", "multipart", "commit", "list")


def _dead_store(store: str, url: str, attempts: int, monkeypatch: pytest.MonkeyPatch) -> Any:
    from glacier.provider import Provider
    from glacier.settings import AwsConfig, AzureConfig, GcpConfig

    limits: dict[str, Any] = {"connect_timeout": 0.2, "read_timeout": 0.2}
    limits["max_attempts"] = attempts
    if store == "s3":
        return Provider(config=AwsConfig(region="us-east-1", endpoint_url=url, **limits))
    if store == "gcs":
        config: Any = GcpConfig(project="glacier-test", endpoint_url=url, anonymous=True, **limits)
        return Provider(config=config)
    from conftest import azurite_connection

    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite_connection(9))
    config = AzureConfig(
        storage_account="devstoreaccount1", endpoint_url=f"{url}/devstoreaccount1", **limits
    )
    return Provider(config=config)


def _dead_operation(provider: Any, operation: str) -> None:
    small = pl.DataFrame({"x": [1, 2, 3]})
    if operation == "read":
        provider.bucket("lake", "k.parquet").read()
    elif operation == "write":
        provider.bucket("lake", "k.parquet").write(small)
    elif operation == "multipart":
        rng = np.random.default_rng(0)
        big = pl.DataFrame({"x": rng.integers(0, 2**62, 800_000)})  # ~6 MiB
        provider.bucket("lake", "big.parquet").write(big)
    elif operation == "commit":
        provider.bucket("lake", "t/").write(small, mode="append")
    else:
        provider.bucket("lake", "t/").list()


@pytest.mark.parametrize("operation", DEAD_ENDPOINT_OPERATIONS)
@pytest.mark.parametrize("store", ["s3", "gcs", "azure"])
def test_a_silent_endpoint_fails_every_operation_with_a_timeout(
    store: str, operation: str, aws_test_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faults import SilentServer
    from glacier.errors import StorageTimeoutError

    monkeypatch.setattr("glacier.adapters.bucket.UPLOAD_PART_SIZE", 5 * 2**20)
    silent = SilentServer()
    try:
        with pytest.raises(StorageTimeoutError) as caught:
            _dead_operation(_dead_store(store, silent.url, 2, monkeypatch), operation)
    finally:
        silent.close()
    message = str(caught.value)
    assert silent.url in message and "read_timeout=0.2" in message
    assert silent.requests  # the requests reached the endpoint and were never answered


@pytest.mark.parametrize("operation", ["read", "write", "commit", "list"])
@pytest.mark.parametrize("store", ["s3", "gcs", "azure"])
def test_a_port_where_nothing_listens_fails_at_once_naming_it(
    store: str, operation: str, aws_test_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from glacier.errors import EndpointUnreachableError

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with pytest.raises(EndpointUnreachableError, match=re.escape(url)):
        _dead_operation(_dead_store(store, url, 2, monkeypatch), operation)


#: Requests one read of an object makes against a silent endpoint, per attempt configured:
#: s3fs retries botocore's attempts once more (S3FS_ATTEMPTS); gcsfs and the Azure SDK try
#: each request ``max_attempts`` times.
READ_REQUESTS_PER_ATTEMPT = {"s3": 2, "gcs": 1, "azure": 1}


@pytest.mark.parametrize("store", ["s3", "gcs", "azure"])
def test_max_attempts_is_the_number_of_tries_a_dead_endpoint_gets(
    store: str, aws_test_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faults import SilentServer
    from glacier.errors import StorageTimeoutError

    tried = []
    for attempts in (1, 3):
        silent = SilentServer()
        try:
            with pytest.raises(StorageTimeoutError):
                _dead_operation(_dead_store(store, silent.url, attempts, monkeypatch), "read")
        finally:
            silent.close()
        tried.append(len(silent.requests))
    per_attempt = READ_REQUESTS_PER_ATTEMPT[store]
    assert tried == [per_attempt, 3 * per_attempt]


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


class ProfileNotFound(Exception):
    """Stands for botocore's: the class name is what the retry policy knows it by."""


@pytest.mark.parametrize(
    "failure",
    [
        ProfileNotFound("The config profile (nosuch) could not be found"),
        MissingExtraError("This needs s3fs, which is not installed: pip install ..."),
        ModuleNotFoundError("No module named 'cloudpickle'"),
        ConfigError("bad setting"),
        NotSupportedError("not available"),
        PermissionError("denied"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_a_failure_that_cannot_succeed_on_retry_fails_at_the_first_attempt(
    failure: Exception,
) -> None:
    pipeline = Pipeline("no-retry")
    out = Dataset("out")
    calls: list[int] = []

    # A long retry_delay: a retry would show as a second call, and a wait nobody needs.
    @pipeline.task(retries=3, retry_delay=60)
    def make() -> out:
        calls.append(1)
        raise failure

    with pytest.raises(PipelineRunError):
        pipeline.run()
    assert calls == [1]

"""Shared fixtures: storage emulators on 127.0.0.1 and one Provider per store.

Emulators start on first use (session scope) on free ports and stop at the end of the run:

- ``moto_endpoint``: moto's S3 server (``ThreadedMotoServer``), with test AWS credentials in
  the environment for the session;
- ``gcs_endpoint``: ``gcp-storage-emulator``, in memory;
- ``azurite_connection_string``: Azurite's blob service (installed from npm into
  ``<repo>/.cache/node`` on first use), exported as ``AZURE_STORAGE_CONNECTION_STRING``;
- ``postgres_server``: a real PostgreSQL server (Debian's, see ``tests/postgres.py``);
  ``postgres`` points libpq's ``PG*`` variables at it for one test.

Each emulator is reached through a :class:`ByteCountingProxy`, so a test can measure how many
bytes a read pulled from the store. ``local``, ``memory``, ``s3``, ``gcs`` and ``azure`` yield
a :class:`~glacier.Provider` whose bucket ``bucket_name`` exists and is empty; ``store`` runs a
test once per store and yields a :class:`StoreCase`.

:func:`clear_cloud_variables` is the one way tests remove cloud and Glacier variables of the
machine running them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers

from postgres import PostgresServer

# gcsfs reads this at import: without it every emulator bucket waits 60 s on a gRPC probe.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

REPO = Path(__file__).resolve().parents[1]
NODE_PREFIX = REPO / ".cache" / "node"
AZURITE = NODE_PREFIX / "node_modules" / ".bin" / "azurite-blob"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
GCP_PROJECT = "glacier-test"
STORES = ("local", "memory", "s3", "gcs", "azure")
# What a cloud SDK or Glacier reads from the environment: credentials, profiles, regions,
# endpoints, and the variables that pick an environment or override its settings.
CLOUD_VARIABLE_PREFIXES = ("GLACIER_", "AWS_", "GOOGLE_", "GCP_", "GCLOUD_", "AZURE_")
CLOUD_VARIABLES = ("STORAGE_EMULATOR_HOST",)


def clear_cloud_variables(
    patch: pytest.MonkeyPatch,
    prefixes: tuple[str, ...] = CLOUD_VARIABLE_PREFIXES,
    names: tuple[str, ...] = CLOUD_VARIABLES,
) -> None:
    """Remove every variable named in ``names`` or starting with one of ``prefixes`` through
    ``patch``, which restores them when it is undone.

    Use it from a fixture of the widest scope that works (a package, a module, a session):
    each change of the process's environment races native threads of earlier tests
    (polars, gRPC) that may be reading it, so clearing around every test invites crashes.
    """
    for name in list(os.environ):
        if name.startswith(prefixes) or name in names:
            patch.delenv(name)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(
    port: int, timeout: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Block until something accepts connections on ``port`` (or fail clearly)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the emulator exited with code {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port} within {timeout:.0f} s")


class ByteCountingProxy:
    """A TCP proxy in front of an emulator that counts the bytes the emulator sends back.

    ``received`` is the number of response bytes so far; ``requests`` the HTTP request lines
    seen (``"PUT /bucket/key?partNumber=2&uploadId=..."``), so tests can see multipart uploads.
    """

    _REQUEST_LINE = re.compile(rb"(GET|PUT|POST|HEAD|DELETE|PATCH) (\S+) HTTP/1\.1\r\n")

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.received = 0
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        """Stop accepting connections."""
        self._server.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        carry = b""
        try:
            while data := source.recv(1 << 16):
                if upstream:
                    carry = self._scan_requests(carry, data)
                else:
                    with self._lock:
                        self.received += len(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def _scan_requests(self, carry: bytes, data: bytes) -> bytes:
        # A request line may straddle two reads: scan the tail of the previous read too, and
        # only count matches that end in the new data (the rest were counted before).
        buffer = carry + data
        lines = [
            m.group(0).decode(errors="replace").strip()
            for m in self._REQUEST_LINE.finditer(buffer)
            if m.end() > len(carry)
        ]
        if lines:
            with self._lock:
                self.requests.extend(lines)
        return buffer[-2048:]


# -- the stress run ------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--stress",
        action="store_true",
        help="also run the tests marked stress, and the repeated trials more times "
        "(sets GLACIER_STRESS=1; see tests/stress.py)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--stress"):
        os.environ["GLACIER_STRESS"] = "1"  # before tests/stress.py is first imported


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from stress import STRESS

    if STRESS:
        return
    deselected = [item for item in items if item.get_closest_marker("stress")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("stress")]


# -- emulators (session scope) -------------------------------------------------------------


@pytest.fixture(scope="session")
def aws_test_credentials() -> Iterator[None]:
    """Test credentials in the environment, where the AWS credential chain finds them."""
    with pytest.MonkeyPatch.context() as patch:
        # No profile, token, role, endpoint or region of the machine may redirect the tests.
        clear_cloud_variables(patch, prefixes=("AWS_",), names=())
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        yield


@pytest.fixture(scope="session")
def moto_server(aws_test_credentials: None) -> Iterator[ByteCountingProxy]:
    """moto's S3 server behind a byte-counting proxy."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    proxy = ByteCountingProxy(port)
    yield proxy
    proxy.close()
    server.stop()


@pytest.fixture(scope="session")
def moto_endpoint(moto_server: ByteCountingProxy) -> str:
    """URL of the S3 emulator."""
    return moto_server.url


def moto_no_auth_requests(endpoint: str, count: str) -> str:
    """Let moto serve ``count`` more requests unchecked, then check every request's
    credentials against its IAM (``"inf"``: never check, moto's default). Returns the
    previous setting, to restore it."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=count.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},  # a form body would reach moto empty
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        previous: str = json.loads(response.read())["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"]
    return previous


@pytest.fixture
def moto_checks_credentials(moto_endpoint: str) -> Iterator[None]:
    """moto checks credentials until the test ends. The session's ``testing`` key is unknown
    to its IAM, so S3 answers 403, as AWS does to a revoked or foreign key."""
    previous = moto_no_auth_requests(moto_endpoint, "0")
    try:
        yield
    finally:
        moto_no_auth_requests(moto_endpoint, previous)


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[ByteCountingProxy]:
    """gcp-storage-emulator (in memory) behind a byte-counting proxy."""
    from gcp_storage_emulator.server import create_server

    logging.getLogger("gcp_storage_emulator").setLevel(logging.ERROR)
    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    wait_for_port(port, timeout=30)
    proxy = ByteCountingProxy(port)
    yield proxy
    proxy.close()
    server.stop()


@pytest.fixture(scope="session")
def gcs_endpoint(gcs_server: ByteCountingProxy) -> str:
    """URL of the GCS emulator."""
    return gcs_server.url


def azurite_executable() -> Path:
    """Azurite's blob server, installed with npm into ``.cache/node`` if it is not there."""
    if AZURITE.exists():
        return AZURITE
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("Azurite is needed for the Azure tests and npm is not on PATH to install it")
    result = subprocess.run(
        [npm, "install", "--prefix", str(NODE_PREFIX), "azurite"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0 or not AZURITE.exists():
        pytest.fail(
            f"`npm install --prefix {NODE_PREFIX} azurite` failed ({result.returncode}):\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
    return AZURITE


def azurite_connection(port: int, key: str = AZURITE_KEY) -> str:
    """Azurite's well-known development connection string for a blob port."""
    return (
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={key};"
        f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
    )


@pytest.fixture(scope="session")
def azurite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ByteCountingProxy]:
    """Azurite's blob service (in memory) behind a byte-counting proxy."""
    port = free_port()
    workdir = tmp_path_factory.mktemp("azurite")
    log = workdir / "azurite.log"
    with log.open("wb") as output:  # a file, not a pipe: a full pipe would stall Azurite
        process = subprocess.Popen(
            [
                str(azurite_executable()),
                *("--blobHost", "127.0.0.1", "--blobPort", str(port)),
                *("--inMemoryPersistence", "--disableTelemetry", "--silent"),
                *("--skipApiVersionCheck", "--loose"),
            ],
            cwd=workdir,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, timeout=60, process=process)
    except RuntimeError as exc:
        process.kill()
        pytest.fail(f"Azurite did not start: {exc}\n{log.read_text(errors='replace')[-2000:]}")
    proxy = ByteCountingProxy(port)
    yield proxy
    proxy.close()
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def azurite_connection_string(azurite_server: ByteCountingProxy) -> Iterator[str]:
    """Azurite's connection string, exported as ``AZURE_STORAGE_CONNECTION_STRING``."""
    value = azurite_connection(azurite_server.port)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AZURE_STORAGE_CONNECTION_STRING", value)
        yield value


# -- one provider per store ----------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session, with a role and database ``glacier``."""
    with PostgresServer.start() as server:
        yield server


@pytest.fixture
def postgres(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> PostgresServer:
    """The session's PostgreSQL server, named by libpq's ``PG*`` variables for one test."""
    for name, value in postgres_server.libpq_env().items():
        monkeypatch.setenv(name, value)
    return postgres_server


@pytest.fixture
def bucket_name() -> str:
    """A fresh, valid bucket/container name (created by the store fixtures)."""
    return f"glacier-{uuid.uuid4().hex[:12]}"


def _override_filesystem(provider: Any, filesystem: Any) -> None:
    provider.cloud.filesystem.override(providers.Object(filesystem))


@pytest.fixture
def local(tmp_path: Path) -> Any:
    """A local provider rooted in ``tmp_path``."""
    from glacier.provider import Provider
    from glacier.settings import LocalConfig

    return Provider(config=LocalConfig(base_path=tmp_path / "data"))


class CountingMemoryFileSystem:
    """Mixin counting the bytes read out of an in-memory filesystem."""

    bytes_read = 0

    def cat_file(
        self, path: str, start: int | None = None, end: int | None = None, **kw: Any
    ) -> Any:
        data = super().cat_file(path, start=start, end=end, **kw)  # type: ignore[misc]
        type(self).bytes_read += len(data)
        return data


@pytest.fixture
def memory(tmp_path: Path) -> Any:
    """A local provider whose filesystem is a fresh in-memory one, shared with no test."""
    from glacier.provider import Provider
    from glacier.settings import LocalConfig
    from glacier.testing import memory_filesystem

    isolated = type(memory_filesystem())
    counting = type(f"Counting{isolated.__name__}", (CountingMemoryFileSystem, isolated), {})
    provider = Provider(config=LocalConfig(base_path=tmp_path / "unused"))
    _override_filesystem(provider, counting())
    return provider


@pytest.fixture
def s3(moto_endpoint: str, bucket_name: str) -> Any:
    """An AWS provider on moto, with the bucket ``bucket_name`` created."""
    import boto3

    from glacier.provider import Provider
    from glacier.settings import AwsConfig

    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket_name
    )
    return Provider(config=AwsConfig(region="us-east-1", endpoint_url=moto_endpoint))


@pytest.fixture
def gcs(gcs_endpoint: str, bucket_name: str) -> Any:
    """A GCP provider on the storage emulator, with the bucket ``bucket_name`` created."""
    from gcsfs.core import GCSFileSystem

    from glacier.provider import Provider
    from glacier.settings import GcpConfig

    GCSFileSystem(endpoint_url=gcs_endpoint, token="anon", project=GCP_PROJECT).mkdir(bucket_name)
    return Provider(
        config=GcpConfig(project=GCP_PROJECT, endpoint_url=gcs_endpoint, anonymous=True)
    )


@pytest.fixture
def azure(azurite_connection_string: str, bucket_name: str) -> Any:
    """An Azure provider on Azurite, with the container ``bucket_name`` created."""
    from azure.storage.blob import BlobServiceClient

    from glacier.provider import Provider
    from glacier.settings import AzureConfig

    service = BlobServiceClient.from_connection_string(azurite_connection_string)
    service.create_container(bucket_name)
    service.close()
    return Provider(config=AzureConfig(storage_account="devstoreaccount1"))


@dataclass
class StoreCase:
    """One store under test: its provider, an empty bucket, and a meter of bytes read.

    ``bytes_read()`` counts what the store served: response bytes through the emulator's
    proxy, bytes read out of the memory filesystem, or (local) bytes this process read.
    """

    name: str
    provider: Any
    bucket_name: str
    bytes_read: Callable[[], int]
    proxy: ByteCountingProxy | None = None

    def bucket(self, path: str = "", **kwargs: Any) -> Any:
        """``provider.bucket(bucket_name, path, ...)``."""
        return self.provider.bucket(self.bucket_name, path, **kwargs)

    @property
    def fs(self) -> Any:
        """The provider's fsspec filesystem."""
        return self.provider.cloud.filesystem()

    def objects(self) -> list[str]:
        """Every object key in the bucket, Glacier's hidden ones included."""
        root = self.bucket().adapter.root
        paths = self.fs.find(root)
        return sorted(
            self.fs._strip_protocol(p)[len(self.fs._strip_protocol(root)) + 1 :] for p in paths
        )


def _process_bytes_read() -> int:
    # rchar: bytes this process got from read()-like calls, page cache included.
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise RuntimeError("/proc/self/io has no rchar line")


def make_store_case(request: pytest.FixtureRequest, name: str) -> StoreCase:
    """The :class:`StoreCase` of store ``name`` (one of :data:`STORES`)."""
    provider = request.getfixturevalue(name)
    bucket = request.getfixturevalue("bucket_name")
    servers = {"s3": "moto_server", "gcs": "gcs_server", "azure": "azurite_server"}
    if name in servers:
        proxy: ByteCountingProxy = request.getfixturevalue(servers[name])
        return StoreCase(name, provider, bucket, lambda: proxy.received, proxy)
    if name == "memory":
        fs_class = type(provider.cloud.filesystem())
        return StoreCase(name, provider, bucket, lambda: fs_class.bytes_read)
    return StoreCase(name, provider, bucket, _process_bytes_read)


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> StoreCase:
    """Each of the five stores in turn."""
    return make_store_case(request, request.param)

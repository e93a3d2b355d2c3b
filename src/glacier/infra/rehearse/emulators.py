"""The storage emulators a rehearsal on GCP or Azure runs on, and their buckets.

- GCP: ``gcp-storage-emulator`` in memory, in this process (a thread), on a free port;
- Azure: Azurite's blob service (``azurite-blob``, from npm: on ``PATH`` or in the project's
  ``.cache/node``), in memory, in a process of its own. Azurite holds one account, its
  well-known development account ``devstoreaccount1``: every storage account of the plan is
  stood in for by it, its containers created there by name.

Either may be given instead (``emulator=`` of the rehearsal: a test suite's own); the
rehearsal then creates its buckets there and stops nothing.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from glacier.errors import InfraError
from glacier.extras import require

__all__ = ["AZURITE_ACCOUNT", "AZURITE_KEY", "Emulator", "azurite_connection"]

#: Azurite's development account and its well-known key (published by Microsoft).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
#: Seconds an emulator has to start accepting connections.
START_TIMEOUT = 60.0


def azurite_connection(endpoint: str) -> str:
    """The development account's connection string for a blob endpoint (``http://h:p``)."""
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={endpoint}/{AZURITE_ACCOUNT};"
    )


class Emulator:
    """A running storage emulator of ``cloud`` (started unless ``url`` names one)."""

    def __init__(self, cloud: str, url: str | None = None) -> None:
        self.cloud = cloud
        self._stop: Any = None
        if url is not None:
            self.url = url.rstrip("/")
        elif cloud == "gcp":
            self.url = self._start_gcs()
        else:
            self.url = self._start_azurite()

    def create_buckets(self, names: Iterable[str], project: str = "rehearsal") -> None:
        """Create each bucket (GCS) or container (Azurite), if it is not there already."""
        for name in names:
            if self.cloud == "gcp":
                request = urllib.request.Request(
                    f"{self.url}/storage/v1/b?project={project}",
                    data=json.dumps({"name": name}).encode(),
                    headers={"Content-Type": "application/json"},
                    method="POST",
                )
                try:
                    urllib.request.urlopen(request, timeout=30).close()
                except urllib.error.HTTPError as exc:
                    if exc.code != 409:  # already there
                        raise
            else:
                require("azure.storage.blob", "azure", "A rehearsal on Azurite")
                from azure.core.exceptions import ResourceExistsError
                from azure.storage.blob import BlobServiceClient

                client = BlobServiceClient.from_connection_string(azurite_connection(self.url))
                with contextlib.suppress(ResourceExistsError):  # already there
                    client.create_container(name)

    def put(self, bucket: str, key: str, data: bytes) -> None:
        """Put object ``key`` in ``bucket`` (a GCS bucket, an Azurite container)."""
        if self.cloud == "gcp":
            name = urllib.parse.quote(key, safe="")
            request = urllib.request.Request(
                f"{self.url}/upload/storage/v1/b/{bucket}/o?uploadType=media&name={name}",
                data=data,
                headers={"Content-Type": "application/octet-stream"},
                method="POST",
            )
            urllib.request.urlopen(request, timeout=60).close()
        else:
            from azure.storage.blob import BlobServiceClient

            client = BlobServiceClient.from_connection_string(azurite_connection(self.url))
            client.get_blob_client(bucket, key).upload_blob(data, overwrite=True)

    def stop(self) -> None:
        """Stop the emulator if the rehearsal started it."""
        if self._stop is not None:
            self._stop()
            self._stop = None

    def _start_gcs(self) -> str:
        require("gcp_storage_emulator", "rehearse", "A rehearsal of a GCP environment")
        from gcp_storage_emulator.server import create_server

        port = _free_port()
        server = create_server("127.0.0.1", port, in_memory=True)
        server.start()
        self._stop = server.stop
        _wait_for(port, None)
        return f"http://127.0.0.1:{port}"

    def _start_azurite(self) -> str:
        executable = shutil.which("azurite-blob")
        local = Path.cwd() / ".cache" / "node" / "node_modules" / ".bin" / "azurite-blob"
        if executable is None and local.exists():
            executable = str(local)
        if executable is None:
            raise InfraError(
                "A rehearsal of an Azure environment runs on Azurite, which is not installed: "
                "`npm install -g azurite` (or `npm install --prefix .cache/node azurite` in "
                "the project) puts azurite-blob where the rehearsal finds it."
            )
        port = _free_port()
        workdir = Path(tempfile.mkdtemp(prefix="glacier-azurite-"))
        log = (workdir / "azurite.log").open("wb")  # a file: a full pipe would stall it
        process = subprocess.Popen(
            [
                executable,
                *("--blobHost", "127.0.0.1", "--blobPort", str(port)),
                *("--inMemoryPersistence", "--disableTelemetry", "--silent"),
                *("--skipApiVersionCheck", "--loose"),
            ],
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

        def stop() -> None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()
            shutil.rmtree(workdir, ignore_errors=True)

        self._stop = stop
        try:
            _wait_for(port, process)
        except InfraError:
            stop()
            raise
        return f"http://127.0.0.1:{port}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[bytes] | None) -> None:
    """Until ``port`` accepts a connection (polling is how one learns a server is up)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise InfraError(f"The storage emulator exited ({process.returncode}) on start.")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise InfraError(
        f"The storage emulator did not listen on port {port} within {START_TIMEOUT} s."
    )

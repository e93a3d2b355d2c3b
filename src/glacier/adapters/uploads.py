"""Uploads that become an object only when completed: how object writes stay atomic.

:func:`open_upload` gives a writable file object for a key on an object store. Whatever is
written to it stays invisible until :meth:`Upload.close` completes the upload; after
:meth:`Upload.discard` (or a killed process) the key keeps its previous version.

- S3: :class:`S3MultipartUpload` cuts the stream into parts and uploads up to
  :data:`PARTS_IN_FLIGHT` of them at once on the filesystem's own event loop, while the
  writer goes on producing the next part (an fsspec ``S3File`` uploads each part inside
  ``write()``, stalling the writer). An object smaller than one part is a single PUT at
  ``close()``.
  Every upload carries a random *write token* in its metadata (:data:`WRITE_TOKEN`): when
  completing it fails in a way that leaves the outcome unknown (the store completed it and
  the answer was lost: a 500, a reset), the object's metadata is read back, and if it holds
  this upload's token the write landed and :meth:`Upload.close` reports success.
- GCS, Azure: the filesystem's own buffered file (a resumable session, a block list), which
  uploads its parts one after the other; :class:`FileUpload` makes sure a discarded one is
  never completed by fsspec closing it later. It carries a write token too, in the object's
  custom metadata (``x-goog-meta-glacier-write``, Azure's ``glacier_write``: Azure metadata
  names are C# identifiers), read back the same way when finalising the upload fails.

No cloud SDK is imported here.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import uuid
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = [
    "PARTS_IN_FLIGHT",
    "WRITE_TOKEN",
    "FileUpload",
    "S3MultipartUpload",
    "Upload",
    "open_upload",
    "token_key",
]

#: Parts an S3 upload sends at once. Memory held is about ``PARTS_IN_FLIGHT + 1`` parts. On
#: moto, with parts of 16 MiB, one in flight measured 0.92x of raw polars' write, two
#: 0.97-1.06x, three to six 0.96-1.16x (docs/storage.md, Performance).
PARTS_IN_FLIGHT = 4
#: S3's smallest part (all but the last).
S3_MIN_PART = 5 * 2**20
#: The user-metadata key of an upload's write token (``x-amz-meta-glacier-write``).
WRITE_TOKEN = "glacier-write"
#: The metadata key of the write token per fsspec protocol, where it differs.
_TOKEN_KEYS = {"abfs": "glacier_write", "az": "glacier_write", "abfss": "glacier_write"}
#: The stores whose buffered files take custom metadata (``fs.open(..., metadata=...)``).
_METADATA_PROTOCOLS = {"gcs", "gs", "abfs", "az", "abfss"}


def token_key(fs: AbstractFileSystem) -> str:
    """The metadata key holding a write token on ``fs``'s store.

    Example:
        >>> from fsspec.implementations.memory import MemoryFileSystem
        >>> token_key(MemoryFileSystem())
        'glacier-write'
    """
    for protocol in _protocols(fs):
        if protocol in _TOKEN_KEYS:
            return _TOKEN_KEYS[protocol]
    return WRITE_TOKEN


class Upload(Protocol):
    """A writable binary file whose data becomes the object only when :meth:`close` succeeds.

    ``failure`` is the store's error that made a ``write()`` fail, if any: a writer such as
    polars may report it as an error of its own, losing its type.
    """

    failure: BaseException | None

    def write(self, data: bytes) -> int: ...

    def flush(self) -> None: ...

    def tell(self) -> int: ...

    def close(self) -> None:
        """Upload what is left and complete the upload: the object appears whole."""

    def discard(self) -> None:
        """Abort the upload; the object keeps its previous version. Idempotent."""


def open_upload(
    fs: AbstractFileSystem, path: str, part_size: int, read_back_timeout: float | None = None
) -> Upload:
    """An :class:`Upload` of ``path`` on ``fs`` cutting the data in parts of ``part_size``.

    ``read_back_timeout`` bounds the read-back of the write token after a failed commit
    (seconds; ``None``: the client's own timeouts and retries): against a dead endpoint the
    read-back fails too, and should not double the time the write takes to fail.
    """
    if callable(getattr(fs, "_call_s3", None)) and "s3" in _protocols(fs):
        return S3MultipartUpload(fs, path, part_size, read_back_timeout=read_back_timeout)
    token = uuid.uuid4().hex
    if _METADATA_PROTOCOLS.isdisjoint(_protocols(fs)):
        return FileUpload(fs.open(path, "wb", block_size=part_size))
    metadata = {token_key(fs): token}
    handle = fs.open(path, "wb", block_size=part_size, metadata=metadata)
    return FileUpload(handle, fs=fs, token=token, read_back_timeout=read_back_timeout)


def _protocols(fs: AbstractFileSystem) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


class S3MultipartUpload:
    """A streamed S3 multipart upload with up to ``in_flight`` parts uploading at once.

    Requests go through ``fs._call_s3`` of the given ``s3fs.S3FileSystem``, so endpoint,
    credentials, retries and ``s3_additional_kwargs`` (encryption, ...) are the
    filesystem's. Parts are at least ``part_size`` bytes (the last one may be smaller);
    ``write()`` blocks only while ``in_flight`` parts are already uploading, and raises the
    error of a part that failed. The upload is completed only by :meth:`close`; on any
    failure there, or on :meth:`discard`, it is aborted. Garbage collection never completes
    it (unlike an fsspec file, whose ``__del__`` closes, and closing completes).
    """

    def __init__(
        self,
        fs: Any,
        path: str,
        part_size: int,
        in_flight: int = PARTS_IN_FLIGHT,
        read_back_timeout: float | None = None,
    ) -> None:
        if part_size < S3_MIN_PART:
            raise ValueError(f"S3 parts must be at least {S3_MIN_PART} bytes, not {part_size}")
        if in_flight < 1:
            raise ValueError(f"in_flight must be at least 1, not {in_flight}")
        self.fs = fs
        self.path = path
        self.bucket, self.key, _ = fs.split_path(path)
        self.part_size = part_size
        self.in_flight = in_flight
        self.upload_id: str | None = None
        self.closed = False
        self.discarded = False
        self._buffer = bytearray()
        self._written = 0
        self._parts: list[concurrent.futures.Future[dict[str, Any]]] = []
        self.failure: BaseException | None = None
        self.token = uuid.uuid4().hex
        self.read_back_timeout = read_back_timeout

    # -- file interface (what polars calls) ------------------------------------------------

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:
        self._check_open()
        self._buffer += data
        self._written += len(data)
        if len(self._buffer) >= self.part_size:
            try:
                self._send_part()
            except BaseException as exc:
                self.failure = exc
                raise
        return len(data)

    def flush(self) -> None:
        """Nothing to do: parts go out when full, the rest at :meth:`close`."""

    def tell(self) -> int:
        return self._written

    def close(self) -> None:
        """Upload the rest, wait for every part and complete the upload (or PUT a small
        object whole). On failure the upload is aborted and the error raised."""
        if self.closed:
            return
        self._check_open()
        try:
            if self.upload_id is None:  # smaller than one part: one PUT, whole or nothing
                self._commit(
                    "put_object",
                    Bucket=self.bucket,
                    Key=self.key,
                    Body=self._buffer,
                    Metadata={WRITE_TOKEN: self.token},
                )
            else:
                if self._buffer:
                    self._send_part()
                parts = [
                    self._part_entry(number, part.result())
                    for number, part in enumerate(self._parts, start=1)
                ]
                self._commit(
                    "complete_multipart_upload",
                    Bucket=self.bucket,
                    Key=self.key,
                    UploadId=self.upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            self.discard()
            raise
        self.closed = True
        self._buffer = bytearray()
        self.fs.invalidate_cache(self.path)

    def discard(self) -> None:
        """Stop the parts still uploading and abort the upload: it can never complete."""
        if self.closed or self.discarded:
            return
        self.discarded = True
        self._buffer = bytearray()
        for part in self._parts:
            # Cancels the request on the event loop, ahead of the abort queued after it.
            # (The abort is what guarantees atomicity: an aborted upload cannot complete.)
            part.cancel()
        if self.upload_id is not None:
            with contextlib.suppress(Exception):
                self._call(
                    "abort_multipart_upload",
                    Bucket=self.bucket,
                    Key=self.key,
                    UploadId=self.upload_id,
                )

    def __enter__(self) -> S3MultipartUpload:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.close()
        else:
            self.discard()

    # -- parts -----------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.discarded:
            raise ValueError(f"upload of {self.path} was discarded")
        if self.closed:
            raise ValueError(f"upload of {self.path} is closed")

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.fs.call_s3(method, **kwargs)
        return result

    def _commit(self, method: str, **kwargs: Any) -> None:
        """The request that makes the object appear; an error after which the object holds
        this upload's token is a commit whose answer was lost: a success."""
        try:
            self._call(method, **kwargs)
        except Exception:
            if not self.landed():
                raise

    def landed(self) -> bool:
        """Whether the object at the key is this upload's (its metadata holds the token).

        One request with botocore's attempts only, not s3fs' retries around them, within
        ``read_back_timeout``: after a write that timed out, a dead endpoint would otherwise
        double the time to fail."""

        async def head() -> dict[str, Any]:
            client = await self.fs.get_s3(self.bucket)
            answer: dict[str, Any] = await client.head_object(Bucket=self.bucket, Key=self.key)
            return answer

        request = asyncio.run_coroutine_threadsafe(head(), self.fs.loop)
        try:
            answer = request.result(timeout=self.read_back_timeout)
        except Exception:
            request.cancel()
            return False  # cannot tell: report the original failure
        return bool(answer.get("Metadata", {}).get(WRITE_TOKEN) == self.token)

    def _send_part(self) -> None:
        """Hand the buffer to the event loop as the next part, once a slot is free."""
        if self.upload_id is None:
            created = self._call(
                "create_multipart_upload",
                Bucket=self.bucket,
                Key=self.key,
                Metadata={WRITE_TOKEN: self.token},
            )
            self.upload_id = created["UploadId"]
        self._wait_for_slot()
        body, self._buffer = self._buffer, bytearray()
        request = self.fs._call_s3(
            "upload_part",
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            PartNumber=len(self._parts) + 1,
            Body=body,
        )
        self._parts.append(asyncio.run_coroutine_threadsafe(request, self.fs.loop))

    def _wait_for_slot(self) -> None:
        """Block until fewer than ``in_flight`` parts upload; raise a failed part's error."""
        while True:
            running = []
            for part in self._parts:
                if not part.done():
                    running.append(part)
                elif part.exception() is not None:
                    part.result()  # raises the part's error
            if len(running) < self.in_flight:
                return
            concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)

    @staticmethod
    def _part_entry(number: int, response: dict[str, Any]) -> dict[str, Any]:
        entry: dict[str, Any] = {"PartNumber": number, "ETag": response["ETag"]}
        if "ChecksumSHA256" in response:  # as s3fs does: required when it was sent
            entry["ChecksumSHA256"] = response["ChecksumSHA256"]
        return entry


class FileUpload:
    """An fsspec buffered file (GCS resumable session, Azure block list, ...) as an
    :class:`Upload`: :meth:`discard` aborts it and marks it closed, because fsspec closes an
    open file when it is garbage collected, and closing completes the upload."""

    def __init__(
        self,
        handle: Any,
        fs: Any = None,
        token: str | None = None,
        read_back_timeout: float | None = None,
    ) -> None:
        self.handle = handle
        self.fs = fs
        self.token = token
        self.read_back_timeout = read_back_timeout
        self.discarded = False
        self.failure: BaseException | None = None

    def write(self, data: bytes) -> int:
        try:
            written: int = self.handle.write(data)
        except BaseException as exc:  # a part that failed to upload
            # adlfs wraps the SDK's error in a bare RuntimeError ("Failed to upload block");
            # the store's own error says what kind of failure it was (a timeout, a denial).
            wrapped = type(exc) is RuntimeError and exc.__cause__ is not None
            self.failure = exc.__cause__ if wrapped else exc
            raise
        return written

    def flush(self) -> None:
        self.handle.flush()

    def tell(self) -> int:
        position: int = self.handle.tell()
        return position

    def close(self) -> None:
        if self.discarded:
            raise ValueError(f"upload of {self.handle.path} was discarded")
        try:
            self.handle.close()
        except Exception:
            if self.landed():  # finalised by the store, the answer lost: a success
                self.handle.closed = True
                return
            self.discard()
            raise
        except BaseException:
            self.discard()
            raise

    def landed(self) -> bool:
        """Whether the object at the path is this upload's: its metadata holds the token."""
        if self.fs is None or self.token is None:
            return False
        try:
            self.fs.invalidate_cache(self.handle.path)
            # fsspec's sync layer takes timeout= for the whole call (FSTimeoutError)
            info = self.fs.info(self.handle.path, timeout=self.read_back_timeout)
            metadata = info.get("metadata") or {}
        except Exception:
            return False  # cannot tell: report the original failure
        return bool(metadata.get(token_key(self.fs)) == self.token)

    def discard(self) -> None:
        if self.discarded:
            return
        self.discarded = True
        with contextlib.suppress(Exception):
            self.handle.discard()  # abort the multipart upload / resumable session
        self.handle.closed = True

"""Which kind of storage failure an exception is, across fsspec and the cloud SDKs.

A missing object is ``FileNotFoundError`` on the local disk, ``NoSuchKey`` from S3,
``ResourceNotFoundError`` from Azure and an HTTP 404 from GCS; a refused connection is just
as varied. The bucket adapter turns each into one :class:`~glacier.errors.StorageError`
subclass that names the URI, and needs only the kind of failure to choose it. The kinds are
found by exception class *name* along the chain of causes, so no cloud SDK is imported here.
:class:`StorageErrorTranslation` is that translation, the part of the Bucket adapter that
names the URI, the missing bucket, or the corrupt file and its repair.

>>> classify(FileNotFoundError("x"))
'missing'
>>> classify(TimeoutError("read"))
'timeout'
>>> classify(ValueError("a user's query failed")) is None
True
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from glacier.adapters.corruption import corrupt_commits, corrupt_parquet_files, looks_corrupt
from glacier.adapters.filesystems import Store, check_endpoint
from glacier.adapters.manifest import TMP_DIR
from glacier.adapters.tables import DELTA_LOG
from glacier.errors import (
    BucketNotFoundError,
    CorruptDataError,
    EndpointUnreachableError,
    GlacierError,
    ObjectNotFoundError,
    StorageError,
    StoragePermissionError,
    StorageTimeoutError,
)
from glacier.formats import Format

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from glacier.adapters.fsspec_reads import Snapshot
    from glacier.resources.bucket import Bucket

__all__ = ["FailureKind", "StorageErrorTranslation", "classify"]

#: ``timeout`` (a connect or read timeout ran out), ``unreachable`` (no answer),
#: ``denied`` (credentials), ``missing`` (no such object or bucket) or ``io`` (any other
#: storage failure).
FailureKind = Literal["timeout", "unreachable", "denied", "missing", "io"]

# Exception class names of the cloud SDKs (matched by name: no SDK is imported here).
_UNREACHABLE = {
    "EndpointConnectionError",
    "ClientConnectorError",
    "ClientConnectionError",
    "ServiceRequestError",
    "ConnectTimeoutError",
    "ServerTimeoutError",
}
_TIMEOUT = {
    "ReadTimeoutError",
    "ConnectTimeoutError",
    "ServerTimeoutError",
    "ServiceRequestTimeoutError",
    "ServiceResponseTimeoutError",
    "FSTimeoutError",
}
_DENIED = {"ClientAuthenticationError", "AccessDenied", "Forbidden"}
_MISSING = {"ResourceNotFoundError", "NoSuchKey", "NoSuchBucket"}
# Base classes of the SDKs' errors: anything else (a failing user query) passes through.
_SDK_ERRORS = {"AzureError", "BotoCoreError", "ClientError", "HttpError"}


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and its explicit causes (``raise ... from``): an error merely raised while
    another was being handled (a user query's, say) is not caused by it."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__


def _status(exc: BaseException) -> Any:
    return getattr(exc, "status_code", None) or getattr(exc, "status", None)


def classify(exc: BaseException) -> FailureKind | None:
    """The kind of a storage error (an OSError or an SDK error, or an error caused by one),
    ``None`` for anything else."""
    chain = [(e, {cls.__name__ for cls in type(e).__mro__}) for e in _causes(exc)]
    storage = _TIMEOUT | _UNREACHABLE | _DENIED | _MISSING | _SDK_ERRORS
    if not any(isinstance(e, OSError) or names & storage for e, names in chain):
        return None
    if any(
        isinstance(e, TimeoutError) or names & _TIMEOUT or "operation timed out" in str(e)
        for e, names in chain
    ):
        return "timeout"
    if any(isinstance(e, ConnectionError) or names & _UNREACHABLE for e, names in chain):
        return "unreachable"
    if any(
        isinstance(e, PermissionError)
        or names & _DENIED
        or _status(e) in (401, 403)
        or str(e).startswith("Forbidden")
        for e, names in chain
    ):
        return "denied"
    if any(isinstance(e, FileNotFoundError) or names & _MISSING for e, names in chain):
        return "missing"
    return "io"


_ANSWERED: set[str] = set()  # configured endpoints that accepted a connection


class StorageErrorTranslation:
    """Store exceptions as GlacierError subclasses naming the URI: the error half of
    :class:`~glacier.adapters.bucket.FsspecBucketAdapter`."""

    if TYPE_CHECKING:  # what the Bucket adapter provides
        fs: AbstractFileSystem
        store: Store
        config: Any
        resource: Bucket
        root: str
        key: str
        format: Format
        is_dataset: bool
        is_table: bool

        @property
        def _prefix(self) -> str: ...
        def get_uri(self) -> str: ...
        def _path(self, key: str) -> str: ...
        def _table_files(self) -> list[str]: ...
        def _snapshot(self, *, check_object: bool = True) -> Snapshot: ...

    @contextlib.contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Translate store exceptions into GlacierError subclasses naming the URI."""
        self._check_endpoint(action)
        for key in (self.key, TMP_DIR):  # the data, and where writes are staged
            self.store.confine(self.config, self._path(key))
        try:
            yield
        except CorruptDataError:
            raise
        except Exception as exc:
            if looks_corrupt(exc):
                raise self._corrupt(action, exc) from exc
            if isinstance(exc, GlacierError):
                raise
            translated = self._translate(exc, action)
            if translated is None:
                raise
            raise translated from exc
        except BaseException as exc:
            # polars panics (a pyo3 PanicException, not an Exception) on some truncated
            # files; say which file, if one is, rather than crash with an assertion.
            if type(exc).__name__ != "PanicException":
                raise
            corrupt = self._corrupt(action, Exception(str(exc)))
            if "a data file of" in str(corrupt):  # no broken file found: not corruption
                raise
            raise corrupt from exc

    def _corrupt(self, action: str, exc: Exception) -> CorruptDataError:
        """The error naming the stored file that could not be parsed, and the repair."""
        uri, cause = self.get_uri(), f"{type(exc).__name__}: {exc}"
        broken: builtins.list[str] = []
        try:
            if self.is_table:
                broken = corrupt_commits(self.fs, self._path(f"{self._prefix}{DELTA_LOG}"))
                if broken:
                    names = ", ".join(self.store.uri(p) for p in broken)
                    return CorruptDataError(
                        f"{action} {uri}: the table's log entry {names} is corrupt "
                        f"(truncated or overwritten; {cause}). Repair: write the dataset "
                        "again with mode='overwrite' (it starts a new history), or, if no "
                        "writer is running, delete that commit file (the table then reads "
                        "as the version before it)."
                    )
                files = [f"{self._prefix}{f}" for f in self._table_files()]
            else:
                files = builtins.list(self._snapshot(check_object=False).files)
            if self.format.typed:
                broken = corrupt_parquet_files(self.fs, [self._path(k) for k in files])
        except Exception:  # diagnosis is best effort: the message still names the dataset
            broken = []
        what = ", ".join(self.store.uri(p) for p in broken) or f"a data file of {uri}"
        return CorruptDataError(
            f"{action} {uri}: {what} is corrupt (truncated or overwritten outside Glacier; "
            f"{cause}). Repair: write the data again with mode='overwrite', or restore the "
            "file from the bucket's versioning."
        )

    def _check_endpoint(self, action: str) -> None:
        # Adapters are built per operation; an endpoint that answered once is not probed
        # again in this process (if it goes away later, the SDKs' retries take over).
        endpoint = self.store.endpoint(self.config)
        if not endpoint or endpoint in _ANSWERED:
            return
        try:
            check_endpoint(endpoint, getattr(self.config, "connect_timeout", 3.0))
        except EndpointUnreachableError as exc:
            raise EndpointUnreachableError(f"{action} {self.get_uri()}: {exc}") from exc
        _ANSWERED.add(endpoint)

    def _translate(self, exc: Exception, action: str) -> StorageError | None:
        kind = classify(exc)
        uri = self.get_uri()
        cause = f"{type(exc).__name__}: {exc}".strip()
        if kind == "timeout":
            endpoint = self.store.endpoint(self.config) or f"the {self.store.protocol} service"
            connect = getattr(self.config, "connect_timeout", None)
            read = getattr(self.config, "read_timeout", None)
            return StorageTimeoutError(
                f"{action} {uri}: {endpoint} timed out (connect_timeout={connect} s, "
                f"read_timeout={read} s, with retries; {cause}). Check that the store is up "
                "and reachable; on a slow link, raise connect_timeout or read_timeout in the "
                "provider config."
            )
        if kind == "unreachable":
            endpoint = self.store.endpoint(self.config) or f"the {self.store.protocol} service"
            return EndpointUnreachableError(
                f"{action} {uri}: {endpoint} did not answer ({cause}). Check the network, or "
                f"that the emulator behind endpoint_url is running."
            )
        if kind == "denied":
            return StoragePermissionError(
                f"{action} {uri}: permission denied ({cause}). Check that the credentials in "
                f"use (profile, role, identity) may {action} this location."
            )
        if kind == "missing":
            try:
                self._raise_if_bucket_missing(action)
            except BucketNotFoundError as missing:
                return missing
            return self._not_found(action, cause)
        if kind == "io":
            return StorageError(f"{action} {uri} failed: {cause}")
        return None

    def _raise_if_bucket_missing(self, action: str) -> None:
        if self.store.bucket_policy(self.config) == "create":
            return  # buckets are directories made on demand: never "missing"
        try:
            present = self.fs.exists(self.root)
        except Exception:
            return  # cannot tell; the caller reports the object as missing
        if not present:
            raise self._bucket_missing(action)

    def _bucket_missing(self, action: str) -> BucketNotFoundError:
        name = self.resource.bucket_name
        return BucketNotFoundError(
            f"{action} {self.get_uri()}: the bucket {name!r} does not exist "
            f"({self.store.uri(self.root)}). Create it (glacier deploy, or the cloud console), "
            f"or fix bucket_name."
        )

    def _not_found(self, action: str, cause: str = "") -> ObjectNotFoundError:
        what = "dataset" if self.is_dataset else "object"
        hint = "" if self.is_dataset else " (a path ending in '/' names a dataset directory)"
        detail = f" ({cause})" if cause else ""
        return ObjectNotFoundError(
            f"{action} {self.get_uri()}: no such {what}{detail}. Write it first, or fix the "
            f"path{hint}."
        )

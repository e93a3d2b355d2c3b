"""Which kind of storage failure an exception is, across fsspec and the cloud SDKs.

A missing object is ``FileNotFoundError`` on the local disk, ``NoSuchKey`` from S3,
``ResourceNotFoundError`` from Azure and an HTTP 404 from GCS; a refused connection is just
as varied. The bucket adapter turns each into one :class:`~glacier.errors.StorageError`
subclass that names the URI, and needs only the kind of failure to choose it. The kinds are
found by exception class *name* along the chain of causes, so no cloud SDK is imported here.

>>> classify(FileNotFoundError("x"))
'missing'
>>> classify(TimeoutError("read"))
'timeout'
>>> classify(ValueError("a user's query failed")) is None
True
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

__all__ = ["FailureKind", "classify"]

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

"""Which failures a task retries, and how long it waits before each retry.

Retrying a deterministic failure only delays the report: a missing column or a wrong setting
fails the same way three times. So by default a task with ``retries=`` retries anything
*except* the errors that cannot go away by waiting (:data:`NEVER_RETRIED`: configuration and
definition errors, schema mismatches, a missing object or bucket, denied access, polars schema
errors), which leaves transient failures — a throttled or unreachable store, a 5xx, a reset
connection, a timeout — retried. ``retry_on=(ExceptionType, ...)`` narrows retries to those
types; naming one of the never-retried types there opts that type back in.

Waits grow geometrically from ``retry_delay`` by ``backoff``, are capped at ``max_delay`` and
get up to ``jitter`` seconds added at random, so that many tasks failing together against one
store do not retry in lockstep.

>>> from glacier.errors import ConfigError
>>> should_retry(ConfigError("bad"), None), should_retry(ConnectionResetError(), None)
(False, True)
>>> should_retry(KeyError("k"), (ConnectionError,))
False
>>> [round(d, 1) for d in delays(retry_delay=1, backoff=2, max_delay=5, jitter=0, retries=4)]
[1.0, 2.0, 4.0, 5.0]
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import polars as pl

from glacier.errors import (
    BucketNotFoundError,
    CacheError,
    ConfigError,
    InfraError,
    InvalidDataError,
    ObjectNotFoundError,
    OutputPathError,
    PipelineDefinitionError,
    ResourceError,
    SchemaMismatchError,
    StoragePermissionError,
    TargetImportError,
    TargetNotFoundError,
    UnknownFormatError,
)

__all__ = ["NEVER_RETRIED", "NEVER_RETRIED_NAMES", "delays", "should_retry"]

#: Failures that fail the same way on every attempt: never retried unless named in
#: ``retry_on``.
NEVER_RETRIED: tuple[type[BaseException], ...] = (
    ConfigError,
    PipelineDefinitionError,
    ResourceError,
    SchemaMismatchError,
    InvalidDataError,
    UnknownFormatError,
    StoragePermissionError,
    ObjectNotFoundError,
    BucketNotFoundError,
    CacheError,
    InfraError,
    TargetNotFoundError,
    TargetImportError,
    OutputPathError,
    # A module that is not installed (a missing extra included) stays missing.
    ImportError,
    PermissionError,
    # Planning errors of a lazy query: the query is wrong, not the store.
    pl.exceptions.ColumnNotFoundError,
    pl.exceptions.SchemaError,
    pl.exceptions.SchemaFieldNotFoundError,
    pl.exceptions.DuplicateError,
)


#: The cloud SDKs' own "cannot succeed" failures, by class name (importing the SDKs here would
#: load them for every pipeline): a profile or region that is not configured, credentials
#: that are missing or refused.
NEVER_RETRIED_NAMES = frozenset(
    {
        "ProfileNotFound",  # botocore: AWS_PROFILE names no profile
        "NoCredentialsError",
        "PartialCredentialsError",
        "NoRegionError",
        "DefaultCredentialsError",  # google-auth
        "ClientAuthenticationError",  # azure-core
    }
)


def _never_retried(exc: BaseException) -> bool:
    if isinstance(exc, NEVER_RETRIED):
        return True
    return any(c.__name__ in NEVER_RETRIED_NAMES for c in type(exc).__mro__)


def should_retry(exc: BaseException, retry_on: tuple[type[BaseException], ...] | None) -> bool:
    """Whether a failed attempt that raised ``exc`` is worth another one.

    >>> class ProfileNotFound(Exception): ...
    >>> should_retry(ProfileNotFound("The config profile (x) could not be found"), None)
    False
    """
    if retry_on is not None:
        if not isinstance(exc, retry_on):
            return False
        # A never-retried type the user named explicitly is their decision to make.
        if any(isinstance(exc, c) and issubclass(c, NEVER_RETRIED) for c in retry_on):
            return True
    return not _never_retried(exc)


def delays(
    *, retry_delay: float, backoff: float, max_delay: float | None, jitter: float, retries: int
) -> Iterator[float]:
    """The seconds to wait before each of ``retries`` retries."""
    delay = retry_delay
    for _ in range(retries):
        wait = delay if max_delay is None else min(delay, max_delay)
        yield wait + (random.uniform(0, jitter) if jitter else 0.0)
        delay *= backoff


def attempts_seconds(
    *,
    timeout: float,
    retries: int,
    retry_delay: float,
    backoff: float,
    max_delay: float | None,
    jitter: float,
) -> float:
    """The longest every attempt of a task and the waits between them may take: ``timeout``
    per attempt, each wait at its full jitter.

    >>> attempts_seconds(timeout=60, retries=2, retry_delay=5, backoff=2, max_delay=None,
    ...                  jitter=1)
    197.0
    """
    waits = delays(
        retry_delay=retry_delay, backoff=backoff, max_delay=max_delay, jitter=0, retries=retries
    )
    return float(timeout) * (retries + 1) + sum(waits) + jitter * retries

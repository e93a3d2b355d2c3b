"""Names the model gives: cloud-safe physical names, and the artifacts store's keys.

A physical name is a pure function of its parts, so any environment can compute the name (and
the reference) of a resource of another environment without reading its outputs.

Example:
    >>> physical_name("dev", "analytics", "clean")
    'dev-analytics-clean'
    >>> artifacts_key("prod")
    'prod:artifacts'
    >>> code_prefix("etl")
    '_glacier/code/etl/'
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["CODE_PREFIX", "artifacts_key", "code_prefix", "physical_name"]

#: Where compute that loads its code from the artifacts store finds it (see
#: :attr:`glacier.infra.builders.CloudBuilder.code_from_artifacts`).
CODE_PREFIX = "_glacier/code/"


def artifacts_key(env: str) -> str:
    """The store key of environment ``env``'s artifacts store."""
    return f"{env}:artifacts"


def code_prefix(pipeline: str) -> str:
    """Where a pipeline's script and code are kept in the artifacts store, for compute that
    loads its code from there."""
    return f"{CODE_PREFIX}{pipeline}/"


def physical_name(
    *parts: str, limit: int = 64, allowed: str = r"A-Za-z0-9_+=,.@-", lower: bool = False
) -> str:
    """A deterministic cloud name from ``parts``: invalid characters become ``-``, and a name
    longer than ``limit`` is cut and suffixed with a hash of the whole, so it stays unique.

    Example:
        >>> physical_name("dev", "analytics", "clean")
        'dev-analytics-clean'
        >>> len(physical_name("x" * 100, limit=64))
        64
    """
    raw = "-".join(p for p in parts if p)
    if lower:
        raw = raw.lower()
    name = re.sub(rf"[^{allowed}]+", "-", raw).strip("-")
    if len(name) <= limit:
        return name
    digest = hashlib.sha1(raw.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-')}-{digest}"

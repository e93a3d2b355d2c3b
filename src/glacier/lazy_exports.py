"""Names a package exports on first use (PEP 562), written once.

``glacier``, ``glacier.infra`` and ``glacier.resources`` keep ``import glacier`` light by
loading a public name from its module the first time it is asked for; each says where its
names live in a table and takes its module ``__getattr__`` from :func:`lazy_exports`. The
value is then kept in the package's namespace, so the next access is a plain lookup.

Example:
    >>> namespace: dict[str, object] = {}
    >>> get = lazy_exports("pkg", {"sqrt": "math"}, namespace)
    >>> get("sqrt")(4.0)
    2.0
    >>> "sqrt" in namespace
    True
    >>> get("cbrt")
    Traceback (most recent call last):
    ...
    AttributeError: module 'pkg' has no attribute 'cbrt'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, where: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``name`` is imported from the module
    ``where[name]`` and kept in ``namespace`` (the package's ``globals()``)."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__

"""Names a package exports on first use (PEP 562), written once.

``glacier``, ``glacier.infra`` and ``glacier.resources`` keep ``import glacier`` light by
loading a public name from its module the first time it is asked for; each says where its
names live in a table and takes its module ``__getattr__`` from :func:`lazy_exports`. The
value is then kept in the package's namespace, so the next access is a plain lookup.

A package whose exported name is also one of its submodules (``glacier.task``, the decorator
and the module; ``glacier.infra.rehearse``, the function and the subpackage) is made a
:class:`ExportingPackage`: importing the submodule does not replace the exported name (the
module stays in ``sys.modules``, where ``from glacier.infra.rehearse import ...`` finds it).

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
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["ExportingPackage", "keep_exports", "lazy_exports"]


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


class ExportingPackage(types.ModuleType):
    """A package module whose exported names (``__lazy_exports__``) a submodule of the same
    name does not replace: the import system binds a submodule on its parent with
    ``setattr``, which this refuses for those names."""

    def __setattr__(self, name: str, value: Any) -> None:
        exports = self.__dict__.get("__lazy_exports__", {})
        if name in exports and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


def keep_exports(package: str, where: Mapping[str, str]) -> None:
    """Make ``package`` an :class:`ExportingPackage` keeping the names ``where`` exports."""
    module = sys.modules[package]
    module.__dict__["__lazy_exports__"] = where
    module.__class__ = ExportingPackage

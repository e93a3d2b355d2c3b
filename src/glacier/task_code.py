"""The code a task runs: its own source and the project code it reaches.

The cache promises that changing a task's code reruns it. A task's code is more than its own
``def``: ``scale(x)`` from the project's ``helpers.py`` multiplies by ``helpers.FACTOR``, and
changing ``FACTOR = 2`` to ``100`` must rerun every cached task that calls it. So a task's
code identity (:func:`code_identity`) covers, transitively within the project:

- the task function's source;
- for each global name its code reads (nested functions and comprehensions included):
  a project function's source (followed in turn), a project class's source, the repr of a
  plain constant (numbers, strings, tuples of them, ...), and the whole source file of a
  project module (``import helpers``) or of the module that defines an imported project
  function, with the project modules *that* module imports, followed the same way.

"The project" is every source file outside the standard library, site-packages and Glacier
itself: installed libraries change with their version, not their files, and are out of scope.
It is computed once per task and process (a run is one process).

>>> def double(x):
...     return x * 2
>>> code_identity(double) == code_identity(double)
True
"""

from __future__ import annotations

import hashlib
import inspect
import sys
import sysconfig
import types
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["code_identity", "in_project"]

_CONSTANTS = (int, float, complex, str, bytes, bool, type(None))
_GLACIER = str(Path(__file__).resolve().parent)


@cache
def _outside_roots() -> tuple[str, ...]:
    roots = {_GLACIER}
    for name in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(name)
        if path:
            roots.add(str(Path(path).resolve()))
    roots.add(str(Path(sys.base_prefix).resolve() / "lib"))
    return tuple(sorted(roots))


@cache
def in_project(filename: str) -> bool:
    """Whether a source file is the project's own (not stdlib, site-packages or Glacier)."""
    if not filename or filename.startswith("<"):
        return False
    path = str(Path(filename).resolve())
    if "site-packages" in path or "dist-packages" in path:
        return False
    return not any(path == root or path.startswith(root + "/") for root in _outside_roots())


def code_identity(fn: Callable[..., Any]) -> str:
    """A SHA-256 over the task function's source and the project code it reaches."""
    h = hashlib.sha256()
    for part in _parts(fn):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def _parts(fn: Callable[..., Any]) -> Iterator[str]:
    seen_fns: set[int] = set()
    seen_files: set[str] = set()
    stack: list[Any] = [fn]
    while stack:
        obj = stack.pop()
        if isinstance(obj, types.ModuleType):
            yield from _module(obj, seen_files, stack)
            continue
        fn_obj = getattr(obj, "__wrapped__", obj) if not isinstance(obj, type) else obj
        if id(fn_obj) in seen_fns:
            continue
        seen_fns.add(id(fn_obj))
        yield _source(fn_obj)
        code = getattr(fn_obj, "__code__", None)
        if code is None:
            continue
        namespace = dict(getattr(fn_obj, "__globals__", {}))
        closure = getattr(fn_obj, "__closure__", None) or ()
        for cname, cell in zip(code.co_freevars, closure, strict=False):
            try:
                namespace[cname] = cell.cell_contents
            except ValueError:  # an empty cell: assigned later, nothing to follow yet
                continue
        home = code.co_filename
        for name in sorted(_names(code)):
            if name not in namespace:
                continue
            value = namespace[name]
            if isinstance(value, _CONSTANTS) or _is_constant_tuple(value):
                yield f"{name}={value!r}"
            elif isinstance(value, types.ModuleType):
                if in_project(getattr(value, "__file__", None) or ""):
                    stack.append(value)
            elif isinstance(value, types.FunctionType | type) or hasattr(value, "__wrapped__"):
                target = getattr(value, "__wrapped__", value)
                file = _file_of(target)
                if file is None or not in_project(file):
                    continue
                if file == home:
                    stack.append(target)  # same module: follow the function itself
                else:
                    module = sys.modules.get(getattr(target, "__module__", ""))
                    stack.append(module if module is not None else target)


def _module(module: types.ModuleType, seen_files: set[str], stack: list[Any]) -> Iterator[str]:
    file = getattr(module, "__file__", None)
    if not file or file in seen_files:
        return
    seen_files.add(file)
    try:
        yield Path(file).read_text(encoding="utf-8", errors="replace")
    except OSError:
        yield repr(sorted(vars(module)))
    for value in list(vars(module).values()):
        if isinstance(value, types.ModuleType):
            other = getattr(value, "__file__", None)
        elif isinstance(value, types.FunctionType | type):
            other = _file_of(value)
            value = sys.modules.get(getattr(value, "__module__", ""))
        else:
            continue
        if other and other != file and in_project(other) and value is not None:
            stack.append(value)


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _is_constant_tuple(value: Any) -> bool:
    return isinstance(value, tuple | frozenset) and all(
        isinstance(v, _CONSTANTS) or _is_constant_tuple(v) for v in value
    )


def _file_of(obj: Any) -> str | None:
    code = getattr(obj, "__code__", None)
    if code is not None:
        return str(code.co_filename)
    module = sys.modules.get(getattr(obj, "__module__", ""))
    return getattr(module, "__file__", None)


def _source(obj: Any) -> str:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        code = getattr(obj, "__code__", None)
        return repr((code.co_code, code.co_consts)) if code else repr(obj)

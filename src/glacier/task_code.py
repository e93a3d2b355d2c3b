"""The code a task runs: its own source, the project code it reaches and the values it reads.

The cache promises that changing a task's code reruns it, and resume reuses a task only if
its code is unchanged (:mod:`glacier.cache` holds the one notion of "the same task"). A
task's code is more than its own ``def``: ``scale(x)`` from the project's ``helpers.py``
multiplies by ``helpers.FACTOR``, and changing ``FACTOR = 2`` to ``100`` must rerun every
cached task that calls it. So a task's code identity (:func:`code_identity`) covers,
transitively within the project:

- the task function's source;
- for each global name its code reads (nested functions and comprehensions included):
  a project function's source (followed in turn), a project class's source, the whole
  source file of a project module (``import helpers``) or of the module that defines an
  imported project function, with the project modules *that* module imports, followed the
  same way;
- the *current value* of every other module-level or closure name it reads, of any shape:
  a stable hash of its canonical form (lists and tuples in order, dicts by their items,
  sets and frozensets order-independently, dataclasses and frozen pydantic models by their
  fields, enums by value; anything else by its pickle), and for an instance of a project
  class, that class's source too. A name the code only writes to
  (``CALLS.append(1)``, ``global N; N += 1``) is the task's output, not its input, and is
  left out. Glacier's own objects (an environment, a dataset) are configuration the run
  already knows: they count by their type (and their ``repr`` when they define one).

A value that cannot be hashed (a lock, a connection: nothing to pickle) makes the identity
*unknown*: :attr:`CodeIdentity.digest` is ``None`` and :attr:`CodeIdentity.unhashable` names
the value, so the task runs uncached rather than be reused on a guess.

"The project" is every source file outside the standard library, site-packages and Glacier
itself: installed libraries change with their version, not their files, and are out of scope.

Sources are read once per function and process, under one lock: ``inspect.getsource`` of a
class parses its module with :mod:`ast`, which is not thread-safe on CPython 3.11
(gh-106905). Executors call :func:`prepare` on their own thread before tasks start, so
nothing here parses source on a worker thread; values are hashed for each key (they may
change between runs of one process).

>>> def double(x):
...     return x * 2
>>> code_identity(double) == code_identity(double)
True
>>> code_identity(double).digest is not None
True
"""

from __future__ import annotations

import contextlib
import dataclasses
import dis
import enum
import hashlib
import inspect
import pickle
import sys
import sysconfig
import threading
import types
import weakref
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["CodeIdentity", "code_identity", "in_project", "prepare"]

_CONSTANTS = (int, float, complex, str, bytes, bool, type(None))
_GLACIER = str(Path(__file__).resolve().parent)
# Methods whose call on a name is a write, not a read: ``CALLS.append(1)`` in a task records
# something; it does not make the task depend on what was recorded before.
_MUTATORS = frozenset(
    {
        "append",
        "appendleft",
        "add",
        "clear",
        "discard",
        "extend",
        "extendleft",
        "insert",
        "pop",
        "popitem",
        "put",
        "put_nowait",
        "remove",
        "setdefault",
        "update",
        "write",
        "writelines",
    }
)
_LOADS = frozenset({"LOAD_GLOBAL", "LOAD_NAME", "LOAD_DEREF", "LOAD_CLASSDEREF"})
_STORES = frozenset({"STORE_GLOBAL", "STORE_DEREF", "DELETE_GLOBAL", "DELETE_DEREF"})
# Deep enough for any configuration value; deeper (or cyclic) structures hash by pickle.
_MAX_DEPTH = 40


class CodeIdentity(NamedTuple):
    """A task function's code identity, as of now.

    ``digest`` is a SHA-256 over the code and the values it reads, or ``None`` when a value
    could not be hashed; ``unhashable`` then names each such value and why.
    """

    digest: str | None
    unhashable: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class _Read:
    """A module-level or closure name the code reads: where to find its current value."""

    name: str
    where: Any  # a module's globals (dict) or a closure cell

    def value(self) -> Any:
        """The value now (``KeyError``/``ValueError`` when the name is not bound now)."""
        if isinstance(self.where, dict):
            return self.where[self.name]
        return self.where.cell_contents


@dataclasses.dataclass(frozen=True, slots=True)
class _Static:
    """What does not change while a process runs: the sources, and which values to read."""

    digest: str
    reads: tuple[_Read, ...]


class _UnhashableError(Exception):
    """A value read by a task has no stable hash."""


_LOCK = threading.RLock()
_STATIC: weakref.WeakKeyDictionary[Any, _Static] = weakref.WeakKeyDictionary()
_SOURCES: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


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


def prepare(fn: Callable[..., Any]) -> str:
    """Read the sources ``fn``'s identity needs, now, on this thread (once per process), and
    return their digest.

    Executors call it before tasks start so that no worker thread parses source (see the
    module docstring); :func:`code_identity` calls it too, under the same lock. An executor
    whose tasks run in other processes passes the digest along (``sources=``).
    """
    return _static(fn).digest


def code_identity(fn: Callable[..., Any], *, sources: str | None = None) -> CodeIdentity:
    """The identity of the task function's code and of the values it reads, as of now.

    ``sources`` is :func:`prepare`'s digest of ``fn`` made in another process (a Dask
    client's): given, the sources are not read again here, only the names the code reads
    (from its bytecode, without :mod:`ast`).
    """
    static = _static(fn, sources)
    if not static.reads:
        return CodeIdentity(static.digest)
    h = hashlib.sha256(static.digest.encode())
    unhashable: list[str] = []
    for read in static.reads:
        h.update(b"\0" + read.name.encode() + b"=")
        try:
            value = read.value()
        except (KeyError, ValueError):  # deleted, or a closure cell not yet assigned
            h.update(b"<unbound>")
            continue
        try:
            h.update(_value_digest(value, 0))
        except _UnhashableError as exc:
            unhashable.append(f"{read.name} ({type(value).__name__}: {exc})")
    if unhashable:
        return CodeIdentity(None, tuple(unhashable))
    return CodeIdentity(h.hexdigest())


def _static(fn: Callable[..., Any], sources: str | None = None) -> _Static:
    try:
        found = _STATIC.get(fn)
    except TypeError:  # not weakly referenceable: computed each time
        found = None
    if found is not None:
        return found
    with _LOCK:
        try:
            found = _STATIC.get(fn)
        except TypeError:
            found = None
        if found is not None:
            return found
        h = hashlib.sha256()
        reads: list[_Read] = []
        for part in _parts(fn, reads, with_sources=sources is None):
            h.update(part.encode())
            h.update(b"\0")
        static = _Static(sources or h.hexdigest(), tuple(reads))
        with contextlib.suppress(TypeError):
            _STATIC[fn] = static
        return static


def _parts(fn: Callable[..., Any], reads: list[_Read], *, with_sources: bool) -> Iterator[str]:
    seen_fns: set[int] = set()
    seen_files: set[str] = set()
    seen_reads: set[tuple[str, int]] = set()
    stack: list[Any] = [fn]
    while stack:
        obj = stack.pop()
        if isinstance(obj, types.ModuleType):
            yield from _module(obj, seen_files, stack, with_sources=with_sources)
            continue
        fn_obj = getattr(obj, "__wrapped__", obj) if not isinstance(obj, type) else obj
        if id(fn_obj) in seen_fns:
            continue
        seen_fns.add(id(fn_obj))
        if with_sources:
            yield _source(fn_obj)
        code = getattr(fn_obj, "__code__", None)
        if code is None:
            continue
        module_globals = getattr(fn_obj, "__globals__", {})
        where: dict[str, Any] = dict.fromkeys(module_globals, module_globals)
        closure = getattr(fn_obj, "__closure__", None) or ()
        for cname, cell in zip(code.co_freevars, closure, strict=False):
            where[cname] = cell
        home = code.co_filename
        for name in sorted(_read_names(code)):
            place = where.get(name)
            if place is None:
                continue
            read = _Read(name, place)
            try:
                value = read.value()
            except (KeyError, ValueError):  # an empty cell: assigned later
                value = None
            if isinstance(value, types.ModuleType):
                if in_project(getattr(value, "__file__", None) or ""):
                    stack.append(value)
            elif isinstance(value, types.FunctionType | type) or _is_wrapper(value):
                target = getattr(value, "__wrapped__", value)
                file = _file_of(target)
                if file is None or not in_project(file):
                    continue
                if file == home:
                    stack.append(target)  # same module: follow the function itself
                else:
                    module = sys.modules.get(getattr(target, "__module__", ""))
                    stack.append(module if module is not None else target)
            elif (name, id(place)) not in seen_reads:
                seen_reads.add((name, id(place)))
                reads.append(read)
                kind = type(value)  # an instance of a project class: its methods are code too
                if in_project(_file_of(kind) or ""):
                    stack.append(kind)


def _is_wrapper(value: Any) -> bool:
    try:
        return hasattr(value, "__wrapped__")
    except Exception:  # a proxy whose attribute access fails is no wrapper
        return False


def _module(
    module: types.ModuleType, seen_files: set[str], stack: list[Any], *, with_sources: bool
) -> Iterator[str]:
    file = getattr(module, "__file__", None)
    if not file or file in seen_files:
        return
    seen_files.add(file)
    if with_sources:
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


def _read_names(code: types.CodeType) -> set[str]:
    """The global and closure names ``code`` (nested code included) reads, leaving out names
    it only writes: assigned (``global N; N += 1``) or only mutated (``CALLS.append(1)``)."""
    reads: set[str] = set()
    writes: set[str] = set()
    _scan(code, reads, writes)
    return reads - writes


def _scan(code: types.CodeType, reads: set[str], writes: set[str]) -> None:
    instructions = list(dis.get_instructions(code))
    for k, ins in enumerate(instructions):
        if ins.opname in _STORES:
            writes.add(str(ins.argval))
        elif ins.opname in _LOADS:
            after = instructions[k + 1] if k + 1 < len(instructions) else None
            if (
                after is not None
                and after.opname in ("LOAD_METHOD", "LOAD_ATTR")
                and after.argval in _MUTATORS
            ):
                continue
            reads.add(str(ins.argval))
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _scan(const, reads, writes)


def _value_digest(value: Any, depth: int) -> bytes:
    h = hashlib.sha256()
    _feed(value, h, depth)
    return h.digest()


def _feed(value: Any, h: Any, depth: int) -> None:
    """Feed ``value``'s canonical form to ``h`` (see the module docstring)."""
    kind = type(value)
    if kind in _CONSTANTS:
        h.update(f"{kind.__name__}:{value!r}\0".encode())
        return
    name = f"{kind.__module__}.{kind.__qualname__}"
    if depth > _MAX_DEPTH:
        _feed_pickle(value, h)
    elif isinstance(value, list | tuple):
        h.update(f"{name}[{len(value)}\0".encode())
        for item in value:
            _feed(item, h, depth + 1)
    elif isinstance(value, set | frozenset):
        h.update(f"{name}{{{len(value)}\0".encode())
        for digest in sorted(_value_digest(item, depth + 1) for item in value):
            h.update(digest)
    elif isinstance(value, dict):
        h.update(f"{name}{{{len(value)}:\0".encode())
        for key, item in value.items():
            _feed(key, h, depth + 1)
            _feed(item, h, depth + 1)
    elif isinstance(value, enum.Enum):
        h.update(f"{name}.{value.name}\0".encode())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        h.update(f"{name}(\0".encode())
        for f in dataclasses.fields(value):
            h.update(f"{f.name}=".encode())
            _feed(getattr(value, f.name, None), h, depth + 1)
    elif hasattr(kind, "model_fields") and callable(getattr(value, "model_dump", None)):
        h.update(f"{name}(\0".encode())  # a pydantic model: by its fields
        _feed(value.model_dump(), h, depth + 1)
    elif kind.__module__ == "glacier" or kind.__module__.startswith("glacier."):
        h.update(f"{name}\0".encode())
        if kind.__repr__ is not object.__repr__:  # type: ignore[comparison-overlap]
            h.update(repr(value).encode())
    else:
        _feed_pickle(value, h)


def _feed_pickle(value: Any, h: Any) -> None:
    try:
        data = pickle.dumps(value, protocol=4)
    except Exception as exc:
        raise _UnhashableError(f"cannot be pickled: {exc}") from exc
    h.update(b"pickle:")
    h.update(data)


def _file_of(obj: Any) -> str | None:
    code = getattr(obj, "__code__", None)
    if code is not None:
        return str(code.co_filename)
    module = sys.modules.get(getattr(obj, "__module__", ""))
    return getattr(module, "__file__", None)


def _source(obj: Any) -> str:
    """``obj``'s source (its bytecode when there is none); call under ``_LOCK``."""
    try:
        found = _SOURCES.get(obj)
    except TypeError:
        found = None
    if found is not None:
        return found
    try:
        source = inspect.getsource(obj)
    except (OSError, TypeError):
        code = getattr(obj, "__code__", None)
        source = repr((code.co_code, code.co_consts)) if code else repr(obj)
    with contextlib.suppress(TypeError):
        _SOURCES[obj] = source
    return source

"""Content-addressed task cache, and what "the same task" is for the cache and for resume.

A task execution's identity (:func:`task_identity`) has three parts, each a hash:

- **code**: the task's name, its ``cache_version`` option (change it to force a rerun) and
  its code identity (:mod:`glacier.task_code`): the function's source and, transitively, the
  project code it reaches (the source of project functions and classes it calls, the whole
  source of project modules it uses; not the standard library, site-packages or Glacier),
  and the current values of the module-level and closure names it reads, of any shape;
- **params**: its params (run overrides included), by repr (frames by content, buckets by
  URI and data version);
- **inputs**: the version of each input, in parameter order.

An input's version is its producer's identity when the producer is cached (so a chain of
cached tasks never hashes data), the stored data's version (its metadata) for a stored
dataset, and a hash of the value otherwise. The cache stores outputs under the identity; a
resumed run (``--resume``) reuses a task's stored outputs only when its identity is the one
recorded. An identity that cannot be known (a value the code reads cannot be hashed) is
``None``: the task is neither cached nor reused, and the run record says why.

Frames are stored as parquet and come back as lazy scans; other values are pickled.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier.errors import CacheError

if TYPE_CHECKING:
    from glacier.task import Task


class CacheEntryWarning(UserWarning):
    """A cache entry could not be read; it was removed and its task recomputed."""


class TaskCache:
    """Stores task outputs under ``directory/<task>/<key>/``.

    Example:
        >>> import tempfile
        >>> cache = TaskCache(tempfile.mkdtemp())
        >>> cache.load("extract", "0" * 64) is None
        True
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def key(
        self,
        task: Task,
        input_fingerprints: Sequence[str],
        params: Mapping[str, Any],
        *,
        version: str | None = None,
    ) -> str:
        """The content address of one task execution: its :func:`task_identity`.

        Raises:
            CacheError: A value the task's code reads cannot be hashed.
        """
        code = task.code_identity()
        if code.digest is None:
            raise CacheError(
                f"Task {task.name!r} cannot be cached: {'; '.join(code.unhashable)} cannot "
                "be hashed. Make the value picklable, pass it as a parameter, or set "
                "cache=False."
            )
        return task_identity(task.name, code.digest, version, input_fingerprints, params)

    def load(self, task_name: str, key: str) -> tuple[Any, ...] | None:
        """The cached outputs, or ``None`` on a miss.

        An entry that cannot be read (a truncated file: a full disk, a copy cut short) is a
        miss too: it is removed with a :class:`CacheEntryWarning`, and the task recomputes.
        """
        entry = self.directory / task_name / key
        if not (entry / "DONE").exists():
            return None
        values: list[Any] = []
        try:
            for item in sorted(entry.iterdir(), key=lambda p: p.name):
                if item.name == "DONE":
                    continue
                if item.suffix == ".parquet":
                    pl.read_parquet_schema(item)  # its footer: a truncated file fails here
                    values.append(pl.scan_parquet(item))
                elif item.suffix == ".df":
                    values.append(pl.read_parquet(item))
                else:
                    with item.open("rb") as f:
                        values.append(pickle.load(f))
        except Exception as exc:
            warnings.warn(
                f"The cached outputs of task {task_name!r} in {entry} cannot be read "
                f"({type(exc).__name__}: {exc}); the entry was removed and the task runs "
                "again.",
                CacheEntryWarning,
                stacklevel=2,
            )
            shutil.rmtree(entry, ignore_errors=True)
            return None
        return tuple(values)

    def store(self, task_name: str, key: str, values: Sequence[Any]) -> tuple[Any, ...]:
        """Persist outputs atomically; returns what downstream tasks should receive."""
        entry = self.directory / task_name / key
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key[:12]}-", dir=entry.parent))
        try:
            for pos, value in enumerate(values):
                stem = tmp / f"{pos:04d}"
                if isinstance(value, pl.LazyFrame):
                    value.sink_parquet(stem.with_suffix(".parquet"))
                elif isinstance(value, pl.DataFrame):
                    value.write_parquet(stem.with_suffix(".df"))
                else:
                    try:
                        with stem.with_suffix(".pkl").open("wb") as f:
                            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
                    except Exception as exc:
                        raise CacheError(
                            f"Task {task_name!r} is cached but its output #{pos} "
                            f"({type(value).__name__}) cannot be pickled: {exc}. Return a "
                            "polars frame or a picklable value, or set cache=False."
                        ) from exc
            (tmp / "DONE").touch()
            if entry.exists():
                shutil.rmtree(entry, ignore_errors=True)
            os.replace(tmp, entry)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        loaded = self.load(task_name, key)
        assert loaded is not None
        return loaded

    def discard(self, task_name: str, key: str) -> None:
        """Forget one entry (its outputs could not be written: it is no result to reuse)."""
        shutil.rmtree(self.directory / task_name / key, ignore_errors=True)

    def clear(self, task_name: str | None = None) -> None:
        """Forget cached outputs of one task, or of all tasks."""
        target = self.directory / task_name if task_name else self.directory
        shutil.rmtree(target, ignore_errors=True)


def task_identity(
    name: str,
    code: str,
    version: str | None,
    input_versions: Sequence[str],
    params: Mapping[str, Any],
) -> str:
    """The identity of one task execution, ``<code>-<params>-<inputs>`` (see the module
    docstring); each part is 20 hex digits of its own SHA-256, so a record says which part
    changed.

    >>> a = task_identity("make", "c0de", None, ["x=stored:v1"], {"k": 3})
    >>> b = task_identity("make", "c0de", None, ["x=stored:v1"], {"k": 5})
    >>> [p == q for p, q in zip(a.split("-"), b.split("-"))]
    [True, False, True]
    """
    parts = (
        "\0".join((name, code, repr(version))),
        _stable_repr(params),
        "\0".join(input_versions),
    )
    return "-".join(hashlib.sha256(p.encode()).hexdigest()[:20] for p in parts)


def identity_changes(before: str, now: str) -> list[str]:
    """Which parts of a task's identity differ: ``code``, ``params``, ``inputs``.

    >>> identity_changes("a-b-c", "a-x-c"), identity_changes("a-b-c", "a-b-c")
    (['params'], [])
    """
    old, new = before.split("-"), now.split("-")
    if len(old) != 3 or len(new) != 3:
        return ["identity"]
    return [part for part, p, q in zip(_PARTS, old, new, strict=True) if p != q]


_PARTS = ("code", "params", "inputs")


def fingerprint(value: Any) -> str:
    """A content hash of a task input that has no cheaper identity."""
    h = hashlib.sha256()
    if isinstance(value, pl.LazyFrame):
        value = value.collect()
    if isinstance(value, pl.DataFrame):
        h.update(repr(value.schema).encode())
        h.update(str(value.height).encode())
        if value.height:
            h.update(value.hash_rows(seed=0).to_numpy().tobytes())
        return "df:" + h.hexdigest()
    try:
        h.update(pickle.dumps(value, protocol=4))
    except Exception:
        h.update(repr(value).encode())
    return "obj:" + h.hexdigest()


def _stable_repr(params: Mapping[str, Any]) -> str:
    return repr(sorted((k, _token(v)) for k, v in params.items()))


def _token(value: Any) -> str:
    """What identifies a param's value in a key: frames by content, buckets by location and
    data version (a task called with a frame or a bucket, as data-flow calls are), anything
    else by its repr."""
    if isinstance(value, pl.DataFrame | pl.LazyFrame):
        return fingerprint(value)
    stored = getattr(value, "fingerprint", None)
    where = getattr(value, "get_uri", None)
    if callable(stored) and callable(where):
        return f"bucket:{where()}:{stored()}"
    return repr(value)

"""Content-addressed task cache: same code, same inputs, same params -> same outputs.

A key is the SHA-256 of:

- the task's name;
- its code identity (:mod:`glacier.task_code`): the function's source, and transitively the
  project code it reaches: the source of project functions and classes it calls, the
  values of plain constants it reads, and the whole source of project modules it uses (not
  the standard library, site-packages or Glacier);
- its ``cache_version`` option (change it to force a rerun);
- the fingerprints of its inputs, in parameter order;
- its params (run overrides included), by repr (frames by content, buckets by URI and
  data version).

An input's fingerprint is its producer's key when the producer is cached (so a chain of
cached tasks never hashes data), the stored data's metadata for stored sources, and a hash of
the value otherwise. Frames are stored as parquet and come back as lazy scans; other values
are pickled.
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
        """The content address of one task execution (see the module docstring)."""
        h = hashlib.sha256()
        h.update(task.name.encode())
        h.update(b"\0")
        h.update(task.code_identity().encode())
        h.update(b"\0")
        h.update(repr(version).encode())
        for fp in input_fingerprints:
            h.update(b"\0")
            h.update(fp.encode())
        h.update(b"\0")
        h.update(_stable_repr(params).encode())
        return h.hexdigest()

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

"""Test helpers and pytest fixtures: swap stores and adapters in a few lines.

Installed as a pytest plugin (entry point ``glacier``), so these fixtures need no import:

- ``glacier_env``: a local :class:`~glacier.Environment` rooted in ``tmp_path``;
- ``glacier_memory_env``: the same with its filesystem overridden by an isolated in-memory
  one — nothing touches the disk;
- ``glacier_recorder``: a :class:`BucketRecorder` on ``glacier_memory_env`` that records every
  bucket operation.

Example::

    def test_clean_drops_refunds(glacier_memory_env):
        env = glacier_memory_env
        raw = env.provider.bucket("raw", path="sales.parquet")
        raw.write(pl.DataFrame({"amount": [5, -1]}))
        result = build_pipeline(env).run(env=env)
        assert result["clean"].collect()["amount"].to_list() == [5]

The same overrides work without the fixtures: see :func:`use_memory_filesystem` and
:func:`record_bucket_io`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

# pytest loads this module in every session of the environment, Glacier's tests or not (the
# `pytest11` entry point): at import time it needs only pytest and the standard library.
# Glacier, polars, fsspec and dependency-injector load when a fixture or helper is used.
try:
    import pytest
except ModuleNotFoundError:  # `glacier.errors` is light: a sentence, not a traceback
    from glacier.errors import MissingExtraError

    raise MissingExtraError(
        "glacier.testing needs pytest, which is not installed: "
        "pip install 'glacier-pipelines[testing]'"
    ) from None

if TYPE_CHECKING:
    from fsspec.implementations.memory import MemoryFileSystem

    from glacier.environment import Environment

_counter = itertools.count()


def memory_filesystem() -> MemoryFileSystem:
    """A fresh in-memory filesystem that shares nothing with other instances.

    fsspec's ``MemoryFileSystem`` keeps one store per class; a subclass per call gives each
    test its own.
    """
    from fsspec.implementations.memory import MemoryFileSystem

    cls = type(
        f"IsolatedMemoryFileSystem{next(_counter)}",
        (MemoryFileSystem,),
        {"store": {}, "pseudo_dirs": [""], "cachable": False, "protocol": ("memory",)},
    )
    fs: MemoryFileSystem = cls()
    return fs


def local_environment(path: str | Path, name: str = "test", **kwargs: Any) -> Environment:
    """A local environment whose data and state live under ``path``."""
    from glacier.environment import Environment

    root = Path(path)
    return Environment.local(
        base_path=root / "data", name=name, state_dir=root / ".glacier", **kwargs
    )


@contextmanager
def use_memory_filesystem(env: Environment) -> Iterator[MemoryFileSystem]:
    """Within the block, every bucket of ``env`` reads and writes an in-memory store."""
    from dependency_injector import providers

    fs = memory_filesystem()
    with env.container.filesystem.override(providers.Object(fs)):
        yield fs


@dataclass
class BucketRecorder:
    """What bucket operations ran: ``calls`` holds ``(operation, uri)`` pairs in order."""

    calls: list[tuple[str, str]] = field(default_factory=list)

    def operations(self, uri_suffix: str = "") -> list[str]:
        """The operations on URIs ending with ``uri_suffix``."""
        return [op for op, uri in self.calls if uri.endswith(uri_suffix)]


class RecordingBucketAdapter:
    """Wraps the real bucket adapter and records each operation before delegating."""

    _RECORDED = frozenset({"scan", "read", "write", "exists", "list", "delete", "fingerprint"})

    def __init__(self, resource: Any, inner: Any, recorder: BucketRecorder) -> None:
        self._inner = inner
        self._recorder = recorder
        self._resource = resource

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in self._RECORDED:
            return attr

        def recorded(*args: Any, **kwargs: Any) -> Any:
            self._recorder.calls.append((name, self._inner.get_uri()))
            return attr(*args, **kwargs)

        return recorded


@contextmanager
def record_bucket_io(env: Environment) -> Iterator[BucketRecorder]:
    """Within the block, record every bucket operation of ``env`` (and still perform it)."""
    from dependency_injector import providers

    from glacier.adapters.bucket import FsspecBucketAdapter

    recorder = BucketRecorder()
    cloud = env.container.cloud

    def build(resource: Any) -> RecordingBucketAdapter:
        inner = FsspecBucketAdapter(
            resource=resource, filesystem=cloud.filesystem(), config=cloud.config()
        )
        return RecordingBucketAdapter(resource, inner, recorder)

    with cloud.bucket_adapter.override(providers.Factory(build)):
        yield recorder


# -- pytest plugin -------------------------------------------------------------------------


@pytest.fixture
def glacier_env(tmp_path: Path) -> Environment:
    """A local environment rooted in ``tmp_path``."""
    return local_environment(tmp_path)


@pytest.fixture
def glacier_memory_env(tmp_path: Path) -> Iterator[Environment]:
    """A local environment whose buckets live in an isolated in-memory filesystem."""
    env = local_environment(tmp_path)
    with use_memory_filesystem(env):
        yield env


@pytest.fixture
def glacier_recorder(glacier_memory_env: Environment) -> Iterator[BucketRecorder]:
    """Records the bucket operations of ``glacier_memory_env``."""
    with record_bucket_io(glacier_memory_env) as recorder:
        yield recorder

"""Local scratch directories for data on its way to a store polars cannot write to.

polars writes natively to local files, S3, GCS and Azure; for fsspec's memory store, the GCS
emulator and JSON (which has no streaming writer) the bucket adapter writes to a local spool
first and uploads it. A process killed mid-write leaves its spool behind, and on a reused
machine (a warm Lambda's ``/tmp``) those would pile up, so every new spool first removes the
spools of processes that no longer run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["SPOOL_PREFIX", "remove_until_quiet", "spool"]

#: Spool directories are ``<tmp>/glacier-spool-<pid>-<random>``.
SPOOL_PREFIX = "glacier-spool-"


def remove_until_quiet(remove_all: Callable[[], bool]) -> None:
    """Call ``remove_all`` (True if it found something to remove) until it finds nothing
    three times in a row: a failed partitioned sink returns its error while polars' writers
    may still create the files of other partitions for some milliseconds."""
    quiet = 0
    for _ in range(40):
        quiet = 0 if remove_all() else quiet + 1
        if quiet == 3:
            return
        time.sleep(0.05)


@contextlib.contextmanager
def spool() -> Iterator[str]:
    """A local scratch directory, removed afterwards (also when the write fails)."""
    _remove_orphaned_spools()
    path = tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{os.getpid()}-")
    try:
        yield path
    except BaseException:

        def remove_all() -> bool:
            found = os.path.exists(path)
            shutil.rmtree(path, ignore_errors=True)
            return found

        remove_until_quiet(remove_all)
        raise
    shutil.rmtree(path, ignore_errors=True)


def _remove_orphaned_spools() -> None:
    """Remove spool directories of processes that no longer run (killed mid-write)."""
    if os.name != "posix":  # os.kill(pid, 0) probes on POSIX; on Windows it terminates
        return
    root = Path(tempfile.gettempdir())
    for entry in root.glob(f"{SPOOL_PREFIX}*-*"):
        owner = entry.name[len(SPOOL_PREFIX) :].split("-", 1)[0]
        if not owner.isdigit():
            continue
        try:
            os.kill(int(owner), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            pass  # alive, owned by someone else

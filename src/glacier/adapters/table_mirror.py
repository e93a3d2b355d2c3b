"""Delta tables through fsspec: the log on every store, whole tables where delta-rs can't go.

On every store, the table's existence, fingerprint and history are read from its
``_delta_log/`` through fsspec (delta-rs' own calls for these hold the GIL while they wait on
the network). And on stores delta-rs cannot reach — fsspec's memory store and the GCS
emulator — every operation goes through here.

delta-rs talks to object stores through its own clients, and two stores Glacier supports are
out of its reach: the in-memory filesystem of tests (only fsspec knows it) and
gcp-storage-emulator, whose server does not implement the XML listing API delta-rs' GCS
client uses (``GET /<bucket>?list-type=2`` answers "Method not implemented"). On those, a
table is still a real Delta table, laid out exactly as delta-rs lays it out, but each
operation runs on a local *mirror*:

- reads copy only ``_delta_log/`` (small), let delta-rs resolve the version's files, schema
  and partitions from it, and fetch the data files through fsspec (partitions a predicate
  rules out are never fetched);
- writes copy the log and, for merges and partition overwrites, the current data files; run
  delta-rs on the copy; then upload the new data files and, last, the new commit. The commit
  is uploaded only if no other writer created that version meanwhile (fsspec's
  ``mode="create"``), else :class:`~glacier.errors.ConcurrentWriteError`. The memory store
  honours that; the GCS emulator ignores its precondition, so there a check comes first and
  two writers racing within that check-then-put can still collide: the fallback is for tests
  and single writers (see ``docs/storage.md``);
- vacuum is refused: file ages of a mirror are those of the copy, not of the store.
"""

from __future__ import annotations

import contextlib
import json
import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glacier.adapters.corruption import log_damage
from glacier.adapters.spool import spool
from glacier.adapters.tables import CREATION_MARK, DELTA_LOG, TableIO
from glacier.errors import ConcurrentWriteError, CorruptDataError, TableCreatedConcurrentlyError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = ["TableMirror"]


class TableMirror:
    """Runs :class:`~glacier.adapters.tables.TableIO` operations on a local copy of the
    table at the fsspec path ``root``, and publishes what a write adds.

    Args:
        fs: The store's fsspec filesystem.
        root: The fsspec path of the table directory.
        name: The table's Glacier URI, used in messages.
    """

    def __init__(self, fs: AbstractFileSystem, root: str, name: str) -> None:
        self.fs = fs
        self.root = root.rstrip("/")
        self.name = name

    def exists(self) -> bool:
        """Whether the table has a commit."""
        return self.latest_commit() is not None

    def latest_commit(self) -> dict[str, Any] | None:
        """The fsspec info of the newest commit file, ``None`` without a table."""
        try:
            entries = self.fs.ls(f"{self.root}/{DELTA_LOG}", detail=True)
        except (FileNotFoundError, NotADirectoryError):
            return None
        commits = [e for e in entries if _is_commit(str(e["name"]))]
        return max(commits, key=lambda e: str(e["name"])) if commits else None

    def mark_creation(self) -> None:
        """Mark the table's creation as begun (:data:`~glacier.adapters.tables.CREATION_MARK`),
        before the first commit writes any data file."""
        log = f"{self.root}/{DELTA_LOG}"
        self.fs.makedirs(log, exist_ok=True)
        self.fs.pipe_file(f"{log}/{CREATION_MARK}", b"")

    def creation_begun(self) -> bool:
        """Whether a creation was begun and nothing committed yet: the data files here are a
        killed or failed creator's, not another tool's."""
        names = [posixpath.basename(str(e["name"])) for e in self._log_entries()]
        return CREATION_MARK in names and not any(_is_commit(n) for n in names)

    def check(self, action: str) -> bool:
        """Whether the table has a commit, after refusing a damaged log: an empty commit file
        or a gap (:func:`glacier.adapters.corruption.log_damage`), from one listing.

        Raises:
            CorruptDataError: naming the commit file at fault and the repair.
        """
        entries = self._log_entries()
        damage = log_damage({posixpath.basename(str(e["name"])): _size(e) for e in entries})
        if damage is not None:
            name, what = damage
            raise CorruptDataError(
                f"{action} {self.name}: the table's log entry {self.name}{DELTA_LOG}/{name} "
                f"{what}, so the table cannot be read past it. Repair: restore that file from "
                "the bucket's versioning; or write the dataset again with mode='overwrite' "
                "(it starts a new history); or, if no writer is running and the file is the "
                "newest, delete it (the table then reads as the version before it, and that "
                "commit's rows are lost)."
            )
        return any(_is_commit(str(e["name"])) for e in entries)

    def damaged(self) -> bool:
        """Whether :meth:`check` would refuse the log."""
        entries = self._log_entries()
        return (
            log_damage({posixpath.basename(str(e["name"])): _size(e) for e in entries}) is not None
        )

    def version_at(self, when_ms: int) -> tuple[int | None, tuple[int, int] | None]:
        """The newest version committed at or before ``when_ms`` (milliseconds since the
        epoch, by the commit times in the commits' info, which ``history()`` shows), or
        ``None`` if every kept commit is younger; and the oldest commit's version and
        time (``None`` without a commit). A binary search: a few small reads, whatever the
        length of the log (commit times only grow)."""
        paths = sorted(str(e["name"]) for e in self._log_entries() if _is_commit(str(e["name"])))
        if not paths:
            return None, None
        oldest = (_version(paths[0]), self._commit_time(paths[0]))
        if when_ms < oldest[1]:
            return None, oldest
        low, high = 0, len(paths) - 1  # paths[low] is at or before when_ms
        while low < high:
            middle = (low + high + 1) // 2
            if self._commit_time(paths[middle]) <= when_ms:
                low = middle
            else:
                high = middle - 1
        return _version(paths[low]), oldest

    def _commit_time(self, path: str) -> int:
        for line in self.fs.cat_file(path).decode().splitlines():
            info = json.loads(line).get("commitInfo") if line.strip() else None
            if info and "timestamp" in info:
                return int(info["timestamp"])
        return 0  # no commit info: as old as can be

    def _log_entries(self) -> list[dict[str, Any]]:
        try:
            entries = self.fs.ls(f"{self.root}/{DELTA_LOG}", detail=True)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [e for e in entries if e.get("type") != "directory"]

    def commits_with(self, token: str, depth: int = 20) -> bool:
        """Whether one of the ``depth`` newest commits holds ``token`` (a write token of
        :mod:`glacier.adapters.tables`): how a commit whose answer was lost is recognised."""
        try:
            entries = self.fs.ls(f"{self.root}/{DELTA_LOG}", detail=False)
        except (FileNotFoundError, NotADirectoryError):
            return False
        commits = sorted((str(e) for e in entries if _is_commit(str(e))), reverse=True)
        needle = token.encode()
        return any(needle in self.fs.cat_file(path) for path in commits[:depth])

    @contextlib.contextmanager
    def reading(self) -> Iterator[TableIO]:
        """A TableIO over a local copy of the log (no data files: read those remotely)."""
        with spool() as scratch:
            local = f"{scratch}/table"
            Path(local).mkdir()
            self._copy_log(local)
            yield TableIO(local, {}, self.name)

    @contextlib.contextmanager
    def writing(self, *, with_data: bool) -> Iterator[TableIO]:
        """A TableIO over a local copy; what the operation adds is published on exit."""
        with spool() as scratch:
            local = f"{scratch}/table"
            Path(local).mkdir()
            before = self._copy_log(local)
            if with_data and before:
                self._copy_data(local)
            copied = {p.relative_to(local).as_posix() for p in Path(local).rglob("*")}
            yield TableIO(local, {}, self.name)
            self._publish(local, copied)

    def _copy_log(self, local: str) -> bool:
        remote = f"{self.root}/{DELTA_LOG}"
        try:
            entries = self.fs.find(remote)
        except FileNotFoundError:
            return False
        if not entries:
            return False
        Path(local, DELTA_LOG).mkdir(parents=True, exist_ok=True)
        for entry in entries:
            name = posixpath.basename(self.fs._strip_protocol(entry))
            Path(local, DELTA_LOG, name).write_bytes(self.fs.cat_file(entry))
        return any(_is_commit(str(e)) for e in entries)  # not only a creation mark

    def _copy_data(self, local: str) -> None:
        with self.reading() as table:
            files = table.files()
        for relative in files:
            target = Path(local, relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.fs.cat_file(f"{self.root}/{relative}"))

    def _publish(self, local: str, copied: set[str]) -> None:
        added = sorted(
            p.relative_to(local).as_posix()
            for p in Path(local).rglob("*")
            if p.is_file() and p.relative_to(local).as_posix() not in copied
        )
        log = [p for p in added if p.startswith(f"{DELTA_LOG}/")]
        data = [p for p in added if p not in log]
        for relative in data:  # data first: a commit never names a file not yet there
            self.fs.pipe_file(f"{self.root}/{relative}", Path(local, relative).read_bytes())
        commits = [p for p in log if _is_commit(p)]
        for relative in commits:
            target = f"{self.root}/{relative}"
            # Checked first too: the GCS emulator ignores the create-if-absent precondition.
            if self.fs.exists(target) or not self._put_commit(target, local, relative):
                for orphan in data:  # no commit names them: remove them now, not at vacuum
                    with contextlib.suppress(Exception):
                        self.fs.rm_file(f"{self.root}/{orphan}")
                # Version 0 is the table's creation: the write applies again on top of it.
                error = (
                    TableCreatedConcurrentlyError
                    if _version(relative) == 0
                    else (ConcurrentWriteError)
                )
                raise error(
                    f"write {self.name}: another writer committed "
                    f"{posixpath.basename(relative)} first. Nothing of this write was "
                    "committed; retry it."
                )
        for relative in log:  # checkpoints and _last_checkpoint follow their commit
            if relative not in commits:
                self.fs.pipe_file(f"{self.root}/{relative}", Path(local, relative).read_bytes())

    def _put_commit(self, target: str, local: str, relative: str) -> bool:
        """Upload a commit file only if absent (fsspec's ``mode="create"``: memory, and GCS
        with ``ifGenerationMatch=0``); ``False`` if another writer's commit is there. An
        error after which the store holds exactly this commit (the PUT was applied and its
        answer lost) is a commit that landed: a success, not a failure that a retry would
        apply twice."""
        commit = Path(local, relative).read_bytes()
        try:
            self.fs.pipe_file(target, commit, mode="create")
        except Exception as exc:
            try:
                landed = self.fs.cat_file(target) == commit
            except Exception:
                landed = False
            if landed:
                return True
            if isinstance(exc, FileExistsError) or "precondition" in str(exc).lower():
                return False
            raise
        return True


def _size(entry: dict[str, Any]) -> int:
    return int(entry.get("size") or 0)


def _version(path: str) -> int:
    """The version number of a commit file's path."""
    return int(posixpath.basename(path)[:-5])


def _is_commit(path: str) -> bool:
    """Whether ``path`` is a numbered commit (``_delta_log/00000000000000000003.json``)."""
    name = posixpath.basename(path.rstrip("/"))
    return name.endswith(".json") and name[:-5].isdigit()

"""Which stored file is corrupt: naming it, so the repair can be said.

A truncated data file makes polars raise a ``ComputeError`` ("File out of specification"),
a truncated commit of a Delta table makes delta-rs fail with a JSON error; neither names
the file. When a read fails that way, the bucket adapter asks this module which file is the
broken one — only on that error path, so reads that succeed pay nothing — and raises a
:class:`~glacier.errors.CorruptDataError` naming it and the repair.

>>> looks_corrupt(ValueError("parquet: File out of specification: must end with PAR1"))
True
>>> looks_corrupt(ValueError("column 'x' not found"))
False
>>> is_commit("t/_delta_log/00000000000000000003.json")
True

A table's log can also be damaged without a byte being unparseable: an empty commit file
(which delta-rs reads as no commit at all, so the table silently reads as an older version
and the next write builds on that) or a missing one (a gap, which delta-rs reports as a raw
dump naming no file). :func:`log_damage` finds both from a listing of the log alone (names
and sizes), so every table operation can refuse a damaged log for the price of that listing.
"""

from __future__ import annotations

import json
import posixpath
import re
import struct
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = [
    "corrupt_commits",
    "corrupt_parquet_files",
    "is_commit",
    "log_damage",
    "looks_corrupt",
    "missing_footers",
]

# Phrases of polars' and delta-rs' errors about bytes that cannot be parsed (lower case).
_CORRUPT_PHRASES = (
    "out of specification",
    "must end with par1",
    "json error",
    "truncated record",
    "invalid json",
    "eof while parsing",
    "unexpected end of file",
    "failed to read parquet footer",
    "invalid thrift",
    "could not read footer",
)


#: What polars says when the store failed under a reader or writer: an I/O failure (a
#: timeout, a reset) reported as "File out of specification", not bytes that are broken.
_IO_FAILURE = "underlying io error"


def looks_corrupt(exc: BaseException) -> bool:
    """Whether ``exc`` (or its cause) says stored bytes could not be parsed, and nothing
    in the chain says the store itself failed (an upload timing out mid-write).

    >>> looks_corrupt(ValueError("File out of specification: underlying IO error: timeout"))
    False
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    corrupt = False
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(current).lower()
        if _IO_FAILURE in text:
            return False
        corrupt = corrupt or any(phrase in text for phrase in _CORRUPT_PHRASES)
        current = current.__cause__ or current.__context__
    return corrupt


def is_commit(path: str) -> bool:
    """Whether ``path`` is a numbered Delta commit (``_delta_log/00000000000000000003.json``)."""
    name = posixpath.basename(path.rstrip("/"))
    return name.endswith(".json") and name[:-5].isdigit()


#: A checkpoint file: ``<version>.checkpoint.parquet`` or ``<version>.checkpoint.<i>.<n>.parquet``.
_CHECKPOINT = re.compile(r"^(\d{20})\.checkpoint(\.\d+\.\d+)?\.parquet$")


def log_damage(sizes: Mapping[str, int]) -> tuple[str, str] | None:
    """The first damage in a Delta log listed as ``{file name: size}``: the commit file at
    fault and what is wrong with it, or ``None`` for a whole log (or no log at all).

    Commits must run without a gap from version 0, or from the newest checkpoint (older
    commits may have been cleaned up after it), to the newest commit; none may be empty.

    >>> log_damage({"00000000000000000000.json": 10, "00000000000000000002.json": 9})
    ('00000000000000000001.json', 'is missing: the log has a gap (versions 0 and 2 are there)')
    >>> log_damage({"00000000000000000000.json": 10, "00000000000000000001.json": 0})
    ('00000000000000000001.json', 'is empty')
    >>> log_damage({"00000000000000000004.checkpoint.parquet": 9, "00000000000000000005.json": 9})
    """
    commits = {int(n[:-5]): n for n in sizes if is_commit(n)}
    checkpoints = [int(m.group(1)) for n in sizes if (m := _CHECKPOINT.match(n))]
    for version in sorted(commits):
        if sizes[commits[version]] == 0:
            return commits[version], "is empty"
    if not commits:
        return None
    newest = max(commits)
    covered = [c for c in checkpoints if c <= newest]
    start = max(covered) + 1 if covered else 0
    for version in range(start, newest + 1):
        if version not in commits:
            before = max((v for v in commits if v < version), default=None)
            after = min(v for v in commits if v > version)
            name = f"{version:020d}.json"
            if before is None:
                return name, f"is missing: the log starts at version {after}, with no checkpoint"
            return name, f"is missing: the log has a gap (versions {before} and {after} are there)"
    return None


def corrupt_commits(fs: AbstractFileSystem, log_dir: str) -> list[str]:
    """fsspec paths of the commit files under ``log_dir`` that are not JSON lines."""
    try:
        paths = sorted(p for p in fs.find(log_dir) if is_commit(p))
    except FileNotFoundError:
        return []
    broken = []
    for path in paths:
        try:
            lines = fs.cat_file(path).decode().splitlines()
            for line in lines:
                if line.strip():
                    json.loads(line)
            if not lines:
                raise ValueError("empty commit")
        except (ValueError, UnicodeDecodeError):
            broken.append(path)
    return broken


def corrupt_parquet_files(fs: AbstractFileSystem, paths: Sequence[str]) -> list[str]:
    """The ``paths`` whose parquet footer cannot be read (truncated or not parquet)."""
    import io

    import polars as pl

    broken = []
    for path in paths:
        try:
            # Suffix reads (the last N bytes): no size is asked, so a listing cache or a
            # store answering sizes oddly cannot make a healthy file look truncated.
            tail = _tail(fs, path, 65536)
            if len(tail) < 12 or tail[-4:] != b"PAR1":
                raise ValueError("no parquet footer")
            footer = int.from_bytes(tail[-8:-4], "little") + 8
            if footer > len(tail):
                tail = _tail(fs, path, footer)
            pl.read_parquet_schema(io.BytesIO(tail[-footer:]))
        except FileNotFoundError:
            continue
        except Exception:
            broken.append(path)
    return broken


#: The last bytes of a parquet file: the footer's length (4 bytes, little-endian), "PAR1".
_TAIL = 8
_MAGIC = b"PAR1"


def missing_footers(fs: AbstractFileSystem, paths: Sequence[str]) -> list[str]:
    """The ``paths`` (parquet files) whose last 8 bytes are not a parquet footer's end.

    A truncated file loses its footer, so a scan built over it fails only when collected,
    with polars' ``ComputeError``, naming no file. This check is cheap enough to run when
    the scan is built: one 8-byte suffix read per file (``Range: bytes=-8``, no size
    asked), concurrent on object stores. It catches
    truncation and foreign bytes at the end; a file damaged in the middle with its footer
    intact is found only when read (:func:`corrupt_parquet_files`).

    Example:
        >>> from fsspec.implementations.memory import MemoryFileSystem
        >>> fs = MemoryFileSystem()
        >>> fs.pipe_file("/footers/bad.parquet", b"PAR1 and then nothing")
        >>> missing_footers(fs, ["/footers/bad.parquet"])
        ['/footers/bad.parquet']
    """
    if not paths:
        return []
    try:
        return _missing_footers(fs, paths)
    except Exception:  # cannot tell (a role that may write but not read, a store failure):
        return []  # the collect reports what it is


def _missing_footers(fs: AbstractFileSystem, paths: Sequence[str]) -> list[str]:
    names = [fs._strip_protocol(p) for p in paths]
    # Suffix reads of the last 8 bytes: no size is asked (a listing cache, or a store
    # answering a size oddly, must not make a healthy file look truncated).
    tails: list[Any]
    if _suffix_reads(fs):
        tails = fs.cat_ranges(names, [-_TAIL] * len(names), [None] * len(names), on_error="return")
    else:
        tails = [_tail_or_error(fs, name) for name in names]
    broken = []
    for path, tail in zip(paths, tails, strict=True):
        if not isinstance(tail, bytes):
            continue  # missing or not readable now: the collect reports what it is
        length = struct.unpack("<I", tail[:4])[0] if len(tail) == _TAIL else 0
        if tail[-4:] != _MAGIC or length <= 0:
            broken.append(path)
    # Confirm each suspect by reading its footer as polars would: a store answering a ranged
    # read oddly must not make a healthy file "corrupt".
    return corrupt_parquet_files(fs, broken)


def _suffix_reads(fs: AbstractFileSystem) -> bool:
    """Whether the store reads "the last N bytes" without a size (HTTP ``Range: bytes=-N``):
    S3, GCS and local files do; adlfs passes a negative start to Azure's SDK as an offset."""
    protocols = {fs.protocol} if isinstance(fs.protocol, str) else set(fs.protocol)
    return not protocols & {"abfs", "abfss", "az"}


def _tail_or_error(fs: AbstractFileSystem, path: str) -> bytes | Exception:
    try:
        return _tail(fs, path, _TAIL)
    except Exception as exc:
        return exc


def _tail(fs: AbstractFileSystem, path: str, count: int) -> bytes:
    """The last ``count`` bytes of ``path``: a suffix read where the store takes one (no
    size asked, so a listing cache cannot answer a stale size), else a read from the size
    ``info`` gives."""
    if _suffix_reads(fs):
        return bytes(fs.cat_file(path, start=-count))
    size = int(fs.size(path) or 0)
    return bytes(fs.cat_file(path, start=max(0, size - count), end=size)) if size else b""

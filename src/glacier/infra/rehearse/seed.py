"""Source data for a rehearsal: what the pipeline reads that none of its tasks writes.

A rehearsal creates the plan's buckets empty, so a task reading data that comes from outside
the pipeline (a landing bucket another system fills, the model a training pipeline stored)
fails on a missing object. ``seed`` names a directory laid out as a local environment keeps
its data, ``<bucket>/<key>`` (a ``LocalConfig``'s ``base_path``): each file is put in the
emulator's bucket of that name before the first task runs, so a dev run's files can be the
rehearsal's source data. A directory naming a bucket the plan does not have is refused,
naming the plan's buckets: nothing given is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from glacier.errors import ConfigError

__all__ = ["SeedFile", "seed_files", "seed_notes"]


@dataclass(frozen=True)
class SeedFile:
    """One object to put before the tasks run: its bucket, its key and the local file."""

    bucket: str
    key: str
    path: Path


def seed_files(directory: str | Path, buckets: Iterable[str]) -> list[SeedFile]:
    """The files under ``directory/<bucket>/``, each for a bucket of ``buckets``.

    Raises:
        ConfigError: ``directory`` is not a directory, or names a bucket not in ``buckets``.
    """
    root = Path(directory).expanduser()
    if not root.is_dir():
        raise ConfigError(
            f"seed {str(directory)!r} is not a directory: give one holding <bucket>/<key> "
            "files (a local environment's base_path)."
        )
    known = sorted(set(buckets))
    found = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    unknown = [p.name for p in found if p.name not in known]
    if unknown:
        raise ConfigError(
            f"seed {str(directory)!r} holds {', '.join(repr(u) for u in unknown)}, which the "
            f"plan has no bucket of; its buckets are: {', '.join(known) or 'none'}. Put each "
            "file under the name of the bucket it belongs in."
        )
    return [
        SeedFile(folder.name, path.relative_to(folder).as_posix(), path)
        for folder in found
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    ]


def seed_notes(files: list[SeedFile]) -> tuple[str, ...]:
    """What a rehearsal's report says of the source data it put in the buckets."""
    if not files:
        return ()
    where = sorted({f"{f.bucket}/{f.key}" for f in files})
    return (f"source data put in the buckets before the first task (--seed): {', '.join(where)}",)

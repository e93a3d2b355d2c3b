"""Writers racing on one Delta table: processes that write together on command.

A :class:`Writers` pool starts writer processes once (``spawn``: a forked polars may hang);
each :meth:`Writers.race` hands every writer a frame for the same table and lets them go at
once through a barrier, then returns what each write did. Used by
``tests/test_reliability_table_races.py``; it runs 3 trials per case by default, 20 in a stress
run (``pytest --stress``), and ``GLACIER_STRESS_TRIALS=N`` sets the number outright.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from stress import trials

#: Trials per case: 3, 20 in a stress run; ``GLACIER_STRESS_TRIALS=200`` for a long one.
TRIALS = int(os.environ.get("GLACIER_STRESS_TRIALS", trials(3, 20)))


@dataclass(frozen=True)
class Job:
    """One writer's work: ``repeat`` writes of ``frame`` (its column ``i`` set to the
    write's number) to the table at ``path``, with a write mode and its options."""

    path: str
    frame: pl.DataFrame
    mode: str
    options: dict[str, Any]
    partition_by: tuple[str, ...] = ()
    repeat: int = 1


@dataclass(frozen=True)
class Outcome:
    """What one writer's write did: ``error`` is ``"Type: message"``, or ``None``."""

    writer: int
    error: str | None


def _serve(spec: dict[str, Any], writer: int, barrier: Any, inbox: Any, outbox: Any) -> None:
    from glacier.errors import GlacierError
    from glacier.provider import Provider
    from glacier.settings import AwsConfig, AzureConfig, LocalConfig

    kinds = {"local": LocalConfig, "aws": AwsConfig, "azure": AzureConfig}
    provider = Provider(config=kinds[spec["kind"]].model_validate(spec["config"]))
    while (job := inbox.get()) is not None:
        bucket = provider.bucket(spec["bucket"], job.path, partition_by=list(job.partition_by))
        barrier.wait()
        try:
            for i in range(job.repeat):
                frame = job.frame.with_columns(i=pl.lit(i)) if job.repeat > 1 else job.frame
                bucket.write(frame, mode=job.mode, **job.options)
            outbox.put(Outcome(writer, None))
        except GlacierError as exc:
            outbox.put(Outcome(writer, f"{type(exc).__name__}: {exc}"))
        except BaseException as exc:  # not Glacier's: reported, and the test fails on it
            outbox.put(Outcome(writer, f"raw {type(exc).__name__}: {exc}"))


class Writers:
    """``count`` writer processes on the store a provider config describes.

    Args:
        config: The provider config (LocalConfig, AwsConfig or AzureConfig; Azure's
            connection comes from the environment, as in the tests) the writers build on.
        bucket: The bucket name.
        count: How many writers race.
    """

    def __init__(self, config: Any, bucket: str, count: int = 2) -> None:
        context = multiprocessing.get_context("spawn")
        spec = {
            "kind": config.kind,
            "config": config.model_dump(mode="json", exclude_defaults=True),
            "bucket": bucket,
        }
        self._barrier = context.Barrier(count)
        self._inboxes = [context.Queue() for _ in range(count)]
        self._outbox: Any = context.Queue()
        self._processes = [
            context.Process(
                target=_serve, args=(spec, i, self._barrier, inbox, self._outbox), daemon=True
            )
            for i, inbox in enumerate(self._inboxes)
        ]
        for process in self._processes:
            process.start()

    def race(self, jobs: Sequence[Job]) -> list[Outcome]:
        """Run ``jobs[i]`` in writer ``i``, all released at once; outcomes by writer."""
        for inbox, job in zip(self._inboxes, jobs, strict=True):
            inbox.put(job)
        outcomes = [self._outbox.get() for _ in jobs]
        return sorted(outcomes, key=lambda o: o.writer)

    def close(self) -> None:
        """Stop the writers (each finishes its current write first)."""
        for inbox in self._inboxes:
            inbox.put(None)
        for process in self._processes:
            process.join()

"""SIGKILL trials: writers killed mid-write, then what readers see and what is left behind.

A trial starts a writer process that rewrites one dataset in a loop (version ``v`` is ``ROWS``
rows all holding ``v``), kills it with SIGKILL at a random moment, then checks that a reader
sees one whole version (the last one completed, or the one in flight), and that the next
write leaves no stray objects: temporary objects of the killed writer are removed by it,
and a table's unreferenced data files by ``vacuum``. Used by
``tests/test_reliability_kills.py`` (a few dozen trials) and ``benchmarks/kill_trials.py``
(as many as asked).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl

from glacier.adapters.tables import CREATION_MARK

ROWS = 20_000

WRITER = """
import json, sys
import polars as pl
from glacier.provider import Provider
from glacier.settings import AwsConfig, LocalConfig
spec = json.loads(sys.argv[1])
if spec["store"] == "local":
    provider = Provider(config=LocalConfig(base_path=spec["base"]))
else:
    provider = Provider(config=AwsConfig(region="us-east-1", endpoint_url=spec["endpoint"]))
bucket = provider.bucket(spec["bucket"], spec["path"])
rows = spec["rows"]
v = 0
print("ready", flush=True)
while True:
    v += 1
    print(f"start {v}", flush=True)
    bucket.write(pl.DataFrame({"v": [v] * rows, "i": range(rows)}))
    print(f"done {v}", flush=True)
"""


@dataclass(frozen=True)
class Trial:
    """One writer to kill: where it writes, and after how long (seconds) it is killed."""

    store: str  # "local" or "s3"
    bucket: str
    path: str  # "sales.parquet" (an object) or "sales/" (a table)
    delay: float
    base: str = ""
    endpoint: str = ""


@dataclass
class Outcome:
    """What a trial found: the versions completed and in flight when the writer died, the
    version a reader saw, and the stray objects left after the next write (and vacuum)."""

    trial: Trial
    done: int
    started: int
    seen: int | None
    whole: bool
    stray: list[str]
    #: Keys ``list()`` returned for a table that has no commit (a killed creator's files).
    uncommitted: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        seen_ok = self.seen in (self.done, self.started) or (self.seen is None and self.done == 0)
        return self.whole and seen_ok and not self.stray and not self.uncommitted


def provider_of(trial: Trial) -> Any:
    from glacier.provider import Provider
    from glacier.settings import AwsConfig, LocalConfig

    if trial.store == "local":
        return Provider(config=LocalConfig(base_path=trial.base))
    return Provider(config=AwsConfig(region="us-east-1", endpoint_url=trial.endpoint))


def run_trials(trials: Sequence[Trial], parallel: int = 4) -> list[Outcome]:
    """Run ``trials``, ``parallel`` writers at a time; returns one outcome per trial."""
    outcomes: list[Outcome] = []
    for start in range(0, len(trials), parallel):
        batch = trials[start : start + parallel]
        procs = [_start(t) for t in batch]
        for proc in procs:  # every writer imported and ready before the clocks start
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if line.strip() != "ready":
                proc.kill()
                raise RuntimeError(f"a writer did not start (it printed {line!r})")
        began = time.monotonic()
        for trial, proc in sorted(zip(batch, procs, strict=True), key=lambda p: p[0].delay):
            time.sleep(max(0.0, began + trial.delay - time.monotonic()))
            os.kill(proc.pid, signal.SIGKILL)
        for trial, proc in zip(batch, procs, strict=True):
            out, _ = proc.communicate()
            outcomes.append(_check(trial, out))
    return outcomes


def _start(trial: Trial) -> subprocess.Popen[str]:
    spec = {
        "store": trial.store,
        "base": trial.base,
        "endpoint": trial.endpoint,
        "bucket": trial.bucket,
        "path": trial.path,
        "rows": ROWS,
    }
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, json.dumps(spec)],
        stdout=subprocess.PIPE,
        # One pipe only: communicate() then reads through the text buffer that readline()
        # filled (with two pipes it reads the raw descriptors and loses buffered lines).
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def _check(trial: Trial, output: str) -> Outcome:
    done = started = 0
    for line in output.splitlines():
        word, _, number = line.partition(" ")
        if word == "done":
            done = int(number)
        elif word == "start":
            started = int(number)
    bucket = provider_of(trial).bucket(trial.bucket, trial.path)
    seen: int | None = None
    whole = True
    uncommitted: list[str] = []
    if trial.path.endswith("/"):
        adapter = bucket.adapter
        log = [adapter._key(p) for p in adapter.fs.find(adapter._path(trial.path))]
        if not any(k.startswith(f"{trial.path}_delta_log/0") for k in log):
            uncommitted = bucket.list()  # no commit: nothing holds data
    if bucket.exists():
        frame = bucket.read()
        versions = frame["v"].unique().to_list()
        whole = len(versions) == 1 and frame.height == ROWS and frame["i"].n_unique() == ROWS
        seen = versions[0] if len(versions) == 1 else None
    # The next write removes what the killed writer left; a table's orphaned data files
    # (never named by a commit) are what vacuum is for.
    bucket.write(pl.DataFrame({"v": [0], "i": [0]}))
    if trial.path.endswith("/"):
        bucket.vacuum(timedelta(0), force=True)
    return Outcome(trial, done, started, seen, whole, _stray(bucket, trial), uncommitted)


def _stray(bucket: Any, trial: Trial) -> list[str]:
    adapter = bucket.adapter
    fs = adapter.fs
    root = adapter.root
    keys = sorted(adapter._key(p) for p in fs.find(root))
    current = set(bucket.list())
    if trial.path.endswith("/"):
        prefix = trial.path
        return [
            k
            for k in keys
            if k.startswith(prefix)
            and k not in current
            and not k.startswith(f"{prefix}_delta_log/0")
            and not k.startswith(f"{prefix}_delta_log/_last_checkpoint")
            and k != f"{prefix}_delta_log/{CREATION_MARK}"  # stays: see its docstring
        ]
    # Other trials share the bucket: this object's leftovers are temporary objects named
    # after it (``_glacier/tmp/<stamp>-<writer>-<name>``).
    return [k for k in keys if k != trial.path and k.endswith(f"-{trial.path}")]


def trials_for(
    store: str, count: int, *, base: str = "", endpoint: str = "", bucket: str = "lake"
) -> list[Trial]:
    """``count`` trials on ``store``: half on an object, half on a table, each on its own
    dataset, killed after a random 0.05-0.6 s of writing."""
    rng = random.Random(17)
    return [
        Trial(
            store,
            bucket,
            f"obj{n}.parquet" if n % 2 == 0 else f"table{n}/",
            rng.uniform(0.05, 0.6),
            base,
            endpoint,
        )
        for n in range(count)
    ]


def summary(outcomes: Sequence[Outcome]) -> str:
    mid = sum(1 for o in outcomes if o.started > o.done)
    bad = [o for o in outcomes if not o.ok]
    return f"{len(outcomes)} trials, {mid} killed mid-write, {len(bad)} failed" + (
        f": {bad[:3]}" if bad else ""
    )


if __name__ == "__main__":  # pragma: no cover
    print(Path(__file__).name, "is a helper; run benchmarks/kill_trials.py")

"""Writers racing on one Delta table lose nothing (issue 22 item 7, issue 31 item 2).

Two writers creating a table at once, in every write mode: both writes land (the one whose
creation lost applies on top of the other's version), or one fails loudly with
``ConcurrentWriteError``; never a silent loss. Two overwrites of 300,000 rows: one wins
whole, the other fails or replaces it whole; never both versions' files live.

What let them land wrongly: delta-rs rebases a table creation that lost the race onto the
winner's version 0 as version 1 (an overwrite that then removes nothing: both writers'
files live), and Glacier wrote an append to a missing table as an overwrite (a table
created meanwhile was replaced: the first append of the other writer gone). A creation now
commits only as version 0 (``glacier.adapters.tables``) and the write is applied again to
the table that exists (``FsspecBucketAdapter._write_table_once_created``).

Processes race on local files, S3 (moto) and Azure (Azurite), where delta-rs commits; every
store gets the deterministic race (the table created between the write's check and its
commit).
Trials per case: 3 by default, 20 in a stress run (``pytest --stress``),
``GLACIER_STRESS_TRIALS=N`` for any other number.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from conftest import StoreCase, make_store_case
from glacier.adapters.bucket import FsspecBucketAdapter
from table_races import TRIALS, Job, Outcome, Writers

RACE_STORES = ["local", "s3", "azure"]
ROWS = 300_000


def _row(writer: int) -> pl.DataFrame:
    return pl.DataFrame({"id": [writer], "day": [f"d{writer}"], "writer": [writer]})


#: Per write mode: the options, the partition columns, and whether both writes must land.
MODES: dict[str, tuple[dict[str, Any], tuple[str, ...], bool]] = {
    "append": ({}, (), True),
    "merge": ({"on": ["id"]}, (), True),
    "overwrite_partitions": ({}, ("day",), True),
    "overwrite": ({}, (), False),
}


@pytest.fixture(params=RACE_STORES)
def racing(request: pytest.FixtureRequest) -> Iterator[tuple[StoreCase, Writers]]:
    store = make_store_case(request, request.param)
    store.bucket("seed.parquet").write(pl.DataFrame({"x": [1]}))  # the bucket exists
    writers = Writers(store.provider.config, store.bucket_name)
    yield store, writers
    writers.close()


def _loud(outcomes: list[Outcome]) -> list[str]:
    """The errors of ``outcomes`` that are not a loud, retryable conflict."""
    return [o.error for o in outcomes if o.error and not o.error.startswith("ConcurrentWriteError")]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("mode", list(MODES))
def test_writers_racing_to_create_a_table_both_land_or_one_fails_loudly(
    racing: tuple[StoreCase, Writers], mode: str
) -> None:
    store, writers = racing
    options, partition_by, both_land = MODES[mode]
    for trial in range(TRIALS):
        path = f"{mode}-{trial}/"
        jobs = [Job(path, _row(w), mode, options, partition_by) for w in (0, 1)]
        outcomes = writers.race(jobs)

        assert not _loud(outcomes), outcomes
        rows = store.bucket(path, partition_by=list(partition_by)).read()
        landed = sorted(rows["writer"].to_list())
        if both_land:
            assert [o.error for o in outcomes] == [None, None], (trial, outcomes)
            assert landed == [0, 1], (trial, landed)
        else:  # an overwrite: one writer's rows, whole, whoever committed last
            assert landed in ([0], [1]), (trial, landed)


@pytest.mark.timeout(900)
def test_two_writers_appending_to_a_table_that_does_not_exist_lose_no_row(
    racing: tuple[StoreCase, Writers],
) -> None:
    store, writers = racing
    appends = 15
    for trial in range(max(1, TRIALS // 5)):
        path = f"events-{trial}/"
        outcomes = writers.race([Job(path, _row(w), "append", {}, repeat=appends) for w in (0, 1)])

        assert [o.error for o in outcomes] == [None, None], outcomes
        rows = store.bucket(path).read()
        assert rows.height == 2 * appends, (trial, rows.height)
        for writer in (0, 1):
            mine = rows.filter(pl.col("writer") == writer)["i"].sort().to_list()
            assert mine == list(range(appends)), (trial, writer, mine)


def _writer_rows(writer: int) -> pl.DataFrame:
    return pl.DataFrame({"writer": [writer] * ROWS, "n": range(ROWS)})


@pytest.mark.timeout(900)
@pytest.mark.parametrize("existing", [True, False], ids=["existing", "new"])
def test_two_overwrites_at_once_leave_one_writers_rows(
    racing: tuple[StoreCase, Writers], existing: bool
) -> None:
    store, writers = racing
    for trial in range(3):
        path = f"big-{trial}/"
        bucket = store.bucket(path)
        if existing:
            bucket.write(pl.DataFrame({"writer": [-1], "n": [0]}))
        outcomes = writers.race([Job(path, _writer_rows(w), "overwrite", {}) for w in (0, 1)])

        assert not _loud(outcomes), outcomes
        assert any(o.error is None for o in outcomes), outcomes  # one writer won
        rows = bucket.read()
        assert rows.height == ROWS, (trial, rows.height, outcomes)
        winners = rows["writer"].unique().to_list()
        assert len(winners) == 1 and winners[0] in (0, 1), (trial, winners)
        assert_frame_equal(rows.sort("n"), _writer_rows(winners[0]))


# -- the same race, made deterministic, on every store --------------------------------------


def _created_meanwhile(monkeypatch: pytest.MonkeyPatch, create: Callable[[], None]) -> list[bool]:
    """Make the next write's existence check see no table, and another writer create it
    right after that check (before the write commits). Returns a list that records it."""
    real = FsspecBucketAdapter._table_exists
    raced: list[bool] = []

    def exists(self: FsspecBucketAdapter, action: str | None = None) -> bool:
        if not raced:
            raced.append(True)
            create()
            return False
        return real(self, action)

    monkeypatch.setattr(FsspecBucketAdapter, "_table_exists", exists)
    return raced


@pytest.mark.parametrize("mode", list(MODES))
def test_a_table_created_between_check_and_commit_keeps_both_writes(
    store: StoreCase, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    options, partition_by, both_land = MODES[mode]
    bucket = store.bucket("orders/", partition_by=list(partition_by))
    raced = _created_meanwhile(monkeypatch, lambda: bucket.write(_row(0), mode=mode, **options))

    bucket.write(_row(1), mode=mode, **options)

    assert raced
    landed = sorted(bucket.read()["writer"].to_list())
    assert landed == ([0, 1] if both_land else [1])
    assert [c["version"] for c in bucket.history()] == [1, 0]


@pytest.mark.parametrize("mode", list(MODES))
def test_threads_racing_to_create_a_table_in_memory_both_land(
    request: pytest.FixtureRequest, mode: str
) -> None:
    # The memory store's commits are created only if absent (fsspec's mode="create"), so the
    # mirror's check-then-put cannot let two creations both land.
    store = make_store_case(request, "memory")
    options, partition_by, both_land = MODES[mode]
    for trial in range(TRIALS):
        path = f"{mode}-{trial}/"
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def write(
            writer: int,
            path: str = path,
            barrier: threading.Barrier = barrier,
            errors: list[BaseException] = errors,
        ) -> None:
            bucket = store.bucket(path, partition_by=list(partition_by))
            barrier.wait()
            try:
                bucket.write(_row(writer), mode=mode, **options)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(w,)) for w in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert not errors, (trial, errors)
        landed = sorted(store.bucket(path, partition_by=list(partition_by)).read()["writer"])
        assert landed in ([[0, 1]] if both_land else [[0], [1]]), (trial, landed)

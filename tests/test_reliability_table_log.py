"""A Delta table is never read past damage to its log (issue 31, item 3).

An empty commit file (delta-rs reads it as no commit: the table read as the version before,
and the next append built on that, losing the rows of the emptied commit) or a missing one
(a gap: delta-rs failed with a dump naming no file) is a ``CorruptDataError`` naming the
file and the repair, on every operation and every store; an overwrite repairs the table.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from conftest import StoreCase, make_store_case
from glacier.errors import CorruptDataError, ObjectNotFoundError, VersionNotFoundError

V = [pl.DataFrame({"id": [i], "v": [f"v{i}"]}) for i in range(3)]


def _commit(version: int) -> str:
    return f"_delta_log/{version:020d}.json"


def _table(store: StoreCase) -> Any:
    bucket = store.bucket("orders/")
    bucket.write(V[0])
    bucket.write(V[1], mode="append")
    bucket.write(V[2], mode="append")
    return bucket


def _path(store: StoreCase, relative: str) -> str:
    return f"{store.bucket('orders/').adapter._log.root}/{relative}"


#: Damage: what is done to the log, and the commit file the error must name.
DAMAGE: dict[str, tuple[Callable[[StoreCase], None], str]] = {
    "empty newest commit": (lambda s: s.fs.pipe_file(_path(s, _commit(2)), b""), _commit(2)),
    "empty older commit": (lambda s: s.fs.pipe_file(_path(s, _commit(1)), b""), _commit(1)),
    "gap": (lambda s: s.fs.rm_file(_path(s, _commit(1))), _commit(1)),
    "missing first commit": (lambda s: s.fs.rm_file(_path(s, _commit(0))), _commit(0)),
}

OPERATIONS: dict[str, Callable[[Any], object]] = {
    "read": lambda b: b.read(),
    "read a version": lambda b: b.read(version=0),
    "scan": lambda b: b.scan().collect(),
    "append": lambda b: b.write(V[0], mode="append"),
    "merge": lambda b: b.write(V[0], mode="merge", on=["id"]),
    "history": lambda b: b.history(),
    "vacuum": lambda b: b.vacuum(dry_run=True),
    "optimize": lambda b: b.optimize(),
    "list": lambda b: b.list(),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_every_operation_refuses_a_damaged_log_naming_the_file(
    store: StoreCase, damage: str
) -> None:
    bucket = _table(store)
    harm, named = DAMAGE[damage]
    harm(store)
    before = store.objects()

    for operation, run in OPERATIONS.items():
        with pytest.raises(CorruptDataError) as caught:
            run(bucket)
        message = str(caught.value)
        assert f"{bucket.get_uri()}{named}" in message, (operation, message)
        assert "Repair:" in message and "mode='overwrite'" in message, (operation, message)
    assert store.objects() == before  # nothing was written past the damage


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_an_overwrite_repairs_a_damaged_log(store: StoreCase, damage: str) -> None:
    bucket = _table(store)
    DAMAGE[damage][0](store)

    bucket.write(pl.DataFrame({"id": [9], "v": ["new"]}))

    assert bucket.read().to_dicts() == [{"id": 9, "v": "new"}]
    assert [c["version"] for c in bucket.history()] == [0]
    bucket.write(V[1], mode="append")
    assert sorted(bucket.read()["id"].to_list()) == [1, 9]


# -- time travel: vacuumed versions, times before the table ---------------------------------


@pytest.mark.parametrize("name", ["local", "s3", "azure"])
def test_a_vacuumed_version_is_refused_as_vacuumed(
    request: pytest.FixtureRequest, name: str
) -> None:
    store = make_store_case(request, name)
    bucket = _table(store)
    bucket.write(V[2])  # an overwrite: older versions' files are now only history
    bucket.vacuum(timedelta(0), force=True)

    for read in (lambda: bucket.read(version=1), lambda: bucket.scan(version=1).collect()):
        with pytest.raises(VersionNotFoundError, match=r"version 1 was vacuumed: .*history"):
            read()
    assert bucket.read(version=3).to_dicts() == V[2].to_dicts()


def test_a_time_before_the_table_existed_is_refused(store: StoreCase) -> None:
    bucket = _table(store)
    first = bucket.history()[-1]["timestamp"]

    with pytest.raises(
        VersionNotFoundError, match=r"no version at 2000-01-01.*oldest version \(0\)"
    ):
        bucket.read(version=datetime(2000, 1, 1))
    with pytest.raises(VersionNotFoundError, match="no version at"):
        bucket.scan(version=datetime(2000, 1, 1, tzinfo=UTC))
    # A time reads the newest version committed at or before it, by history()'s times.
    at_first = datetime.fromtimestamp(first / 1000, tz=UTC)
    assert bucket.read(version=at_first).to_dicts() == V[0].to_dicts()
    assert bucket.read(version=datetime.now(UTC)).height == 3


# -- what list() shows after a killed writer ------------------------------------------------


class _Killed(BaseException):
    """A writer's death at a chosen moment (nothing after it runs, as after SIGKILL)."""


def _orphan(store: StoreCase, name: str) -> str:
    """A complete data file in the table's directory that no commit names, as a writer
    killed between writing its data and committing leaves it."""
    data = io.BytesIO()
    V[2].write_parquet(data)
    path = _path(store, name)
    store.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
    store.fs.pipe_file(path, data.getvalue())
    return path


def _killed_before_commit(store: StoreCase, monkeypatch: pytest.MonkeyPatch) -> None:
    import deltalake

    def write_then_die(*args: Any, **kwargs: Any) -> None:
        _orphan(store, "part-00000-killed-c000.snappy.parquet")
        raise _Killed

    monkeypatch.setattr(deltalake, "write_deltalake", write_then_die)


def test_a_creator_killed_before_its_commit_leaves_no_table(
    store: StoreCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = store.bucket("orders/")
    _killed_before_commit(store, monkeypatch)
    with pytest.raises(_Killed):
        bucket.write(V[0])
    monkeypatch.undo()

    assert bucket.list() == []
    assert not bucket.exists()
    with pytest.raises(ObjectNotFoundError, match="began creating it and never committed"):
        bucket.read()
    bucket.write(V[1], mode="append")  # the orphan's rows are not taken in
    assert bucket.read().to_dicts() == V[1].to_dicts()
    assert len(bucket.list()) == 1 and "killed" not in bucket.list()[0]


@pytest.mark.parametrize("name", ["local", "memory", "s3"])
def test_list_shows_the_files_of_the_current_version_not_a_killed_writers(
    request: pytest.FixtureRequest, name: str
) -> None:
    store = make_store_case(request, name)
    bucket = _table(store)
    listed = bucket.list()
    orphan = _orphan(store, "part-00000-orphan-c000.snappy.parquet")

    assert bucket.list() == listed
    assert len(listed) == 3 and all(k.startswith("orders/part-") for k in listed)
    assert sorted(bucket.read()["id"].to_list()) == [0, 1, 2]
    if name != "memory":  # vacuum runs where delta-rs reaches the store
        removed = bucket.vacuum(timedelta(0), force=True)
        assert any(r.endswith("orphan-c000.snappy.parquet") for r in removed)
        assert not store.fs.exists(orphan)

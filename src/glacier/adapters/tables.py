"""Delta Lake tables: the layout of every multi-file dataset Glacier writes.

A dataset directory (a Bucket whose path is empty, ends in ``/`` or is partitioned) holding
parquet is a Delta Lake table, written and read through delta-rs (the ``deltalake`` package;
polars' ``scan_delta`` reads it). Its data files are plain parquet in hive-style partition
directories, and its ``_delta_log/`` says which of them make up each version, so DuckDB,
pyarrow, pandas, Spark and Athena read exactly the rows Glacier reads, and every commit is
atomic: a reader sees one whole version, never a mix.

Why Delta and not Glacier's own manifest (the ``_glacier/`` layout of earlier releases):
other engines skip ``_``-prefixed directories or read superseded versions, and a manifest
replaced by whoever wrote last loses a concurrent writer's rows. Delta's log is a sequence of
numbered commits created only if absent (S3 conditional writes, Azure and local
create-if-absent), so two writers never overwrite each other's commit: appends are retried by
delta-rs on top of the other commit, and conflicting writes fail with
:class:`~glacier.errors.ConcurrentWriteError`.

This module is the I/O on one table given the URI and storage options delta-rs takes
(:attr:`glacier.adapters.filesystems.Store.delta`); where delta-rs cannot reach the store,
:mod:`glacier.adapters.table_mirror` runs the same operations on a local mirror.

The schema-evolution policy is :func:`check_evolution`: the same columns with the same types,
or, with ``schema="merge"``, new columns too (nullable: old rows read them as null); a type
change is always refused (write with ``mode="overwrite"`` to replace the table's schema).

>>> merge_predicate(["order_id", "day"])
't.`order_id` = s.`order_id` AND t.`day` = s.`day`'
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import polars as pl

from glacier.errors import (
    ConcurrentWriteError,
    ObjectNotFoundError,
    RetentionError,
    SchemaEvolutionError,
    SchemaMismatchError,
    StorageError,
    TableCreatedConcurrentlyError,
    VersionNotFoundError,
)
from glacier.schemas import compare_schemas

if TYPE_CHECKING:
    from deltalake import DeltaTable

__all__ = [
    "CREATION_MARK",
    "DEFAULT_RETENTION",
    "DELTA_LOG",
    "WRITE_TOKEN",
    "SchemaPolicy",
    "TableIO",
    "TableMode",
    "check_evolution",
    "merge_predicate",
    "refuse_before_oldest",
]

T = TypeVar("T")

#: The table's commit log, beside its data files.
DELTA_LOG = "_delta_log"
#: An empty object in the log that marks a table whose creation has begun: written before
#: the first commit's data files, so files a killed creator left (no commit names them) are
#: told apart from data files another tool wrote without a log. It stays (a task's role may
#: not delete in a table, see glacier.infra.aws.data_access); Delta readers ignore names
#: they do not know.
CREATION_MARK = ".glacier-creating"
#: The commit-info key of a write's random token (how an ambiguous commit is recognised).
WRITE_TOKEN = "glacier.write"
#: How long vacuum keeps files older versions need (Delta's own default: 7 days).
DEFAULT_RETENTION = timedelta(days=7)

TableMode = Literal["overwrite", "append", "overwrite_partitions", "merge"]
#: ``None``: the stored schema exactly; ``"merge"``: new (nullable) columns allowed too.
SchemaPolicy = Literal["merge"] | None

#: A point in the table's history: a version number or a timestamp.
Version = int | datetime | None


def refuse_before_oldest(name: str, when: datetime, oldest: int, committed_ms: int) -> None:
    """Refuse a time before the oldest commit (version ``oldest``, committed at
    ``committed_ms`` milliseconds since the epoch): delta-rs would load that oldest version,
    though there was no table (or no version kept) then. A time without a timezone is UTC,
    as delta-rs takes it.

    Raises:
        VersionNotFoundError: naming the time and the oldest version.
    """
    moment = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    if round(moment.timestamp() * 1000) >= committed_ms:
        return
    committed = datetime.fromtimestamp(committed_ms / 1000, tz=UTC)
    raise VersionNotFoundError(
        f"read {name}: the table has no version at {when.isoformat()}: its oldest version "
        f"({oldest}) was committed at {committed.isoformat()}. Read a time at or after that, "
        "or a version number (see bucket.history())."
    )


def merge_predicate(on: Sequence[str]) -> str:
    """The SQL join predicate of a merge on the key columns ``on`` (target ``t``, source
    ``s``)."""
    return " AND ".join(f"t.`{key}` = s.`{key}`" for key in on)


def check_evolution(
    name: str, stored: pl.Schema, incoming: pl.Schema, policy: SchemaPolicy, fix: str
) -> None:
    """Refuse a write whose schema the evolution policy forbids (see the module docstring).

    Raises:
        SchemaEvolutionError: for a type change, or new/missing columns without
            ``schema="merge"``; the message names the columns and the fix.
    """
    diff = compare_schemas(stored, incoming, nulls_match=True)
    if policy == "merge" and not diff.differing:
        return
    if not diff:
        return
    allowed = (
        "Type changes are never applied to a table"
        if diff.differing
        else "To add or leave out columns, pass schema='merge'"
    )
    raise SchemaEvolutionError(
        f"{name}: the new data does not match the stored schema: "
        f"{diff.describe('stored', 'new')}. Stored schema: {dict(stored)}. {allowed}; cast or "
        f"select the columns to match, or {fix}."
    )


@dataclass(frozen=True)
class TableIO:
    """Operations on the Delta table at ``uri`` (a local path or an object-store URI).

    Attributes:
        uri: What delta-rs opens: ``/abs/path``, ``s3://bucket/key``, ``az://...``.
        storage_options: delta-rs storage options (object_store keys); ``{}`` for local.
        name: The table's Glacier URI, used in messages.
        commits_with: ``token -> bool``: whether a recent commit carries a write token (the
            bucket adapter reads the log through fsspec: delta-rs' own reads of the log
            hold the GIL while they wait, stalling a store served by this process).
    """

    uri: str
    storage_options: dict[str, str]
    name: str
    commits_with: Callable[[str], bool] | None = None

    # -- reading ---------------------------------------------------------------------------

    def open(self, version: Version = None) -> DeltaTable:
        """The table at ``version`` (a number or a timestamp), the latest by default.

        Raises:
            ObjectNotFoundError: if there is no table.
            VersionNotFoundError: if the table has no such version.
        """
        from deltalake import DeltaTable

        with self.errors("read"):
            table = _retrying_transport(
                lambda: DeltaTable(self.uri, storage_options=self.storage_options)
            )
        if version is None:
            return table
        latest = table.version()
        try:
            table.load_as_version(version)
        except Exception as exc:
            raise self._no_version(version, latest) from exc
        return table

    def _no_version(self, version: Version, latest: int) -> VersionNotFoundError:
        what = f"version {version}" if isinstance(version, int) else f"a version at {version}"
        return VersionNotFoundError(
            f"read {self.name}: the table has no {what}; its versions run from 0 (or the "
            f"oldest one vacuum kept) to {latest}. See bucket.history() for what exists, and "
            f"read an existing version or timestamp."
        )

    def scan(
        self, version: Version = None, check: Callable[[list[str]], None] | None = None
    ) -> pl.LazyFrame:
        """A lazy scan: polars prunes partitions and row groups by the file statistics.
        ``check`` is given the version's data files (relative paths) before the scan."""
        table = self.open(version)
        if check is not None:
            check(self.files(table))
        return pl.scan_delta(table, storage_options=self._polars_options())

    def schema(self, table: DeltaTable | None = None) -> pl.Schema:
        """The table's schema as polars types (metadata only)."""
        table = table if table is not None else self.open()
        return pl.scan_delta(table, storage_options=self._polars_options()).collect_schema()

    def _polars_options(self) -> dict[str, Any] | None:
        """The storage options as polars takes them (its ``max_retries`` is a number)."""
        options: dict[str, Any] = dict(self.storage_options)
        if "max_retries" in options:
            options["max_retries"] = int(options["max_retries"])
        return options or None

    def files(self, table: DeltaTable | None = None) -> list[str]:
        """Paths of the current data files, relative to the table's root."""
        table = table if table is not None else self.open()
        root = table.table_uri.rstrip("/")
        prefixes = (f"{root}/", f"{self.uri.rstrip('/')}/")
        relative = []
        for uri in table.file_uris():
            start = next((p for p in prefixes if uri.startswith(p)), None)
            relative.append(uri[len(start) :] if start else uri.rsplit("/", 1)[-1])
        return sorted(relative)

    def history(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Commits, newest first: ``version``, ``timestamp``, ``operation``, parameters."""
        with self.errors("read the history of"):
            return list(self.open().history(limit))

    # -- writing ---------------------------------------------------------------------------

    def write(
        self,
        frame: pl.DataFrame,
        mode: TableMode,
        partition_by: Sequence[str],
        *,
        exists: bool,
        on: Sequence[str] = (),
        delete_when: str | None = None,
        schema: SchemaPolicy = None,
    ) -> dict[str, Any]:
        """Commit ``frame`` to the table (creating it): see :meth:`Bucket.write
        <glacier.resources.Bucket.write>` for the modes; ``exists`` says whether the
        table has a commit yet. Returns delta-rs' metrics."""
        from deltalake import write_deltalake

        if mode == "merge" and exists:
            return self._merge(frame, on, delete_when, schema)
        if delete_when is not None:  # a new table: rows marked for deletion are not inserted
            frame = frame.filter(~pl.col(delete_when).fill_null(False)).drop(delete_when)
        options: dict[str, Any] = {
            "partition_by": list(partition_by) or None,
            "storage_options": self.storage_options or None,
        }
        retries: int | None = None  # delta-rs' default: rebase on commits made meanwhile
        if not exists:
            # A new table: created only if still absent. delta-rs would rebase a creation
            # that lost the race onto the winner's version 0 as version 1 (an overwrite that
            # then removes nothing, or replaces the winner's rows): it must fail instead, and
            # the caller applies the write to the table that now exists.
            write_mode: Any = "error"
            options["schema_mode"] = None
            retries = 0
        elif mode in ("merge", "overwrite"):
            # A table replaced whole: its schema and partitioning are the data's.
            write_mode = "overwrite"
            options["schema_mode"] = "overwrite"
        else:
            write_mode = "append"
            options["schema_mode"] = schema
            if mode == "overwrite_partitions":
                write_mode = "overwrite"
                options["predicate"] = self._partitions_predicate(frame, partition_by)
        token = uuid.uuid4().hex

        def commit() -> None:
            with self._unless_landed(token):
                write_deltalake(
                    self.uri,
                    frame,
                    mode=write_mode,
                    commit_properties=_commit_properties(token, retries),
                    post_commithook_properties=_post_commit_hooks(),
                    **options,
                )

        with self.errors("write"), self._creating(exists):
            # A connection broken mid-write is retried here: the token tells whether the
            # commit landed, so a retry never applies it twice (delta-rs does not retry a
            # PUT whose connection broke). Files of the failed attempt are left to vacuum.
            _retrying_transport(commit)
        return {"num_added_rows": frame.height}

    def _partitions_predicate(self, frame: pl.DataFrame, partition_by: Sequence[str]) -> str:
        """``(k = 'a' AND j = 1) OR ...`` over the partitions present in ``frame``."""
        if not partition_by:
            raise SchemaMismatchError(
                f"write {self.name}: mode='overwrite_partitions' replaces the partitions the "
                "new data holds, but the table has no partition columns. Use "
                "mode='overwrite', or declare partition_by= on the Bucket."
            )
        combos = frame.select(partition_by).unique().rows()
        if not combos:
            return "false"
        return " OR ".join(
            "("
            + " AND ".join(_sql_equals(c, v) for c, v in zip(partition_by, row, strict=True))
            + ")"
            for row in combos
        )

    def _merge(
        self,
        frame: pl.DataFrame,
        on: Sequence[str],
        delete_when: str | None,
        schema: SchemaPolicy,
    ) -> dict[str, Any]:
        table = self.open()
        columns = [c for c in frame.columns if c != delete_when]
        token = uuid.uuid4().hex
        merger = table.merge(
            frame,
            predicate=merge_predicate(on),
            source_alias="s",
            target_alias="t",
            merge_schema=schema == "merge",
            commit_properties=_commit_properties(token),
            post_commithook_properties=_post_commit_hooks(),
        )
        values = {c: f"s.`{c}`" for c in columns}
        if delete_when is not None:
            flag = f"s.`{delete_when}` = true"
            keep = f"s.`{delete_when}` IS NOT TRUE"
            merger = merger.when_matched_delete(predicate=flag)
            merger = merger.when_matched_update(updates=values, predicate=keep)
            merger = merger.when_not_matched_insert(updates=values, predicate=keep)
        else:
            merger = merger.when_matched_update(updates=values)
            merger = merger.when_not_matched_insert(updates=values)
        with self.errors("merge into"), self._unless_landed(token):
            return dict(merger.execute())
        return {}  # the commit landed; its answer (and metrics) were lost

    # -- maintenance -----------------------------------------------------------------------

    def vacuum(
        self, retention: timedelta, configured: timedelta, *, force: bool, dry_run: bool
    ) -> list[str]:
        """Delete files no version younger than ``retention`` needs (and orphans of killed
        writers), and expired log files; returns the data files' paths. Refuses less than
        ``configured`` without ``force``."""
        if retention < configured and not force:
            raise RetentionError(
                f"vacuum {self.name}: retention {_hours(retention)} h is shorter than the "
                f"configured {_hours(configured)} h: readers and time travel to versions in "
                "between would lose their files. Pass a longer retention, or force=True "
                "(--force) if nothing reads those versions."
            )
        table = self.open()
        with self.errors("vacuum"):
            removed = list(
                table.vacuum(
                    retention_hours=_hours(retention),
                    dry_run=dry_run,
                    enforce_retention_duration=False,
                    # "full": files no commit ever named (a killed writer's) go too, not
                    # only those later commits removed.
                    full=True,
                )
            )
            if not dry_run:
                # Log files past the table's log retention (delta.logRetentionDuration, 30
                # days by default) that a checkpoint has made unnecessary: writes leave them
                # (see _post_commit_hooks), maintenance removes them.
                table.cleanup_metadata()
            return removed

    def optimize(self, target_size: int | None = None) -> dict[str, Any]:
        """Compact small files into larger ones (a new version; old files stay until vacuum)."""
        table = self.open()
        with self.errors("optimize"):
            return dict(table.optimize.compact(target_size=target_size))

    # -- ambiguous commits -----------------------------------------------------------------

    @contextlib.contextmanager
    def _unless_landed(self, token: str) -> Iterator[None]:
        """Swallow the error of a commit that landed anyway: the store applied the commit and
        the answer was lost (a 500, a reset). Each commit carries a random token in its
        commit info (:data:`WRITE_TOKEN`); after an error, a recent commit holding it means
        this write is in the table, and retrying it would apply it twice."""
        try:
            yield
        except Exception:
            if not self.landed(token):
                raise

    def landed(self, token: str, depth: int = 20) -> bool:
        """Whether one of the table's ``depth`` newest commits carries ``token``."""
        try:
            if self.commits_with is not None:
                return self.commits_with(token)
            recent = self.open().history(depth)
        except Exception:
            return False  # cannot tell: the original error stands
        return any(commit.get(WRITE_TOKEN) == token for commit in recent)

    @contextlib.contextmanager
    def _creating(self, exists: bool) -> Iterator[None]:
        """Report a creation that lost the race to another writer's (its version 0 exists, or
        the table appeared before delta-rs opened it) as
        :class:`~glacier.errors.TableCreatedConcurrentlyError`."""
        if exists:
            yield
            return
        from deltalake.exceptions import CommitFailedError

        try:
            yield
        except Exception as exc:
            raced = isinstance(exc, CommitFailedError) or "already exists" in str(exc)
            if not raced or type(exc).__module__.split(".")[0] not in ("deltalake", "_internal"):
                raise
            raise TableCreatedConcurrentlyError(
                f"write {self.name}: another writer created the table while this write was "
                f"creating it ({exc}). Nothing of this write was committed; retry it (it "
                "applies to the table that now exists)."
            ) from exc

    # -- errors ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def errors(self, action: str) -> Iterator[None]:
        """Translate delta-rs errors into GlacierError subclasses naming the table."""
        from deltalake.exceptions import CommitFailedError, TableNotFoundError
        from deltalake.exceptions import SchemaMismatchError as DeltaSchemaError

        try:
            yield
        except TableNotFoundError as exc:
            raise ObjectNotFoundError(
                f"{action} {self.name}: no such table ({exc}). Write it first, or fix the path."
            ) from exc
        except CommitFailedError as exc:
            raise ConcurrentWriteError(
                f"{action} {self.name}: another writer committed a conflicting change first "
                f"({exc}). Nothing of this write was committed; retry it (it will apply on top "
                "of the other writer's version)."
            ) from exc
        except DeltaSchemaError as exc:
            raise SchemaEvolutionError(
                f"{action} {self.name}: the data's schema does not fit the table ({exc}). New "
                "columns need schema='merge'; type changes need mode='overwrite'."
            ) from exc
        except OSError:
            raise
        except Exception as exc:
            if type(exc).__module__.split(".")[0] in ("deltalake", "_internal"):
                raise StorageError(f"{action} {self.name} failed: {exc}") from exc
            raise


#: Waits (seconds) before each retry of an operation that failed in transport. delta-rs
#: retries an object store's HTTP errors itself, but not a response it could not parse (a
#: connection the store broke mid-answer: "error sending request"); reading a table is
#: idempotent, so it is retried here, and so is a write, whose commit token tells whether
#: the commit landed before the connection broke.
TRANSPORT_RETRY_WAITS = (0.1, 0.4, 1.6)
_TRANSPORT_FAILURES = ("error sending request", "connection reset", "connection closed")


def _retrying_transport(read: Callable[[], T]) -> T:
    for wait in (*TRANSPORT_RETRY_WAITS, None):
        try:
            return read()
        except OSError as exc:
            if wait is None or not broken_in_transport(exc):
                raise
            time.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def _commit_properties(token: str, max_retries: int | None = None) -> Any:
    from deltalake import CommitProperties

    return CommitProperties(custom_metadata={WRITE_TOKEN: token}, max_commit_retries=max_retries)


def _post_commit_hooks() -> Any:
    """What a write or merge does after its commit: a checkpoint when one is due, but no
    clean-up of expired log files. That clean-up deletes objects, which a task's role may
    not (its policy grants no ``s3:DeleteObject`` on a table, see
    :mod:`glacier.infra.aws.data_access`); without a delete grant delta-rs would fail the
    write after its commit landed. Vacuum's own commits clean the log (maintenance runs with
    the deployer's credentials)."""
    from deltalake import PostCommitHookProperties

    return PostCommitHookProperties(create_checkpoint=True, cleanup_expired_logs=False)


def broken_in_transport(exc: BaseException) -> bool:
    """Whether delta-rs failed on a connection the store broke (not on a timeout: the client
    has spent its time budget on those already, and a silent store stays silent)."""
    message = str(exc).lower()
    if "timed out" in message or "timeout" in message:
        return False
    return any(f in message for f in _TRANSPORT_FAILURES)


def _hours(span: timedelta) -> int:
    return int(span.total_seconds() // 3600)


def _sql_equals(column: str, value: Any) -> str:
    if value is None:
        return f"`{column}` IS NULL"
    if isinstance(value, bool):
        return f"`{column}` = {str(value).lower()}"
    if isinstance(value, int | float):
        return f"`{column}` = {value}"
    text = str(value).replace("'", "''")
    return f"`{column}` = '{text}'"

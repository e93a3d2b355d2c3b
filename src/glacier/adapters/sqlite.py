"""SQLite database files read into and written from polars frames, for local work.

A ``LocalConfig`` database may be a file instead of a PostgreSQL server:
``[databases.scratch] url = "sqlite:///data/scratch.db"`` (three slashes: relative to the
working directory; four: absolute). It is the same :class:`~glacier.Database` with the same
tables, modes and refusals as PostgreSQL (:mod:`glacier.adapters.database`), through Python's
own ``sqlite3`` module: no driver to install (ADBC's SQLite driver is not a dependency).

Every write is one transaction (``BEGIN IMMEDIATE``: one writer at a time, readers see old or
new rows): ``replace`` deletes the rows and inserts, ``append`` inserts, ``upsert`` inserts
with ``ON CONFLICT (key) DO UPDATE``. A failure rolls the whole write back.

Example:
    >>> import tempfile, polars as pl
    >>> from glacier.settings import DatabaseConnection
    >>> path = tempfile.mkdtemp() + "/shop.db"
    >>> db = SqliteAdapter(DatabaseConnection(url=f"sqlite:///{path}"), "shop")
    >>> db.write("orders", pl.DataFrame({"id": [1, 2], "n": [3.5, 4.0]}), "upsert", ["id"])
    >>> db.write("orders", pl.DataFrame({"id": [2], "n": [9.0]}), "upsert", None)
    >>> db.read_table("orders").to_dicts()
    [{'id': 1, 'n': 3.5}, {'id': 2, 'n': 9.0}]
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from glacier.errors import ColumnTypeError, DatabaseError, TableKeyError, TableNotFoundError
from glacier.redaction import redact

if TYPE_CHECKING:
    import polars as pl

    from glacier.settings import DatabaseConnection

__all__ = ["SqliteAdapter"]

#: SQLite's column type for each polars type family (SQLite stores by value; these are the
#: affinities that read back as the same polars type). Others are stored as text.
_AFFINITY = {"int": "INTEGER", "uint": "INTEGER", "float": "REAL", "bool": "INTEGER"}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SqliteAdapter:
    """Queries, reads and writes of one SQLite file (see the module docs)."""

    def __init__(self, connection: DatabaseConnection, database: str) -> None:
        self.connection = connection
        self.database = database
        self.path = connection.sqlite_path()

    # -- reads -----------------------------------------------------------------------------

    def query(self, sql: str) -> pl.DataFrame:
        """The result of ``sql`` as a DataFrame."""
        import polars as pl

        with self._connect() as conn:
            try:
                cur = conn.execute(sql)
                rows = cur.fetchall()
                names = [d[0] for d in cur.description or ()]
            except sqlite3.Error as exc:
                raise self._error(exc, f"query {sql[:80]!r}") from None
        return pl.DataFrame(rows, schema=names, orient="row")

    def execute(self, statements: Sequence[str]) -> None:
        """Run ``statements`` in one transaction; if one fails, none is applied."""
        with self._transaction() as conn:
            for sql in statements:
                conn.execute(sql)

    def read_table(self, table: str) -> pl.DataFrame:
        """Every row of ``table``."""
        self._require(table)
        return self.query(f"SELECT * FROM {_quote(table)}")

    def schema(self, table: str) -> pl.Schema:
        """The polars schema of ``table`` (read from its rows)."""
        return self.read_table(table).schema

    def exists(self, table: str) -> bool:
        """Whether ``table`` exists."""
        with self._connect() as conn:
            return _exists(conn, table)

    def primary_key(self, table: str) -> list[str]:
        """The columns of ``table``'s primary key (none if it has none or does not exist)."""
        with self._connect() as conn:
            return _primary_key(conn, table)

    def check_columns(self, table: str, data: pl.DataFrame, mode: str) -> None:
        """Refuse what :meth:`write` would refuse of ``data``'s columns (nothing written)."""
        with self._connect() as conn:
            if _exists(conn, table):
                _check_types(conn, table, data, f"Database {self.database!r}, table {table!r}")

    def fingerprint(self, table: str) -> str:
        """Changes when the table's rows do: their count and the file's change counter."""
        frame = self.query(f"SELECT count(*) AS n FROM {_quote(table)}")
        version = self.query("PRAGMA data_version")
        return f"{frame['n'][0]}:{self.path.stat().st_mtime_ns}:{version.row(0)[0]}"

    # -- writes ----------------------------------------------------------------------------

    def write(self, table: str, data: pl.DataFrame, mode: str, key: Sequence[str] | None) -> None:
        """Write ``data`` to ``table`` in one transaction (``mode``: replace, append, upsert).

        Raises:
            TableKeyError: an upsert without a key the table has (nothing was written).
            DatabaseError: SQLite refused the write (nothing was written).
        """
        where = f"Database {self.database!r}, table {table!r}"
        with self._transaction(f"write to table {table!r}") as conn:
            exists = _exists(conn, table)
            keys = list(key) if key else (_primary_key(conn, table) if exists else [])
            if mode == "upsert" and not keys:
                raise TableKeyError(
                    f"{where}: an upsert needs a key, and the table "
                    f"{'has no primary key' if exists else 'does not exist yet'}. Pass the "
                    "key columns (write(df, mode='upsert', on=['order_id'])) or give the table "
                    "one."
                )
            if not exists:
                _create(conn, table, data, keys if mode == "upsert" else [])
            else:
                if mode == "upsert" and not _has_unique(conn, table, keys):
                    raise TableKeyError(
                        f"{where}: an upsert on {keys} needs a primary key or unique index on "
                        "exactly those columns, and the table has none. Add one (CREATE UNIQUE "
                        f"INDEX ... ON {table} ({', '.join(keys)})) or upsert on the table's "
                        "key."
                    )
                _check_types(conn, table, data, where)
                if mode == "replace":
                    conn.execute(f"DELETE FROM {_quote(table)}")
            _insert(conn, table, data, keys if mode == "upsert" else [])

    # -- internals -------------------------------------------------------------------------

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if not self.path.parent.is_dir():
            raise DatabaseError(
                f"Database {self.database!r} ({self.connection.describe()}): the directory "
                f"{str(self.path.parent)!r} does not exist. Create it, or point the url at an "
                "existing one (sqlite:///relative/path.db or sqlite:////absolute/path.db)."
            )
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _transaction(self, what: str = "statement") -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException as exc:
                conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._error(exc, what, written=False) from None
                raise
            conn.execute("COMMIT")

    def _require(self, table: str) -> None:
        if not self.exists(table):
            raise TableNotFoundError(
                f"Database {self.database!r} ({self.connection.describe()}): there is no "
                f"table {table!r} in this database. Check the table's name, or write the "
                "table first."
            )

    def _error(self, exc: BaseException, what: str, *, written: bool = True) -> DatabaseError:
        where = f"Database {self.database!r} ({self.connection.describe()})"
        text = redact(str(exc))
        nothing = "" if written else " Nothing was written: the database is as it was."
        if text.startswith("no such table"):
            return TableNotFoundError(
                f"{where}: {what} failed: {text}. Check the table's name, or write it "
                f"first.{nothing}"
            )
        return DatabaseError(f"{where}: {what} failed: {text}.{nothing}")


def _exists(conn: sqlite3.Connection, table: str) -> bool:
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    return found is not None


def _primary_key(conn: sqlite3.Connection, table: str) -> list[str]:
    rows = conn.execute(f"PRAGMA table_info({_quote(table)})").fetchall()
    return [row[1] for row in sorted(rows, key=lambda r: r[5]) if row[5] > 0]


def _has_unique(conn: sqlite3.Connection, table: str, keys: Sequence[str]) -> bool:
    if set(_primary_key(conn, table)) == set(keys):
        return True
    for index in conn.execute(f"PRAGMA index_list({_quote(table)})").fetchall():
        if index[2] and not index[4]:  # unique, not partial
            columns = conn.execute(f"PRAGMA index_info({_quote(index[1])})").fetchall()
            if {c[2] for c in columns} == set(keys):
                return True
    return False


def _affinity(declared: str) -> str:
    """SQLite's affinity of a column declared ``declared`` (its rules, in their order).

    >>> [_affinity(t) for t in ("BIGINT", "VARCHAR(9)", "", "DOUBLE", "DECIMAL")]
    ['INTEGER', 'TEXT', 'BLOB', 'REAL', 'NUMERIC']
    """
    upper = declared.upper()
    if "INT" in upper:
        return "INTEGER"
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if not upper or "BLOB" in upper:
        return "BLOB"
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def _check_types(conn: sqlite3.Connection, table: str, data: pl.DataFrame, where: str) -> None:
    """Refuse, before a row is written, a frame column the table lacks or one that would not
    read back: SQLite keeps a string in a number column as it is, and a column holding both
    then reads as no polars type."""
    declared = {row[1]: row[2] for row in conn.execute(f"PRAGMA table_info({_quote(table)})")}
    extra = [c for c in data.columns if c not in declared]
    if extra:
        raise ColumnTypeError(
            f"{where}: column(s) {extra} of the frame are not in the table (its columns: "
            f"{list(declared)}). Drop them from the frame, or add them to the table "
            "(ALTER TABLE ... ADD COLUMN). Nothing was written."
        )
    for name, dtype in data.schema.items():
        affinity = _affinity(declared[name])
        numeric = dtype.is_numeric() or str(dtype) in ("Boolean", "Null")
        if affinity in ("INTEGER", "REAL", "NUMERIC") and not numeric:
            raise ColumnTypeError(
                f"{where}: column {name!r} is {declared[name] or affinity} in the table, and "
                f"the frame's is {dtype}; it would not read back. Cast it to a number "
                f"(pl.col({name!r}).cast(pl.Float64)) or write it to a text column. Nothing "
                "was written."
            )


def _create(conn: sqlite3.Connection, table: str, data: pl.DataFrame, keys: Sequence[str]) -> None:
    columns = [
        f"{_quote(name)} {_AFFINITY.get(_family(dtype), 'TEXT')}"
        for name, dtype in data.schema.items()
    ]
    if keys:
        columns.append(f"PRIMARY KEY ({', '.join(_quote(k) for k in keys)})")
    conn.execute(f"CREATE TABLE {_quote(table)} ({', '.join(columns)})")


def _insert(conn: sqlite3.Connection, table: str, data: pl.DataFrame, keys: Sequence[str]) -> None:
    names = ", ".join(_quote(c) for c in data.columns)
    marks = ", ".join("?" for _ in data.columns)
    sql = f"INSERT INTO {_quote(table)} ({names}) VALUES ({marks})"
    if keys:
        updates = [_quote(c) for c in data.columns if c not in keys]
        target = ", ".join(_quote(k) for k in keys)
        action = (
            "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in updates)
            if updates
            else "DO NOTHING"
        )
        sql += f" ON CONFLICT ({target}) {action}"
    conn.executemany(sql, data.iter_rows())


def _family(dtype: Any) -> str:
    if dtype.is_integer():
        return "uint" if dtype.is_unsigned_integer() else "int"
    if dtype.is_float():
        return "float"
    return "bool" if str(dtype) == "Boolean" else "other"

"""PostgreSQL tables read into and written from polars frames, through Arrow.

The bytes take a field-made path: ADBC's PostgreSQL driver (``adbc-driver-postgresql``,
the ``postgres`` extra) reads query results as Arrow over libpq's binary COPY and writes frames
with ``COPY ... FROM STDIN (FORMAT binary)``; connectorx is the other reader
(``reader = "connectorx"`` in the connection settings). docs/databases.md says which is faster
here and by how much.

Every write is one transaction: ``replace`` truncates and copies, ``append`` copies,
``upsert`` copies into a temporary staging table and runs ``INSERT ... SELECT ... ON CONFLICT
(key) DO UPDATE``. A failure at any step rolls the whole write back, so the table is as it was.

Which adapter serves a database is a row of :data:`ENGINES`, looked up by the resource's
engine (``postgres``, ``dynamodb``); engines without a row get the unavailable adapter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from glacier.adapters.unavailable import UnavailableAdapter
from glacier.errors import (
    ColumnTypeError,
    DatabaseError,
    MissingExtraError,
    TableKeyError,
    TableNotFoundError,
)
from glacier.extras import require
from glacier.redaction import redact

if TYPE_CHECKING:
    import polars as pl

    from glacier.settings import DatabaseConnection

__all__ = ["ENGINES", "PostgresAdapter", "database_adapter", "quote_table"]

#: The SQLSTATE of "relation does not exist".
_UNDEFINED_TABLE = "42P01"
_RELATION = re.compile(r'relation "([^"]+)" does not exist')


def quote_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier (a frame's column names may be anything)."""
    return '"' + name.replace('"', '""') + '"'


def quote_table(table: str) -> str:
    """``sales.orders`` -> ``"sales"."orders"`` (names are checked where a table is declared).

    >>> quote_table("sales.orders")
    '"sales"."orders"'
    """
    return ".".join(quote_identifier(part) for part in table.split("."))


class PostgresAdapter:
    """Queries, reads and writes of one PostgreSQL database (see the module docs)."""

    def __init__(self, connection: DatabaseConnection, database: str) -> None:
        self.connection = connection
        #: The database's name in Glacier, for messages.
        self.database = database

    # -- reads -----------------------------------------------------------------------------

    def query(self, sql: str) -> pl.DataFrame:
        """The result of ``sql`` as a DataFrame, read by the configured reader."""
        import polars as pl

        if self.connection.reader == "connectorx":
            cx = _connectorx()
            try:
                table = cx.read_sql(self._url_with_password(), sql, return_type="arrow")
            except RuntimeError as exc:
                raise self._error(exc, f"query {_short(sql)!r}") from None
            return pl.DataFrame(pl.from_arrow(table))
        with self._connect() as conn, _cursor(conn) as cur:
            try:
                cur.execute(sql)
                table = cur.fetch_arrow_table()
            except Exception as exc:
                raise self._error(exc, f"query {_short(sql)!r}") from None
        return pl.DataFrame(pl.from_arrow(table))

    def execute(self, statements: Sequence[str]) -> None:
        """Run ``statements`` in one transaction and commit; if one fails, none is applied."""
        with self._connect() as conn:
            sql = ""
            try:
                with _cursor(conn) as cur:
                    for sql in statements:
                        cur.execute(sql)
                conn.commit()
            except Exception as exc:
                conn.rollback()
                raise self._error(exc, f"statement {_short(sql)!r}", written=False) from None

    def read_table(self, table: str) -> pl.DataFrame:
        """Every row of ``table``."""
        return self.query(f"SELECT * FROM {quote_table(table)}")

    def schema(self, table: str) -> pl.Schema:
        """The polars schema of ``table`` (its columns, read with no rows)."""
        return self.query(f"SELECT * FROM {quote_table(table)} LIMIT 0").schema

    def exists(self, table: str) -> bool:
        """Whether ``table`` exists."""
        with self._connect() as conn, _cursor(conn) as cur:
            return _exists(cur, table)

    def primary_key(self, table: str) -> list[str]:
        """The columns of ``table``'s primary key (none if it has none or does not exist)."""
        with self._connect() as conn, _cursor(conn) as cur:
            return _primary_key(cur, table)

    def check_columns(self, table: str, data: pl.DataFrame, mode: str) -> None:
        """Refuse what :meth:`write` would refuse of ``data``'s columns (nothing written)."""
        where = f"Database {self.database!r}, table {table!r}"
        with self._connect() as conn, _cursor(conn) as cur:
            if _exists(cur, table):
                _check_types(cur, table, data, where, exact=mode != "upsert")

    def fingerprint(self, table: str) -> str:
        """Changes when the table's rows do: their count and newest transaction id."""
        frame = self.query(
            f"SELECT count(*) AS n, max(xmin::text::bigint) AS x FROM {quote_table(table)}"
        )
        return f"{frame['n'][0]}:{frame['x'][0]}"

    # -- writes ----------------------------------------------------------------------------

    def write(self, table: str, data: pl.DataFrame, mode: str, key: Sequence[str] | None) -> None:
        """Write ``data`` to ``table`` in one transaction (``mode``: replace, append, upsert).

        Raises:
            TableKeyError: an upsert without a key the table has (nothing was written).
            DatabaseError: the database refused the write (nothing was written).
        """
        arrow = data.to_arrow()
        schema, name = _split(table)
        with self._connect() as conn:
            try:
                with _cursor(conn) as cur:
                    exists = _exists(cur, table)
                    if exists:
                        where = f"Database {self.database!r}, table {table!r}"
                        # An upsert goes through INSERT ... SELECT, which casts within a kind
                        # (int8 to int4); a COPY takes each column's own binary type only.
                        _check_types(cur, table, data, where, exact=mode != "upsert")
                    if mode == "upsert":
                        _upsert(cur, table, arrow, data.columns, key, exists, self.database)
                    elif exists:
                        if mode == "replace":
                            # TRUNCATE keeps the table's keys, grants and indexes; it is
                            # transactional in PostgreSQL, so readers see old or new rows.
                            cur.execute(f"TRUNCATE {quote_table(table)}")
                        cur.adbc_ingest(name, arrow, mode="append", db_schema_name=schema)
                    else:
                        cur.adbc_ingest(name, arrow, mode="create", db_schema_name=schema)
                conn.commit()
            except Exception as exc:
                conn.rollback()
                if isinstance(exc, DatabaseError):
                    raise
                raise self._error(exc, f"write to table {table!r}", written=False) from None

    # -- internals -------------------------------------------------------------------------

    def _url_with_password(self) -> str:
        import os

        from pydantic import SecretStr

        password = self.connection.password()
        if password is None and "PGPASSWORD" in os.environ:
            # libpq reads PGPASSWORD itself; connectorx's own client does not.
            password = SecretStr(os.environ["PGPASSWORD"])
        return self.connection.with_libpq_defaults().libpq_url(password)

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        dbapi = require("adbc_driver_postgresql.dbapi", "postgres", "PostgreSQL databases")
        url = self.connection.libpq_url(self.connection.password())
        try:
            conn = dbapi.connect(url)
        except Exception as exc:
            # The driver's message names the server and libpq's reason, never the password.
            raise DatabaseError(
                f"Database {self.database!r} ({self.connection.describe()}): could not "
                f"connect: {_first_line(exc)}. Check [databases.{self.database}] in the "
                "environment's settings (host, port, dbname, user) and the password source "
                "(password_env, PGPASSWORD or ~/.pgpass)."
            ) from None
        try:
            yield conn
        finally:
            conn.close()

    def _error(self, exc: BaseException, what: str, *, written: bool = True) -> DatabaseError:
        text = str(exc)
        where = f"Database {self.database!r} ({self.connection.describe()})"
        missing = _RELATION.search(text)
        if getattr(exc, "sqlstate", None) == _UNDEFINED_TABLE or missing:
            table = missing.group(1) if missing else "?"
            return TableNotFoundError(
                f"{where}: {what} failed: there is no table {table!r} in this database. "
                "Check the table's name and schema (schema.table), or write the table first."
            )
        nothing = "" if written else " Nothing was written: the database is as it was."
        hint = ""
        if any(words in text for words in _BINARY_MISMATCH):
            # libpq's words for a COPY column of another binary type than the table's.
            hint = (
                " A column of the frame has another type than the table's: compare "
                "frame.schema with the table's columns and cast the frame's to match."
            )
        return DatabaseError(f"{where}: {what} failed: {_first_line(exc)}.{hint}{nothing}")


def _connectorx() -> Any:
    """connectorx is not part of the ``postgres`` extra (ADBC reads faster here)."""
    try:
        import connectorx
    except ModuleNotFoundError:
        raise MissingExtraError(
            "reader = 'connectorx' needs connectorx, which is not installed: pip install "
            "connectorx, or use the default reader = 'adbc'."
        ) from None
    return connectorx


def _upsert(
    cur: Any,
    table: str,
    arrow: Any,
    columns: Sequence[str],
    key: Sequence[str] | None,
    exists: bool,
    database: str,
) -> None:
    where = f"Database {database!r}, table {table!r}"
    keys = list(key) if key else (_primary_key(cur, table) if exists else [])
    if not keys:
        raise TableKeyError(
            f"{where}: an upsert needs a key, and the table "
            f"{'has no primary key' if exists else 'does not exist yet'}. Pass the key "
            "columns (write(df, mode='upsert', on=['order_id'])) or give the table one "
            f"(ALTER TABLE {table} ADD PRIMARY KEY (order_id))."
        )
    missing = [k for k in keys if k not in columns]
    if missing:
        raise TableKeyError(
            f"{where}: the key column(s) {missing} of the upsert are not in the frame "
            f"(its columns: {list(columns)}). Add them to the frame or upsert on other keys."
        )
    quoted = ", ".join(quote_identifier(k) for k in keys)
    schema, name = _split(table)
    if not exists:
        cur.adbc_ingest(name, arrow, mode="create", db_schema_name=schema)
        cur.execute(f"ALTER TABLE {quote_table(table)} ADD PRIMARY KEY ({quoted})")
        return
    if not any(set(unique) == set(keys) for unique in _unique_keys(cur, table)):
        raise TableKeyError(
            f"{where}: an upsert on {keys} needs a primary key or unique constraint on exactly "
            f"those columns, and the table has none. Add one (ALTER TABLE {table} ADD "
            f"PRIMARY KEY ({', '.join(keys)})) or upsert on the table's key."
        )
    staging = "glacier_upsert_staging"
    cur.adbc_ingest(staging, arrow, mode="create", temporary=True)
    names = ", ".join(quote_identifier(c) for c in columns)
    updates = [quote_identifier(c) for c in columns if c not in keys]
    action = (
        "DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in updates)
        if updates
        else "DO NOTHING"
    )
    cur.execute(
        f"INSERT INTO {quote_table(table)} ({names}) SELECT {names} FROM {staging} "
        f"ON CONFLICT ({quoted}) {action}"
    )
    cur.execute(f"DROP TABLE {staging}")


#: How PostgreSQL says a binary COPY column had another type than the table's.
_BINARY_MISMATCH = ("insufficient data left in message", "incorrect binary data format")

#: A PostgreSQL column type (``pg_type.typname``): its kind, and the polars types a binary
#: COPY writes into it (ADBC sends each Arrow type as its own binary form). Types not listed
#: are left to the server.
_PG_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "int2": ("number", ("Int16",)),
    "int4": ("number", ("Int32",)),
    "int8": ("number", ("Int64",)),
    "float4": ("number", ("Float32",)),
    "float8": ("number", ("Float64",)),
    "numeric": ("number", ()),
    "bool": ("bool", ("Boolean",)),
    "text": ("text", ("String",)),
    "varchar": ("text", ("String",)),
    "bpchar": ("text", ("String",)),
    "date": ("date", ("Date",)),
    "timestamp": ("datetime", ()),
    "timestamptz": ("datetime", ()),
    "bytea": ("binary", ("Binary",)),
}


def _kind(dtype: Any) -> str:
    """The kind of a polars type, as :data:`_PG_TYPES` names kinds."""
    if dtype.is_numeric():
        return "number"
    name = str(dtype)
    kinds = {"Boolean": "bool", "String": "text", "Date": "date", "Binary": "binary"}
    return "datetime" if name.startswith("Datetime") else kinds.get(name, "other")


def _check_types(cur: Any, table: str, data: pl.DataFrame, where: str, *, exact: bool) -> None:
    """Refuse, before a row is written, a frame column the table lacks or of a type its
    column does not take (``exact``: the very binary type a COPY needs), naming both types."""
    cur.execute(
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), t.typname::text "
        "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum",
        parameters=(quote_table(table),),
    )
    columns = {name: (shown, typname) for name, shown, typname in cur.fetchall()}
    extra = [c for c in data.columns if c not in columns]
    if extra:
        raise ColumnTypeError(
            f"{where}: column(s) {extra} of the frame are not in the table (its columns: "
            f"{list(columns)}). Drop them from the frame, or add them to the table "
            "(ALTER TABLE ... ADD COLUMN). Nothing was written."
        )
    for name, dtype in data.schema.items():
        shown, typname = columns[name]
        known = _PG_TYPES.get(typname)
        if known is None or str(dtype) == "Null":
            continue
        kind, binary = known
        if _kind(dtype) != kind:
            fits = f"the column takes a {kind}"
        elif exact and binary and str(dtype) not in binary:
            fits = f"a binary COPY into {shown} takes {binary[0]}"
        else:
            continue
        cast = f"pl.col({name!r}).cast(pl.{binary[0]})" if binary else f"pl.col({name!r})"
        raise ColumnTypeError(
            f"{where}: column {name!r} is {shown} in the table, and the frame's is {dtype} "
            f"({fits}). Cast the frame's column ({cast}) or change the table's "
            f"(ALTER TABLE ... ALTER COLUMN). Nothing was written."
        )


def _exists(cur: Any, table: str) -> bool:
    cur.execute("SELECT to_regclass($1)::text", parameters=(quote_table(table),))
    return cur.fetchone()[0] is not None


def _unique_keys(cur: Any, table: str) -> list[list[str]]:
    """The column lists of the table's primary key and unique indexes."""
    cur.execute(
        "SELECT array_agg(a.attname::text) FROM pg_index i JOIN pg_attribute a "
        "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL "
        "GROUP BY i.indexrelid ORDER BY bool_or(i.indisprimary) DESC",
        parameters=(quote_table(table),),
    )
    return [list(row[0]) for row in cur.fetchall()]


def _primary_key(cur: Any, table: str) -> list[str]:
    cur.execute(
        "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a "
        "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = to_regclass($1) AND i.indisprimary ORDER BY a.attnum",
        parameters=(quote_table(table),),
    )
    return [row[0] for row in cur.fetchall()]


@contextmanager
def _cursor(conn: Any) -> Iterator[Any]:
    cur = conn.cursor()
    try:
        yield cur
    finally:
        cur.close()


def _split(table: str) -> tuple[str | None, str]:
    schema, _, name = table.rpartition(".")
    return (schema or None), name


def _first_line(exc: BaseException) -> str:
    lines = [line for line in redact(str(exc)).splitlines() if line.strip()]
    return lines[0].rstrip(".") if lines else type(exc).__name__


def _short(sql: str, limit: int = 80) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _postgres(resource: Any, config: Any) -> Any:
    return PostgresAdapter(resource.connection, resource.name)


def _sqlite(resource: Any, config: Any) -> Any:
    from glacier.adapters.sqlite import SqliteAdapter

    return SqliteAdapter(resource.connection, resource.name)


def _relational(resource: Any, config: Any) -> Any:
    # env.database.postgres(name) names the relational database the settings point at; a
    # sqlite:/// url there makes it a SQLite file.
    connection_engine = getattr(resource.connection, "engine", "postgres")
    return (_sqlite if connection_engine == "sqlite" else _postgres)(resource, config)


def _dynamodb(resource: Any, config: Any) -> Any:
    if getattr(config, "kind", None) != "aws":
        return UnavailableAdapter("DynamoDB tables (an AWS service)", config.kind, resource)
    from glacier.adapters.dynamodb import DynamoDbAdapter

    return DynamoDbAdapter(resource, config)


#: Which adapter serves a database of each engine: ``factory(resource, provider config)``.
ENGINES: dict[str, Callable[[Any, Any], Any]] = {
    "postgres": _relational,
    "sqlite": _sqlite,
    "dynamodb": _dynamodb,
}


def database_adapter(resource: Any, config: Any) -> Any:
    """The adapter of ``resource`` (a :class:`~glacier.Database`), by its engine."""
    make = ENGINES.get(resource.engine)
    if make is None:
        return UnavailableAdapter(
            f"reads and writes of {resource.engine} databases", config.kind, resource
        )
    return make(resource, config)

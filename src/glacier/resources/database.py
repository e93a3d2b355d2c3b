"""Databases (PostgreSQL, RDS, DynamoDB) and shared file systems as resources.

A :class:`Database` is a resource a task can take (``db.query("select ...")``); its tables
are datasets' storage::

    warehouse = env.database.postgres("warehouse")      # [databases.warehouse] in settings
    orders = Dataset("orders", storage=warehouse.table("orders"),
                     write={"mode": "upsert", "on": ["order_id"]})

A :class:`DatabaseTable` reads and writes like a Bucket holding a table: ``read()``,
``scan()``, ``write(df, mode=...)``, so the executor handles it as any other storage. The
bytes go through the cloud's database adapter (``glacier.adapters.database``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from glacier.errors import (
    ConfigError,
    InvalidDataError,
    InvalidTableNameError,
    ReadOnlyError,
    TableKeyError,
)
from glacier.formats import TABLE_FORMAT
from glacier.redaction import mask_url
from glacier.resources.base import Resource

if TYPE_CHECKING:
    import polars as pl

    from glacier.settings import DatabaseConnection

__all__ = ["Database", "DatabaseTable", "Duplicates", "TableWriteMode", "Volume"]

#: ``replace`` (the table's rows become the frame's), ``append``, ``upsert`` (insert new
#: keys, update existing ones). ``overwrite`` and ``merge`` are the same modes under the names
#: :meth:`glacier.Bucket.write` uses, so a Dataset's ``write=`` reads the same on any storage.
TableWriteMode = Literal["replace", "append", "upsert", "overwrite", "merge"]
#: What an upsert does with a key found in two rows of its frame: refuse, or keep the last.
Duplicates = Literal["refuse", "last"]
_MODES: dict[str, str] = {
    "replace": "replace",
    "overwrite": "replace",
    "append": "append",
    "upsert": "upsert",
    "merge": "upsert",
}
#: An unquoted SQL identifier as PostgreSQL folds none of it: letters, digits, ``_``, at most
#: 63 bytes (NAMEDATALEN - 1).
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
#: Engines whose tables are named inside a database (``db.table("orders")``).
_SQL_ENGINES = frozenset({"postgres", "sqlite"})


def check_on(on: object, mode: str, chosen: str, where: str) -> tuple[str, ...]:
    """``on`` (an upsert's key columns) as a tuple, if it is a non-empty list of distinct
    column names and the write is an upsert (``chosen``; ``mode`` as the caller said it).

    >>> check_on(["id"], "upsert", "upsert", "t")
    ('id',)
    """
    if isinstance(on, str) or not isinstance(on, Sequence):
        raise TableKeyError(
            f"{where}: on= takes a list of column names, got {type(on).__name__} {on!r}: "
            f"write on=[{on!r}]."
        )
    keys = tuple(on)
    if not keys:
        raise TableKeyError(
            f"{where}: on=[] names no column. Pass the key columns (on=['order_id']), or leave "
            "on= out to upsert on the table's key."
        )
    if not all(isinstance(k, str) for k in keys):
        raise TableKeyError(f"{where}: on={list(keys)!r} must list column names (strings).")
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise TableKeyError(
            f"{where}: on={list(keys)!r} names {twice} more than once; list each key column once."
        )
    if chosen != "upsert":
        raise TableKeyError(
            f"{where}: on= is the key of an upsert, and mode={mode!r} takes none. Drop on=, "
            "or write with mode='upsert'."
        )
    return keys


def check_upsert_rows(
    data: pl.DataFrame, keys: Sequence[str], where: str, duplicates: Duplicates
) -> pl.DataFrame:
    """``data`` if every row has a key and no key is in two rows (``duplicates="last"``:
    each key's last row); else :class:`TableKeyError`, before anything is written."""
    import polars as pl

    present = [k for k in keys if k in data.columns]
    nulls = [k for k in present if data[k].null_count()]
    if nulls:
        rows = data.select(pl.any_horizontal(pl.col(nulls).is_null()).sum()).item()
        raise TableKeyError(
            f"{where}: null key values in column(s) {nulls} ({rows} row(s)); a row without a "
            f"key cannot be matched. Fill or drop them (frame.drop_nulls({nulls})) before "
            "writing. Nothing was written."
        )
    if len(present) < len(keys):
        return data  # the adapter names the missing key columns
    if duplicates == "last":
        return data.unique(subset=list(keys), keep="last", maintain_order=True)
    repeated = data.filter(pl.struct(list(keys)).is_duplicated()).select(keys)
    if repeated.height:
        shown = repeated.unique(maintain_order=True)
        examples = shown.to_series().to_list() if len(keys) == 1 else shown.rows()
        raise TableKeyError(
            f"{where}: {shown.height} key(s) appear in more than one row of the upsert "
            f"(e.g. {examples[:3]}); an upsert takes one row per key. Deduplicate the frame, "
            "or pass duplicates='last' to keep each key's last row. Nothing was written."
        )
    return data


def check_table_name(table: str, database: str) -> str:
    """``table`` if it is ``name`` or ``schema.name`` made of identifiers.

    >>> check_table_name("sales.orders", "warehouse")
    'sales.orders'
    """
    parts = table.split(".") if isinstance(table, str) else [None]
    if len(parts) > 2 or not all(isinstance(p, str) and _IDENTIFIER.fullmatch(p) for p in parts):
        raise InvalidTableNameError(
            f"Database {database!r}: table name {table!r} is not an identifier. A table is "
            "named by letters, digits and '_' (not starting with a digit, at most 63), "
            "optionally after its schema: 'orders' or 'sales.orders'."
        )
    return table


class Database(Resource):
    """A database: ``engine`` is ``"postgres"``, ``"mysql"``, ``"dynamodb"``, ...

    ``connection`` says how a task reaches a PostgreSQL database at run time (from
    ``[databases.<name>]`` in the environment's settings); ``config`` how it is created in the
    cloud (``RdsConfig``, ``DynamoDbConfig``). Reads and writes go through the database
    adapter of the provider's cloud container.

    Example:
        >>> from glacier import Environment
        >>> db = Environment.local("/tmp/db-doc").database.postgres("warehouse")
        >>> db.table("sales.orders")
        DatabaseTable('sales.orders', database='warehouse')
    """

    kind: ClassVar[str] = "database"

    def __init__(
        self,
        database_name: str,
        engine: str = "postgres",
        *,
        connection: DatabaseConnection | None = None,
        **kwargs: Any,
    ) -> None:
        self.database_name = database_name
        self.engine = engine
        self.connection = connection
        super().__init__(**kwargs)
        if self.connection is None and engine in _SQL_ENGINES:
            from glacier.settings import DatabaseConnection

            # Nothing set: libpq's defaults (PGHOST, PGDATABASE, PGUSER, PGPASSWORD, ...).
            self.connection = DatabaseConnection()

    def _default_name(self) -> str:
        return self.database_name

    def table(self, name: str | None = None, *, key: Sequence[str] = ()) -> DatabaseTable:
        """One table of this database, as a dataset's storage or to read and write directly.

        ``key`` is the default key of upserts (else the table's primary key). A DynamoDB
        database is one table: ``db.table()`` is it, keyed by its hash and range keys.
        """
        if self.engine == "dynamodb":
            if name not in (None, self.database_name):
                raise ConfigError(
                    f"DynamoDB table {self.database_name!r} is one table: use its table() "
                    f"without a name (got {name!r}), or env.database.dynamodb({name!r})."
                )
            return DatabaseTable(self, self.database_name, key=tuple(key))
        if name is None:
            raise ConfigError(
                f"Database {self.name!r}: table() needs the table's name, e.g. "
                "table('orders') or table('sales.orders')."
            )
        return DatabaseTable(self, check_table_name(name, self.name), key=tuple(key))

    def dataset_table(self, dataset: str) -> DatabaseTable:
        """The table a dataset given this whole database is stored in
        (``Dataset("orders", storage=db)``): the table of the dataset's name; a DynamoDB
        database's one table.

        Raises:
            InvalidTableNameError: for a dataset name that is no table name (``raw-orders``,
                ``orders.v2``): name the table with ``storage=db.table(...)``.

        Example:
            >>> from glacier import Environment
            >>> Environment.local("/tmp/db-doc").database.postgres("shop").dataset_table("orders")
            DatabaseTable('orders', database='shop')
        """
        if self.engine == "dynamodb":
            return self.table()
        if not _IDENTIFIER.fullmatch(dataset):
            suggestion = re.sub(r"[^A-Za-z0-9_]", "_", dataset)
            raise InvalidTableNameError(
                f"Dataset {dataset!r} is stored in database {self.name!r}, which keeps it in "
                f"the table of its name, and {dataset!r} is not a table name (letters, digits "
                f"and '_'). Name the table: storage={self.name}.table({suggestion!r})."
            )
        return self.table(dataset)

    def query(self, sql: str, *, lazy: bool = False) -> pl.DataFrame | pl.LazyFrame:
        """Run ``sql`` and return its rows as a DataFrame (a LazyFrame with ``lazy=True``).
        Nothing is committed: run statements that change data with :meth:`execute`.

        Raises:
            TableNotFoundError: the query names a table the database does not have.
            DatabaseError: the database refused the query.
        """
        self._sql_only("query()")
        frame: pl.DataFrame = self.adapter.query(sql)
        return frame.lazy() if lazy else frame

    def execute(self, sql: str, *more: str) -> None:
        """Run statements that return no rows (``CREATE``, ``ALTER``, ``DELETE``, ...), one
        per argument, in one transaction, committed when all succeed. :meth:`query` commits
        nothing.

        Raises:
            DatabaseError: the database refused one (none of them was applied).
        """
        self._sql_only("execute()")
        self.adapter.execute((sql, *more))

    def read(self, query: str) -> pl.DataFrame:
        """Run ``query`` and return a polars DataFrame (``query()`` under its older name)."""
        self._sql_only("read()")
        return self.adapter.query(query)  # type: ignore[no-any-return]

    def write(
        self,
        data: pl.DataFrame | pl.LazyFrame,
        table: str,
        mode: TableWriteMode = "append",
        *,
        on: Sequence[str] | None = None,
        duplicates: Duplicates = "refuse",
    ) -> None:
        """Write a polars frame into ``table`` (see :meth:`DatabaseTable.write`)."""
        self.table(table).write(data, mode, on=on, duplicates=duplicates)

    def _sql_only(self, what: str) -> None:
        if self.engine not in _SQL_ENGINES:
            raise ConfigError(
                f"Database {self.name!r} ({self.engine}) has no SQL: {what} is for PostgreSQL "
                "databases. Read its items with db.table().read(filter=...)."
            )

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out.update(database_name=self.database_name, engine=self.engine)
        if self.config is not None:
            out["config"] = self.config.model_dump(mode="json")
        if self.connection is not None:
            out["connection"] = self.connection.describe()
        return out


class DatabaseTable:
    """A table of a :class:`Database`: read, scanned and written as polars frames.

    As a Dataset's storage it is written once by the producing task, with the Dataset's
    ``write=`` options (``{"mode": "upsert", "on": ["order_id"]}``), and read by consumers.
    """

    #: What a database table holds, in the format catalogue's terms: frames, written by
    #: replace/append/merge (as a Delta table is).
    format: ClassVar[str] = TABLE_FORMAT
    #: What it is, for descriptions and for Dataset's checks (which cannot import this).
    kind: ClassVar[str] = "database_table"

    def __init__(
        self, database: Database, table: str, *, key: tuple[str, ...] = (), read_only: bool = False
    ) -> None:
        self.database = database
        self.table = table
        self.key = key
        self.read_only = read_only

    @property
    def adapter(self) -> Any:
        return self.database.adapter

    @property
    def _sql(self) -> bool:
        return self.database.engine in _SQL_ENGINES

    def read(
        self, filter: str | None = None, values: Mapping[str, Any] | None = None
    ) -> pl.DataFrame:
        """Every row as a DataFrame. On DynamoDB ``filter`` is a FilterExpression with
        ``values`` for its placeholders (``read("amount > :m", {":m": 10})``); for SQL
        tables, filter in :meth:`Database.query` instead.

        Raises:
            TableNotFoundError: the table does not exist.
        """
        if not self._sql:
            return self.adapter.scan(filter, values)  # type: ignore[no-any-return]
        if filter is not None or values:
            raise ConfigError(
                f"{self!r}: read(filter=...) is for DynamoDB tables; for PostgreSQL, select "
                f"the rows in SQL: db.query('SELECT ... FROM {self.table} WHERE ...')."
            )
        return self.adapter.read_table(self.table)  # type: ignore[no-any-return]

    def scan(self) -> pl.LazyFrame:
        """A LazyFrame that reads the table when collected (its schema on first ask)."""
        import polars as pl

        if self._sql:
            return pl.defer(self.read, schema=lambda: self.adapter.schema(self.table))
        return self.read().lazy()

    def load(self) -> pl.LazyFrame:
        """What a task receives from this storage: :meth:`scan`."""
        return self.scan()

    def write(
        self,
        data: pl.DataFrame | pl.LazyFrame,
        mode: TableWriteMode | None = None,
        *,
        on: Sequence[str] | None = None,
        duplicates: Duplicates = "refuse",
        delete_when: str | None = None,
        schema: str | None = None,
    ) -> None:
        """Write ``data`` in one transaction: a failed write leaves the table as it was.

        What the table could not read back is refused before anything is written: a column
        the table lacks or whose type does not fit the table's column (SQL tables), key
        values that are null, or a key twice in one upsert frame.

        Args:
            data: A polars DataFrame or LazyFrame (collected first).
            mode: ``replace`` (the default; the table keeps its columns, keys and grants),
                ``append`` or ``upsert`` (``overwrite`` and ``merge`` are accepted as the
                Bucket names of replace and upsert). A missing table is created from the
                frame's schema, with ``on`` as its primary key when upserting. A DynamoDB
                table is written by putting items: an upsert by key (its default).
            on: Key columns of an upsert (a list); the table's default ``key``, else its
                primary key. Only upserts take a key.
            duplicates: ``"refuse"`` (the default) a key that appears in more than one row of
                an upsert's frame, or keep each key's ``"last"`` row.
            delete_when, schema: Delta-table options a database table does not take.

        Raises:
            TableKeyError: an upsert without a key, with key columns the frame lacks, null
                or duplicate keys; ``on`` that is empty, not a list, or with another mode.
            ColumnTypeError: a column the table lacks or of a type it does not take.
            DatabaseError: the database refused the write (nothing was written).
        """
        data, chosen, keys = self._prepare(data, mode, on, duplicates, delete_when, schema)
        if not self._sql:
            self.adapter.write(data)
            return
        self.adapter.write(self.table, data, chosen, keys or None)

    def check_write(
        self,
        data: pl.DataFrame | pl.LazyFrame,
        mode: TableWriteMode | None = None,
        *,
        on: Sequence[str] | None = None,
        duplicates: Duplicates = "refuse",
        delete_when: str | None = None,
        schema: str | None = None,
    ) -> pl.DataFrame:
        """Everything :meth:`write` refuses, checked without writing (the table's columns
        read, nothing changed); returns the frame as it would be written. A task's outputs
        are all checked this way before any is written.

        Raises:
            TableKeyError, ColumnTypeError, ReadOnlyError, ConfigError: as :meth:`write`.
        """
        data, chosen, _ = self._prepare(data, mode, on, duplicates, delete_when, schema)
        if self._sql:
            self.adapter.check_columns(self.table, data, chosen)
        return data

    def _prepare(
        self,
        data: pl.DataFrame | pl.LazyFrame,
        mode: TableWriteMode | None,
        on: Sequence[str] | None,
        duplicates: Duplicates,
        delete_when: str | None,
        schema: str | None,
    ) -> tuple[pl.DataFrame, str, tuple[str, ...]]:
        """The frame, mode and key columns a write goes with, once everything the frame and
        options can be refused for has been checked."""
        import polars as pl

        self._check_writable("write")
        where = repr(self)
        if delete_when is not None or schema is not None:
            given = "delete_when" if delete_when is not None else "schema"
            raise ConfigError(
                f"{where}: write({given}=...) is an option of Delta tables; a database table "
                "takes mode and on. Delete rows with SQL, and change columns with ALTER TABLE."
            )
        explicit = mode is not None
        chosen = _MODES.get(mode or ("replace" if self._sql else "upsert"))
        if chosen is None:
            raise ConfigError(
                f"{where}: write mode {mode!r} is unknown; use 'replace', 'append' or 'upsert'."
            )
        if isinstance(data, pl.LazyFrame):
            data = data.collect()
        if not isinstance(data, pl.DataFrame):
            raise InvalidDataError(
                f"{where}: write() takes a polars DataFrame or LazyFrame, got "
                f"{type(data).__name__}."
            )
        if duplicates not in ("refuse", "last"):
            raise ConfigError(
                f"{where}: duplicates={duplicates!r} is not an option; use 'refuse' (the "
                "default) or 'last' (keep each key's last row)."
            )
        keys = check_on(on, mode or chosen, chosen, where) if on is not None else self.key
        if duplicates != "refuse" and chosen != "upsert":
            raise ConfigError(
                f"{where}: duplicates={duplicates!r} is an option of upserts; mode={mode!r} "
                "writes every row. Drop duplicates=, or write with mode='upsert'."
            )
        if keys:
            missing = [k for k in keys if k not in data.columns]
            if missing:
                raise TableKeyError(
                    f"{where}: the key column(s) {missing} are not in the frame (its columns: "
                    f"{data.columns}). Add them to the frame or write on other keys. Nothing "
                    "was written."
                )
        if not self._sql:
            if chosen == "replace" and explicit:
                raise ConfigError(
                    f"{where}: DynamoDB writes put items by key (an upsert); replacing every "
                    "item is not supported. Use mode='upsert' (the default for DynamoDB)."
                )
            return data, chosen, keys
        if chosen == "upsert":
            keys = keys or tuple(self.adapter.primary_key(self.table))
            if keys:
                data = check_upsert_rows(data, keys, where, duplicates)
        return data, chosen, keys

    def exists(self) -> bool:
        """Whether the table exists."""
        return bool(self.adapter.exists(self.table)) if self._sql else True

    def fingerprint(self) -> str:
        """A token that changes when the table's rows change (used by the task cache)."""
        if not self._sql:
            # DynamoDB has no cheap change marker: a hash of every item, in any order.
            items = self.read()
            items = items.select(sorted(items.columns))
            return f"{items.height}:{items.hash_rows(seed=0).sum()}"
        return str(self.adapter.fingerprint(self.table))

    def get_uri(self) -> str:
        """``postgresql://user@host:port/dbname#schema.table`` (no password: masked if the
        url held one), or ``dynamodb://<table>``."""
        connection = self.database.connection
        if connection is None:
            return f"{self.database.engine}://{self.table}"
        return f"{mask_url(connection.libpq_url())}#{self.table}"

    def with_options(
        self,
        read_options: Mapping[str, Any] | None = None,
        write_options: Mapping[str, Any] | None = None,
        *,
        read_only: bool = False,
        where: str = "",
    ) -> DatabaseTable:
        """This table as a Dataset refines it: ``read_only``; reader/writer options are refused
        (a database table has no file format)."""
        if read_options or write_options:
            raise ConfigError(
                f"{where or self!r}: read_options and write_options are options of file "
                "formats; a database table takes none. Select columns and rows in SQL "
                "(db.query(...)) and choose how to write with write={'mode': ...}."
            )
        if not read_only or self.read_only:
            return self
        return DatabaseTable(self.database, self.table, key=self.key, read_only=True)

    def _check_writable(self, operation: str) -> None:
        if self.read_only:
            raise ReadOnlyError(
                f"{self!r} is read_only: {operation}() is refused. Drop read_only=True from "
                "the Dataset to write it."
            )

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "table": self.table,
            "database": self.database.describe(),
        }

    def __repr__(self) -> str:
        return f"DatabaseTable({self.table!r}, database={self.database.name!r})"


class Volume(Resource):
    """A shared network file system (EFS, Filestore, Azure Files) mounted by compute."""

    kind: ClassVar[str] = "volume"

    def __init__(self, file_system_name: str, **kwargs: Any) -> None:
        self.file_system_name = file_system_name
        super().__init__(**kwargs)

    def _default_name(self) -> str:
        return self.file_system_name

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out.update(file_system_name=self.file_system_name)
        if self.config is not None:
            out["config"] = self.config.model_dump(mode="json")
        return out

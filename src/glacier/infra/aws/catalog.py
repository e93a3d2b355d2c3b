"""Delta tables in the AWS Glue Data Catalog, so Athena can query them by name.

A dataset declared with ``catalog=True`` (a Delta table on S3) gets an
``aws.glue.CatalogTable`` in one ``aws.glue.CatalogDatabase`` per pipeline and environment.
The table is what Athena's ``CREATE EXTERNAL TABLE ... LOCATION 's3://...'
TBLPROPERTIES ('table_type' = 'DELTA')`` creates: an external table of type ``DELTA`` at the
table's location, and no columns, SerDe or partitions, because Athena reads the schema and
the current files from the table's ``_delta_log/`` at query time (Athena's guide, "Query
Delta Lake tables"). So the entry never goes stale: a write that adds a column needs no
catalog update, and tasks need no Glue permissions.

Names keep to what Glue and Athena accept (lowercase letters, digits, ``_``):

>>> catalog_name("acme-prod", "Sales.Daily")
'acme_prod_sales_daily'
"""

from __future__ import annotations

import re
from typing import Any

from glacier.errors import InfraError
from glacier.infra.aws.stack import Stack, add, logical_name
from glacier.infra.model import CatalogEntry

#: What Athena sets on a Delta Lake table it registers (``TBLPROPERTIES ('table_type' =
#: 'DELTA')``), plus the provider Spark reads the same entry with.
DELTA_PARAMETERS = {
    "EXTERNAL": "TRUE",
    "table_type": "DELTA",
    "spark.sql.sources.provider": "delta",
}
#: Glue's limit on database and table names.
NAME_LIMIT = 255


def catalog_name(*parts: str) -> str:
    """A Glue database or table name from ``parts``: lowercase, runs of anything but
    letters and digits become ``_``."""
    raw = "_".join(p for p in parts if p).lower()
    return re.sub(r"[^a-z0-9]+", "_", raw).strip("_")[:NAME_LIMIT]


def database_name(stack: Stack) -> str:
    """The environment's Glue database of the pipeline: ``<naming prefix>_<pipeline>``."""
    return catalog_name(stack.env.naming_prefix, stack.model.pipeline)


def tables(stack: Stack) -> dict[str, Any]:
    """Declare the environment's database and a table per registered dataset (none when no
    dataset asks for one); the tables by dataset name."""
    entries = stack.model.catalog_in(stack.env.key)
    if not entries:
        return {}
    _check_names(entries)
    database = add(
        stack,
        stack.aws.glue.CatalogDatabase,
        logical_name(stack, "catalog"),
        name=database_name(stack),
        description=f"Delta tables of Glacier pipeline {stack.model.pipeline!r}",
        tags=stack.tags,
    )
    return {entry.dataset: table(stack, entry, database) for entry in entries}


def table(stack: Stack, entry: CatalogEntry, database: Any) -> Any:
    """Declare ``entry``'s Delta table in ``database``."""
    aws = stack.aws
    return add(
        stack,
        aws.glue.CatalogTable,
        logical_name(stack, entry.dataset, "catalog-table"),
        name=catalog_name(entry.dataset),
        database_name=database.name,
        table_type="EXTERNAL_TABLE",
        description=f"Glacier dataset {entry.dataset!r} (a Delta Lake table)",
        parameters=dict(DELTA_PARAMETERS),
        storage_descriptor=aws.glue.CatalogTableStorageDescriptorArgs(
            location=table_uri(stack, entry)
        ),
    )


def table_uri(stack: Stack, entry: CatalogEntry) -> str:
    """The table's ``s3://bucket/prefix/`` location (where the runtime writes it)."""
    return entry.uri


def _check_names(entries: tuple[CatalogEntry, ...]) -> None:
    seen: dict[str, str] = {}
    for entry in entries:
        name = catalog_name(entry.dataset)
        other = seen.setdefault(name, entry.dataset)
        if other != entry.dataset:
            raise InfraError(
                f"Datasets {other!r} and {entry.dataset!r} both ask for catalog=True and "
                f"would both be Glue table {name!r} (Glue names are lowercase letters, "
                "digits and '_'). Rename one of the datasets."
            )

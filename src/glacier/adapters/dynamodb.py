"""DynamoDB tables read and written as polars frames, through boto3.

A read is a ``Scan`` (every page), optionally filtered by a ``FilterExpression``; numbers
come back as ``Decimal`` from boto3 and become integers or floats. A write is
``BatchWriteItem`` in batches of 25 (DynamoDB's limit): items DynamoDB reports as unprocessed
(throttling, a partition at capacity) are sent again with exponential backoff, and a write
that still has unprocessed items after :data:`MAX_ATTEMPTS` raises, saying how many.

DynamoDB has no multi-batch transaction: the checks that can fail (the key attributes present
and non-null in every row) run on the whole frame before the first batch is sent.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from glacier.errors import DatabaseError, TableKeyError, TableNotFoundError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["BATCH_SIZE", "MAX_ATTEMPTS", "DynamoDbAdapter"]

#: Items per BatchWriteItem request (DynamoDB's limit).
BATCH_SIZE = 25
#: Requests per batch before unprocessed items count as a failure.
MAX_ATTEMPTS = 8
#: The first pause before resending unprocessed items, doubled each attempt (seconds).
FIRST_BACKOFF = 0.05


class DynamoDbAdapter:
    """Scans and batch writes of one DynamoDB table (see the module docs)."""

    def __init__(self, resource: Any, config: Any) -> None:
        self.resource = resource
        self.config = config

    @property
    def table_name(self) -> str:
        return str(self.resource.database_name)

    def keys(self) -> list[str]:
        """The table's key attributes, from its ``DynamoDbConfig`` (``id`` by default)."""
        cfg = self.resource.config
        hash_key = getattr(cfg, "hash_key", None) or "id"
        range_key = getattr(cfg, "range_key", None)
        return [hash_key, range_key] if range_key else [hash_key]

    def client(self) -> Any:
        from glacier.adapters.credentials import aws_client

        return aws_client("dynamodb", self.config)

    def scan(
        self, filter: str | None = None, values: Mapping[str, Any] | None = None
    ) -> pl.DataFrame:
        """Every item (matching ``filter``, a FilterExpression with ``values`` for its
        ``:placeholders``) as a DataFrame."""
        import polars as pl
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

        client = self.client()
        kwargs: dict[str, Any] = {"TableName": self.table_name}
        if filter is not None:
            kwargs["FilterExpression"] = filter
        if values:
            serialize = TypeSerializer().serialize
            kwargs["ExpressionAttributeValues"] = {
                k: serialize(_to_dynamo(v)) for k, v in values.items()
            }
        deserialize = TypeDeserializer().deserialize
        rows: list[dict[str, Any]] = []
        try:
            for page in client.get_paginator("scan").paginate(**kwargs):
                rows.extend(
                    {k: _from_dynamo(deserialize(v)) for k, v in item.items()}
                    for item in page["Items"]
                )
        except client.exceptions.ResourceNotFoundException:
            raise self._not_found("scan") from None
        except client.exceptions.ClientError as exc:
            raise DatabaseError(f"DynamoDB table {self.table_name!r}: scan failed: {exc}") from None
        return pl.DataFrame(rows, infer_schema_length=None)

    def write(self, data: pl.DataFrame) -> int:
        """Put every row of ``data`` as an item; returns how many requests were sent.

        Raises:
            TableKeyError: a key attribute missing from the frame or null in a row (checked
                before anything is sent).
            DatabaseError: items still unprocessed after :data:`MAX_ATTEMPTS` requests.
        """
        from boto3.dynamodb.types import TypeSerializer

        keys = self.keys()
        self.check_keys(data, keys)
        serialize = TypeSerializer().serialize
        client = self.client()
        requests = 0
        for batch in _batches(data.iter_rows(named=True), BATCH_SIZE):
            pending = [
                {
                    "PutRequest": {
                        "Item": {
                            k: serialize(_to_dynamo(v)) for k, v in row.items() if v is not None
                        }
                    }
                }
                for row in batch
            ]
            requests += self._send(client, pending)
        return requests

    def check_keys(self, data: pl.DataFrame, keys: Sequence[str]) -> None:
        where = f"DynamoDB table {self.table_name!r}"
        missing = [k for k in keys if k not in data.columns]
        if missing:
            raise TableKeyError(
                f"{where}: the frame has no key column(s) {missing} (its columns: "
                f"{data.columns}); every item needs its key. Add the column(s), or set the "
                "table's hash_key/range_key to columns the frame has. Nothing was written."
            )
        nulls = [k for k in keys if data[k].null_count()]
        if nulls:
            raise TableKeyError(
                f"{where}: key column(s) {nulls} hold nulls; every item needs its key. "
                "Drop or fill those rows (df.drop_nulls(...)). Nothing was written."
            )

    def _send(self, client: Any, pending: list[dict[str, Any]]) -> int:
        pause = FIRST_BACKOFF
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                response = client.batch_write_item(RequestItems={self.table_name: pending})
            except client.exceptions.ResourceNotFoundException:
                raise self._not_found("write") from None
            pending = response.get("UnprocessedItems", {}).get(self.table_name, [])
            if not pending:
                return attempt
            time.sleep(pause)
            pause *= 2
        raise DatabaseError(
            f"DynamoDB table {self.table_name!r}: {len(pending)} item(s) were still unprocessed "
            f"after {MAX_ATTEMPTS} attempts (the table is throttling writes). Earlier batches "
            "were written; raise the table's capacity (or use on-demand billing) and write "
            "again: items with the same key are replaced, so a retry is safe."
        )

    def _not_found(self, what: str) -> TableNotFoundError:
        return TableNotFoundError(
            f"DynamoDB table {self.table_name!r}: {what} failed: the table does not exist in "
            f"region {self.config.region!r}. Deploy the environment (glacier deploy) or check "
            "the table's name."
        )


def _batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _to_dynamo(value: Any) -> Any:
    """DynamoDB numbers are decimals; floats must be converted (NaN has no encoding)."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise DatabaseError(
                f"DynamoDB cannot store the number {value!r}; fill or drop it first."
            )
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_from_dynamo(v) for v in value]
    return value

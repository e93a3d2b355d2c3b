"""DynamoDB tables: key schema, on-demand capacity by default, point-in-time recovery and
server-side encryption, from the table's :class:`~glacier.settings.DynamoDbConfig`.

A task that uses the table may read and write items of that one table ARN, nothing else.
"""

from __future__ import annotations

from typing import Any

from glacier.infra import iam
from glacier.infra.aws.stack import Stack, add, logical_name
from glacier.infra.model import DatabaseSpec

#: What a task using a table may do: read items (one, batches, queries, scans) and write them.
TABLE_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
)


def table_config(db: DatabaseSpec) -> Any:
    """The table's DynamoDbConfig (the defaults when none was given)."""
    from glacier.settings import DynamoDbConfig

    return db.config if isinstance(db.config, DynamoDbConfig) else DynamoDbConfig()


def table(stack: Stack, db: DatabaseSpec) -> Any:
    """Declare ``db``'s table."""
    aws, cfg = stack.aws, table_config(db)
    attributes = [aws.dynamodb.TableAttributeArgs(name=cfg.hash_key, type=cfg.hash_key_type)]
    if cfg.range_key is not None:
        attributes.append(
            aws.dynamodb.TableAttributeArgs(name=cfg.range_key, type=cfg.range_key_type)
        )
    made = add(
        stack,
        aws.dynamodb.Table,
        logical_name(stack, db.identifier, "table"),
        name=db.identifier,
        billing_mode=cfg.billing_mode,
        hash_key=cfg.hash_key,
        range_key=cfg.range_key,
        attributes=attributes,
        read_capacity=cfg.read_capacity,
        write_capacity=cfg.write_capacity,
        point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(
            enabled=cfg.point_in_time_recovery
        ),
        server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
        tags={**stack.tags, **dict(db.tags), **cfg.tags, "glacier:database": db.identifier},
    )
    stack.out.tables[db.key] = made
    return made


def access_statements(db: DatabaseSpec, made: Any) -> list[dict[str, Any]]:
    """Item reads and writes on the one table."""
    return [iam.statement(f"Table {db.identifier}", list(TABLE_ACTIONS), [made.arn])]

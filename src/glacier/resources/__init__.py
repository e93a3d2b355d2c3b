"""Cloud-agnostic resources: one class per kind, cloud behaviour from adapters."""

from glacier.resources.base import Resource
from glacier.resources.bucket import Bucket
from glacier.resources.database import Database, DatabaseTable, Volume
from glacier.resources.execution import ExecutionEnvironment
from glacier.resources.serverless import Serverless

__all__ = [
    "Bucket",
    "Database",
    "DatabaseTable",
    "ExecutionEnvironment",
    "Resource",
    "Serverless",
    "Volume",
]

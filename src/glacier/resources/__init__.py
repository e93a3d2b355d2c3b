"""Cloud-agnostic resources: one class per kind, cloud behaviour from adapters.

The kinds load on first use (PEP 562): a task module needs only :class:`Resource` to tell an
injected parameter, and the kinds bring the settings models (pydantic) with them, which would
double the time of ``from glacier import Pipeline, Dataset``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from glacier.lazy_exports import lazy_exports
from glacier.resources.base import Resource

if TYPE_CHECKING:
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

#: Where each lazily loaded name lives.
_MODULES = {
    "Bucket": "glacier.resources.bucket",
    "Database": "glacier.resources.database",
    "DatabaseTable": "glacier.resources.database",
    "Volume": "glacier.resources.database",
    "ExecutionEnvironment": "glacier.resources.execution",
    "Serverless": "glacier.resources.serverless",
}


__getattr__ = lazy_exports(__name__, _MODULES, globals())

"""Glacier: cloud-agnostic data pipelines over polars.

Write tasks as plain functions, run them locally, and run the same code on AWS (GCP and Azure
behind the same API) with the infrastructure derived from the pipeline.

>>> from glacier import Pipeline, Dataset
>>> pipeline = Pipeline("hello")
>>> greeting = Dataset("greeting")
>>> @pipeline.task()
... def greet() -> greeting:
...     return "hello"
>>> pipeline.run()["greeting"]
'hello'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from glacier.dataset import Dataset
    from glacier.environment import AWSEnvironment, Environment, GlacierEnv
    from glacier.errors import GlacierError
    from glacier.executors.local import LocalExecutor
    from glacier.flow import FlowPipeline
    from glacier.pipeline import Pipeline
    from glacier.provider import Provider
    from glacier.resources import (
        Bucket,
        Database,
        DatabaseTable,
        ExecutionEnvironment,
        Resource,
        Serverless,
        Volume,
    )
    from glacier.result import RunResult, TaskRun
    from glacier.settings import Network
    from glacier.task import Inject, Task, task

from glacier import dispatch as _dispatch
from glacier.lazy_exports import keep_exports, lazy_exports
from glacier.version import __version__


def _load_runner() -> None:
    """Import the runner, which registers itself in :mod:`glacier.dispatch`.

    This package is the composition root: above every layer, it says where the runner of
    ``pipeline.run()`` lives, so no graph module imports it (the road goes one way: command
    → runner → executor → task). Imported on the first run, to keep ``import glacier`` light.
    """
    import glacier.runner  # noqa: F401


_dispatch.load_with(_load_runner)

# The public names load on first use: pytest imports `glacier.testing` (and so this package)
# in every session of an environment Glacier is installed in, and `glacier --help` should not
# wait for polars either.
_EXPORTS = {
    "AWSEnvironment": "glacier.environment",
    "Bucket": "glacier.resources",
    "Database": "glacier.resources",
    "DatabaseTable": "glacier.resources",
    "Dataset": "glacier.dataset",
    "Environment": "glacier.environment",
    "ExecutionEnvironment": "glacier.resources",
    "FlowPipeline": "glacier.flow",
    "GlacierEnv": "glacier.environment",
    "GlacierError": "glacier.errors",
    "Inject": "glacier.task",
    "LocalExecutor": "glacier.executors.local",
    "Network": "glacier.settings",
    "Pipeline": "glacier.pipeline",
    "Provider": "glacier.provider",
    "Resource": "glacier.resources",
    "RunResult": "glacier.result",
    "Serverless": "glacier.resources",
    "Task": "glacier.task",
    "TaskRun": "glacier.result",
    "Volume": "glacier.resources",
    "task": "glacier.task",
}


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


# `glacier.task` is the decorator, as it was when this package imported it eagerly: importing
# the submodule `glacier.task` does not replace it (the module stays in `sys.modules`).
keep_exports(__name__, _EXPORTS)

__all__ = [
    "AWSEnvironment",
    "Bucket",
    "Database",
    "DatabaseTable",
    "Dataset",
    "Environment",
    "ExecutionEnvironment",
    "FlowPipeline",
    "GlacierEnv",
    "GlacierError",
    "Inject",
    "LocalExecutor",
    "Network",
    "Pipeline",
    "Provider",
    "Resource",
    "RunResult",
    "Serverless",
    "Task",
    "TaskRun",
    "Volume",
    "__version__",
    "task",
]

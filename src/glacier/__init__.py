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

from glacier.dataset import Dataset
from glacier.environment import AWSEnvironment, Environment, GlacierEnv
from glacier.errors import GlacierError
from glacier.executors.local import LocalExecutor
from glacier.flow import FlowPipeline
from glacier.pipeline import Pipeline
from glacier.provider import Provider
from glacier.resources import Bucket, Database, ExecutionEnvironment, Resource, Serverless, Volume
from glacier.result import RunResult, TaskRun
from glacier.settings import Network
from glacier.task import Task, task
from glacier.version import __version__

__all__ = [
    "AWSEnvironment",
    "Bucket",
    "Database",
    "Dataset",
    "Environment",
    "ExecutionEnvironment",
    "FlowPipeline",
    "GlacierEnv",
    "GlacierError",
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

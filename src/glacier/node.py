"""Nodes: one use of a task in a DAG.

A :class:`~glacier.Task` is a parsed function; a :class:`Node` is one call of it in a traced
data-flow pipeline (Hamilton keeps ``Node.from_fn`` and ``copy_with`` apart the same way).
Two calls of ``clean`` become two nodes, ``clean`` and ``clean_2``, over one task: each node
has its own name, its own inputs (the results of other calls) and its own fixed params (the
other arguments of the call). Everything else — the function, where it is defined, its
options and compute hint — is the task's.

A node is usable wherever the DAG, the executors and the infrastructure expect a task.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from glacier.dataset import Dataset
from glacier.resources.base import Resource
from glacier.task import Task

__all__ = ["Node"]


class Node(Task):
    """One call of ``task`` in a DAG: the call's arguments that were results of other calls
    are ``inputs``; the others are fixed params.

    Args:
        task: The task called.
        name: The node's name, unique in its pipeline (``clean``, ``clean_2``, ...).
        inputs: Parameter name -> the dataset a previous call produced.
        constants: Parameter name -> the value passed (resources included).
        output: The dataset the call's result becomes, if any.
    """

    def __init__(
        self,
        task: Task,
        name: str,
        inputs: Mapping[str, Dataset],
        constants: Mapping[str, Any],
        output: Dataset | None,
    ) -> None:
        # The task was parsed once; a node only records how this call uses it.
        self.task = task
        self.fn = task.fn
        self._source = None
        self.name = name
        self.location = task.location
        self.task_options = task.task_options
        self.options = task.options
        self.compute = task.compute
        self.allow_cross_environment = task.allow_cross_environment
        self.env = task.env
        self.namespace = task.namespace
        self.inputs = tuple(inputs.items())
        self.params = {**task.params, **constants}
        given = set(inputs) | set(constants)
        self.resources = tuple(r for r in task.resources if r.param not in given)
        self.resource_args = {k: v for k, v in constants.items() if isinstance(v, Resource)}
        self.arguments = ()
        self._names = task._names
        self.outputs = (output,) if output is not None else ()
        self.returns_tuple = False
        self.__doc__ = task.__doc__
        self.__wrapped__ = task.fn
        self.__module__ = task.__module__

    def source(self) -> str:
        """The task's source code."""
        return self.task.source()

"""A stand-in for the Workflows Executions API (``google.cloud.workflows.executions.v1``),
which has no emulator, served over plaintext gRPC on 127.0.0.1: the transport the
google-cloud-workflows client has (its 1.24 ``executions_v1`` ships gRPC transports only).

``CreateExecution`` makes an execution of the workflow named by ``parent``; ``GetExecution``
returns it, its ``state`` taken in turn from a script (``ACTIVE``, then ``SUCCEEDED``,
``FAILED`` or ``CANCELLED``; the last state repeats), with the steps seen at that poll as
``status.current_steps`` and, when failed, ``error.payload``: the v1 ``Execution`` message.
It answers nothing else. Each request is recorded (method, the request as a dict, its
metadata) for the test to assert what the real client sent.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from google.cloud.workflows.executions_v1.types import executions

EXECUTION_ID = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
SERVICE = "google.cloud.workflows.executions.v1.Executions"


@dataclass(frozen=True)
class Call:
    """One call the stand-in received."""

    method: str
    request: dict[str, Any]
    metadata: dict[str, str]


class WorkflowsStandIn:
    """Executions of one workflow, each going through ``states`` (with ``steps`` seen)."""

    def __init__(
        self,
        states: Sequence[str] = ("ACTIVE", "SUCCEEDED"),
        steps: Sequence[Sequence[str]] = (),
        error: str = "",
    ) -> None:
        self.states = list(states)
        self.steps = [list(s) for s in steps]
        self.error = error
        self.calls: list[Call] = []
        self._gets = 0
        self._lock = threading.Lock()
        self._server = grpc.server(ThreadPoolExecutor(max_workers=2))
        handler = grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "CreateExecution": grpc.unary_unary_rpc_method_handler(
                    self._create,
                    request_deserializer=executions.CreateExecutionRequest.deserialize,
                    response_serializer=executions.Execution.serialize,
                ),
                "GetExecution": grpc.unary_unary_rpc_method_handler(
                    self._get,
                    request_deserializer=executions.GetExecutionRequest.deserialize,
                    response_serializer=executions.Execution.serialize,
                ),
            },
        )
        self._server.add_generic_rpc_handlers((handler,))
        self.port = self._server.add_insecure_port("127.0.0.1:0")

    @property
    def url(self) -> str:
        """The endpoint to give ``glacier run --remote --endpoint``."""
        return f"http://127.0.0.1:{self.port}"

    def _record(self, method: str, request: Any, context: grpc.ServicerContext) -> None:
        metadata = {k: str(v) for k, v in context.invocation_metadata()}
        self.calls.append(Call(method, type(request).to_dict(request), metadata))

    def _execution(self, name: str, state: str, poll: int) -> executions.Execution:
        steps = self.steps[min(poll, len(self.steps) - 1)] if self.steps else []
        execution = executions.Execution(
            name=name,
            state=executions.Execution.State[state],
            argument="{}",
            status=executions.Execution.Status(
                current_steps=[
                    executions.Execution.Status.Step(routine="main", step=s) for s in steps
                ]
            ),
        )
        if state == "FAILED" and self.error:
            execution.error = executions.Execution.Error(payload=self.error, context="run_tidy")
        return execution

    def _create(
        self, request: executions.CreateExecutionRequest, context: grpc.ServicerContext
    ) -> executions.Execution:
        with self._lock:
            self._record("CreateExecution", request, context)
            return self._execution(f"{request.parent}/executions/{EXECUTION_ID}", "ACTIVE", 0)

    def _get(
        self, request: executions.GetExecutionRequest, context: grpc.ServicerContext
    ) -> executions.Execution:
        with self._lock:
            self._record("GetExecution", request, context)
            if not request.name.endswith(f"/executions/{EXECUTION_ID}"):
                context.abort(grpc.StatusCode.NOT_FOUND, f"no execution {request.name}")
            state = self.states[min(self._gets, len(self.states) - 1)]
            self._gets += 1
            return self._execution(request.name, state, self._gets - 1)

    @contextmanager
    def serving(self) -> Iterator[WorkflowsStandIn]:
        """Serve while the block runs."""
        self._server.start()
        try:
            yield self
        finally:
            self._server.stop(grace=None).wait()

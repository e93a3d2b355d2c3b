"""Serverless functions (Lambda, Cloud Functions, Azure Functions) as one resource."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from glacier.resources.base import Resource


class Serverless(Resource):
    """A serverless function; also the compute hint ``env.compute.lambda_(memory=512)``.

    As a task's ``compute=`` hint, ``function_name`` and ``handler`` may stay unset: the
    infrastructure derives them from the task. ``invoke()`` goes through the cloud's adapter.
    """

    kind: ClassVar[str] = "serverless"

    def __init__(
        self,
        function_name: str | None = None,
        handler: Callable[..., Any] | str | None = None,
        runtime: str = "python3.11",
        **kwargs: Any,
    ) -> None:
        self.function_name = function_name
        self.handler = handler
        self.runtime = runtime
        super().__init__(**kwargs)

    def _default_name(self) -> str:
        return self.function_name or "function"

    def invoke(self, payload: dict[str, Any]) -> Any:
        """Invoke the function with a JSON-able payload and return its response."""
        return self.adapter.invoke(payload)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out.update(function_name=self.function_name, runtime=self.runtime)
        if self.config is not None:
            out["config"] = self.config.model_dump(mode="json")
        return out

"""Serverless adapters: call the handler in-process locally, invoke Lambda on AWS."""

from __future__ import annotations

import importlib
import json
from typing import Any

from glacier.errors import ConfigError, NotSupportedError


class LocalServerlessAdapter:
    """Runs the function's handler in this process, as the cloud would with the payload."""

    def __init__(self, resource: Any) -> None:
        self.resource = resource

    def invoke(self, payload: dict[str, Any]) -> Any:
        handler = self.resource.handler
        if isinstance(handler, str):
            module, _, attr = handler.rpartition(".")
            if not module:
                raise ConfigError(
                    f"Serverless {self.resource.name!r}: handler {handler!r} must be "
                    "'module.function' or a callable."
                )
            handler = getattr(importlib.import_module(module), attr)
        if handler is None:
            raise NotSupportedError(
                f"Serverless {self.resource.name!r} has no handler to invoke; it is a compute "
                "hint for a task. Give provider.serverless(handler=...) to invoke it directly."
            )
        return handler(payload, None)


class LambdaAdapter:
    """Invokes a deployed AWS Lambda function through boto3 (synchronous invocation)."""

    def __init__(self, resource: Any, config: Any) -> None:
        self.resource = resource
        self.config = config

    def invoke(self, payload: dict[str, Any]) -> Any:
        from glacier.adapters.credentials import aws_client

        client = aws_client("lambda", self.config)
        name = self.resource.function_name or self.resource.name
        response = client.invoke(FunctionName=name, Payload=json.dumps(payload).encode())
        body = response["Payload"].read()
        if response.get("FunctionError"):
            raise NotSupportedError(f"Lambda {name!r} failed: {body.decode(errors='replace')}")
        return json.loads(body) if body else None

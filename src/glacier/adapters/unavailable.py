"""The adapter for operations a cloud does not offer through Glacier yet."""

from __future__ import annotations

from typing import Any

from glacier.errors import NotSupportedError


class UnavailableAdapter:
    """Raises :class:`NotSupportedError` on use, naming what is missing and the way out.

    Wired where Glacier has no implementation yet, so a resource never pretends to work.
    """

    def __init__(self, what: str, cloud: str, resource: Any = None) -> None:
        self.what = what
        self.cloud = cloud
        self.resource = resource

    def __getattr__(self, operation: str) -> Any:
        if operation.startswith("__"):
            raise AttributeError(operation)

        def unavailable(*args: Any, **kwargs: Any) -> Any:
            name = getattr(self.resource, "name", "resource")
            raise NotSupportedError(
                f"{operation}() on {name!r}: {self.what} is not available for the "
                f"{self.cloud!r} provider in this version of Glacier. Wire your own adapter "
                f"with env.container.cloud.<kind>_adapter.override(providers.Factory(...))."
            )

        return unavailable

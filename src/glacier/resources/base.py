"""The base of every resource: what it belongs to and how it finds its adapter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from glacier.provider import Provider


class Resource:
    """A cloud-agnostic piece of infrastructure created by a :class:`~glacier.Provider`.

    Resources hold *what* (names, formats, configs); their cloud behaviour comes from an
    adapter that the provider's cloud container selects by the provider config's kind.
    Create resources through the provider's factories (``provider.bucket(...)``) or an
    environment's namespaces (``env.storage.s3(...)``), which inject the provider and
    cascade tags and naming prefix.
    """

    #: Adapter slot in the cloud container (``bucket`` -> ``cloud.bucket_adapter``).
    kind: ClassVar[str] = "resource"

    def __init__(
        self,
        *,
        provider: Provider,
        config: Any = None,
        name: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        self.provider = provider
        self.config = config
        self.name = name or self._default_name()
        self.tags: dict[str, str] = dict(tags or {})

    def _default_name(self) -> str:
        return self.kind

    @property
    def adapter(self) -> Any:
        """The cloud adapter serving this resource.

        Resolved from the container on every use (a fraction of a microsecond), never cached,
        so overriding a container provider reaches resources created before the override.
        """
        return self.provider.adapter_for(self)

    @property
    def environment(self) -> str | None:
        """Name of the environment the resource belongs to, if any."""
        return self.provider.environment_name

    def describe(self) -> dict[str, Any]:
        """Plain-data description used by ``analyze`` mode, plans and the CLI."""
        return {
            "kind": self.kind,
            "name": self.name,
            "cloud": self.provider.kind,
            "environment": self.environment,
            "tags": dict(self.tags),
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, cloud={self.provider.kind!r})"

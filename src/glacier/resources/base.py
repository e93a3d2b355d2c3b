"""The base of every resource: what it belongs to and the adapter factory it was given."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from glacier.errors import ConfigError

#: Makes the adapter serving one resource: ``factory(resource=r)``. A dependency-injector
#: provider of the cloud container, so an override of it reaches resources made before.
AdapterFactory = Callable[..., Any]


class Resource:
    """A cloud-agnostic piece of infrastructure created by a :class:`~glacier.Provider`.

    Resources hold *what* (names, formats, configs); their cloud behaviour comes from an
    adapter, made by the factory injected when the resource is made (the provider passes
    its cloud container's, selected by the provider config's kind). Create resources through
    the provider's factories (``provider.bucket(...)``) or an environment's namespaces
    (``env.storage.s3(...)``), which inject the provider and the adapter factory and cascade
    tags and naming prefix. Made directly (``Bucket(provider=provider, bucket_name=...)``),
    a resource takes the adapter factory its provider gives for its kind
    (``provider.adapter_factory("bucket")``).
    """

    #: What the resource is (``bucket``, ``serverless``, ...), for descriptions and messages.
    kind: ClassVar[str] = "resource"

    def __init__(
        self,
        *,
        provider: Any,
        adapter: AdapterFactory | None = None,
        config: Any = None,
        name: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        self.provider = provider
        if adapter is None:
            adapter = _factory_of(provider, self.kind)
        self.adapter_factory = adapter
        self.config = config
        self.name = name or self._default_name()
        self.tags: dict[str, str] = dict(tags or {})

    def _default_name(self) -> str:
        return self.kind

    @property
    def adapter(self) -> Any:
        """The cloud adapter serving this resource.

        Made by the injected factory on every use (a fraction of a microsecond), never cached,
        so overriding a container provider reaches resources created before the override.
        """
        factory = self.adapter_factory
        if factory is None:
            raise ConfigError(
                f"{type(self).__name__} {self.name!r} was made without an adapter factory "
                f"and its provider ({type(self.provider).__name__}) gives none. Create it "
                f"through a glacier Provider (provider.{self.kind}(...)), or pass adapter= "
                "(a factory of resource=...) when making it."
            )
        return factory(resource=self)

    @property
    def environment(self) -> str | None:
        """Name of the environment the resource belongs to, if any."""
        identity = getattr(self.provider, "identity", None)
        return getattr(identity, "environment", None)

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


def _factory_of(provider: Any, kind: str) -> AdapterFactory | None:
    """The adapter factory ``provider`` gives for resources of ``kind``, if it gives one (a
    glacier Provider does; a stand-in such as a test double need not)."""
    give = getattr(provider, "adapter_factory", None)
    return give(kind) if callable(give) else None

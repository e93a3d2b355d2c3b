"""Composed environments: storage from one provider, compute from another.

``Environment.compose(storage=aws, compute=gcp, name="hybrid")`` is one environment whose
buckets (``env.storage.*``, ``env.get(...)``) live on ``storage`` and whose compute hints
(``env.compute.*``) are made by ``compute``. Tasks run wherever the run happens and read and
write the storage provider's store, so a composed environment runs locally like any other.

Its infrastructure is planned by the storage cloud's builder. When the compute is on another
cloud, its tasks would reach the storage cloud's data with the compute cloud's identities,
which no builder grants yet (that needs identity federation between the clouds: a GCP service
account or an Azure managed identity trusted by an AWS role, say). So such a plan is refused
when it is made (not when the environment is composed, which would keep it from running
locally), naming what is missing.
"""

from __future__ import annotations

from typing import Any, NoReturn, TypeVar

from dependency_injector import providers

from glacier.containers import identity_from_settings
from glacier.errors import ConfigError, InfraError
from glacier.provider import Provider

__all__ = ["compose_environment"]

#: The environment class composing (Environment or a subclass; named by the caller, which
#: sits above this module).
E = TypeVar("E")

#: Compute a composed environment plans beside storage of another cloud: local tasks (which
#: need no grant); across clouds, no builder declares identity federation yet.
_PLANNABLE_COMPUTE = frozenset({"local"})


def compose_environment(
    cls: type[E], *, storage: Provider, compute: Provider, name: str | None, **kwargs: Any
) -> E:
    """An environment of class ``cls`` on ``storage`` with its compute on ``compute``."""
    for role, given in (("storage", storage), ("compute", compute)):
        if not isinstance(given, Provider):
            raise ConfigError(
                f"Environment.compose({role}={given!r}): give a Provider, e.g. "
                f"{role}=Provider(config=AwsConfig(region='us-east-1'))."
            )
    # A provider of its own: the plan's refusal below is wired into its cloud container,
    # which must not reach other environments built on the caller's provider.
    own = Provider(config=storage.config, tags=storage.tags, naming_prefix=storage.naming_prefix)
    env: Any = cls(own, name=name, **kwargs)  # type: ignore[call-arg]
    compute.serve(identity_from_settings(env.settings))
    env.compute._provider = compute
    storage_kind, compute_kind = own.kind, compute.kind
    if compute_kind != storage_kind and compute_kind not in _PLANNABLE_COMPUTE:
        message = (
            f"Environment {env.name!r} composes storage on {storage_kind} with compute on "
            f"{compute_kind}: Glacier cannot generate cross-cloud access yet ({compute_kind} "
            f"tasks reaching {storage_kind} data need identity federation, which no builder "
            f"declares). Run it locally, or compose compute on the storage's cloud to plan "
            f"and deploy it."
        )
        env.container.cloud.infrastructure.override(providers.Callable(_refuse, message))
    composed: E = env
    return composed


def _refuse(message: str) -> NoReturn:
    raise InfraError(message)

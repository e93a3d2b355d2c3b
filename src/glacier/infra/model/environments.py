"""The environments a pipeline touches, found once and indexed by their provider.

:class:`EnvIndex` turns each Environment (or bare Provider) a task, a dataset or a resource
belongs to into one :class:`~glacier.infra.model.specs.EnvSpec`: its key (the stack name),
cloud, account (an AWS account, a GCP project, an Azure subscription), region, naming and
network. Two objects of one environment are one spec; two different environments of one name
are refused. The index never makes an environment: the runner and the command line choose
them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from glacier.errors import InfraError
from glacier.infra.builders import builder_of
from glacier.infra.model.specs import EnvSpec
from glacier.settings import Network

if TYPE_CHECKING:
    from glacier.pipeline import Pipeline
    from glacier.task import Task

__all__ = ["EnvIndex", "compute_hint", "require_accounts"]


class EnvIndex:
    """Environments by key, and by the identity of their provider."""

    def __init__(self, environments: Sequence[Any], pipeline: Pipeline) -> None:
        self.envs: dict[str, EnvSpec] = {}
        self._by_provider: dict[int, EnvSpec] = {}
        self._keep: list[Any] = []  # ids are only unique while the objects live
        known = [*environments]
        if pipeline.env is not None:
            known.append(pipeline.env)
        for t in pipeline.tasks.values():
            if t.env is not None:
                known.append(t.env)
        for env in known:
            self.add_environment(env)

    def add_environment(self, env: Any) -> EnvSpec:
        provider = getattr(env, "provider", None)
        found = self._by_provider.get(id(provider))
        if found is not None:
            return found
        spec = _spec_from(env, provider)
        return self._register(spec, provider, env)

    def for_provider(self, provider: Any) -> EnvSpec:
        found = self._by_provider.get(id(provider))
        if found is not None:
            return found
        # A resource of an environment nobody listed: its provider's identity says what
        # infrastructure needs of that environment (name, prefix, tags, network).
        return self._register(_spec_from(None, provider), provider, provider)

    def _register(self, spec: EnvSpec, provider: Any, owner: Any) -> EnvSpec:
        other = self.envs.get(spec.key)
        if other is not None and (other.cloud == "local") != (spec.cloud == "local"):
            # A local environment declares nothing; when it shares its name with a cloud one
            # (a laptop "dev" beside the AWS "dev"), the cloud one is the stack.
            self._by_provider[id(provider)] = spec
            self._keep.extend((provider, owner))
            if spec.cloud != "local":
                self.envs[spec.key] = spec
            return spec
        if other is not None:
            if _same_place(other, spec):
                self._by_provider[id(provider)] = other
                self._keep.append(provider)
                return other
            raise InfraError(
                f"Two different environments are both named {spec.key!r} (account "
                f"{other.account_id}, region {other.region} and account {spec.account_id}, "
                f"region {spec.region}). Environment names are stack names; give each its own "
                "with environment=... (or name=...)."
            )
        self.envs[spec.key] = spec
        self._by_provider[id(provider)] = spec
        self._keep.extend((provider, owner))
        return spec

    def local_default(self) -> EnvSpec:
        """Where a task with no environment of its own runs when every environment is local:
        the first local environment given, else a local one without settings (build_model
        takes its environments; it makes none)."""
        local = next((e for e in self.envs.values() if e.cloud == "local"), None)
        if local is not None:
            return local
        spec = _spec_from(None, None)
        self.envs.setdefault(spec.key, spec)
        return self.envs[spec.key]

    def for_task(self, task: Task, pipeline: Pipeline) -> EnvSpec:
        compute = task.compute
        provider = getattr(compute, "provider", None)
        if provider is not None:
            return self.for_provider(provider)
        if task.env is not None:
            return self.add_environment(task.env)
        if pipeline.env is not None:
            return self.add_environment(pipeline.env)
        homes: dict[str, EnvSpec] = {}
        for ds in (*task.input_datasets, *task.outputs):
            owner = getattr(ds.storage, "provider", None)
            if owner is not None:
                spec = self.for_provider(owner)
                homes[spec.key] = spec
        if len(homes) == 1:
            return next(iter(homes.values()))
        clouds = [e for e in self.envs.values() if e.cloud != "local"]
        if not homes and len(clouds) == 1:
            return clouds[0]
        if not homes and not clouds:
            return self.local_default()
        raise InfraError(
            f"Cannot tell where task {task.name!r} ({task.location}) runs: it has no compute "
            f"hint and its datasets live in {len(homes) or 'no'} environments "
            f"({', '.join(sorted(homes)) or '-'}). Give it a compute hint of the environment it "
            f"should run in ({compute_hint([*homes.values(), *clouds])})."
        )


def _spec_from(env: Any, provider: Any) -> EnvSpec:
    config = getattr(provider, "config", None)
    cloud = str(getattr(config, "kind", "local"))
    # The account in each cloud's words: an AWS account, a GCP project, an Azure subscription.
    account = (
        getattr(config, "account_id", None)
        or getattr(config, "project", None)
        or getattr(config, "subscription_id", None)
    )
    region = getattr(config, "region", None) or getattr(config, "location", None)
    if env is not None:
        key = str(env.name)
        named = _is_named(env, cloud, account, region)
        prefix = str(getattr(env, "naming_prefix", "") or key)
        tags = dict(getattr(env, "tags", {}) or {})
        net = getattr(env, "network", None)
        network = net if isinstance(net, Network) else Network()
    else:
        identity = getattr(provider, "identity", None)
        given = getattr(identity, "environment", None)
        key = str(given or "-".join(str(p) for p in (cloud, account, region) if p))
        named = given is not None and _is_named(None, cloud, account, region, key)
        prefix = str(getattr(identity, "naming_prefix", None) or key)
        tags = dict(getattr(identity, "tags", {}) or {})
        net = getattr(identity, "network", None)
        network = net if isinstance(net, Network) else Network()
    return EnvSpec(
        key=key,
        cloud=cloud,
        named=named,
        account_id=account,
        region=region,
        profile=getattr(config, "profile", None),
        endpoint_url=getattr(config, "endpoint_url", None),
        naming_prefix=prefix,
        tags=tuple(sorted(tags.items())),
        network=network,
        source=env if env is not None else provider,
        config=config,
    )


def _is_named(
    env: Any, cloud: str, account: str | None, region: str | None, key: str | None = None
) -> bool:
    """Whether the environment was given a logical name (see :class:`EnvSpec`)."""
    settings = getattr(env, "settings", None)
    if settings is not None and getattr(settings, "name", "x") is None:
        return False
    name = key if key is not None else str(getattr(env, "name", ""))
    # AWSEnvironment names an environment created without environment=... after its account
    # and region; that name identifies an account, not a deployment stage.
    auto = {cloud, f"{cloud}-{account}-{region}"}
    return name not in auto


def _same_place(a: EnvSpec, b: EnvSpec) -> bool:
    return (a.cloud, a.account_id, a.region, a.profile) == (
        b.cloud,
        b.account_id,
        b.region,
        b.profile,
    )


def require_accounts(a: EnvSpec, b: EnvSpec, what: str) -> None:
    """Refuse ``what`` spanning cloud environments ``a`` and ``b`` when either one's account
    is unknown: whether it crosses accounts (and which identities to trust) cannot be told."""
    if a.key == b.key or a.cloud == "local" or b.cloud == "local":
        return
    if a.account_id is None or b.account_id is None:
        missing = a.key if a.account_id is None else b.key
        raise InfraError(
            f"{what[0].upper()}{what[1:]} spans environments {a.key!r} and {b.key!r}, but "
            f"environment {missing!r} has no account_id, so Glacier cannot tell whether this "
            "crosses accounts (and which roles to trust). Set account_id on both environments."
        )


def compute_hint(envs: Sequence[EnvSpec]) -> str:
    """How a user gives a task compute in ``envs``' clouds (their builders' hints)."""
    hints = [b.hint for b in (builder_of(c) for c in dict.fromkeys(e.cloud for e in envs)) if b]
    return "; ".join(h for h in hints if h) or "compute=<a compute resource of the environment>"

"""Environments: a friendly facade over one environment's dependency-injection container.

An :class:`Environment` (alias ``GlacierEnv``) owns one :class:`~glacier.Provider`, a registry
of named resources, task defaults, an executor, a cache and a run store — all providers of an
:class:`~glacier.containers.EnvironmentContainer`, so any part can be overridden::

    env = Environment.from_env()          # GLACIER_ENV selects containers/<env>.toml
    with env.container.filesystem.override(providers.Object(MemoryFileSystem())):
        ...

Two environments never share state, so dev and prod coexist in one process.
"""

from __future__ import annotations

import contextlib
import copy
import os
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast, overload

from dependency_injector import providers
from pydantic import SecretStr

from glacier import dispatch, env_vars
from glacier.composition import compose_environment
from glacier.containers import environment_container, identity_from_settings
from glacier.dataset import Dataset
from glacier.errors import (
    ConfigError,
    InjectionError,
    UnknownEnvironmentError,
    UnknownResourceError,
)
from glacier.flow import FlowPipeline
from glacier.locations import DatasetLocation, locate, site_of
from glacier.provider import Identity, Provider
from glacier.resource_namespaces import ComputeNamespace, DatabaseNamespace, StorageNamespace
from glacier.resources import (
    Bucket,
    DatabaseTable,
)
from glacier.secrets import Secrets
from glacier.settings import (
    AwsConfig,
    GlacierSettings,
    LocalConfig,
    Network,
    TaskConfig,
)
from glacier.settings.base import refuse_credentials
from glacier.settings.variables import provider_from_kind, provider_kind
from glacier.task import P, R, Task, TypedTask, _caller_namespace
from glacier.task_options import TaskOptions

if TYPE_CHECKING:
    from glacier.cache import TaskCache
    from glacier.executors.base import Executor
    from glacier.result import RunResult


#: The environment serving each provider: the first to wrap it, which also names it
#: (:meth:`Provider.serve`). How a pipeline built without ``env=`` finds the environment its
#: resources belong to (:meth:`Environment.serving`).
_SERVING: weakref.WeakKeyDictionary[Any, Environment] = weakref.WeakKeyDictionary()


class Environment:
    """One deployment context: a provider, its resources, and how tasks run there.

    Args:
        provider: The :class:`~glacier.Provider` (local when omitted).
        name: Logical name (``dev``, ``staging``, ``prod``); also ``env.environment``.
        tags: Tags cascaded into every resource the environment creates.
        naming_prefix: Prefix of derived physical names; defaults to ``name``.
        settings: A full :class:`~glacier.settings.GlacierSettings` instead of the above.
        resources: Resources to register by name right away.
        task_defaults: Defaults every task refines (retries, timeout, cache, ...).
        network: VPC settings for compute (see :class:`Network`).

    Example:
        >>> from glacier import Environment, Provider
        >>> from glacier.config import LocalConfig
        >>> env = Environment(Provider(config=LocalConfig(base_path="/tmp/g")), name="dev")
        >>> env.register("raw", env.provider.bucket("raw", path="a.parquet")).name
        'raw_a'
        >>> env.get("raw").bucket_name
        'raw'
    """

    def __init__(
        self,
        provider: Any = None,
        name: str | None = None,
        *,
        tags: Mapping[str, str] | None = None,
        naming_prefix: str | None = None,
        settings: GlacierSettings | None = None,
        resources: Mapping[str, Any] | None = None,
        task_defaults: TaskConfig | None = None,
        network: Network | None = None,
        state_dir: str | Path | None = None,
        debug: bool = False,
        production: bool | None = None,
    ) -> None:
        if provider is not None and not hasattr(provider, "config"):
            raise ConfigError(
                f"Environment(provider={provider!r}): a {type(provider).__name__} is not a "
                "provider; give Provider(config=AwsConfig(...)) (or LocalConfig, GcpConfig, "
                "AzureConfig), or leave it out for local files."
            )
        if settings is None:
            config = getattr(provider, "config", None)
            if not isinstance(config, LocalConfig | AwsConfig) and not _is_cloud_config(config):
                config = LocalConfig()
            kwargs: dict[str, Any] = {
                "env": name or "dev",
                "name": name,
                "provider": config,
                "tags": dict(tags or {}),
                "naming_prefix": naming_prefix,
            }
            if task_defaults is not None:
                kwargs["task"] = task_defaults
            if state_dir is not None:
                kwargs["state_dir"] = Path(state_dir)
            if network is not None:
                kwargs["network"] = network
            settings = GlacierSettings(**kwargs)
        elif network is not None:
            settings = settings.model_copy(update={"network": network})
        self.settings = settings
        self.debug = debug
        self._production = production
        if isinstance(provider, Provider):
            provider.serve(identity_from_settings(settings))
        #: The environment's container, built around its provider's cloud container.
        self.container = environment_container(settings, provider)
        self.provider: Any = self.container.provider()
        # A provider that cannot be weakly referenced names no environment.
        with contextlib.suppress(TypeError):
            _SERVING.setdefault(self.provider, self)
        self.storage = StorageNamespace(self)
        self.database = DatabaseNamespace(self)
        self.compute = ComputeNamespace(self)
        self._tasks: dict[str, Task] = {}
        self._pipelines: dict[str, FlowPipeline] = {}
        #: Each task's refined config, with the defaults and options it was refined from.
        self._task_configs: weakref.WeakKeyDictionary[
            Task, tuple[TaskConfig, dict[str, Any], TaskConfig]
        ] = weakref.WeakKeyDictionary()
        for rname, resource in (resources or {}).items():
            self.register(rname, resource)

    def __getstate__(self) -> dict[str, Any]:
        # Executors such as Dask pickle the run, environment included; the config cache
        # holds weak references, which do not pickle, and is rebuilt on first use anyway.
        state = dict(self.__dict__)
        state["_task_configs"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._task_configs = weakref.WeakKeyDictionary()

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def from_env(
        cls, env: str | None = None, settings_dir: str | Path | None = None
    ) -> Environment:
        """The environment ``GLACIER_ENV`` (or ``env``) selects, from its settings file.

        Without a file, ``GLACIER_PROVIDER=aws`` (or ``local``, ``gcp``, ``azure``) builds it
        from variables alone: the cloud's own (``AWS_REGION``, ``AWS_PROFILE``, ...) and the
        ``GLACIER_*`` ones (see :mod:`glacier.settings.variables`). A file wins when present.
        """
        try:
            return cls(settings=GlacierSettings.load(env=env, settings_dir=settings_dir))
        except UnknownEnvironmentError:
            if provider_kind() is None:
                raise
        return cls(
            settings=GlacierSettings(env=env or os.environ.get(env_vars.GLACIER_ENV) or "dev")
        )

    @classmethod
    def from_provider(
        cls, provider_type: str, config: Any = None, name: str | None = None, **kwargs: Any
    ) -> Environment:
        """An environment on a new provider of ``provider_type`` (``"aws"``, ``"gcp"``,
        ``"azure"``, ``"local"``); without ``config``, the cloud's variables give it.

        Example:
            >>> from glacier.config import AwsConfig
            >>> env = Environment.from_provider(
            ...     provider_type="aws", config=AwsConfig(region="us-east-1"), name="production")
            >>> (env.name, env.region)
            ('production', 'us-east-1')
        """
        if config is None:
            config = provider_from_kind(str(provider_type).lower())
        kind = getattr(config, "kind", None)
        if kind != provider_type:
            raise ConfigError(
                f"Environment.from_provider(provider_type={provider_type!r}, "
                f"config={type(config).__name__}(...)): the config is for {kind!r}; give the "
                "config of that provider type, or leave config out to read the cloud's variables."
            )
        return cls(Provider(config=config), name=name, **kwargs)

    @classmethod
    def compose(
        cls, *, storage: Provider, compute: Provider, name: str | None = None, **kwargs: Any
    ) -> Environment:
        """One environment whose storage is on ``storage`` and whose compute hints
        (``env.compute.*``) are on ``compute``.

        Runs read and write ``storage`` wherever the tasks run. Planning infrastructure
        needs a builder for the compute's cloud; one this version lacks (GCP, Azure) is
        refused when the plan is made, naming what is missing.

        Example:
            >>> from glacier.config import GcpConfig, LocalConfig
            >>> env = Environment.compose(
            ...     storage=Provider(config=LocalConfig(base_path="/tmp/hybrid")),
            ...     compute=Provider(config=GcpConfig(project_id="my-project")),
            ...     name="hybrid")
            >>> (env.provider.kind, env.compute_provider.kind)
            ('local', 'gcp')
        """
        return compose_environment(cls, storage=storage, compute=compute, name=name, **kwargs)

    @classmethod
    def from_settings(cls, settings: GlacierSettings, **kwargs: Any) -> Environment:
        """An environment from an already-loaded settings object."""
        return cls(settings=settings, **kwargs)

    @classmethod
    def local(
        cls, base_path: str | Path = ".glacier/data", name: str = "local", **kwargs: Any
    ) -> Environment:
        """A local-files environment: the embedded default of ``pipeline.run()``."""
        return cls(Provider(config=LocalConfig(base_path=Path(base_path))), name=name, **kwargs)

    @staticmethod
    def serving(resources: Iterable[Any]) -> Environment | None:
        """The one environment whose provider made every resource in ``resources`` (a
        database table by its database's); ``None`` when there are none, or several
        environments, or a resource no environment made.

        Example:
            >>> env = Environment.local("/tmp/g", name="dev")
            >>> Environment.serving([env.storage.s3("raw", "a.parquet")]) is env
            True
            >>> Environment.serving([]) is None
            True
        """
        found: set[int] = set()
        env: Environment | None = None
        for resource in resources:
            provider = getattr(resource, "provider", None)
            if provider is None:
                provider = getattr(getattr(resource, "database", None), "provider", None)
            try:
                env = _SERVING.get(provider) if provider is not None else None
            except TypeError:
                env = None
            if env is None:
                return None
            found.add(id(env))
        return env if len(found) == 1 else None

    # -- identity ----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The environment's logical name."""
        return self.settings.name or self.settings.env

    environment = name

    @property
    def is_production(self) -> bool:
        """Whether this is a production environment (``production=True``, a production
        template, or a name of ``prod``/``production``): ``glacier shell`` opens its storage
        read-only by default."""
        if self._production is not None:
            return self._production
        return self.name.lower() in {"prod", "production"}

    @property
    def compute_provider(self) -> Any:
        """The provider compute hints come from (the storage provider unless composed)."""
        return self.compute._provider

    @property
    def naming_prefix(self) -> str:
        """Prefix of derived physical names."""
        return str(self.settings.resolved_naming_prefix)

    @property
    def tags(self) -> dict[str, str]:
        """Tags every resource of this environment carries."""
        return dict(getattr(self.provider, "tags", None) or self.settings.tags)

    @property
    def config(self) -> Any:
        """The provider's cloud config."""
        return getattr(self.provider, "config", None)

    @property
    def region(self) -> str | None:
        """The cloud region (None for local)."""
        return getattr(self.config, "region", None) or getattr(self.config, "location", None)

    @property
    def account_id(self) -> str | None:
        """The AWS account id (None elsewhere)."""
        return getattr(self.config, "account_id", None)

    @property
    def profile(self) -> str | None:
        """The AWS profile whose credentials this environment uses."""
        return getattr(self.config, "profile", None)

    @property
    def network(self) -> Network:
        """The VPC, subnets and security groups compute runs in (``[network]`` in settings)."""
        return self.settings.network

    @property
    def vpc_id(self) -> str | None:
        """The VPC compute runs in, if any."""
        return self.network.vpc_id

    @property
    def subnet_ids(self) -> list[str]:
        """Subnets for compute."""
        return list(self.network.subnet_ids)

    @property
    def security_group_ids(self) -> list[str]:
        """Security groups for compute."""
        return list(self.network.security_group_ids)

    # -- registry --------------------------------------------------------------------------

    def register(self, name: str, resource: Any) -> Any:
        """Register ``resource`` under ``name``; returns it (a name registered again now
        names the new resource)."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigError(
                f"Resource name {name!r} is invalid: use a Python identifier (letters, digits "
                "and '_', not starting with a digit), e.g. env.register('raw_sales', bucket); "
                "tasks ask for it by that parameter name."
            )
        registry: dict[str, Any] = self.container.registry()
        registry[name] = resource
        return resource

    def get(self, name: str) -> Any:
        """The resource registered as ``name``."""
        registry: dict[str, Any] = self.container.registry()
        try:
            return registry[name]
        except KeyError:
            known = ", ".join(sorted(registry)) or "(none registered)"
            raise UnknownResourceError(
                f"No resource named {name!r} in environment {self.name!r}. Known: {known}. "
                f"Register it with env.register({name!r}, provider.bucket(...)) or add it "
                "under [buckets] in the environment's settings file."
            ) from None

    # -- secrets ---------------------------------------------------------------------------

    @property
    def secrets(self) -> Secrets:
        """The ``[secrets]`` of this environment's settings, read on first use."""
        found: Secrets = self.container.secrets()
        return found

    def secret(self, name: str) -> SecretStr:
        """The value of secret ``name`` as a :class:`~pydantic.SecretStr` (shown as
        ``**********``; ``.get_secret_value()`` gives the string).

        A task can ask for it by a parameter instead, which also tells the generated
        infrastructure to grant the task's role that one secret::

            @env.task()
            def fetch(api_key: SecretStr) -> prices: ...

        Raises:
            SecretNotFoundError: the environment's ``[secrets]`` does not declare ``name``
                (the message names the environment and its settings file), or its store
                holds no value.
        """
        return self.secrets.get(name)

    def list_resources(self) -> list[str]:
        """Names of the registered resources."""
        return sorted(self.container.registry())

    @property
    def tasks(self) -> list[str]:
        """Names of the tasks bound to this environment."""
        return list(self._tasks)

    @property
    def pipelines(self) -> list[str]:
        """Names of the pipelines declared with ``@env.pipeline()``."""
        return list(self._pipelines)

    def get_state(self, *, deployed: bool | None = None) -> dict[str, Any]:
        """What this environment declares: its provider, registered resources, tasks,
        pipelines and the cloud resources their plan holds (see :mod:`glacier.state`);
        ``deployed=True`` adds the deployed stack's outputs (needs the Pulumi CLI)."""
        # The plan and the stack sit above environments: reached through the runner's registry.
        state: dict[str, Any] = dispatch.runner().environment_state(self, deployed=deployed)
        return state

    def export_state(self, path: str | Path, *, deployed: bool | None = None) -> Path:
        """Write :meth:`get_state` as JSON to ``path`` (its directories are created)."""
        written: Path = dispatch.runner().export_state(self, path, deployed=deployed)
        return written

    # -- tasks and pipelines ---------------------------------------------------------------

    def run_task(
        self,
        task: Task,
        mode: str = "local",
        *,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        output_dir: str | Path | None = None,
        **options: Any,
    ) -> Any:
        """Run one task alone in this environment (what ``task.run(...)`` does): ``local``
        calls it, its resources and stored inputs read from storage; ``analyze`` describes
        it; ``generate`` writes its infrastructure to ``output_dir``."""
        from glacier.pipeline import Pipeline

        if task.inputs:
            # Inputs declared by Dataset annotations: a one-task pipeline reads them from
            # their storage, as any pipeline reads its sources.
            if args or kwargs:
                raise ConfigError(
                    f"Task {task.name!r} ({task.location}) reads its inputs from their "
                    "datasets' storage; task.run() takes no args/kwargs for it."
                )
            single = Pipeline(task.name, env=self)
            single.add(task)
            return single.run(mode, output_dir=output_dir, **options)
        call_kwargs = dict(kwargs or {})

        def body() -> Any:
            return task(*args, **call_kwargs)

        body.__name__ = task.name
        flow = FlowPipeline(body, env=self, name=task.name)
        return flow.run(mode, output_dir=output_dir, **options)

    @overload
    def task(self, fn: Callable[P, R], **options: Any) -> TypedTask[P, R]: ...

    @overload
    def task(
        self, fn: None = None, **options: Any
    ) -> Callable[[Callable[P, R]], TypedTask[P, R]]: ...

    def task(self, fn: Callable[..., Any] | None = None, **options: Any) -> Any:
        """Bind a function to this environment as a data-flow task (``@env.task()``).

        Options: ``executor``, ``timeout``, ``retries``, ``retry_delay``, ``backoff``,
        ``max_delay``, ``jitter``, ``retry_on``, ``cache``, ``cache_version``, ``tags``,
        ``compute``, ``allow_cross_environment``, ``name``, ``checks`` (data checks of what
        each call returns, see :mod:`glacier.checks`: a failing ``error`` check raises
        :class:`~glacier.errors.CheckFailedError` from the call, so the pipeline body stops).
        The task keeps the function's signature for type checkers
        (:class:`~glacier.task.TypedTask`).
        """
        namespace = _caller_namespace(1)

        parsed = TaskOptions.parse(options, decorator="@env.task")

        def bind(f: Callable[..., Any]) -> Task:
            t = TypedTask(f, options=parsed, dataflow=True, env=self, namespace=namespace)
            self._tasks[t.name] = t
            return t

        return bind(fn) if fn is not None else bind

    @overload
    def bind(self, task: TypedTask[P, R]) -> TypedTask[P, R]: ...

    @overload
    def bind(self, task: Task) -> Task: ...

    def bind(self, task: Task) -> Task:
        """Bind a task defined with :func:`glacier.task` to this environment."""
        bound = task.bind(self)
        self._tasks[bound.name] = bound
        return bound

    def pipeline(
        self,
        fn: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
        schedule: str | None = None,
    ) -> Any:
        """Declare a data-flow pipeline: a function calling this environment's tasks."""

        def wrap(f: Callable[..., Any]) -> FlowPipeline:
            flow = FlowPipeline(f, env=self, name=name, schedule=schedule)
            self._pipelines[flow.name] = flow
            return flow

        return wrap(fn) if fn is not None else wrap

    # -- what executors ask of an environment ----------------------------------------------

    def task_config(self, task: Task) -> TaskConfig:
        """The task's effective settings: environment defaults refined by the task's options."""
        base: TaskConfig = self.settings.task
        if not task.options:
            return base
        # Refining validates a new pydantic model (about 25 µs) and every run asks for every
        # task's config, so each task's is remembered until the defaults or its options change.
        cached = self._task_configs.get(task)
        if cached is not None and cached[0] is base and cached[1] == task.options:
            return cached[2]
        config = base.refine(**task.options)
        self._task_configs[task] = (base, copy.deepcopy(task.options), config)
        return config

    def resolve_resources(self, task: Task, given: Sequence[str] = ()) -> dict[str, Any]:
        """Values for the task's resource parameters not in ``given``."""
        out: dict[str, Any] = {}
        registry: dict[str, Any] = self.container.registry()
        for req in task.resources:
            if req.param in given:
                continue
            if req.marker is not None:
                out[req.param] = self._from_marker(task, req.param, req.marker)
                continue
            if req.annotation is SecretStr:
                undeclared = req.param not in self.settings.secrets
                out[req.param] = None if req.optional and undeclared else self.secret(req.param)
                continue
            named = registry.get(req.param)
            if named is not None and (req.annotation is None or isinstance(named, req.annotation)):
                out[req.param] = named
                continue
            matches = [r for r in registry.values() if isinstance(r, req.annotation)]
            if len(matches) == 1:
                out[req.param] = matches[0]
            elif not matches and req.optional:
                out[req.param] = None
            else:
                kind = getattr(req.annotation, "__name__", "resource")
                candidates = [n for n, r in registry.items() if isinstance(r, req.annotation)]
                why = (
                    f"several are registered ({', '.join(sorted(candidates))}); name the "
                    f"parameter after one of them or use Provide[{candidates[0]!r}]"
                    if candidates
                    else f"none is registered; env.register({req.param!r}, ...) one"
                )
                raise InjectionError(
                    f"Task {task.name!r} ({task.location}) needs a {kind} for parameter "
                    f"{req.param!r} in environment {self.name!r}, but {why}, or pass it "
                    "explicitly."
                )
        return out

    def inject(self, task: Task, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """``kwargs`` plus the resources the caller did not pass (direct task calls)."""
        # Names from the task's parsed parameters: building a list from its Signature took
        # half the cost of a direct call.
        given = task._names[: len(args)] + tuple(kwargs) if args or kwargs else ()
        extra = self.resolve_resources(task, given)
        return {**kwargs, **extra} if extra else kwargs

    def bucket_for(self, dataset: Dataset) -> Bucket:
        """The :class:`Bucket` a stored dataset reads and writes through, refined by the
        dataset's ``read_options``, ``write_options`` and ``read_only``."""
        # A database table stands in for a Bucket holding a table: it reads, scans, writes
        # and fingerprints the same way, which is all a run asks of storage.
        return cast("Bucket", dataset.refine(self._storage_bucket(dataset)))

    def _storage_bucket(self, dataset: Dataset) -> Bucket | DatabaseTable:
        location = self.locate(dataset)
        if location.source in ("bucket", "database"):
            return location.storage  # type: ignore[no-any-return]
        if location.bucket is None:
            raise ConfigError(f"Dataset {dataset.name!r} lives in memory; it has no bucket.")
        if location.source == "path":
            local = Provider(
                config=LocalConfig(base_path=Path(str(location.base_path))),
                identity=Identity(environment=self.name),
            )
            return local.bucket(location.bucket, path=location.key, format=location.format)  # type: ignore[no-any-return]
        # A URI of this environment's store, or a raw Pulumi bucket: at run time, the same
        # bucket through this environment.
        return self.provider.bucket(location.bucket, path=location.key, format=location.format)  # type: ignore[no-any-return]

    def locate(self, dataset: Dataset) -> DatasetLocation:
        """Where ``dataset`` lives when used from this environment (see
        :func:`glacier.locations.locate`)."""
        return locate(dataset, site_of(self.provider, self.name))

    def buckets_for(self, datasets: Iterable[Dataset]) -> dict[Dataset, Bucket]:
        """The bucket of each stored dataset among ``datasets`` (in-memory ones have none)."""
        return {ds: self.bucket_for(ds) for ds in datasets if ds.storage is not None}

    @property
    def cache(self) -> TaskCache:
        """The task cache (``<state_dir>/cache``)."""
        cache: TaskCache = self.container.cache()
        return cache

    def executor(self, name: str | None = None) -> Executor:
        """The configured executor, or the one named (``local``, ``dask``)."""
        selector = cast("providers.Selector[Any]", self.container.executor)
        if name is None or name == self.settings.executor.kind:
            executor: Executor = selector()
            return executor
        # The container's table of executors, whatever the settings select.
        chosen = selector.providers.get(name)
        if chosen is None:
            known = " or ".join(repr(k) for k in selector.providers)
            raise ConfigError(f"Unknown executor {name!r}; use {known}.")
        named: Executor = chosen()
        return named

    def record_run(self, result: RunResult, versions: dict[str, str]) -> None:
        """Write the run's record to the run store."""
        self.container.run_store().record(result, versions)

    # -- internals -------------------------------------------------------------------------

    def _from_marker(self, task: Task, param: str, marker: Any) -> Any:
        target = marker.provider
        if isinstance(target, str):
            registry: dict[str, Any] = self.container.registry()
            if target in registry:
                return registry[target]
            node: Any = self.container
            for part in target.split("."):
                node = getattr(node, part, None)
                if node is None:
                    raise InjectionError(
                        f"Task {task.name!r} ({task.location}): Provide[{target!r}] for "
                        f"parameter {param!r} names neither a registered resource nor a "
                        f"container provider. Registered: {', '.join(sorted(registry)) or '-'}."
                    )
            return node()
        if callable(target):
            return target()
        raise InjectionError(f"Task {task.name!r}: cannot resolve marker {marker!r}.")


def _is_cloud_config(config: Any) -> bool:
    return getattr(config, "kind", None) in {"aws", "gcp", "azure", "local"} and hasattr(
        config, "model_dump"
    )


GlacierEnv = Environment


class AWSEnvironment(Environment):
    """An AWS environment in one call: account, region, profile, naming, tags, network.

    Example:
        >>> aws_dev = AWSEnvironment(account_id="111111111111", region="us-west-2",
        ...                          profile="dev", environment="dev")
        >>> aws_dev.storage.s3(bucket="dev-raw-data").bucket_name
        'dev-raw-data'
    """

    def __init__(
        self,
        account_id: str | None = None,
        region: str | None = None,
        profile: str | None = None,
        environment: str | None = None,
        naming_prefix: str | None = None,
        tags: Mapping[str, str] | None = None,
        vpc_id: str | None = None,
        subnet_ids: Sequence[str] | None = None,
        security_group_ids: Sequence[str] | None = None,
        endpoint_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        refuse_credentials(kwargs.keys(), "aws")
        config = AwsConfig(
            region=region or AwsConfig.from_env().region,
            profile=profile,
            account_id=account_id,
            endpoint_url=endpoint_url,
        )
        name = environment or (f"aws-{account_id}-{config.region}" if account_id else "aws")
        super().__init__(
            Provider(config=config),
            name=name,
            tags=tags,
            naming_prefix=naming_prefix,
            network=Network(
                vpc_id=vpc_id,
                subnet_ids=tuple(subnet_ids or ()),
                security_group_ids=tuple(security_group_ids or ()),
            ),
            **kwargs,
        )

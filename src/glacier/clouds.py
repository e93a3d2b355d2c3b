"""New clouds as plugins: a config class, its adapters, one registration — no Provider subclass.

::

    from glacier.clouds import register_cloud

    class NewCloudConfig(BaseModel):
        kind: Literal["newcloud"] = "newcloud"
        region: str

    register_cloud(
        NewCloudConfig,
        bucket=NewCloudBucketAdapter,          # required
        serverless=NewCloudFunctionAdapter,    # optional
        database=NewCloudSqlAdapter,           # optional
    )
    provider = Provider(config=NewCloudConfig(region="north-1"))
    provider.bucket("raw", path="sales.parquet").read()

An installed package registers its cloud with an entry point in the group ``glacier.clouds``
whose object is a :class:`CloudPlugin` (or a function returning one)::

    [project.entry-points."glacier.clouds"]
    newcloud = "glacier_newcloud:plugin"

Entry points are read the first time a provider meets a config class no registration names.

Each adapter class is made per use as ``Adapter(resource=r, provider=r.provider)`` and must
have the methods of its protocol below, with signatures that accept the calls Glacier makes
(checked when registered: a method that cannot take them is refused, named). The protocols'
methods are exactly what :class:`~glacier.Bucket`, :class:`~glacier.Serverless` and
:class:`~glacier.Database` call:

- :class:`BucketAdapter`: ``scan(version=None, **options)``, ``read(version=None, **options)``,
  ``write(data, *, mode="overwrite", on=None, delete_when=None, schema=None)``,
  ``exists()``, ``get_uri()``, ``fingerprint()`` — required; ``list()``, ``delete()``
  optional (a missing one is refused when called, naming it).
- :class:`ServerlessAdapter`: ``invoke(payload)``.
- :class:`DatabaseAdapter` (SQL; resources with engine ``postgres`` or ``sqlite``):
  ``query(sql)``, ``execute(statements)``, ``read_table(table)``, ``schema(table)``,
  ``write(table, data, mode, keys)``, ``exists(table)``, ``fingerprint(table)``.

A plugin cloud plans its infrastructure when it registers a builder with it: a
:class:`~glacier.infra.builders.CloudBuilder` row naming the builder class (made as
``Class(config=provider_config)``, asked to ``declare(model, env)``), its compute kinds and
default, and what the model asks of the cloud::

    register_cloud(
        NewCloudConfig,
        bucket=NewCloudBucketAdapter,
        infrastructure=CloudBuilder(
            cloud="newcloud",
            target="glacier_newcloud.infra:NewCloudInfrastructure",
            compute=("job",),
            default_compute="job",
            hint="env.compute.job(...)",
        ),
    )

Without one, a plugin cloud's plan is refused, naming that. Jobs on execution environments
are not pluggable in this version.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, runtime_checkable

from dependency_injector import containers, providers

from glacier.adapters.unavailable import UnavailableAdapter
from glacier.errors import ConfigError, InfraError, NotSupportedError
from glacier.infra.builders import CloudBuilder, make_builder, register_builder

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "ENTRY_POINT_GROUP",
    "BucketAdapter",
    "CloudPlugin",
    "DatabaseAdapter",
    "ServerlessAdapter",
    "cloud_container",
    "plugin_for",
    "register_cloud",
    "registered_clouds",
]

#: The entry-point group installed packages register their clouds in.
ENTRY_POINT_GROUP = "glacier.clouds"


@runtime_checkable
class BucketAdapter(Protocol):
    """What a :class:`~glacier.Bucket` calls on its adapter."""

    def scan(self, version: int | datetime | None = None, **options: Any) -> pl.LazyFrame: ...

    def read(self, version: int | datetime | None = None, **options: Any) -> pl.DataFrame: ...

    def write(
        self,
        data: pl.DataFrame | pl.LazyFrame,
        *,
        mode: str = "overwrite",
        on: Sequence[str] | None = None,
        delete_when: Any = None,
        schema: str | None = None,
    ) -> None: ...

    def exists(self) -> bool: ...

    def get_uri(self) -> str: ...

    def fingerprint(self) -> str: ...


class ServerlessAdapter(Protocol):
    """What a :class:`~glacier.Serverless` calls on its adapter."""

    def invoke(self, payload: dict[str, Any]) -> Any: ...


class DatabaseAdapter(Protocol):
    """What a SQL :class:`~glacier.Database` and its tables call on their adapter."""

    def query(self, sql: str) -> pl.DataFrame: ...

    def execute(self, statements: Sequence[str]) -> None: ...

    def read_table(self, table: str) -> pl.DataFrame: ...

    def schema(self, table: str) -> Any: ...

    def write(
        self, table: str, data: pl.DataFrame, mode: str, keys: Sequence[str] | None
    ) -> None: ...

    def exists(self, table: str) -> bool: ...

    def fingerprint(self, table: str) -> str: ...


# The calls Glacier makes, per protocol: (method, args, kwargs) a signature must accept.
_ANY = object()
_CALLS: dict[str, tuple[tuple[str, tuple[Any, ...], dict[str, Any], bool], ...]] = {
    "bucket": (
        ("scan", (None,), {"columns": _ANY}, True),
        ("read", (None,), {"columns": _ANY}, True),
        (
            "write",
            (_ANY,),
            {"mode": "overwrite", "on": None, "delete_when": None, "schema": None},
            True,
        ),
        ("exists", (), {}, True),
        ("get_uri", (), {}, True),
        ("fingerprint", (), {}, True),
        ("list", (), {}, False),
        ("delete", (), {}, False),
    ),
    "serverless": (("invoke", ({},), {}, True),),
    "database": (
        ("query", ("SELECT 1",), {}, True),
        ("execute", (("SELECT 1",),), {}, True),
        ("read_table", ("t",), {}, True),
        ("schema", ("t",), {}, True),
        ("write", ("t", _ANY, "replace", None), {}, True),
        ("exists", ("t",), {}, True),
        ("fingerprint", ("t",), {}, True),
    ),
}
_SHAPES = {
    "scan": "scan(version=None, **options)",
    "read": "read(version=None, **options)",
    "write": "write(data, *, mode, on, delete_when, schema)",
    "invoke": "invoke(payload)",
}
_DB_SHAPES = {"write": "write(table, data, mode, keys)", "execute": "execute(statements)"}


@dataclass(frozen=True)
class CloudPlugin:
    """One cloud: its config class and the adapter classes serving its resources.

    Args:
        config: A pydantic model class whose instances have a ``kind`` (the cloud's name).
        bucket: The bucket adapter class (:class:`BucketAdapter`).
        serverless: The serverless adapter class (:class:`ServerlessAdapter`), if any.
        database: The SQL database adapter class (:class:`DatabaseAdapter`), if any.
        infrastructure: The cloud's infrastructure builder row, if its plans are generated
            (registered in :data:`glacier.infra.builders.BUILDERS`).
    """

    config: type
    bucket: type
    serverless: type | None = None
    database: type | None = None
    infrastructure: CloudBuilder | None = None

    @property
    def kind(self) -> str:
        """The cloud's name: the config's ``kind`` default."""
        field = getattr(self.config, "model_fields", {}).get("kind")
        default = getattr(field, "default", None)
        return str(default if isinstance(default, str) else self.config.__name__)


_REGISTRY: dict[type, CloudPlugin] = {}
_ENTRY_POINTS_READ = False
_BUILTIN_KINDS = frozenset({"local", "aws", "gcp", "azure"})


def register_cloud(
    config: type,
    *,
    bucket: type,
    serverless: type | None = None,
    database: type | None = None,
    infrastructure: CloudBuilder | None = None,
) -> CloudPlugin:
    """Make ``Provider(config=config(...))`` serve a new cloud through these adapters, and
    plan its infrastructure with ``infrastructure`` when given.

    Raises:
        ConfigError: ``config`` is not a pydantic model with a ``kind`` default, the kind is
            a built-in cloud's, an adapter lacks a method of its protocol or has one whose
            signature cannot take Glacier's call (the message names the method), or the
            builder row is for another cloud.
    """
    plugin = CloudPlugin(config, bucket, serverless, database, infrastructure)
    _check_plugin(plugin)
    _REGISTRY[config] = plugin
    if infrastructure is not None:
        register_builder(infrastructure)
    return plugin


def registered_clouds() -> dict[str, CloudPlugin]:
    """The registered clouds by kind (entry points read)."""
    _read_entry_points()
    return {plugin.kind: plugin for plugin in _REGISTRY.values()}


def plugin_for(config: Any) -> CloudPlugin | None:
    """The plugin registered for ``config``'s class (entry points read on first miss)."""
    found = _REGISTRY.get(type(config))
    if found is None and not _ENTRY_POINTS_READ:
        _read_entry_points()
        found = _REGISTRY.get(type(config))
    return found


def cloud_container(plugin: CloudPlugin, config: Any) -> Any:
    """A cloud container whose adapters are the plugin's (what a Provider takes adapters from);
    what the plugin does not provide is refused when used, naming it."""
    kind = plugin.kind

    def unavailable(what: str) -> providers.Provider[Any]:
        return providers.Factory(UnavailableAdapter, what=what, cloud=kind)

    container = containers.DynamicContainer()
    container.config = providers.Object(config)
    container.kind = providers.Object(kind)
    container.filesystem = unavailable("fsspec filesystem access (the bucket adapter does I/O)")
    container.bucket_adapter = _adapter_factory(plugin.bucket)
    container.serverless_adapter = (
        _adapter_factory(plugin.serverless)
        if plugin.serverless is not None
        else unavailable("invoking serverless functions")
    )
    container.database_adapter = (
        _adapter_factory(plugin.database)
        if plugin.database is not None
        else unavailable("database access")
    )
    container.volume_adapter = unavailable("file system volume I/O")
    container.execution_adapter = unavailable("submitting jobs to execution environments")
    if plugin.infrastructure is not None:
        container.infrastructure = providers.Factory(make_builder, config=config)
        return container
    container.infrastructure = providers.Callable(
        _refuse_plan,
        f"Cloud {kind!r} is a plugin cloud ({plugin.config.__name__}): Glacier cannot generate "
        "its infrastructure without a builder. Register one "
        "(register_cloud(..., infrastructure=CloudBuilder(...)), see glacier.clouds), run its "
        "pipelines locally (pipeline.run()), or plan them in an environment of a cloud with a "
        "builder.",
    )
    return container


def _refuse_plan(message: str) -> NoReturn:
    raise InfraError(message)


# -- internals -------------------------------------------------------------------------------


def _adapter_factory(cls: type) -> providers.Provider[Any]:
    def make(resource: Any) -> Any:
        return _Checked(cls(resource=resource, provider=resource.provider), cls)

    return providers.Callable(make)


class _Checked:
    """A plugin adapter; an optional method it lacks is refused when called, named."""

    def __init__(self, adapter: Any, cls: type) -> None:
        self._adapter = adapter
        self._cls = cls

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self._adapter, name)
        except AttributeError:
            raise NotSupportedError(
                f"{self._cls.__name__} has no {name}(): this plugin cloud's adapter does not "
                f"support it; add {name}() to {self._cls.__name__} (see glacier.clouds)."
            ) from None


def _check_plugin(plugin: CloudPlugin) -> None:
    config = plugin.config
    if not isinstance(config, type) or not hasattr(config, "model_fields"):
        raise ConfigError(
            f"register_cloud({config!r}, ...): the config must be a pydantic model class "
            "(class NewCloudConfig(BaseModel): kind: Literal['newcloud'] = 'newcloud'; ...)."
        )
    field = config.model_fields.get("kind")
    if field is None or not isinstance(field.default, str):
        raise ConfigError(
            f"register_cloud({config.__name__}, ...): the config needs a 'kind' field with "
            f"the cloud's name as default, e.g. kind: Literal['newcloud'] = 'newcloud'."
        )
    if field.default in _BUILTIN_KINDS:
        raise ConfigError(
            f"register_cloud({config.__name__}, ...): kind {field.default!r} is a built-in "
            "cloud's; give the new cloud a name of its own."
        )
    builder = plugin.infrastructure
    if builder is not None and (
        not isinstance(builder, CloudBuilder) or builder.cloud != field.default
    ):
        raise ConfigError(
            f"register_cloud({config.__name__}, infrastructure={builder!r}): give a "
            f"glacier.infra.builders.CloudBuilder with cloud={field.default!r}, the config's kind."
        )
    for role, cls in (
        ("bucket", plugin.bucket),
        ("serverless", plugin.serverless),
        ("database", plugin.database),
    ):
        if cls is not None:
            _check_adapter(role, cls, config.__name__)


def _check_adapter(role: str, cls: Any, config: str) -> None:
    if not isinstance(cls, type):
        raise ConfigError(
            f"register_cloud({config}, {role}={cls!r}): give the adapter class, made per use "
            "as Adapter(resource=..., provider=...)."
        )
    try:
        inspect.signature(cls).bind(resource=None, provider=None)
    except TypeError as exc:
        raise ConfigError(
            f"register_cloud({config}, {role}={cls.__name__}): {cls.__name__}(resource=..., "
            f"provider=...) cannot be made ({exc}); its __init__ must take resource and provider."
        ) from None
    shapes = _DB_SHAPES if role == "database" else _SHAPES
    for method, args, kwargs, required in _CALLS[role]:
        fn = getattr(cls, method, None)
        shape = shapes.get(method, f"{method}({', '.join('x' for _ in args)})")
        if fn is None:
            if required:
                raise ConfigError(
                    f"register_cloud({config}, {role}={cls.__name__}): {cls.__name__} has no "
                    f"{method}(); the {role} adapter protocol needs {shape} (see glacier.clouds)."
                )
            continue
        try:
            inspect.signature(fn).bind(None, *args, **kwargs)
        except TypeError as exc:
            raise ConfigError(
                f"register_cloud({config}, {role}={cls.__name__}): "
                f"{cls.__name__}.{method}{inspect.signature(fn)} cannot take Glacier's call "
                f"{shape} ({exc}); give it that signature (see glacier.clouds)."
            ) from None


def _read_entry_points() -> None:
    global _ENTRY_POINTS_READ
    _ENTRY_POINTS_READ = True
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = point.load()
        except Exception as exc:
            raise ConfigError(
                f"The cloud plugin {point.name!r} ({point.value}, entry point group "
                f"{ENTRY_POINT_GROUP!r}) failed to import: {type(exc).__name__}: {exc}."
            ) from exc
        plugin = loaded() if callable(loaded) and not isinstance(loaded, CloudPlugin) else loaded
        if not isinstance(plugin, CloudPlugin):
            raise ConfigError(
                f"The cloud plugin {point.name!r} ({point.value}) is a "
                f"{type(plugin).__name__}, not a glacier.clouds.CloudPlugin."
            )
        register_cloud(
            plugin.config,
            bucket=plugin.bucket,
            serverless=plugin.serverless,
            database=plugin.database,
            infrastructure=plugin.infrastructure,
        )

"""The stores a pipeline's data lives in, and where each dataset is in them.

:class:`Stores` asks :func:`glacier.locations.locate` (the one resolution the runtime also
uses) where a dataset lives from a task's environment, and records the store: a Glacier
bucket (``managed``), the environment's ``artifacts`` store that carries in-memory datasets
between processes, a URI of the cloud's store (``external``) or a raw Pulumi bucket
(``raw``). Buckets are deduplicated across datasets and environments (bucket names are
global), and crossing environments is checked here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from glacier.dataset import Dataset
from glacier.errors import ConfigError, CrossEnvironmentAccessError, InfraError
from glacier.infra.builders import builder_of
from glacier.infra.model.environments import EnvIndex, require_accounts
from glacier.infra.model.names import artifacts_key, code_prefix, physical_name
from glacier.infra.model.specs import EnvSpec, Location, Store
from glacier.locations import DatasetLocation, Site, locate, locate_storage
from glacier.resources import Bucket
from glacier.uris import scheme_of_cloud

if TYPE_CHECKING:
    from glacier.task import Task

__all__ = ["Stores", "storage_hint"]


def storage_hint(cloud: str) -> str:
    """How a user stores data in ``cloud``'s object store, for messages (its builder's
    spelling, e.g. ``env.storage.s3(bucket=...)``)."""
    builder = builder_of(cloud)
    return (builder.storage_hint if builder else "") or "a Bucket of the environment's provider"


class Stores:
    """Deduplicates buckets across datasets and checks environment boundaries."""

    def __init__(self, pipeline: str, index: EnvIndex) -> None:
        self.pipeline = pipeline
        self.index = index
        self.stores: dict[str, Store] = {}
        self._owners: dict[str, str] = {}  # bucket name -> store key (names are global)

    def locate(self, ds: Dataset, task: Task, env: EnvSpec, home: EnvSpec, verb: str) -> Location:
        try:
            where = locate(ds, Site(env.cloud, env.account_id, env.region, name=env.key))
        except ConfigError as exc:
            raise InfraError(
                f"Dataset {ds.name!r} (used by task {task.name!r}, {task.location}): {exc}"
            ) from None
        if where.source == "memory":
            # In memory locally; between two cloud processes it travels through the
            # artifacts bucket of the environment that produces it.
            store = self._artifacts(home)
            self._check(task, env, home, ds.name, store.bucket_name, verb)
            return Location(store.key, f"{ds.name}/", ds.name)
        if where.source == "bucket":
            return self._bucket(where, task, env, verb)
        if where.source == "raw":
            return self._raw(where, env)
        if where.source in ("uri", "path"):
            return self._uri(where, task, env)
        scheme = scheme_of_cloud(env.cloud)
        uri = f"a {scheme.name}:// URI" if scheme is not None else "a URI of its store"
        raise InfraError(
            f"Dataset {ds.name!r} (used by task {task.name!r}, {task.location}) has storage of "
            f"type {type(ds.storage).__name__}; infrastructure can be derived for a Bucket "
            f"({storage_hint(env.cloud)}), {uri} or a Pulumi bucket resource."
        )

    def locate_bucket(self, bucket: Bucket, task: Task, env: EnvSpec) -> Location:
        where = locate_storage(bucket.name, bucket, Site(env.cloud, name=env.key))
        return self._bucket(where, task, env, "uses")

    def _bucket(self, where: DatasetLocation, task: Task, env: EnvSpec, verb: str) -> Location:
        bucket: Bucket = where.storage
        dataset = where.dataset
        home = self.index.for_provider(bucket.provider)
        if home.cloud == "local":
            raise InfraError(
                f"Task {task.name!r} ({task.location}) runs in {env.cloud} environment "
                f"{env.key!r} but dataset {dataset!r} is in local bucket "
                f"{bucket.bucket_name!r}, which the cloud cannot reach. Store it in the "
                f"environment's object store: {storage_hint(env.cloud)}."
            )
        self._check(task, env, home, dataset, bucket.bucket_name, verb)
        key = f"{home.key}:{bucket.bucket_name}"
        owner = self._owners.get(bucket.bucket_name)
        if owner is not None and owner != key:
            other = self.stores[owner].env
            raise InfraError(
                f"Bucket {bucket.bucket_name!r} is declared in environments {other!r} and "
                f"{home.key!r}; bucket names are global, so one of them must use another name."
            )
        self._owners[bucket.bucket_name] = key
        existing = self.stores.get(key)
        config = bucket.config
        tags = dict(bucket.tags)
        datasets: tuple[str, ...] = (dataset,)
        if existing is not None:
            if config is not None and existing.config is not None and config != existing.config:
                raise InfraError(
                    f"Bucket {bucket.bucket_name!r} in environment {home.key!r} is configured "
                    f"twice, differently (datasets {', '.join(existing.datasets)} and "
                    f"{dataset!r}). Create it once and share the Bucket, or give both the same "
                    "config."
                )
            config = existing.config if config is None else config
            tags = {**dict(existing.tags), **tags}
            datasets = tuple(dict.fromkeys((*existing.datasets, dataset)))
        self.stores[key] = Store(
            key=key,
            env=home.key,
            kind="managed",
            bucket_name=bucket.bucket_name,
            config=config,
            tags=tuple(sorted(tags.items())),
            datasets=datasets,
        )
        return Location(key, where.key, dataset, sweeps=where.sweeps)

    def _uri(self, where: DatasetLocation, task: Task, env: EnvSpec) -> Location:
        dataset = where.dataset
        if where.source == "path":
            raise InfraError(
                f"Dataset {dataset!r} (used by task {task.name!r}, {task.location}) is stored "
                f"at the local path {where.storage!r}, which a task running in {env.cloud} "
                f"environment {env.key!r} cannot reach. Store it in the environment's object "
                f"store: {storage_hint(env.cloud)}."
            )
        bucket = str(where.bucket)
        store_key = f"{env.key}:{bucket}"
        existing = self.stores.get(store_key)
        names = (*existing.datasets, dataset) if existing else (dataset,)
        if existing is None or existing.kind == "external":
            self.stores[store_key] = Store(
                store_key, env.key, "external", bucket, datasets=tuple(dict.fromkeys(names))
            )
        return Location(store_key, where.key, dataset, sweeps=where.sweeps)

    def _raw(self, where: DatasetLocation, env: EnvSpec) -> Location:
        dataset = where.dataset
        key = f"{env.key}:raw:{where.bucket}"
        existing = self.stores.get(key)
        names = (*existing.datasets, dataset) if existing else (dataset,)
        self.stores[key] = Store(
            key,
            env.key,
            "raw",
            None,
            resource=where.storage,
            datasets=tuple(dict.fromkeys(names)),
        )
        # The key the runtime reads and writes (see glacier.locations.locate).
        return Location(key, where.key, dataset)

    def code(self, env: EnvSpec) -> Location:
        """Where ``env``'s tasks of this pipeline whose compute loads its code from the
        artifacts store find their script and code."""
        store = self._artifacts(env)
        return Location(store.key, code_prefix(self.pipeline), "code")

    def _artifacts(self, env: EnvSpec) -> Store:
        key = artifacts_key(env.key)
        store = self.stores.get(key)
        if store is None:
            name = physical_name(
                env.naming_prefix,
                self.pipeline,
                "artifacts",
                env.account_id or "",
                limit=63,
                allowed="a-z0-9-",
                lower=True,
            )
            store = self.stores[key] = Store(key, env.key, "artifacts", name)
        return store

    def _check(
        self, task: Task, env: EnvSpec, home: EnvSpec, dataset: str, bucket: str | None, verb: str
    ) -> None:
        if env.key == home.key:
            return
        if env.named and home.named and not task.allow_cross_environment:
            raise CrossEnvironmentAccessError(
                f"Task {task.name!r} ({task.location}) runs in environment {env.key!r} but "
                f"{verb} dataset {dataset!r}, stored in environment {home.key!r} (bucket "
                f"{bucket!r}). Glacier refuses to cross environments by default so that code "
                f"in {env.key!r} never touches {home.key!r} data by accident. If this is "
                f"intended, opt in on the task: @pipeline.task(..., "
                "allow_cross_environment=True) (or @env.task(allow_cross_environment=True))."
            )
        require_accounts(env, home, f"task {task.name!r} reaching dataset {dataset!r}")

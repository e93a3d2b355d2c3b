"""The records of the infrastructure model: environments, stores, locations and grants,
databases, volumes, secrets, tasks, and the :class:`InfraModel` holding them.

Plain frozen data in no cloud's words: an environment has an account (an AWS account, a GCP
project, an Azure subscription) and a region; a store is a bucket (an S3 bucket, a GCS
bucket, a Blob container); a grant is read, write, list or delete on a location. Each cloud's
builder (:mod:`glacier.infra.builders`) says what these mean in its resources.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from glacier.infra.model.code import CodeSpec
from glacier.infra.model.names import physical_name
from glacier.settings import Network

__all__ = [
    "READ",
    "REPLACE",
    "WRITE",
    "CatalogEntry",
    "CrossAccountAccess",
    "DatabaseSpec",
    "EnvSpec",
    "Grant",
    "InfraModel",
    "Location",
    "SecretRef",
    "Store",
    "TaskSpec",
    "VolumeSpec",
    "crosses_account",
]

#: What consuming a dataset grants.
READ = ("read", "list")
#: What producing one grants. Producers also read and list: a Delta table's writer reads its
#: log for the latest version (and a merge the rows it matches), an append the stored schema,
#: an object's write reads back its write token when the answer to completing it was lost.
#: Nothing is deleted: a Delta overwrite or merge only adds files and log entries (the files
#: it supersedes go when vacuum runs, from the CLI with the deployer's credentials), and an
#: object is replaced by completing its upload.
WRITE = ("read", "write", "list")
#: What producing a dataset directory in Glacier's ``_glacier/`` manifest layout (csv, json,
#: ndjson) grants: each write sweeps the versions its manifest no longer names.
REPLACE = (*WRITE, "delete")


# -- environments ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EnvSpec:
    """One environment as infrastructure sees it; ``key`` is also its stack name.

    ``account_id`` is the cloud's account: an AWS account id, a GCP project id, an Azure
    subscription id; ``region`` its region (an Azure location).

    ``named`` is False for environments created without a logical name (e.g.
    ``AWSEnvironment(account_id=..., region=...)``): those are accounts of one organisation,
    and crossing between them needs no opt-in.

    What only one cloud's builder needs (an AWS partition or assumed role, an Azure resource
    group) is read from :attr:`config`, by that builder.
    """

    key: str
    cloud: str
    named: bool
    account_id: str | None = None
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    naming_prefix: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    network: Network = field(default_factory=Network)
    #: The Environment (or bare Provider) the infrastructure builder is taken from.
    source: Any = field(default=None, compare=False, repr=False)
    #: The provider's config (AwsConfig, GcpConfig, AzureConfig, ...): what a cloud's builder
    #: needs beyond the neutral fields (an Azure resource group, a GCP project's labels).
    config: Any = field(default=None, compare=False, repr=False)

    @property
    def tag_map(self) -> dict[str, str]:
        """The environment's tags as a dict."""
        return dict(self.tags)


# -- stores and grants -----------------------------------------------------------------------


@dataclass(frozen=True)
class Store:
    """A bucket the pipeline's data lives in.

    ``kind`` is ``managed`` (a Glacier bucket: declared with security defaults),
    ``artifacts`` (declared by Glacier to pass in-memory datasets between tasks that run in
    different processes), ``external`` (a URI of the cloud's store, e.g. ``gs://``:
    referenced, never declared) or
    ``raw`` (a Pulumi resource the user declared: used as is, referenced through its
    outputs).
    """

    key: str
    env: str
    kind: str
    bucket_name: str | None
    config: Any = field(default=None, compare=False)
    resource: Any = field(default=None, compare=False, repr=False)
    tags: tuple[tuple[str, str], ...] = ()
    datasets: tuple[str, ...] = ()

    @property
    def declared(self) -> bool:
        """Whether Glacier declares (and secures) this bucket."""
        return self.kind in ("managed", "artifacts")


@dataclass(frozen=True)
class Location:
    """Where one dataset lives: a store and an object key prefix (``""`` = whole bucket).

    ``suffix`` completes the key pattern (``*`` by default). ``sweeps`` says whether a write
    deletes objects there: only a directory of the ``_glacier/`` manifest layout does (see
    :data:`REPLACE`).
    """

    store: str
    prefix: str
    dataset: str
    suffix: str = "*"
    sweeps: bool = False

    @property
    def pattern(self) -> str:
        """The object key pattern: the prefix, then ``*`` (or the suffix).

        ``sales.parquet*`` covers the object and a partitioned directory of that name;
        ``events/*`` a dataset directory with its manifest and versions.
        """
        return f"{self.prefix}{self.suffix}"

    @property
    def is_artifact(self) -> bool:
        """Whether this is an in-memory dataset's place in an artifacts bucket
        (``<dataset>/``), not where writes stage or where code is kept."""
        return self.prefix == f"{self.dataset}/"


@dataclass(frozen=True)
class Grant:
    """A task's access to one dataset location."""

    location: Location
    access: tuple[str, ...]


@dataclass(frozen=True)
class CatalogEntry:
    """A Delta table registered in a data catalog (``Dataset(..., catalog=True)``), in the
    environment whose store holds it; ``uri`` is the table's (``<scheme>://bucket/prefix/``, see
    :func:`glacier.locations.locate`)."""

    dataset: str
    env: str
    location: Location
    uri: str = ""


@dataclass(frozen=True)
class DatabaseSpec:
    """A database tasks of the pipeline use: a managed SQL instance or a key-value table.

    ``key`` is ``<env>:<identifier>``; ``engine`` is the SQL engine (``postgres``, ...) or
    the key-value store's name.
    """

    key: str
    env: str
    identifier: str
    engine: str
    config: Any = field(compare=False)
    tags: tuple[tuple[str, str], ...] = ()
    #: How tasks reach it (its ``DatabaseConnection``: database name, ``password_secret``).
    connection: Any = field(default=None, compare=False)

    @property
    def is_dynamodb(self) -> bool:
        """Whether this is a key-value table of the ``dynamodb`` engine (else a SQL
        instance): an engine fact, as ``postgres`` is."""
        return self.engine == "dynamodb"


@dataclass(frozen=True)
class VolumeSpec:
    """A shared file system tasks of the pipeline mount; ``key`` is ``<env>:<name>``."""

    key: str
    env: str
    name: str
    config: Any = field(compare=False)
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def mount_path(self) -> str:
        """Where tasks see it: the config's ``mount_path``, else ``/mnt/<name>``."""
        given = getattr(self.config, "mount_path", None)
        return str(given) if given else f"/mnt/{physical_name(self.name, allowed='A-Za-z0-9_.-')}"


@dataclass(frozen=True)
class SecretRef:
    """A secret a task asks for (a ``SecretStr`` parameter): its name in the environment's
    ``[secrets]`` and its name in the cloud's secret store (an AWS Secrets Manager name or
    ARN, a GCP Secret Manager secret id, an Azure Key Vault secret name)."""

    name: str
    cloud_name: str
    #: Whether the plan declares the secret (``declare = true``; never its value).
    declared: bool = False


@dataclass(frozen=True)
class TaskSpec:
    """One task as infrastructure: where and on what it runs, and what it may touch."""

    name: str
    env: str
    compute: str
    config: Any = field(compare=False)
    grants: tuple[Grant, ...]
    upstream: tuple[str, ...]
    level: int
    retries: int = 0
    retry_delay: float = 0.0
    backoff: float = 1.0
    timeout: float | None = None
    max_delay: float | None = None
    jitter: float = 0.0
    location: str = ""
    #: Keys of the databases and volumes the task uses, and the secrets it reads.
    databases: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    secrets: tuple[SecretRef, ...] = ()
    #: The Delta tables it reads or writes (its runtime needs ``deltalake``).
    tables: tuple[str, ...] = ()
    #: The extras its datasets' formats need (``excel``, ``models``: its runtime imports them).
    extras: tuple[str, ...] = ()

    def grants_in(self, stores: Iterable[str]) -> tuple[Grant, ...]:
        """The grants on locations in ``stores``."""
        keys = set(stores)
        return tuple(g for g in self.grants if g.location.store in keys)


@dataclass(frozen=True)
class CrossAccountAccess:
    """Task ``task`` (in ``task_env``) reaches data in another account's ``store_env``."""

    task: str
    task_env: str
    store_env: str
    grants: tuple[Grant, ...]


@dataclass(frozen=True)
class InfraModel:
    """Everything a pipeline needs from its environments (see the module docs)."""

    pipeline: str
    schedule: str | None
    envs: Mapping[str, EnvSpec]
    stores: Mapping[str, Store]
    tasks: tuple[TaskSpec, ...]
    levels: tuple[tuple[str, ...], ...]
    orchestrator: str | None
    cross_account: tuple[CrossAccountAccess, ...]
    code: CodeSpec | None = None
    databases: Mapping[str, DatabaseSpec] = field(default_factory=dict)
    volumes: Mapping[str, VolumeSpec] = field(default_factory=dict)
    catalog: tuple[CatalogEntry, ...] = ()

    def task(self, name: str) -> TaskSpec:
        """The task named ``name``."""
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(name)

    def tasks_in(self, env: str) -> tuple[TaskSpec, ...]:
        """Tasks that run in environment ``env``."""
        return tuple(t for t in self.tasks if t.env == env)

    def stores_in(self, env: str) -> tuple[Store, ...]:
        """Stores that live in environment ``env``."""
        return tuple(s for s in self.stores.values() if s.env == env)

    def databases_in(self, env: str) -> tuple[DatabaseSpec, ...]:
        """Databases that live in environment ``env``."""
        return tuple(d for d in self.databases.values() if d.env == env)

    def volumes_in(self, env: str) -> tuple[VolumeSpec, ...]:
        """Volumes that live in environment ``env``."""
        return tuple(v for v in self.volumes.values() if v.env == env)

    def cross_account_into(self, env: str) -> tuple[CrossAccountAccess, ...]:
        """Accesses from other accounts to stores of ``env``."""
        return tuple(c for c in self.cross_account if c.store_env == env)

    def cross_account_from(self, task: str) -> tuple[CrossAccountAccess, ...]:
        """Accesses of ``task`` to other accounts."""
        return tuple(c for c in self.cross_account if c.task == task)

    def catalog_in(self, env: str) -> tuple[CatalogEntry, ...]:
        """The tables registered in environment ``env``'s data catalog."""
        return tuple(c for c in self.catalog if c.env == env)

    def cloud_envs(self) -> tuple[str, ...]:
        """Keys of environments that need cloud infrastructure (in discovery order)."""
        used = {t.env for t in self.tasks} | {s.env for s in self.stores.values()}
        used |= {d.env for d in self.databases.values()} | {v.env for v in self.volumes.values()}
        return tuple(k for k, e in self.envs.items() if k in used and e.cloud != "local")

    def orchestrated_from_elsewhere(self, env: str) -> tuple[TaskSpec, ...]:
        """Tasks of ``env`` started by an orchestrator in another account."""
        if self.orchestrator is None:
            return ()
        home = self.envs[self.orchestrator]
        return tuple(t for t in self.tasks_in(env) if crosses_account(home, self.envs[env]))


def crosses_account(a: EnvSpec, b: EnvSpec) -> bool:
    """Whether two environments are in different accounts (both accounts known)."""
    return a.key != b.key and a.account_id is not None and a.account_id != b.account_id

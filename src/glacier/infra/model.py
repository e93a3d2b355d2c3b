"""What a pipeline needs from the clouds, derived once and free of any cloud SDK.

:func:`build_model` reads the pipeline's DAG and the resources its datasets and tasks point
at, and answers the questions every infrastructure builder asks:

- which **environments** are involved (account, region, naming, tags, network);
- which **stores** (buckets) hold the data, deduplicated, and which of them Glacier owns;
- per **task**: where it runs, on what compute, and exactly which dataset locations it reads
  and writes (its grants);
- which tasks reach data in **another account** (cross-account roles and bucket policies),
  and which cross **environments** (refused unless the task opts in);
- the DAG as **levels** of independent tasks, and which environment orchestrates them.

Builders (:mod:`glacier.infra.aws`, ...) turn this model into resources; nothing here knows a
Pulumi type.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glacier.dataset import Dataset
from glacier.errors import ConfigError, CrossEnvironmentAccessError, InfraError
from glacier.flow import PipelineLike, as_pipeline
from glacier.infra.builders import builder_of
from glacier.locations import TABLE, DatasetLocation, Site, layout_of, locate, locate_storage
from glacier.resources import Bucket, Database, ExecutionEnvironment, Serverless, Volume
from glacier.settings import Network

if TYPE_CHECKING:
    from glacier.pipeline import Pipeline
    from glacier.task import Task

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
#: Where compute that loads its code from S3 (Glue jobs) finds it, in the artifacts bucket.
CODE_PREFIX = "_glacier/code/"


def artifacts_key(env: str) -> str:
    """The store key of environment ``env``'s artifacts bucket."""
    return f"{env}:artifacts"


def code_prefix(pipeline: str) -> str:
    """Where a pipeline's Glue jobs find their script and code in the artifacts bucket."""
    return f"{CODE_PREFIX}{pipeline}/"


# -- environments ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EnvSpec:
    """One environment as infrastructure sees it; ``key`` is also its stack name.

    ``account_id`` is the cloud's account: an AWS account id, a GCP project id, an Azure
    subscription id; ``region`` its region (an Azure location).

    ``named`` is False for environments created without a logical name (e.g.
    ``AWSEnvironment(account_id=..., region=...)``): those are accounts of one organisation,
    and crossing between them needs no opt-in.
    """

    key: str
    cloud: str
    named: bool
    account_id: str | None = None
    region: str | None = None
    profile: str | None = None
    role_arn: str | None = None
    endpoint_url: str | None = None
    partition: str = "aws"
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

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        """``arn:<partition>:<service>:<region>:<account>:<resource>`` in this environment.

        Raises :class:`InfraError` when the account is unknown: such ARNs are only computed
        for references across environments, where no resource output is at hand.
        """
        if self.account_id is None:
            raise InfraError(
                f"Environment {self.key!r} has no account_id, but a resource in another "
                f"environment must reference its {service} resource {resource!r} by ARN. Set "
                "account_id on the environment (AWSEnvironment(account_id='123456789012', ...))."
            )
        region = self.region or "" if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"

    def role_arn_of(self, role_name: str) -> str:
        """The ARN of IAM role ``role_name`` in this environment's account."""
        return self.arn("iam", f"role/{role_name}", regional=False)

    @property
    def account_root(self) -> str:
        """The account's root principal ARN."""
        return self.arn("iam", "root", regional=False)


# -- stores and grants -----------------------------------------------------------------------


@dataclass(frozen=True)
class Store:
    """A bucket the pipeline's data lives in.

    ``kind`` is ``managed`` (a Glacier bucket: declared with security defaults),
    ``artifacts`` (declared by Glacier to pass in-memory datasets between tasks that run in
    different processes), ``external`` (an ``s3://`` URI: referenced, never declared) or
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
    environment whose store holds it; ``uri`` is the table's (``s3://bucket/prefix/``, see
    :func:`glacier.locations.locate`)."""

    dataset: str
    env: str
    location: Location
    uri: str = ""


@dataclass(frozen=True)
class DatabaseSpec:
    """A database (RDS instance or DynamoDB table) tasks of the pipeline use.

    ``key`` is ``<env>:<identifier>``; ``engine`` is ``dynamodb`` or the RDS engine.
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
        """Whether this is a DynamoDB table (else an RDS instance)."""
        return self.engine == "dynamodb"


@dataclass(frozen=True)
class VolumeSpec:
    """A shared file system (EFS) tasks of the pipeline mount; ``key`` is ``<env>:<name>``."""

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
class CodeSpec:
    """Where the pipeline's code is: a target for :func:`glacier.targets.load_target`.

    ``file`` is the module defining the pipeline; ``root`` the directory its import path
    starts from (the file's directory, or above its top-level package); ``attr`` the
    attribute (or pipeline name) inside it.
    """

    file: Path
    attr: str
    root: Path

    @property
    def target(self) -> str:
        """``/abs/path/file.py:attr``."""
        return f"{self.file}:{self.attr}"

    @property
    def relative_target(self) -> str:
        """The target relative to :attr:`root` (how a packaged function finds it)."""
        return f"{self.file.relative_to(self.root).as_posix()}:{self.attr}"

    @property
    def module_target(self) -> str:
        """The target as ``package.module:attr`` (how code on ``sys.path`` is found)."""
        module = self.file.relative_to(self.root).with_suffix("").as_posix().replace("/", ".")
        return f"{module}:{self.attr}"

    @property
    def package(self) -> Path | None:
        """The top-level package directory holding the file, if it is in one."""
        rel = self.file.relative_to(self.root)
        return self.root / rel.parts[0] if len(rel.parts) > 1 else None


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


# -- physical names --------------------------------------------------------------------------


def _tables(task: Any) -> tuple[str, ...]:
    """The Delta tables ``task`` reads or writes: multi-file parquet (or ``delta``) buckets,
    as its datasets or as its resources (see :mod:`glacier.adapters.tables`)."""
    named = [(ds.name, ds.storage) for ds in (*task.input_datasets, *task.outputs)]
    named += list(task.resource_args.items())
    out = []
    for name, storage in named:
        if not isinstance(storage, Bucket):
            continue
        if layout_of(storage.path, storage.format, storage.partition_by) == TABLE:
            out.append(str(name))
    return tuple(dict.fromkeys(out))


def physical_name(
    *parts: str, limit: int = 64, allowed: str = r"A-Za-z0-9_+=,.@-", lower: bool = False
) -> str:
    """A deterministic cloud name from ``parts``: invalid characters become ``-``, and a name
    longer than ``limit`` is cut and suffixed with a hash of the whole, so it stays unique.

    Example:
        >>> physical_name("dev", "analytics", "clean")
        'dev-analytics-clean'
        >>> len(physical_name("x" * 100, limit=64))
        64
    """
    raw = "-".join(p for p in parts if p)
    if lower:
        raw = raw.lower()
    name = re.sub(rf"[^{allowed}]+", "-", raw).strip("-")
    if len(name) <= limit:
        return name
    digest = hashlib.sha1(raw.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-')}-{digest}"


# -- building the model ----------------------------------------------------------------------


def build_model(
    pipeline: Any,
    environments: Sequence[Any] = (),
    *,
    code: CodeSpec | None = None,
) -> InfraModel:
    """Derive the :class:`InfraModel` of ``pipeline`` (a Pipeline or FlowPipeline).

    ``environments`` are :class:`~glacier.Environment` objects the resources may belong to;
    they supply what a bare provider does not know (the network). Environments of the
    pipeline, of data-flow tasks and of every resource are found without being listed; a
    task found in none runs in the first local one listed. The model never makes an
    environment (the runner and the command line choose them).
    """
    origin = pipeline
    pipe = as_pipeline(pipeline)
    dag = pipe.dag
    index = _EnvIndex(environments, pipe)
    if code is None:
        code = find_code(origin, pipe)

    task_envs: dict[str, EnvSpec] = {}
    for t in dag.tasks:
        task_envs[t.name] = index.for_task(t, pipe)
    cloud_tasks = [t for t in dag.tasks if task_envs[t.name].cloud != "local"]
    if cloud_tasks and len(cloud_tasks) != len(dag.tasks):
        local = next(t for t in dag.tasks if task_envs[t.name].cloud == "local")
        raise InfraError(
            f"Task {local.name!r} ({local.location}) runs in the local environment "
            f"{task_envs[local.name].key!r} while other tasks of pipeline {pipe.name!r} run in "
            "the cloud; a deployed pipeline runs every task in the cloud. Give it a cloud "
            "compute hint, e.g. compute=env.compute.lambda_()."
        )

    stores = _Stores(pipe.name, index)
    catalog = _Catalog(stores)
    attached = _Attached(index)
    levels: dict[str, int] = {}
    specs: list[TaskSpec] = []
    consumers: dict[Dataset, int] = {}
    for t in dag.tasks:
        for ds in t.input_datasets:
            consumers[ds] = consumers.get(ds, 0) + 1
    for i, t in enumerate(dag.tasks):
        env = task_envs[t.name]
        ups = tuple(dag.tasks[u].name for u in dag.upstream[i])
        levels[t.name] = 1 + max((levels[u] for u in ups), default=-1)
        grants: dict[Location, set[str]] = {}
        compute, config = _compute(t, env)
        if env.cloud != "local":
            for ds in t.input_datasets:
                if _table_database(ds) is not None:
                    continue  # the database's grant and network (see _Attached), no bucket
                producer = dag.producers.get(ds)
                home = task_envs[dag.tasks[producer[0]].name] if producer else env
                location = stores.locate(ds, t, env, home, "reads")
                _add(grants, location, READ)
                catalog.note(ds, location)
            written = []
            for ds in t.outputs:
                if _table_database(ds) is not None:
                    continue
                if ds.is_stored or consumers.get(ds):
                    written.append(stores.locate(ds, t, env, env, "writes"))
                    catalog.note(ds, written[-1])
            for resource in t.resource_args.values():
                if isinstance(resource, Bucket):
                    written.append(stores.locate_bucket(resource, t, env))
            # No staging area: only stores that rename atomically (local disk, memory)
            # stage writes under _glacier/tmp/; on object stores an object is an upload
            # completed in place and a table's commit is created only if absent.
            for location in written:
                _add(grants, location, REPLACE if location.sweeps else WRITE)
            if compute == "glue":  # the job's script and the pipeline's code
                _add(grants, stores.code(env), READ)
        cfg = _task_config(t, env)
        databases, volumes, secrets = attached.of_task(t, env)
        specs.append(
            TaskSpec(
                name=t.name,
                env=env.key,
                compute=compute,
                config=config,
                grants=tuple(Grant(loc, _ordered(acc)) for loc, acc in grants.items()),
                upstream=ups,
                level=levels[t.name],
                retries=int(getattr(cfg, "retries", 0) or 0),
                retry_delay=float(getattr(cfg, "retry_delay", 0.0) or 0.0),
                backoff=float(getattr(cfg, "backoff", 1.0) or 1.0),
                timeout=getattr(cfg, "timeout", None),
                max_delay=getattr(cfg, "max_delay", None),
                jitter=float(getattr(cfg, "jitter", 0.0) or 0.0),
                location=str(t.location),
                databases=databases,
                volumes=volumes,
                secrets=secrets,
                tables=_tables(t),
            )
        )

    _check_function_names(specs)
    cross = _cross_account(specs, stores.stores, index.envs)
    by_level: dict[int, list[str]] = {}
    for s in specs:
        by_level.setdefault(s.level, []).append(s.name)
    cloud = [s for s in specs if task_envs[s.name].cloud != "local"]
    orchestrator = _orchestrator(cloud, pipe, index) if cloud else None
    if orchestrator is not None:
        home = index.envs[orchestrator]
        for s in cloud:
            _require_accounts(home, index.envs[s.env], f"orchestrating task {s.name!r}")
    used = {s.env for s in specs} | {st.env for st in stores.stores.values()}
    return InfraModel(
        pipeline=pipe.name,
        schedule=pipe.schedule,
        envs={k: e for k, e in index.envs.items() if k in used},
        stores=dict(stores.stores),
        tasks=tuple(specs),
        levels=tuple(tuple(by_level[k]) for k in sorted(by_level)),
        orchestrator=orchestrator,
        cross_account=cross,
        code=code,
        databases=dict(attached.databases),
        volumes=dict(attached.volumes),
        catalog=tuple(catalog.entries.values()),
    )


# -- internals: environments -----------------------------------------------------------------


class _EnvIndex:
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
            f"({', '.join(sorted(homes)) or '-'}). Give it compute=env.compute.lambda_() (or "
            "ecs(...)) of the environment it should run in."
        )


def _user_modules() -> list[Any]:
    """Imported modules that are not part of Python or an installed package."""
    skip = tuple(p for p in {sys.prefix, sys.base_prefix, sys.exec_prefix} if p)
    out = []
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and file.endswith(".py") and not file.startswith(skip):
            out.append(module)
    return out


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
    partition = str(getattr(config, "partition", "aws")) if cloud == "aws" else cloud
    return EnvSpec(
        key=key,
        cloud=cloud,
        named=named,
        account_id=account,
        region=region,
        profile=getattr(config, "profile", None),
        role_arn=getattr(config, "role_arn", None),
        endpoint_url=getattr(config, "endpoint_url", None),
        partition=partition,
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


def _require_accounts(a: EnvSpec, b: EnvSpec, what: str) -> None:
    if a.key == b.key or a.cloud == "local" or b.cloud == "local":
        return
    if a.account_id is None or b.account_id is None:
        missing = a.key if a.account_id is None else b.key
        raise InfraError(
            f"{what[0].upper()}{what[1:]} spans environments {a.key!r} and {b.key!r}, but "
            f"environment {missing!r} has no account_id, so Glacier cannot tell whether this "
            "crosses accounts (and which roles to trust). Set account_id on both environments."
        )


# -- internals: stores -----------------------------------------------------------------------


class _Stores:
    """Deduplicates buckets across datasets and checks environment boundaries."""

    def __init__(self, pipeline: str, index: _EnvIndex) -> None:
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
        raise InfraError(
            f"Dataset {ds.name!r} (used by task {task.name!r}, {task.location}) has storage of "
            f"type {type(ds.storage).__name__}; infrastructure can be derived for a Bucket "
            "(env.storage.s3(...)), an s3:// URI or a Pulumi bucket resource."
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
                f"environment's object store: env.storage.s3(bucket=...)."
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
                "store: env.storage.s3(bucket=...)."
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
        """Where ``env``'s Glue jobs of this pipeline load their script and code from."""
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
        _require_accounts(env, home, f"task {task.name!r} reaching dataset {dataset!r}")


class _Catalog:
    """The datasets to register in a data catalog: on AWS only (the Glue Data Catalog)."""

    #: Clouds whose data catalog Glacier declares tables in.
    CLOUDS = ("aws",)

    def __init__(self, stores: _Stores) -> None:
        self.stores = stores
        self.entries: dict[str, CatalogEntry] = {}

    def note(self, ds: Dataset, location: Location) -> None:
        if not getattr(ds, "catalog", False) or ds.name in self.entries:
            return
        store = self.stores.stores[location.store]
        cloud = self.stores.index.envs[store.env].cloud
        if cloud not in self.CLOUDS:
            raise InfraError(
                f"Dataset {ds.name!r} ({ds.declared_at}) asks for catalog=True, which "
                f"registers a Delta table in the AWS Glue Data Catalog, but it is stored on "
                f"{cloud} (environment {store.env!r}). Glacier declares no {cloud} catalog "
                "entry: leave catalog out, or store the table on S3 (env.storage.s3(...))."
            )
        where = locate(ds, Site(cloud, name=store.env))
        self.entries[ds.name] = CatalogEntry(ds.name, store.env, location, str(where.uri))


def _add(grants: dict[Location, set[str]], location: Location, access: Sequence[str]) -> None:
    grants.setdefault(location, set()).update(access)


def _ordered(access: set[str]) -> tuple[str, ...]:
    return tuple(a for a in ("read", "write", "list", "delete") if a in access)


def _cross_account(
    tasks: Sequence[TaskSpec], stores: Mapping[str, Store], envs: Mapping[str, EnvSpec]
) -> tuple[CrossAccountAccess, ...]:
    out: list[CrossAccountAccess] = []
    for t in tasks:
        mine = envs[t.env]
        by_env: dict[str, list[Grant]] = {}
        for g in t.grants:
            store = stores[g.location.store]
            if crosses_account(mine, envs[store.env]):
                by_env.setdefault(store.env, []).append(g)
        for env, grants in by_env.items():
            out.append(CrossAccountAccess(t.name, t.env, env, tuple(grants)))
    return tuple(out)


def _orchestrator(tasks: Sequence[TaskSpec], pipeline: Pipeline, index: _EnvIndex) -> str:
    """The environment the DAG's orchestration lives in: the pipeline's own if it runs tasks,
    else the one running the most tasks (the first task's on a tie)."""
    if pipeline.env is not None:
        home = index.add_environment(pipeline.env).key
        if any(t.env == home for t in tasks):
            return home
    counts: dict[str, int] = {}
    for t in tasks:
        counts[t.env] = counts.get(t.env, 0) + 1
    best = max(counts.values())
    return next(t.env for t in tasks if counts[t.env] == best)


# -- internals: databases, volumes and secrets ------------------------------------------------


class _Attached:
    """The databases and volumes tasks use, deduplicated, and the secrets each task reads."""

    def __init__(self, index: _EnvIndex) -> None:
        self.index = index
        self.databases: dict[str, DatabaseSpec] = {}
        self.volumes: dict[str, VolumeSpec] = {}

    def of_task(
        self, task: Task, env: EnvSpec
    ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[SecretRef, ...]]:
        """Keys of the databases and volumes ``task`` uses, and the secrets it reads."""
        secret_params = tuple(r.param for r in task.resources if _is_secret(r.annotation))
        declared = getattr(getattr(env.source, "settings", None), "secrets", None) or {}
        optional = {r.param for r in task.resources if r.optional and r.param not in declared}
        used = [
            *task.resource_args.values(),
            *_injected(task, env, secret_params),
            *_table_databases(task),
        ]
        databases: list[str] = []
        volumes: list[str] = []
        for resource in used:
            if isinstance(resource, Database) and resource.config is None:
                # An existing server (env.database.postgres(), [databases.x] with a url or
                # host and no rds/dynamodb): the plan creates nothing for it, and the task
                # reads only the secret holding its password.
                secret_params += _external_password_secret(env, resource)
            elif isinstance(resource, Database):
                databases.append(self._database(resource, task, env))
            elif isinstance(resource, Volume):
                volumes.append(self._volume(resource, task, env))
        databases = list(dict.fromkeys(databases))
        if env.cloud != "local":
            # A database reached with a password reads the secret holding it.
            secret_params += _password_secrets(env, [self.databases[k] for k in databases])
        wanted = [p for p in secret_params if p not in optional]
        secrets = _secrets(task, env, wanted) if env.cloud != "local" else ()
        return tuple(databases), tuple(dict.fromkeys(volumes)), secrets

    def _home(self, resource: Any, task: Task, env: EnvSpec, what: str) -> EnvSpec:
        home = self.index.for_provider(resource.provider)
        if env.cloud != "local" and home.key != env.key:
            raise InfraError(
                f"Task {task.name!r} ({task.location}) runs in environment {env.key!r} but "
                f"uses {what} {resource.name!r} of environment {home.key!r}; Glacier declares "
                "databases and volumes for tasks of their own environment only (not supported "
                f"across environments yet). Declare it in {env.key!r} (env.database.rds(...), "
                "[databases.<name>] in its settings file)."
            )
        return home

    def _database(self, db: Database, task: Task, env: EnvSpec) -> str:
        home = self._home(db, task, env, "database")
        key = f"{home.key}:{db.database_name}"
        existing = self.databases.get(key)
        if existing is not None and db.config is not None and existing.config != db.config:
            raise InfraError(
                f"Database {db.database_name!r} in environment {home.key!r} is configured "
                "twice, differently; create it once (env.database.rds(...) or "
                "[databases.<name>] in the settings file) and share it."
            )
        if existing is None:
            self.databases[key] = DatabaseSpec(
                key=key,
                env=home.key,
                identifier=db.database_name,
                engine=db.engine,
                config=db.config,
                tags=tuple(sorted(dict(db.tags).items())),
                connection=db.connection,
            )
        return key

    def _volume(self, volume: Volume, task: Task, env: EnvSpec) -> str:
        home = self._home(volume, task, env, "volume")
        key = f"{home.key}:{volume.file_system_name}"
        if key not in self.volumes:
            self.volumes[key] = VolumeSpec(
                key=key,
                env=home.key,
                name=volume.file_system_name,
                config=volume.config,
                tags=tuple(sorted(dict(volume.tags).items())),
            )
        return key


def _table_database(ds: Dataset) -> Database | None:
    """The database holding ``ds`` when its storage is a database table (``db.table(...)``)."""
    storage = ds.storage
    if getattr(storage, "kind", None) == "database_table":
        found = storage.database  # type: ignore[union-attr]
        return found if isinstance(found, Database) else None
    return None


def _table_databases(task: Task) -> list[Database]:
    """The databases holding the datasets ``task`` reads or writes."""
    found = (_table_database(ds) for ds in (*task.input_datasets, *task.outputs))
    return [db for db in found if db is not None]


def _is_secret(annotation: Any) -> bool:
    from pydantic import SecretStr

    return annotation is SecretStr


def _injected(task: Task, env: EnvSpec, skip: Sequence[str]) -> list[Any]:
    """The resources the environment injects into ``task``'s parameters, one parameter at a
    time (secrets skipped: planning never reads a secret's value)."""
    resolve = getattr(env.source, "resolve_resources", None)
    if not callable(resolve):
        return []
    from glacier.errors import InjectionError

    params = [r.param for r in task.resources if r.param not in skip]
    out = []
    for param in params:
        try:
            out.extend(resolve(task, [p for p in task._names if p != param]).values())
        except InjectionError:
            continue  # reported when the task runs; the rest still gets its infrastructure
    return out


def _password_secrets(env: EnvSpec, databases: Sequence[DatabaseSpec]) -> tuple[str, ...]:
    """The ``password_secret`` of each of ``databases`` declared in ``env``'s settings."""
    declared = getattr(getattr(env.source, "settings", None), "databases", None) or {}
    identifiers = {d.identifier for d in databases}
    return tuple(
        db.password_secret
        for db in declared.values()
        if db.identifier in identifiers and db.password_secret is not None
    )


def _external_password_secret(env: EnvSpec, db: Database) -> tuple[str, ...]:
    declared = getattr(getattr(env.source, "settings", None), "databases", None) or {}
    found = declared.get(db.name) or declared.get(db.database_name)
    secret = getattr(found, "password_secret", None)
    return (secret,) if secret is not None and env.cloud != "local" else ()


def _secrets(task: Task, env: EnvSpec, params: Sequence[str]) -> tuple[SecretRef, ...]:
    params = tuple(dict.fromkeys(params))
    if not params:
        return ()
    secrets = getattr(env.source, "secrets", None)
    if secrets is None:
        raise InfraError(
            f"Task {task.name!r} ({task.location}) reads secrets {', '.join(params)} but "
            f"environment {env.key!r} has no settings to declare them in; build it from a "
            "settings file with a [secrets] section (Environment.from_settings(...))."
        )
    out = []
    for name in params:
        source = secrets.source(name)  # SecretNotFoundError names the environment and file
        if source.store != "aws":
            raise InfraError(
                f"Task {task.name!r} ({task.location}) reads secret {name!r}, which "
                f"environment {env.key!r} keeps in {source.store} variable "
                f"{source.reference}; a deployed task cannot read this machine's variables. "
                f'Store it in AWS Secrets Manager: {name} = {{ aws = "/{env.key}/..." }} in '
                "[secrets]."
            )
        out.append(SecretRef(name, source.reference, declared=source.declare))
    return tuple(out)


# -- internals: tasks ------------------------------------------------------------------------


def _compute(task: Task, env: EnvSpec) -> tuple[str, Any]:
    """The compute kind and config of ``task`` in ``env``: its hint, else the default of the
    environment's cloud (see :mod:`glacier.infra.builders`); a kind the cloud's builder does
    not generate is refused, naming what it does."""
    builder = builder_of(env.cloud)
    if builder is None or not builder.compute:
        # A local environment runs tasks in-process, and a cloud with no builder is refused
        # (naming it) when its environment is declared: the model only describes the task.
        kind = "serverless" if isinstance(task.compute, Serverless) else "default"
        if isinstance(task.compute, ExecutionEnvironment):
            kind = task.compute.environment_type
        return kind, getattr(task.compute, "config", None)
    compute = task.compute
    if compute is None:
        return builder.default_compute, builder.default_config()
    if isinstance(compute, Serverless) and builder.serverless is not None:
        if builder.serverless == "lambda":
            return "lambda", _serverless_config(task, compute)
        return builder.serverless, compute.config
    if isinstance(compute, ExecutionEnvironment) and builder.offers(compute.environment_type):
        return compute.environment_type, compute.config
    asked = (
        compute.environment_type
        if isinstance(compute, ExecutionEnvironment)
        else type(compute).__name__
    )
    raise InfraError(
        f"Task {task.name!r} ({task.location}) has compute={compute!r} ({asked}), which Glacier "
        f"does not generate in {env.cloud} environment {env.key!r}; use {builder.hint}."
    )


def _check_function_names(specs: Sequence[TaskSpec]) -> None:
    """Two tasks given one function name (one Serverless as the compute of both) would be one
    function; refused."""
    seen: dict[tuple[str, str], str] = {}
    for spec in specs:
        name = getattr(spec.config, "function_name", None) if spec.compute == "lambda" else None
        if not name:
            continue
        other = seen.setdefault((spec.env, name), spec.name)
        if other != spec.name:
            raise InfraError(
                f"Tasks {other!r} and {spec.name!r} both run as Lambda function {name!r}; a "
                "function runs one task. Give each task its own compute "
                "(env.compute.lambda_(...)) or no function_name."
            )


def _serverless_config(task: Task, compute: Serverless) -> Any:
    """The LambdaConfig of a task running on ``compute``: its config, with the function name
    and runtime given to ``provider.serverless(...)`` (nothing it was given is dropped)."""
    from glacier.settings import LambdaConfig

    if compute.handler is not None:
        raise InfraError(
            f"Task {task.name!r} ({task.location}) runs on a Serverless resource created with "
            "handler=..., but a task's function runs the task itself (through Glacier's "
            "handler). Drop handler= from provider.serverless(...), or use "
            "env.compute.lambda_(...)."
        )
    config = compute.config or LambdaConfig()
    changes: dict[str, Any] = {}
    if compute.function_name and not config.function_name:
        changes["function_name"] = compute.function_name
    if compute.runtime and compute.runtime != config.runtime:
        changes["runtime"] = compute.runtime
    return config.replace(**changes) if changes else config


def _task_config(task: Task, env: EnvSpec) -> Any:
    environment = env.source
    task_config = getattr(environment, "task_config", None)
    if callable(task_config):
        return task_config(task)
    # A bare provider's resources: the task's own options over the defaults.
    from glacier.settings import TaskConfig

    return TaskConfig().refine(**task.options)


# -- internals: finding the code ---------------------------------------------------------------


def find_code(origin: Any, pipeline: Pipeline) -> CodeSpec | None:
    """Where ``origin`` (a Pipeline or FlowPipeline) is defined, as a loadable target.

    A module-level attribute holding the object wins; else the file of its first task, with
    the pipeline's name (which :func:`~glacier.targets.load_target` also accepts).
    """
    named: list[tuple[Any, str]] = []
    for module in _user_modules():
        for attr, value in list(vars(module).items()):
            if attr.startswith("_"):
                continue
            if value is origin:
                return _code_spec(Path(module.__file__), attr)
            if isinstance(value, PipelineLike) and value.name == pipeline.name:
                named.append((module, attr))
    # A traced data-flow pipeline is a new object; the function it came from is not.
    if len(named) == 1:
        module, attr = named[0]
        return _code_spec(Path(module.__file__), attr)
    for task in pipeline.tasks.values():
        file = task.location.file
        if file.endswith(".py") and Path(file).exists():
            return _code_spec(Path(file), pipeline.name)
    return None


def _code_spec(file: Path, attr: str) -> CodeSpec:
    file = file.resolve()
    root = file.parent
    while (root / "__init__.py").exists() and root.parent != root:
        root = root.parent
    return CodeSpec(file=file, attr=attr, root=root)

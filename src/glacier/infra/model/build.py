"""Building the model: :func:`build_model` walks the pipeline's DAG once.

For each task, in the DAG's order: the environment it runs in, its compute, the locations it
reads and writes (its grants, from the one storage resolution), the databases, volumes and
secrets it uses. Then what spans tasks: the cloud's checks over its tasks, accesses across
accounts, the DAG's levels, and the environment that orchestrates it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from glacier.dataset import Dataset
from glacier.errors import InfraError
from glacier.flow import as_pipeline
from glacier.infra.builders import builder_of
from glacier.infra.model.attached import Attached, postgres_of, table_database
from glacier.infra.model.catalog import Catalog
from glacier.infra.model.code import CodeSpec, find_code
from glacier.infra.model.environments import EnvIndex, compute_hint, require_accounts
from glacier.infra.model.specs import (
    READ,
    REPLACE,
    WRITE,
    CrossAccountAccess,
    EnvSpec,
    Grant,
    InfraModel,
    Location,
    Store,
    TaskSpec,
    crosses_account,
)
from glacier.infra.model.stores import Stores
from glacier.infra.model.tasks import compute_of, extras_of, tables_of, task_config
from glacier.resources import Bucket

if TYPE_CHECKING:
    from glacier.pipeline import Pipeline

__all__ = ["build_model"]


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
    index = EnvIndex(environments, pipe)
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
            f"compute hint: {compute_hint([task_envs[t.name] for t in cloud_tasks])}."
        )

    stores = Stores(pipe.name, index)
    catalog = Catalog(stores)
    attached = Attached(index)
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
        compute, config = compute_of(t, env)
        if env.cloud != "local":
            for ds in t.input_datasets:
                if table_database(ds) is not None:
                    continue  # the database's grant and network (see Attached), no bucket
                producer = dag.producers.get(ds)
                home = task_envs[dag.tasks[producer[0]].name] if producer else env
                location = stores.locate(ds, t, env, home, "reads")
                _add(grants, location, READ)
                catalog.note(ds, location)
            written = []
            for ds in t.outputs:
                if table_database(ds) is not None:
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
            builder = builder_of(env.cloud)
            if builder is not None and compute in builder.code_from_artifacts:
                _add(grants, stores.code(env), READ)  # the job's script and the pipeline's code
        cfg = task_config(t, env)
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
                tables=tables_of(t),
                # A PostgreSQL database, even one the plan does not declare, needs the driver.
                extras=(*extras_of(t), *(("postgres",) if postgres_of(t, env) else ())),
            )
        )

    _check_by_cloud(specs, index.envs)
    cross = _cross_account(specs, stores.stores, index.envs)
    by_level: dict[int, list[str]] = {}
    for s in specs:
        by_level.setdefault(s.level, []).append(s.name)
    cloud = [s for s in specs if task_envs[s.name].cloud != "local"]
    orchestrator = _orchestrator(cloud, pipe, index) if cloud else None
    if orchestrator is not None:
        home = index.envs[orchestrator]
        for s in cloud:
            require_accounts(home, index.envs[s.env], f"orchestrating task {s.name!r}")
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


def _orchestrator(tasks: Sequence[TaskSpec], pipeline: Pipeline, index: EnvIndex) -> str:
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


def _check_by_cloud(specs: Sequence[TaskSpec], envs: Mapping[str, EnvSpec]) -> None:
    """Each cloud's builder checks its tasks together (e.g. two tasks on one function)."""
    by_cloud: dict[str, list[TaskSpec]] = {}
    for spec in specs:
        by_cloud.setdefault(envs[spec.env].cloud, []).append(spec)
    for cloud, tasks in by_cloud.items():
        builder = builder_of(cloud)
        if builder is not None:
            builder.check(tasks)

"""What a deployed task imports: the distributions its image or layer installs beside Glacier.

One place derives them from what runs, for every package a deployment builds (the ECS, Cloud
Run and Container Apps image, the Lambda container image, the Lambda zip layer) and for the
image tags computed from them:

- Glacier's own runtime (:data:`CORE`): polars, pydantic, pydantic-settings,
  dependency-injector, fsspec (the command line's typer and rich are not imported by a task);
- the storage client of each cloud the task's data lives on (:data:`CLOUD_DISTRIBUTIONS`):
  s3fs with the aiobotocore and boto3 it is released with on AWS (boto3 also reads Secrets
  Manager, signs RDS IAM tokens and reaches DynamoDB), gcsfs and google-auth on GCP, adlfs
  and azure-identity on Azure (GCP's and Azure's secrets reach a task as variables: no
  secrets client is imported there);
- ``deltalake`` when the task reads or writes Delta tables;
- the ``postgres`` extra's distributions (the ADBC driver and pyarrow) when it uses a
  PostgreSQL database, boto3 when it uses a DynamoDB table (SQLite is in the standard
  library; Glacier reads and writes no other engine, :data:`glacier.adapters.database.ENGINES`);
- the extra a dataset's format names (``excel``, ``models``: :attr:`glacier.formats.Format.extra`).

An extra's distributions are read from Glacier's own metadata (``pyproject.toml``'s
optional dependencies), not from a second table. Each is pinned to the version installed
here (:func:`pinned`), so a deployed task runs the libraries it was tested with.

Example:
    >>> distributions(["gcp"])[5:]
    ('gcsfs', 'google-auth')
    >>> "deltalake" in distributions(["aws"], tables=True)
    True
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from glacier.errors import InfraError
from glacier.extras import DISTRIBUTION

if TYPE_CHECKING:
    from glacier.infra.model.specs import InfraModel, TaskSpec

__all__ = [
    "CLOUD_DISTRIBUTIONS",
    "CORE",
    "distributions",
    "extra_distributions",
    "model_distributions",
    "pinned",
    "task_distributions",
]

#: What every deployed task imports: Glacier's dependencies less the command line's (typer,
#: rich) and ``deltalake`` (only for Delta tables).
CORE = ("polars", "pydantic", "pydantic-settings", "dependency-injector", "fsspec")
#: The storage client of each cloud and what else a task there imports at run time.
CLOUD_DISTRIBUTIONS: Mapping[str, tuple[str, ...]] = {
    "aws": ("s3fs", "aiobotocore", "boto3"),
    "gcp": ("gcsfs", "google-auth"),
    "azure": ("adlfs", "azure-identity"),
    "local": (),
}
#: Added for a task that reads or writes Delta tables.
TABLES = ("deltalake",)
#: The extra a task using a PostgreSQL database needs (its driver), and a DynamoDB table's
#: client.
DATABASE_EXTRA = "postgres"
DYNAMODB = ("boto3",)


def pinned(names: Sequence[str]) -> list[str]:
    """``name==version`` of each distribution as installed here (the name if it is not)."""
    return [_pin(name) for name in names]


@functools.cache
def _pin(name: str) -> str:
    # Read once per process: a plan pins the same few distributions for every task.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{name}=={version(name)}"
    except PackageNotFoundError:
        return name


@functools.cache
def extra_distributions(extra: str) -> tuple[str, ...]:
    """The distributions Glacier's ``extra`` installs, from Glacier's metadata (read once per
    process and extra).

    Raises:
        InfraError: Glacier's metadata cannot be read (a source tree that was never
            installed), or names no such extra.
    """
    from importlib.metadata import PackageNotFoundError, requires

    try:
        wanted = requires(DISTRIBUTION) or []
    except PackageNotFoundError:
        raise InfraError(
            f"Cannot tell what Glacier's {extra!r} extra installs: {DISTRIBUTION} has no "
            "metadata here. Install it (pip install -e <checkout>) before planning."
        ) from None
    marker = re.compile(rf"""extra\s*==\s*["']{re.escape(extra)}["']""")
    names = [
        re.split(r"[<>=!~\[ ;(]", req, maxsplit=1)[0].strip()
        for req in wanted
        if marker.search(req.partition(";")[2])
    ]
    if not names:
        raise InfraError(f"{DISTRIBUTION} has no extra {extra!r}: its metadata names none.")
    return tuple(dict.fromkeys(names))


def distributions(
    clouds: Iterable[str],
    *,
    tables: bool = False,
    postgres: bool = False,
    dynamodb: bool = False,
    extras: Iterable[str] = (),
) -> tuple[str, ...]:
    """The distributions a task (or a package of several) imports at run time: Glacier's
    core, each cloud's storage client, and what its tables, databases and formats need."""
    names: list[str] = [*CORE]
    for cloud in clouds:
        names += CLOUD_DISTRIBUTIONS.get(cloud, ())
    if tables:
        names += TABLES
    if postgres:
        names += extra_distributions(DATABASE_EXTRA)
    if dynamodb:
        names += DYNAMODB
    for extra in sorted(set(extras)):
        names += extra_distributions(extra)
    return tuple(dict.fromkeys(names))


def task_distributions(model: InfraModel, task: TaskSpec) -> tuple[str, ...]:
    """What ``task`` of ``model`` imports: its cloud's client and those of the stores it is
    granted, deltalake for its tables, its databases' drivers, its formats' extras."""
    return _of(model, [task])


def model_distributions(model: InfraModel, tasks: Iterable[TaskSpec]) -> tuple[str, ...]:
    """What a package running ``tasks`` of ``model`` imports: the union of theirs."""
    return _of(model, list(tasks))


def _of(model: InfraModel, tasks: Sequence[TaskSpec]) -> tuple[str, ...]:
    clouds: list[str] = []
    engines: set[str] = set()
    extras: set[str] = set()
    for task in tasks:
        clouds.append(model.envs[task.env].cloud)
        for grant in task.grants:
            store = model.stores.get(grant.location.store)
            if store is not None and store.env in model.envs:
                clouds.append(model.envs[store.env].cloud)
        for key in task.databases:
            if key in model.databases:
                engines.add(model.databases[key].engine)
        extras.update(task.extras)
    return distributions(
        dict.fromkeys(clouds),
        tables=any(t.tables for t in tasks),
        postgres="postgres" in engines,
        dynamodb="dynamodb" in engines,
        extras=extras,
    )

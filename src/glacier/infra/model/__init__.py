"""What a pipeline needs from the clouds, derived once and in no cloud's words.

:func:`build_model` reads the pipeline's DAG and the resources its datasets and tasks point
at, and answers the questions every infrastructure builder asks:

- which **environments** are involved (account, region, naming, tags, network);
- which **stores** (buckets) hold the data, deduplicated, and which of them Glacier owns;
- per **task**: where it runs, on what compute, and exactly which dataset locations it reads
  and writes (its grants: read, write, list, delete on a location);
- which tasks reach data in **another account** (cross-account access), and which cross
  **environments** (refused unless the task opts in);
- the DAG as **levels** of independent tasks, and which environment orchestrates them.

What differs per cloud (its compute kinds, which compute loads code from the artifacts store,
whether it has a data catalog, its secret store, its checks over tasks) is read from the
cloud's row of :data:`glacier.infra.builders.BUILDERS`. Builders (:mod:`glacier.infra.aws`,
...) turn the model into resources; nothing here knows a Pulumi type or a cloud's resource.

Where is it:

=================  ================================================================
``specs``          the records: EnvSpec, Store, Location, Grant, TaskSpec, InfraModel...
``build``          :func:`build_model`: the DAG walked once
``environments``   the environments found, indexed by provider
``stores``         the stores data lives in, and each dataset's location in them
``catalog``        the tables registered in a data catalog
``attached``       databases, volumes and the secrets tasks read
``tasks``          a task's compute, options and Delta tables
``code``           where the pipeline's code is (:func:`find_code`)
``names``          physical names, the artifacts store's keys
=================  ================================================================
"""

from __future__ import annotations

from glacier.infra.model.build import build_model
from glacier.infra.model.code import CodeSpec, find_code
from glacier.infra.model.names import CODE_PREFIX, artifacts_key, code_prefix, physical_name
from glacier.infra.model.specs import (
    READ,
    REPLACE,
    WRITE,
    CatalogEntry,
    CrossAccountAccess,
    DatabaseSpec,
    EnvSpec,
    Grant,
    InfraModel,
    Location,
    SecretRef,
    Store,
    TaskSpec,
    VolumeSpec,
    crosses_account,
)

__all__ = [
    "CODE_PREFIX",
    "READ",
    "REPLACE",
    "WRITE",
    "CatalogEntry",
    "CodeSpec",
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
    "artifacts_key",
    "build_model",
    "code_prefix",
    "crosses_account",
    "find_code",
    "physical_name",
]

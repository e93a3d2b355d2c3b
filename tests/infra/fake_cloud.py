"""A third cloud, registered as a plugin with its own infrastructure builder: what a builder
receives from the model when the model knows nothing of AWS.

The builder declares one generic Pulumi resource per store and per task, so a plan shows
what it made of the model, and records every model it is handed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel

from glacier.infra.builders import CloudBuilder
from glacier.infra.model import InfraModel, TaskSpec


class FakeConfig(BaseModel):
    """A provider config of kind ``fake``: an account is a ``project``, as on GCP."""

    kind: Literal["fake"] = "fake"
    project: str
    region: str = "north-1"


class FakeBucketAdapter:
    """The bucket adapter protocol, storing nothing (the tests only plan)."""

    def __init__(self, resource: Any, provider: Any) -> None:
        self.resource = resource

    def scan(self, version: int | datetime | None = None, **options: Any) -> pl.LazyFrame:
        return pl.LazyFrame()

    def read(self, version: int | datetime | None = None, **options: Any) -> pl.DataFrame:
        return pl.DataFrame()

    def write(
        self,
        data: pl.DataFrame | pl.LazyFrame,
        *,
        mode: str = "overwrite",
        on: Sequence[str] | None = None,
        delete_when: Any = None,
        schema: str | None = None,
    ) -> None:
        return None

    def exists(self) -> bool:
        return False

    def get_uri(self) -> str:
        return f"fake://{self.resource.bucket_name}/{self.resource.path}"

    def fingerprint(self) -> str:
        return ""


class FakeInfrastructure:
    """The ``fake`` cloud's builder: one resource per store and per task."""

    #: Every (model, environment) it was asked to declare.
    declared: list[tuple[InfraModel, str]] = []

    def __init__(self, config: Any = None) -> None:
        self.config = config

    def describe(self) -> str:
        return "fake resources"

    def declare(self, model: InfraModel, env: str) -> dict[str, Any]:
        import pulumi

        FakeInfrastructure.declared.append((model, env))
        out: dict[str, Any] = {}
        for store in model.stores_in(env):
            if store.declared:
                props = {"name": store.bucket_name, "kind": store.kind}
                out[store.key] = pulumi.CustomResource(
                    "fake:storage:Bucket", str(store.bucket_name), props
                )
        for task in model.tasks_in(env):
            grants = [
                f"{g.location.store}/{g.location.pattern}={'+'.join(g.access)}" for g in task.grants
            ]
            props = {"name": task.name, "compute": task.compute, "grants": grants}
            out[task.name] = pulumi.CustomResource("fake:compute:Job", task.name, props)
        return out


#: The task names each call of the cloud's check was given.
CHECKED: list[tuple[str, ...]] = []


def check_tasks(tasks: Sequence[TaskSpec]) -> None:
    """The cloud's check over its tasks: records what it was given."""
    CHECKED.append(tuple(t.name for t in tasks))


BUILDER = CloudBuilder(
    cloud="fake",
    target="infra.fake_cloud:FakeInfrastructure",
    compute=("fakejob",),
    default_compute="fakejob",
    hint="compute=fake.job(...)",
    code_from_artifacts=("fakejob",),
    storage_hint="fake.bucket(...)",
    check_tasks="infra.fake_cloud:check_tasks",
)

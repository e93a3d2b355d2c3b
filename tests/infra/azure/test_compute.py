"""Tasks as Container Apps jobs: their identity, image, command, variables and limits; the
registry they pull from; compute Azure does not offer refused naming what it does."""

from __future__ import annotations

import json

import pytest

from glacier import Dataset, Pipeline
from glacier.errors import ConfigError, InfraError
from glacier.infra import Plan, plan
from glacier.settings import ContainerAppConfig
from infra.azure.pipelines import SUB_A, azure_env
from infra.azure.plans import ACR_PULL, IDENTITY, JOB, assignments_of, job_env

MSI = f"/subscriptions/{SUB_A}/resourceGroups/dev-etl/providers/Microsoft.ManagedIdentity"


def test_one_identity_per_task(lake_plan: Plan) -> None:
    names = sorted(r.inputs["resourceName"] for r in lake_plan.of_type(IDENTITY))
    assert names == ["dev-etl-clean", "dev-etl-extract", "dev-etl-publish", "dev-etl-sweep"]
    principals = {r.outputs["principalId"] for r in lake_plan.of_type(IDENTITY)}
    assert len(principals) == 4


def test_a_job_runs_its_task_as_its_identity(lake_plan: Plan) -> None:
    job = lake_plan.get(JOB, "dev-sweep-job").inputs
    assert job["jobName"] == "dev-etl-sweep"
    assert job["identity"] == {
        "type": "UserAssigned",
        "userAssignedIdentities": [f"{MSI}/userAssignedIdentities/dev-etl-sweep"],
    }
    (container,) = job["template"]["containers"]
    assert container["command"][:3] == ["python", "-m", "glacier.infra.runtime"]
    assert container["command"][-1] == "sweep"
    assert container["image"].startswith("devetlac54dd.azurecr.io/glacier:py")
    assert container["resources"] == {"cpu": 1, "memory": "2.0Gi"}
    config = job["configuration"]
    assert config["triggerType"] == "Manual"
    assert config["replicaRetryLimit"] == 0  # the task's own process retries
    assert config["replicaTimeout"] == 1800
    assert config["registries"] == [
        {
            "server": "devetlac54dd.azurecr.io",
            "identity": f"{MSI}/userAssignedIdentities/dev-etl-sweep",
        }
    ]


def test_a_job_is_told_its_task_and_identity(lake_plan: Plan) -> None:
    variables = job_env(lake_plan, "dev", "clean")
    assert variables["GLACIER_TASK_NAME"] == "clean"
    assert variables["GLACIER_PIPELINE"] == "etl"
    assert variables["GLACIER_ENVIRONMENT"] == "dev"
    assert variables["GLACIER_DEPLOYED"] == "1"
    identity = lake_plan.get(IDENTITY, "dev-clean-identity")
    assert variables["AZURE_CLIENT_ID"] == identity.outputs["clientId"]
    assert json.loads(variables["GLACIER_ARTIFACTS"]) == {
        "summary": f"abfs://dev-etl-artifacts-{SUB_A}/summary/"
    }
    assert not any("KEY" in k or "CONNECTION" in k for k in variables)


def test_a_task_timeout_covers_every_attempt() -> None:
    env = azure_env()
    out = Dataset("out", storage=env.storage.blob("lake", "out/"))
    more = Dataset("more", storage=env.storage.blob("lake", "more/"))
    pipeline = Pipeline("slow")

    @pipeline.task(retries=3, timeout=600, retry_delay=0, jitter=0)
    def long() -> out: ...

    @pipeline.task(compute=env.compute.container_app(timeout=120))
    def short() -> more: ...

    p = plan(pipeline, environments=[env])
    config = p.get(JOB, "dev-long-job").inputs["configuration"]
    # four attempts of 600 s, retried by the task's process, not by the job
    assert (config["replicaTimeout"], config["replicaRetryLimit"]) == (2400, 0)
    assert p.get(JOB, "dev-short-job").inputs["configuration"]["replicaTimeout"] == 120


def test_the_registry_admits_only_the_tasks_identities(lake_plan: Plan) -> None:
    (registry,) = lake_plan.of_type("azure-native:containerregistry:Registry")
    assert registry.inputs["adminUserEnabled"] is False
    assert registry.inputs["anonymousPullEnabled"] is False
    for task in ("extract", "sweep", "clean", "publish"):
        (pull,) = assignments_of(lake_plan, "dev", task, ACR_PULL)
        assert pull.inputs["scope"].endswith("/registries/devetlac54dd")
        assert "condition" not in pull.inputs


def test_a_given_image_needs_no_registry() -> None:
    env = azure_env()
    out = Dataset("out", storage=env.storage.blob("lake", "out/"))
    pipeline = Pipeline("img")
    compute = env.compute.container_app(
        image="acme.azurecr.io/etl:1.2",
        config=ContainerAppConfig(environment_vars={"LOG_LEVEL": "debug"}, tags={"cost": "etl"}),
    )

    @pipeline.task(compute=compute)
    def make() -> out: ...

    p = plan(pipeline, environments=[env])
    job = p.get(JOB, "dev-make-job").inputs
    assert job["template"]["containers"][0]["image"] == "acme.azurecr.io/etl:1.2"
    assert job["tags"]["cost"] == "etl"
    assert job_env(p, "dev", "make")["LOG_LEVEL"] == "debug"
    assert "registries" not in job["configuration"]
    assert not p.of_type("azure-native:containerregistry:Registry")
    assert not p.choices


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cpu": 0.5, "memory": 4}, "memory=4.0 is not valid with cpu=0.5"),
        ({"cpu": 3.3, "memory": 6.6}, "cpu=3.3 is not a Container Apps size"),
        ({"timeout": 0}, "timeout=0"),
        ({"environment_vars": {"DB_PASSWORD": "x"}}, "DB_PASSWORD"),
    ],
)
def test_container_app_sizes_are_checked(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ContainerAppConfig(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["ecs", "glue", "synapse"])
def test_other_compute_on_azure_is_refused_naming_container_apps(kind: str) -> None:
    env = azure_env()
    out = Dataset("out", storage=env.storage.blob("lake", "out/"))
    pipeline = Pipeline("wrong")
    if kind == "functions":  # an Azure Function: provider.serverless(...)
        compute = env.provider.serverless("fn")
    elif kind == "synapse":  # a Synapse Spark pool, as an execution environment
        compute = env.provider.execution("synapse", "pool")
    else:
        compute = getattr(env.compute, kind)()

    @pipeline.task(compute=compute)
    def make() -> out: ...

    with pytest.raises(InfraError, match=r"env\.compute\.container_app\("):
        plan(pipeline, environments=[env])


def test_a_database_on_azure_is_refused_at_plan_time_naming_what_is_missing() -> None:
    from glacier import Database

    env = azure_env()
    env.register("orders_db", env.database.rds("dev-orders"))
    out = Dataset("out", storage=env.storage.blob("lake", "out/"))
    pipeline = Pipeline("db", env=env)

    @pipeline.task()
    def load(orders_db: Database) -> out: ...

    with pytest.raises(InfraError, match=r"'dev-orders'.*PostgreSQL flexible server"):
        plan(pipeline, environments=[env])


@pytest.mark.parametrize("kind", ["lambda_", "functions"])
def test_a_function_hint_runs_as_a_container_apps_job_of_its_size(kind: str) -> None:
    # The same pipeline switches clouds by its settings: env.compute.lambda_(memory=3000,
    # timeout=120), or provider.serverless(...), becomes the job of the smallest size whose
    # memory covers the function's (glacier.infra.serverless_jobs).
    from glacier.settings import LambdaConfig

    env = azure_env()
    out = Dataset("out", storage=env.storage.blob("lake", "out/"))
    pipeline = Pipeline("switched")
    if kind == "functions":
        compute = env.provider.serverless("fn", config=LambdaConfig(memory=3000, timeout=120))
    else:
        compute = env.compute.lambda_(memory=3000, timeout=120)

    @pipeline.task(compute=compute)
    def make() -> out: ...

    planned = plan(pipeline, environments=[env])
    (job,) = planned.of_type("azure-native:app:Job")
    container = job.inputs["template"]["containers"][0]
    assert (container["resources"]["cpu"], container["resources"]["memory"]) == (1.5, "3.0Gi")
    assert job.inputs["configuration"]["replicaTimeout"] >= 120

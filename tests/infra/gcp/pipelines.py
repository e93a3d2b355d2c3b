"""GCP pipelines the tests plan: one project, and a task reading another project's bucket."""

from __future__ import annotations

import polars as pl

from glacier import Dataset, Pipeline
from glacier.provider import Provider
from glacier.settings import GcpConfig, GcsConfig

PROJECT = "acme-data-prod"
OTHER = "acme-shared-data"
REGION = "europe-west1"


def gcp_env(name: str = "prod", project: str = PROJECT, **kwargs: object) -> object:
    config = GcpConfig(project=project, region=REGION)
    return Provider(config=config).env(name=name, **kwargs)


def daily() -> Pipeline:
    """Two buckets, an in-memory dataset between two tasks, retries, a schedule."""
    env = gcp_env(tags={"CostCenter": "Data Team", "glacier:owner": "analytics"})
    lake = GcsConfig(
        storage_class="STANDARD",
        lifecycle_rules=[{"days": 30, "transition": "NEARLINE"}, {"days": 365, "expiration": True}],
        kms_key_name="projects/acme-data-prod/locations/europe-west1/keyRings/lake/cryptoKeys/k",
        labels={"tier": "gold"},
    )
    raw = Dataset("raw", storage=env.storage.gcs("acme-prod-raw", "orders/", config=GcsConfig()))
    mid = Dataset("mid")
    clean = Dataset(
        "clean", storage=env.storage.gcs("acme-prod-lake", "clean.parquet", config=lake)
    )
    report = Dataset(
        "report", storage=env.storage.gcs("acme-prod-lake", "report.parquet", config=lake)
    )
    p = Pipeline("daily", env=env, schedule="cron(0 6 ? * 2-6 *)")

    @p.task(retries=3, retry_delay=10, backoff=2.0, timeout=900)
    def tidy(data: raw) -> mid:
        return data.filter(pl.col("x") > 1)

    @p.task(compute=env.compute.cloud_run(cpu=2, memory=4096, timeout=1200))
    def publish(data: mid, orders: raw) -> clean:
        return data

    bi = env.compute.cloud_run(
        image="europe-west1-docker.pkg.dev/acme-data-prod/bi/report:2",
        environment_vars={"REPORT_MODE": "full"},
        labels={"team": "bi"},
    )

    @p.task(compute=bi)
    def summarise(data: clean) -> report:
        return data

    return p


def cross_project() -> Pipeline:
    """A task of project A reading a bucket of project B (unnamed environments: accounts of one
    organisation, no opt-in needed)."""
    home = Provider(config=GcpConfig(project=PROJECT, region=REGION))
    shared = Provider(config=GcpConfig(project=OTHER, region=REGION))
    ref = Dataset("ref", storage=shared.bucket("acme-shared-ref", "countries/"))
    out = Dataset("out", storage=home.bucket("acme-prod-out", "joined.parquet"))
    p = Pipeline("joiner")

    @p.task(compute=home.execution("cloud_run", "job", None))
    def join(countries: ref) -> out:
        return countries

    return p


def two_projects() -> Pipeline:
    """A task in each of two projects: the first project's workflow runs both jobs."""
    home = Provider(config=GcpConfig(project=PROJECT, region=REGION))
    shared = Provider(config=GcpConfig(project=OTHER, region=REGION))
    a = Dataset("a", storage=home.bucket("acme-prod-a", "a.parquet"))
    b = Dataset("b", storage=shared.bucket("acme-shared-b", "b.parquet"))
    p = Pipeline("split")

    @p.task(compute=home.execution("cloud_run", "job", None))
    def first() -> a:
        return pl.DataFrame({"x": [1]})

    @p.task(compute=shared.execution("cloud_run", "job", None))
    def second(data: a) -> b:
        return data

    return p


def shop(**provider: object) -> Pipeline:
    """A Cloud SQL database one task loads and another reads, and a task using no database;
    ``provider`` adds fields to the project's GcpConfig (an existing network)."""
    from glacier import Database
    from glacier.settings import CloudSqlConfig

    config = GcpConfig(project=PROJECT, region=REGION, **provider)  # type: ignore[arg-type]
    env = Provider(config=config).env(name="prod")
    sizing = CloudSqlConfig(
        tier="db-custom-2-7680", availability_type="REGIONAL", deletion_protection=True
    )
    env.register("shop_db", env.database.cloud_sql("shop-db", config=sizing))  # type: ignore[attr-defined]
    orders = Dataset("orders", storage=env.storage.gcs("acme-shop-lake", "orders.parquet"))  # type: ignore[attr-defined]
    summary = Dataset("summary", storage=env.storage.gcs("acme-shop-lake", "summary.parquet"))  # type: ignore[attr-defined]
    p = Pipeline("shop", env=env)

    @p.task()
    def load(shop_db: Database) -> orders:
        return pl.DataFrame({"order_id": [1]})

    @p.task()
    def audit(shop_db: Database, data: orders) -> summary:
        return data

    @p.task()
    def publish(data: summary) -> None:
        return None

    return p

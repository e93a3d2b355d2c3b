"""Cloud SQL on GCP: a private instance in the pipeline's VPC, IAM users for exactly the
tasks using it, their roles conditioned on the instance, and Direct VPC egress for those
tasks' jobs only; an existing network named in the settings is used, none created."""

from __future__ import annotations

import json
from typing import Any

import pytest

from glacier.errors import ConfigError
from glacier.infra import Plan, plan
from glacier.infra.gcp.cloud_sql import DATABASE_FLAGS
from glacier.settings import GlacierSettings
from infra.gcp.pipelines import PROJECT, REGION, shop

INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
USER = "gcp:sql/user:User"
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
JOB = "gcp:cloudrunv2/job:Job"
NETWORK_TYPES = (
    "gcp:compute/network:Network",
    "gcp:compute/subnetwork:Subnetwork",
    "gcp:compute/firewall:Firewall",
    "gcp:compute/globalAddress:GlobalAddress",
    "gcp:servicenetworking/connection:Connection",
)
CONDITION = (
    'resource.type == "sqladmin.googleapis.com/Instance" && '
    f'resource.name == "projects/{PROJECT}/instances/shop-db"'
)


@pytest.fixture(scope="module")
def shop_plan() -> Plan:
    return plan(shop())


def _job(p: Plan, task: str) -> dict[str, Any]:
    template: dict[str, Any] = p.get(JOB, f"prod-{task}-job").inputs["template"]["template"]
    return template


def _variables(p: Plan, task: str) -> dict[str, Any]:
    return {e["name"]: e.get("value") for e in _job(p, task)["containers"][0]["envs"]}


def test_the_instance_is_private_tls_only_iam_authenticated_backed_up_and_protected(
    shop_plan: Plan,
) -> None:
    (db,) = shop_plan.of_type(INSTANCE)
    inputs = db.inputs
    assert (inputs["name"], inputs["region"]) == ("shop-db", REGION)
    assert inputs["databaseVersion"] == "POSTGRES_18"
    assert inputs["deletionProtection"] is True
    settings = inputs["settings"]
    assert settings["tier"] == "db-custom-2-7680"
    assert settings["availabilityType"] == "REGIONAL"
    assert settings["deletionProtectionEnabled"] is True
    network = shop_plan.get("gcp:compute/network:Network", "prod-network")
    assert settings["ipConfiguration"] == {
        "ipv4Enabled": False,
        "privateNetwork": network.outputs["id"],
        "sslMode": "ENCRYPTED_ONLY",
    }
    backups = settings["backupConfiguration"]
    assert backups["enabled"] is True and backups["pointInTimeRecoveryEnabled"] is True
    assert backups["backupRetentionSettings"] == {"retainedBackups": 7, "retentionUnit": "COUNT"}
    flags = {f["name"]: f["value"] for f in settings["databaseFlags"]}
    assert flags == DATABASE_FLAGS
    assert flags["cloudsql.iam_authentication"] == "on"
    # no password anywhere: no root password, no password user
    assert "rootPassword" not in inputs
    everything = json.dumps([dict(r.inputs) for r in shop_plan.resources], default=str).lower()
    assert "password" not in everything
    (database,) = shop_plan.of_type("gcp:sql/database:Database")
    assert database.inputs["instance"] == "shop-db"


def test_the_created_network_has_private_google_access_and_private_services_access(
    shop_plan: Plan,
) -> None:
    network = shop_plan.get("gcp:compute/network:Network", "prod-network")
    assert network.inputs["autoCreateSubnetworks"] is False
    subnet = shop_plan.get("gcp:compute/subnetwork:Subnetwork", "prod-subnetwork")
    assert subnet.inputs["region"] == REGION
    assert subnet.inputs["privateIpGoogleAccess"] is True
    assert subnet.inputs["network"] == network.outputs["id"]
    (address,) = shop_plan.of_type("gcp:compute/globalAddress:GlobalAddress")
    assert (address.inputs["purpose"], address.inputs["addressType"]) == ("VPC_PEERING", "INTERNAL")
    (peering,) = shop_plan.of_type("gcp:servicenetworking/connection:Connection")
    assert peering.inputs["service"] == "servicenetworking.googleapis.com"
    assert peering.inputs["reservedPeeringRanges"] == [address.inputs["name"]]
    (firewall,) = shop_plan.of_type("gcp:compute/firewall:Firewall")
    assert firewall.inputs["direction"] == "INGRESS"
    assert firewall.inputs["denies"] == [{"protocol": "all"}]


def test_each_task_using_the_database_gets_an_iam_user_and_conditioned_roles_only(
    shop_plan: Plan,
) -> None:
    users = {u.inputs["name"]: u.inputs for u in shop_plan.of_type(USER)}
    assert set(users) == {
        f"prod-shop-load@{PROJECT}.iam",
        f"prod-shop-audit@{PROJECT}.iam",
    }
    assert all(u["type"] == "CLOUD_IAM_SERVICE_ACCOUNT" for u in users.values())
    assert all(u["instance"] == "shop-db" for u in users.values())
    sql_members = [
        m.inputs for m in shop_plan.of_type(PROJECT_MEMBER) if "cloudsql" in m.inputs["role"]
    ]
    granted = sorted((m["member"], m["role"]) for m in sql_members)
    assert granted == sorted(
        (f"serviceAccount:prod-shop-{task}@{PROJECT}.iam.gserviceaccount.com", role)
        for task in ("load", "audit")
        for role in ("roles/cloudsql.client", "roles/cloudsql.instanceUser")
    )
    for member in sql_members:
        assert member["project"] == PROJECT
        assert member["condition"]["expression"] == CONDITION
    # the task using no database is granted nothing on it
    publish = f"prod-shop-publish@{PROJECT}.iam.gserviceaccount.com"
    for resource in shop_plan.of_type(PROJECT_MEMBER):
        assert publish not in resource.inputs["member"]


def test_only_the_jobs_using_the_database_get_direct_vpc_egress_and_its_address(
    shop_plan: Plan,
) -> None:
    subnet = shop_plan.get("gcp:compute/subnetwork:Subnetwork", "prod-subnetwork")
    network = shop_plan.get("gcp:compute/network:Network", "prod-network")
    (db,) = shop_plan.of_type(INSTANCE)
    for task in ("load", "audit"):
        assert _job(shop_plan, task)["vpcAccess"] == {
            "egress": "PRIVATE_RANGES_ONLY",
            "networkInterfaces": [
                {"network": network.outputs["id"], "subnetwork": subnet.outputs["id"]}
            ],
        }
        told = json.loads(_variables(shop_plan, task)["GLACIER_DATABASE_ENDPOINTS"])
        assert told == {
            "shop-db": {
                "host": db.outputs["privateIpAddress"],
                "port": 5432,
                "dbname": "shop-db",
                "user": f"prod-shop-{task}@{PROJECT}.iam",
                "gcp_iam": True,
            }
        }
    assert "vpcAccess" not in _job(shop_plan, "publish")
    assert "GLACIER_DATABASE_ENDPOINTS" not in _variables(shop_plan, "publish")


def test_an_existing_network_in_the_settings_is_used_and_none_is_created() -> None:
    subnetwork = f"projects/{PROJECT}/regions/{REGION}/subnetworks/data"
    p = plan(shop(network="shared-vpc", subnetwork=subnetwork))
    for kind in NETWORK_TYPES:
        assert p.of_type(kind) == []
    (db,) = p.of_type(INSTANCE)
    private = db.inputs["settings"]["ipConfiguration"]["privateNetwork"]
    assert private == f"projects/{PROJECT}/global/networks/shared-vpc"
    assert _job(p, "load")["vpcAccess"]["networkInterfaces"] == [
        {"network": private, "subnetwork": subnetwork}
    ]
    assert "vpcAccess" not in _job(p, "publish")


def test_a_pipeline_without_a_database_gets_no_network() -> None:
    from infra.gcp.pipelines import daily

    p = plan(daily())
    for kind in (*NETWORK_TYPES, INSTANCE, USER):
        assert p.of_type(kind) == []


def test_a_password_secret_keeps_the_settings_user_and_grants_no_sql_role(tmp_path: Any) -> None:
    from glacier import Database, Dataset, Environment, Pipeline

    settings = GlacierSettings(
        env="prod",
        provider={"kind": "gcp", "project": PROJECT, "region": REGION},
        secrets={"shop_password": {"gcp": "shop-password"}},
        databases={
            "shop_db": {
                "identifier": "shop-db",
                "cloud_sql": {},
                "user": "etl",
                "dbname": "shop",
                "password_secret": "shop_password",
            }
        },
    )
    env = Environment.from_settings(settings)
    out = Dataset("out", storage=env.storage.gcs("acme-shop-out", "o.parquet"))
    pipe = Pipeline("shop", env=env)

    @pipe.task()
    def load(shop_db: Database) -> out:
        return None

    p = plan(pipe)
    assert p.of_type(USER) == []
    assert not [m for m in p.of_type(PROJECT_MEMBER) if "cloudsql" in m.inputs["role"]]
    told = json.loads(_variables(p, "load")["GLACIER_DATABASE_ENDPOINTS"])["shop-db"]
    assert "user" not in told and "gcp_iam" not in told
    assert told["dbname"] == "shop"
    assert "vpcAccess" in _job(p, "load")  # still reached over the VPC


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"cloud_sql": {"tier": "db-custom-3-3840"}}, ["cloud_sql", "tier", "even"]),
        ({"cloud_sql": {"engine": "mysql"}}, ["engine", "PostgreSQL only"]),
        ({"rds": {}}, ["databases.shop.rds", "'gcp'", "databases.shop.cloud_sql"]),
    ],
)
def test_bad_database_settings_on_gcp_are_refused_at_load_naming_the_field(
    values: dict[str, Any], words: list[str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        GlacierSettings(
            env="prod",
            provider={"kind": "gcp", "project": PROJECT},
            databases={"shop": {"identifier": "shop-db", **values}},
        )
    for word in words:
        assert word in str(caught.value)


def test_rehearsing_a_task_that_uses_cloud_sql_is_refused_before_anything_starts() -> None:
    # No emulator runs Cloud SQL: the refusal comes before the plan or any emulator is
    # reached (the emulator address given here listens nowhere).
    from glacier.errors import InfraError
    from glacier.infra.rehearse import rehearse

    with pytest.raises(InfraError) as caught:
        rehearse(shop(), "prod", emulator="http://127.0.0.1:9")
    for part in ("Task 'load'", "database 'shop-db'", "cannot stand up", "glacier plan"):
        assert part in str(caught.value)


def test_project_bindings_are_the_conditioned_cloud_sql_roles_and_the_invoker_only(
    shop_plan: Plan,
) -> None:
    project_roles = [
        r for r in shop_plan if r.type.startswith("gcp:projects/") and "role" in r.inputs
    ]
    assert project_roles
    for resource in project_roles:
        role = resource.inputs["role"]
        assert role not in ("roles/owner", "roles/editor", "roles/viewer"), resource.name
        if role.startswith("roles/cloudsql."):
            assert role in ("roles/cloudsql.client", "roles/cloudsql.instanceUser")
            assert resource.inputs["condition"]["expression"] == CONDITION
        else:
            assert role == "roles/workflows.invoker", resource.name


def test_every_cloud_sql_option_reaches_the_instance() -> None:
    from glacier import Database, Dataset, Pipeline
    from glacier.settings import CloudSqlConfig
    from infra.gcp.pipelines import gcp_env

    env = gcp_env()
    config = CloudSqlConfig(
        database_version="POSTGRES_16",
        tier="db-g1-small",
        disk_size_gb=50,
        disk_type="PD_HDD",
        availability_type="REGIONAL",
        deletion_protection=True,
        backup_retention_days=30,
        point_in_time_recovery=False,
        transaction_log_retention_days=3,
        labels={"tier": "gold"},
    )
    env.register("wh", env.database.cloud_sql("wh", config=config))  # type: ignore[attr-defined]
    out = Dataset("out", storage=env.storage.gcs("acme-wh-out", "o.parquet"))  # type: ignore[attr-defined]
    pipe = Pipeline("wh", env=env)

    @pipe.task()
    def load(wh: Database) -> out:
        return None

    (db,) = plan(pipe).of_type(INSTANCE)
    inputs = db.inputs
    settings = inputs["settings"]
    assert inputs["databaseVersion"] == "POSTGRES_16"
    assert inputs["deletionProtection"] is True and settings["deletionProtectionEnabled"] is True
    assert (settings["tier"], settings["diskSize"], settings["diskType"]) == (
        "db-g1-small",
        50,
        "PD_HDD",
    )
    assert settings["availabilityType"] == "REGIONAL"
    backups = settings["backupConfiguration"]
    assert backups["backupRetentionSettings"]["retainedBackups"] == 30
    assert backups["pointInTimeRecoveryEnabled"] is False
    assert backups["transactionLogRetentionDays"] == 3
    assert settings["userLabels"]["tier"] == "gold"

"""PostgreSQL flexible servers in Azure environments: private access in the environment's
virtual network (created, or named by the settings), Entra authentication only, and what
each task using one is told."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from glacier import Database, Dataset, Environment, Pipeline
from glacier.errors import ConfigError, InfraError
from glacier.infra import Plan, generate, plan
from glacier.infra.mocks import plan_project
from glacier.infra.model import build_model
from glacier.infra.rehearse.cloud_rehearsal import check_cloud_rehearsable
from glacier.settings import AzurePostgresConfig, RdsConfig
from infra.azure.pipelines import (
    ENTRA_ADMIN,
    SUB_A,
    azure_env,
    lake_pipeline,
    subnet_id,
    warehouse_pipeline,
    warehouse_settings,
)
from infra.azure.plans import IDENTITY, JOB, job_env

SERVER = "azure-native:dbforpostgresql:Server"
DATABASE = "azure-native:dbforpostgresql:Database"
ADMIN = "azure-native:dbforpostgresql:Administrator"
VNET = "azure-native:network:VirtualNetwork"
SUBNET = "azure-native:network:Subnet"
ZONE = "azure-native:privatedns:PrivateZone"
LINK = "azure-native:privatedns:VirtualNetworkLink"
APPS_ENV = "azure-native:app:ManagedEnvironment"
GROUP = f"/subscriptions/{SUB_A}/resourceGroups/dev-shop/providers"
ZONE_NAME = "privatelink.postgres.database.azure.com"


@pytest.fixture(scope="module")
def warehouse_plan() -> Plan:
    pipeline, env = warehouse_pipeline()
    return plan(pipeline, environments=[env])


def test_the_server_is_private_entra_only_and_sized_from_its_settings(
    warehouse_plan: Plan,
) -> None:
    server = warehouse_plan.get(SERVER, "dev-acme-dev-warehouse-server").inputs
    assert server["serverName"] == "acme-dev-warehouse"
    assert server["network"] == {
        "publicNetworkAccess": "Disabled",
        "delegatedSubnetResourceId": f"{GROUP}/Microsoft.Network/virtualNetworks/dev-shop/"
        "subnets/databases",
        "privateDnsZoneArmResourceId": f"{GROUP}/Microsoft.Network/privateDnsZones/{ZONE_NAME}",
    }
    auth = server["authConfig"]
    assert (auth["activeDirectoryAuth"], auth["passwordAuth"]) == ("Enabled", "Disabled")
    assert auth["tenantId"]
    assert "administratorLogin" not in server and "administratorLoginPassword" not in server
    assert server["sku"] == {"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"}
    assert server["storage"]["storageSizeGB"] == 64
    assert server["backup"] == {"backupRetentionDays": 14, "geoRedundantBackup": "Enabled"}
    assert server["highAvailability"] == {"mode": "ZoneRedundant"}
    assert server["version"] == "15"
    assert server["tags"]["cost-centre"] == "warehouse"
    database = warehouse_plan.get(DATABASE, "dev-acme-dev-warehouse-database").inputs
    assert (database["serverName"], database["databaseName"]) == ("acme-dev-warehouse", "analytics")


def test_the_administrator_is_the_entra_principal_the_settings_name(
    warehouse_plan: Plan,
) -> None:
    (admin,) = warehouse_plan.of_type(ADMIN)
    assert admin.inputs["objectId"] == ENTRA_ADMIN["object_id"]
    assert admin.inputs["principalName"] == "data-admins"
    assert admin.inputs["principalType"] == "Group"
    assert admin.inputs["serverName"] == "acme-dev-warehouse"
    server = warehouse_plan.get(SERVER, "dev-acme-dev-warehouse-server").inputs
    assert admin.inputs["tenantId"] == server["authConfig"]["tenantId"]


def test_a_network_is_created_with_delegated_subnets_and_a_linked_dns_zone(
    warehouse_plan: Plan,
) -> None:
    (vnet,) = warehouse_plan.of_type(VNET)
    assert vnet.inputs["addressSpace"] == {"addressPrefixes": ["10.0.0.0/16"]}
    subnets = {s.inputs["subnetName"]: s.inputs for s in warehouse_plan.of_type(SUBNET)}
    assert subnets["databases"]["delegations"] == [
        {"name": "databases", "serviceName": "Microsoft.DBforPostgreSQL/flexibleServers"}
    ]
    assert subnets["apps"]["delegations"] == [
        {"name": "apps", "serviceName": "Microsoft.App/environments"}
    ]
    prefix = int(subnets["apps"]["addressPrefix"].rsplit("/", 1)[1])
    assert prefix <= 27  # a workload-profiles environment needs /27 or larger
    (zone,) = warehouse_plan.of_type(ZONE)
    assert zone.inputs["privateZoneName"] == ZONE_NAME
    (link,) = warehouse_plan.of_type(LINK)
    assert link.inputs["privateZoneName"] == ZONE_NAME
    assert link.inputs["virtualNetwork"] == {"id": vnet.outputs["id"]}
    assert link.inputs["registrationEnabled"] is False


def test_the_jobs_run_in_the_network(warehouse_plan: Plan) -> None:
    (apps,) = warehouse_plan.of_type(APPS_ENV)
    assert apps.inputs["vnetConfiguration"] == {
        "infrastructureSubnetId": f"{GROUP}/Microsoft.Network/virtualNetworks/dev-shop/"
        "subnets/apps",
        "internal": True,
    }
    assert apps.inputs["workloadProfiles"] == [
        {"name": "Consumption", "workloadProfileType": "Consumption"}
    ]
    for task in ("load", "count", "tidy"):
        assert warehouse_plan.get(JOB, f"dev-{task}-job").inputs["workloadProfileName"] == (
            "Consumption"
        )


def test_each_task_using_the_database_signs_in_as_its_own_identity(
    warehouse_plan: Plan,
) -> None:
    fqdn = "acme-dev-warehouse.postgres.database.azure.com"
    for task in ("load", "count"):
        identity = warehouse_plan.get(IDENTITY, f"dev-{task}-identity")
        told = json.loads(job_env(warehouse_plan, "dev", task)["GLACIER_DATABASE_ENDPOINTS"])
        assert told == {
            "acme-dev-warehouse": {
                "host": fqdn,
                "port": 5432,
                "dbname": "analytics",
                "user": identity.inputs["resourceName"],
                "entra_client_id": identity.outputs["clientId"],
            }
        }
    assert "GLACIER_DATABASE_ENDPOINTS" not in job_env(warehouse_plan, "dev", "tidy")


def test_the_plan_notes_the_sql_that_makes_each_identity_a_database_role(
    warehouse_plan: Plan,
) -> None:
    notes = [c.to_dict() for c in warehouse_plan.choices if "sql" in c.to_dict()]
    assert sorted(n["task"] for n in notes) == ["count", "load"]
    load = next(n for n in notes if n["task"] == "load")
    assert load["user"] == "dev-shop-load"
    assert "pgaadauth_create_principal('dev-shop-load', false, false)" in load["sql"]
    assert 'GRANT CONNECT, TEMPORARY ON DATABASE "analytics" TO "dev-shop-load"' in load["sql"]
    assert "pgaadauth_create_principal('dev-shop-load'" in warehouse_plan.to_text()
    assert json.loads(warehouse_plan.to_json())["choices"]


def test_an_existing_network_named_by_the_settings_is_used_and_none_is_created() -> None:
    settings = warehouse_settings(
        database_subnet_id=subnet_id("postgres"), apps_subnet_id=subnet_id("jobs")
    )
    pipeline, env = warehouse_pipeline(settings)
    p = plan(pipeline, environments=[env])
    assert p.of_type(VNET) == [] and p.of_type(SUBNET) == []
    server = p.get(SERVER, "dev-acme-dev-warehouse-server").inputs
    assert server["network"]["delegatedSubnetResourceId"] == subnet_id("postgres")
    (apps,) = p.of_type(APPS_ENV)
    assert apps.inputs["vnetConfiguration"]["infrastructureSubnetId"] == subnet_id("jobs")
    # The zone the server registers in is made and linked to that network.
    (link,) = p.of_type(LINK)
    assert link.inputs["virtualNetwork"] == {"id": subnet_id("jobs").rsplit("/subnets/", 1)[0]}


def test_an_existing_dns_zone_named_by_the_settings_is_used_and_none_is_created() -> None:
    zone = (
        f"/subscriptions/{SUB_A}/resourceGroups/dns/providers/Microsoft.Network/"
        f"privateDnsZones/{ZONE_NAME}"
    )
    settings = warehouse_settings(
        database_subnet_id=subnet_id("postgres"),
        apps_subnet_id=subnet_id("jobs"),
        private_dns_zone_id=zone,
    )
    pipeline, env = warehouse_pipeline(settings)
    p = plan(pipeline, environments=[env])
    assert p.of_type(ZONE) == [] and p.of_type(LINK) == [] and p.of_type(VNET) == []
    server = p.get(SERVER, "dev-acme-dev-warehouse-server").inputs
    assert server["network"]["privateDnsZoneArmResourceId"] == zone


def test_a_pipeline_without_a_database_gets_no_network(lake_plan: Plan) -> None:
    for typ in (VNET, SUBNET, ZONE, LINK, SERVER):
        assert lake_plan.of_type(typ) == []
    (apps,) = lake_plan.of_type(APPS_ENV)
    assert "vnetConfiguration" not in apps.inputs and "workloadProfiles" not in apps.inputs


def test_a_database_declared_in_code_plans_too() -> None:
    pipeline, env = lake_pipeline(schedule=None)
    db = env.database.azure_postgres(
        "acme-dev-scratch", config=AzurePostgresConfig(entra_admin=ENTRA_ADMIN)
    )
    scratch = Dataset("scratch", storage=db.table("scratch"))

    @pipeline.task()
    def stage(s: scratch) -> None:  # reads the table
        return None

    p = plan(pipeline, environments=[env])
    server = p.get(SERVER, "dev-acme-dev-scratch-server").inputs
    assert server["sku"] == {"name": "Standard_B1ms", "tier": "Burstable"}
    assert p.get(DATABASE, "dev-acme-dev-scratch-database").inputs["databaseName"] == (
        "acme_dev_scratch"
    )


def test_an_rds_database_in_an_azure_environment_is_refused_naming_azure_postgres() -> None:
    pipeline, env = lake_pipeline(schedule=None)
    db = env.database.rds("acme-dev-rds", config=RdsConfig())
    table = Dataset("rows", storage=db.table("rows"))

    @pipeline.task()
    def stage(s: table) -> None:
        return None

    with pytest.raises(InfraError, match="azure_postgres") as caught:
        plan(pipeline, environments=[env])
    assert "acme-dev-rds" in str(caught.value)


def test_a_dynamodb_table_in_an_azure_environment_is_refused_naming_the_alternative() -> None:
    env = Environment.from_settings(warehouse_settings())
    env.register("prices", env.database.dynamodb("acme-dev-prices", hash_key="symbol"))
    pipeline = Pipeline("shop", env=env)
    out = Dataset("out", storage=env.storage.blob("lake", "out/"))

    @pipeline.task()
    def stage(prices: Database) -> out:
        return None

    with pytest.raises(InfraError, match="Cosmos DB") as caught:
        plan(pipeline, environments=[env])
    assert "acme-dev-prices" in str(caught.value)


def test_an_azure_postgres_config_on_another_cloud_is_refused() -> None:
    from glacier import Provider
    from glacier.settings import AwsConfig

    with pytest.raises(ConfigError, match="Use RdsConfig"):
        Provider(config=AwsConfig(region="us-east-1")).database(
            "wh", config=AzurePostgresConfig(entra_admin=ENTRA_ADMIN)
        )


def test_rehearsing_a_task_that_uses_the_server_stays_refused() -> None:
    pipeline, env = warehouse_pipeline()
    model = build_model(pipeline, [env])
    with pytest.raises(InfraError, match="cannot stand up") as caught:
        check_cloud_rehearsable(model, "dev")
    assert "acme-dev-warehouse" in str(caught.value)
    assert "glacier plan" in str(caught.value)  # which still covers it


def test_glacier_rehearse_refuses_it_before_starting_an_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glacier.infra.rehearse import rehearsal

    code = tmp_path / "code"
    code.mkdir()
    (code / "azure_rehearse_db.py").write_text(DB_PIPELINE)
    monkeypatch.syspath_prepend(str(code))
    monkeypatch.delitem(sys.modules, "azure_rehearse_db", raising=False)
    import azure_rehearse_db  # type: ignore[import-not-found]

    def no_emulator(*args: object, **kwargs: object) -> None:
        raise AssertionError("an emulator was started")

    monkeypatch.setattr(rehearsal, "rehearse_plan", no_emulator)
    with pytest.raises(InfraError, match="cannot stand up"):
        rehearsal.rehearse(azure_rehearse_db.pipeline, azure_rehearse_db.env)


DB_PIPELINE = """
from glacier import Dataset, Pipeline, Provider
from glacier.settings import AzureConfig, AzurePostgresConfig

env = Provider(
    config=AzureConfig(
        subscription_id="00000000-1111-2222-3333-444444444444",
        location="westeurope",
        storage_account="acmedata",
    )
).env(name="dev")
admin = {"name": "data-admins", "object_id": "11111111-2222-3333-4444-555555555555"}
config = AzurePostgresConfig(entra_admin=admin)
wh = env.database.azure_postgres("acme-gen-warehouse", config=config)
raw = Dataset("raw", storage=env.storage.blob("lake", "raw/"))
orders = Dataset("orders", storage=wh.table("orders"))
pipeline = Pipeline("gendb")


@pipeline.task()
def load(data: raw) -> orders: ...
"""


def test_generate_writes_a_project_that_plans_the_server_and_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "azure_gen_db.py").write_text(DB_PIPELINE)
    monkeypatch.syspath_prepend(str(code))
    monkeypatch.delitem(sys.modules, "azure_gen_db", raising=False)
    import azure_gen_db  # type: ignore[import-not-found]

    generate(azure_gen_db.pipeline, tmp_path / "out", environments=[azure_gen_db.env])
    deployed = [r for r in plan_project(tmp_path / "out", "dev") if r.environment == "dev"]
    planned = plan(azure_gen_db.pipeline, environments=[azure_gen_db.env])
    assert sorted((r.type, r.name) for r in deployed) == sorted(
        (r.type, r.name) for r in planned if r.environment == "dev"
    )
    types = {r.type for r in deployed}
    assert {SERVER, DATABASE, ADMIN, VNET, SUBNET, ZONE, LINK} <= types


def test_two_servers_of_an_environment_share_one_network() -> None:
    settings = warehouse_settings()
    databases = dict(settings.databases)
    databases["archive"] = databases["warehouse"].model_copy(
        update={"identifier": "acme-dev-archive", "dbname": "archive"}
    )
    env = Environment.from_settings(
        settings.model_validate({**settings.model_dump(exclude_unset=True), "databases": databases})
    )
    pipeline = Pipeline("shop", env=env)
    out = Dataset("out", storage=env.storage.blob("lake", "out/"))

    @pipeline.task()
    def both(warehouse: Database, archive: Database) -> out:
        return None

    p = plan(pipeline, environments=[env])
    servers = sorted(s.inputs["serverName"] for s in p.of_type(SERVER))
    assert servers == ["acme-dev-archive", "acme-dev-warehouse"]
    assert len(p.of_type(VNET)) == 1 and len(p.of_type(ZONE)) == 1
    told = json.loads(job_env(p, "dev", "both")["GLACIER_DATABASE_ENDPOINTS"])
    assert sorted(told) == servers


def test_an_aws_network_section_in_azure_settings_is_refused_naming_the_azure_fields() -> None:
    settings = warehouse_settings().model_validate(
        {
            **warehouse_settings().model_dump(exclude_unset=True),
            "network": {"vpc_id": "vpc-0a1b2c3d", "subnet_ids": ["subnet-0a1b2c3d"]},
        }
    )
    pipeline, env = warehouse_pipeline(settings)
    with pytest.raises(InfraError, match="database_subnet_id and apps_subnet_id under"):
        plan(pipeline, environments=[env])


def test_named_subnets_put_the_jobs_in_that_network_without_a_database() -> None:
    env = azure_env(database_subnet_id=subnet_id("postgres"), apps_subnet_id=subnet_id("jobs"))
    pipeline, env = lake_pipeline(env)
    p = plan(pipeline, environments=[env])
    for typ in (VNET, SUBNET, ZONE, LINK, SERVER):
        assert p.of_type(typ) == []
    (apps,) = p.of_type(APPS_ENV)
    assert apps.inputs["vnetConfiguration"]["infrastructureSubnetId"] == subnet_id("jobs")


def test_a_server_name_azure_cannot_take_is_refused_at_plan_time() -> None:
    settings = warehouse_settings()
    databases = {
        "warehouse": settings.databases["warehouse"].model_copy(update={"identifier": "w"})
    }
    pipeline, env = warehouse_pipeline(
        settings.model_validate({**settings.model_dump(exclude_unset=True), "databases": databases})
    )
    with pytest.raises(InfraError, match="3 to 63 lower-case") as caught:
        plan(pipeline, environments=[env])
    assert "'w'" in str(caught.value) and "e.g. 'acme-prod-warehouse'" in str(caught.value)

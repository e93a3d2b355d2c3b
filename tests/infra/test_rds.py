"""RDS instances: sized per environment, in the environment's subnets, password managed by
RDS in Secrets Manager, and each task that uses one granted exactly its secret or db user."""

from __future__ import annotations

import json

import polars as pl
import pytest

from glacier import Dataset, Environment, Pipeline
from glacier.errors import ConfigError, InfraError
from glacier.infra import Plan, plan
from glacier.settings import RdsConfig
from infra.pipelines import attached_pipeline, attached_settings
from infra.plans import FUNCTION, ROLE_POLICY, lint, s3_resources, statement, task_policy

INSTANCE = "aws:rds/instance:Instance"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ENDPOINTS = "GLACIER_DATABASE_ENDPOINTS"


def lambda_variables(p: Plan, task: str) -> dict[str, str]:
    return dict(p.get(FUNCTION, f"prod-{task}-function").inputs["environment"]["variables"])


def table_pipeline(settings: object = None) -> Pipeline:
    """``load`` writes a Dataset stored in a table of the RDS database, ``summarize`` reads
    it and writes a file to S3."""
    env = Environment.from_settings(settings or attached_settings())
    warehouse = env.get("warehouse")
    orders = Dataset("orders", storage=warehouse.table("sales.orders"))
    summary = Dataset("summary", storage=env.storage.s3(bucket="prod-quotes", path="s.parquet"))
    pipeline = Pipeline("shop", env=env)

    @pipeline.task(compute=env.compute.lambda_())
    def load() -> orders:
        return pl.DataFrame({"order_id": [1]})

    @pipeline.task(compute=env.compute.lambda_())
    def summarize(data: orders) -> summary:
        return data

    return pipeline


@pytest.fixture(scope="module")
def attached_plan() -> Plan:
    return plan(attached_pipeline())


def test_instance_is_sized_from_settings_encrypted_protected_and_keeps_no_password(
    attached_plan: Plan,
) -> None:
    (db,) = attached_plan.of_type(INSTANCE)
    inputs = db.inputs
    assert inputs["identifier"] == "prod-warehouse"
    assert inputs["instanceClass"] == "db.t3.medium"
    assert inputs["multiAz"] is True
    assert inputs["storageEncrypted"] is True
    assert inputs["deletionProtection"] is True
    assert inputs["skipFinalSnapshot"] is False
    assert inputs["manageMasterUserPassword"] is True
    assert inputs["publiclyAccessible"] is False
    assert "password" not in inputs
    everything = json.dumps([dict(r.inputs) for r in attached_plan.resources], default=str)
    assert "password" not in everything.replace("manageMasterUserPassword", "").lower()
    (group,) = attached_plan.of_type("aws:rds/subnetGroup:SubnetGroup")
    assert group.inputs["subnetIds"] == ["subnet-1", "subnet-2"]
    firewall = attached_plan.get(
        "aws:ec2/securityGroup:SecurityGroup", "prod-prod-warehouse-security-group"
    )
    assert firewall.inputs["vpcId"] == "vpc-1"
    (rule,) = firewall.inputs["ingress"]
    assert (rule["fromPort"], rule["toPort"], rule["securityGroups"]) == (5432, 5432, ["sg-1"])


def test_dev_sizing_is_small_and_unprotected() -> None:
    dev = attached_settings(
        databases={"warehouse": {"identifier": "dev-warehouse", "rds": {}}},
        volumes={},
    )
    p = plan(attached_pipeline(dev))
    (db,) = p.of_type(INSTANCE)
    assert db.inputs["instanceClass"] == "db.t3.micro"
    assert db.inputs["multiAz"] is False
    assert db.inputs["deletionProtection"] is False
    assert db.inputs["skipFinalSnapshot"] is True


def test_task_reads_only_the_managed_secret_of_its_database(attached_plan: Plan) -> None:
    fetch = task_policy(attached_plan, "prod", "fetch")
    db = statement(fetch, "DatabaseProdWarehouse")
    (db_instance,) = attached_plan.of_type(INSTANCE)
    secret = db_instance.outputs["masterUserSecrets"][0]["secretArn"]
    assert db == {
        "Sid": "DatabaseProdWarehouse",
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": [secret],
    }
    report = task_policy(attached_plan, "prod", "report")
    assert not any("secretsmanager" in json.dumps(s) for s in report["Statement"])


def test_iam_database_user_gets_rds_db_connect_on_that_user_only() -> None:
    rds = {"identifier": "prod-warehouse", "rds": {"iam_database_user": "etl"}}
    p = plan(attached_pipeline(attached_settings(databases={"warehouse": rds}, volumes={})))
    (db,) = p.of_type(INSTANCE)
    assert db.inputs["iamDatabaseAuthenticationEnabled"] is True
    connect = statement(task_policy(p, "prod", "fetch"), "DatabaseProdWarehouse")
    assert connect["Action"] == ["rds-db:connect"]
    assert connect["Resource"] == [
        f"arn:aws:rds-db:ca-central-1:999999999999:dbuser:{db.outputs['resourceId']}/etl"
    ]
    # the task is told to sign in as that user with IAM tokens of the region, no secret
    told = json.loads(lambda_variables(p, "fetch")[ENDPOINTS])["prod-warehouse"]
    assert told["user"] == "etl"
    assert told["iam_region"] == "ca-central-1"
    assert "secret_arn" not in told


def test_policies_with_databases_volumes_and_secrets_pass_parliament(
    attached_plan: Plan,
) -> None:
    findings = []
    for policy in attached_plan.of_type(ROLE_POLICY):
        doc = policy.policy()
        findings += lint(policy, "policy", doc)
        for stmt in doc["Statement"]:
            if stmt["Sid"] != "DescribeNetworkInterfaces":  # ec2:Describe* has no resource
                assert "*" not in stmt["Resource"], stmt
    assert findings == []


def test_rds_without_two_subnets_is_refused() -> None:
    settings = attached_settings(network={"vpc_id": "vpc-1", "subnet_ids": ["subnet-1"]})
    with pytest.raises(InfraError, match=r"RDS instance 'prod-warehouse'.*\[network\]"):
        plan(attached_pipeline(settings))


@pytest.mark.parametrize(
    ("engine", "instance_class", "hint"),
    [
        ("postgres", "db.serverless", "family of t3"),
        ("mariadb", "db.x2g.large", "family of t3"),
        ("postgres", "db.t3.4xlarge", "comes in micro"),
    ],
)
def test_a_class_the_engine_does_not_run_on_is_refused(
    engine: str, instance_class: str, hint: str
) -> None:
    with pytest.raises(ConfigError, match=rf"instance_class='{instance_class}'.*{engine}.*{hint}"):
        RdsConfig(engine=engine, instance_class=instance_class)  # type: ignore[arg-type]


def test_a_database_password_secret_is_granted_to_the_tasks_using_it() -> None:
    rds = {"identifier": "prod-warehouse", "rds": {}, "password_secret": "warehouse_password"}
    settings = attached_settings(
        databases={"warehouse": rds},
        volumes={},
        secrets={
            "api_key": {"aws": "/prod/fmp/api_key"},
            "warehouse_password": {"aws": "/prod/warehouse/password"},
        },
    )
    grant = statement(task_policy(plan(attached_pipeline(settings)), "prod", "fetch"), "Secrets")
    assert grant["Resource"] == [
        "arn:aws:secretsmanager:ca-central-1:999999999999:secret:/prod/fmp/api_key-??????",
        "arn:aws:secretsmanager:ca-central-1:999999999999:secret:/prod/warehouse/password-??????",
    ]


# -- deployed tasks find their databases -------------------------------------------------------


def test_a_task_is_told_where_its_database_is_from_the_instances_outputs(
    attached_plan: Plan,
) -> None:
    (db,) = attached_plan.of_type(INSTANCE)
    told = json.loads(lambda_variables(attached_plan, "fetch")[ENDPOINTS])
    assert told == {
        "prod-warehouse": {
            "host": db.outputs["address"],
            "port": 5432,
            "dbname": "postgres",
            "user": "glacier",
            "secret_arn": db.outputs["masterUserSecrets"][0]["secretArn"],
        }
    }
    assert told["prod-warehouse"]["host"] == "prod-warehouse.abc123.ca-central-1.rds.amazonaws.com"
    # The grant is on exactly the secret the task is told about.
    grant = statement(task_policy(attached_plan, "prod", "fetch"), "DatabaseProdWarehouse")
    assert grant["Resource"] == [told["prod-warehouse"]["secret_arn"]]
    assert ENDPOINTS not in lambda_variables(attached_plan, "report")


def test_ecs_tasks_get_the_same_variable() -> None:
    p = plan(attached_pipeline(compute="ecs"))
    definition = p.get(TASK_DEFINITION, "prod-fetch-task-definition")
    (container,) = json.loads(definition.inputs["containerDefinitions"])
    env = {e["name"]: e["value"] for e in container["environment"]}
    told = json.loads(env[ENDPOINTS])["prod-warehouse"]
    assert told["secret_arn"].startswith("arn:aws:secretsmanager:ca-central-1:999999999999:")
    assert told["port"] == 5432


def test_the_settings_database_name_creates_it_and_reaches_the_task() -> None:
    rds = {"identifier": "prod-warehouse", "rds": {}, "dbname": "analytics"}
    p = plan(attached_pipeline(attached_settings(databases={"warehouse": rds}, volumes={})))
    (db,) = p.of_type(INSTANCE)
    assert db.inputs["dbName"] == "analytics"
    assert json.loads(lambda_variables(p, "fetch")[ENDPOINTS])["prod-warehouse"]["dbname"] == (
        "analytics"
    )


def test_a_password_secret_named_in_settings_replaces_the_master_secret() -> None:
    rds = {
        "identifier": "prod-warehouse",
        "rds": {},
        "user": "pipeline",
        "password_secret": "warehouse_password",
    }
    settings = attached_settings(
        databases={"warehouse": rds},
        volumes={},
        secrets={
            "api_key": {"aws": "/prod/fmp/api_key"},
            "warehouse_password": {"aws": "/prod/warehouse/password"},
        },
    )
    p = plan(attached_pipeline(settings))
    told = json.loads(lambda_variables(p, "fetch")[ENDPOINTS])["prod-warehouse"]
    assert "secret_arn" not in told and "user" not in told  # the settings' user and secret
    policy = task_policy(p, "prod", "fetch")
    assert not any(s["Sid"] == "DatabaseProdWarehouse" for s in policy["Statement"])
    assert statement(policy, "Secrets")["Resource"][-1].endswith(
        ":secret:/prod/warehouse/password-??????"
    )


# -- a Dataset stored in a database table --------------------------------------------------------


@pytest.fixture(scope="module")
def table_plan() -> Plan:
    return plan(table_pipeline())


def test_a_dataset_in_a_database_table_is_planned_with_the_databases_access(
    table_plan: Plan,
) -> None:
    (db,) = table_plan.of_type(INSTANCE)
    secret = db.outputs["masterUserSecrets"][0]["secretArn"]
    for task in ("load", "summarize"):
        policy = task_policy(table_plan, "prod", task)
        grant = statement(policy, "DatabaseProdWarehouse")
        assert grant["Action"] == ["secretsmanager:GetSecretValue"]
        assert grant["Resource"] == [secret]
        # No bucket holds the table: no S3 grant names it.
        assert not any("orders" in r for r in s3_resources(policy))
        told = json.loads(lambda_variables(table_plan, task)[ENDPOINTS])
        assert told["prod-warehouse"]["secret_arn"] == secret
    # load writes only to the database: no S3 statement at all.
    assert s3_resources(task_policy(table_plan, "prod", "load")) == set()
    assert any("s.parquet" in r for r in s3_resources(task_policy(table_plan, "prod", "summarize")))


def test_the_tasks_reach_the_database_through_its_security_group(table_plan: Plan) -> None:
    (db,) = table_plan.of_type(INSTANCE)
    firewall = table_plan.get(
        "aws:ec2/securityGroup:SecurityGroup", "prod-prod-warehouse-security-group"
    )
    assert db.inputs["vpcSecurityGroupIds"] == [firewall.outputs["id"]]
    (rule,) = firewall.inputs["ingress"]
    assert (rule["fromPort"], rule["securityGroups"]) == (5432, ["sg-1"])
    for task in ("load", "summarize"):
        vpc = table_plan.get(FUNCTION, f"prod-{task}-function").inputs["vpcConfig"]
        assert vpc["securityGroupIds"] == ["sg-1"]
        assert vpc["subnetIds"] == ["subnet-1", "subnet-2"]


def test_table_plan_policies_pass_parliament_without_wildcards(table_plan: Plan) -> None:
    findings = []
    for policy in table_plan.of_type(ROLE_POLICY):
        doc = policy.policy()
        findings += lint(policy, "policy", doc)
        for stmt in doc["Statement"]:
            if stmt["Sid"] != "DescribeNetworkInterfaces":  # ec2:Describe* has no resource
                assert "*" not in stmt["Resource"], stmt
    assert findings == []


def test_a_glue_task_using_an_rds_database_is_refused_naming_the_fix() -> None:
    env = Environment.from_settings(attached_settings())
    orders = Dataset("orders", storage=env.get("warehouse").table("orders"))
    pipeline = Pipeline("spark", env=env)

    @pipeline.task(compute=env.compute.glue())
    def load() -> orders:
        return pl.DataFrame({"order_id": [1]})

    with pytest.raises(InfraError, match=r"'load'.*Glue job.*'prod-warehouse'.*ECS"):
        plan(pipeline)

"""RDS instances: sized per environment, in the environment's subnets, password managed by
RDS in Secrets Manager, and each task that uses one granted exactly its secret or db user."""

from __future__ import annotations

import json

import pytest

from glacier.errors import ConfigError, InfraError
from glacier.infra import Plan, plan
from glacier.settings import RdsConfig
from infra.pipelines import attached_pipeline, attached_settings
from infra.plans import ROLE_POLICY, lint, statement, task_policy

INSTANCE = "aws:rds/instance:Instance"


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

"""Networks when needed: an environment with an RDS database or an EFS volume and no
``[network]`` gets a VPC of its own in the plan (private subnets in two zones, endpoints for
what the tasks call, groups admitting the database's port from the tasks only); ``nat = true``
puts a NAT gateway in the endpoints' place; ``[network]`` still names an existing VPC."""

from __future__ import annotations

import doctest
import importlib
from typing import Any

import pytest

from glacier.errors import ConfigError, InfraError
from glacier.infra import Plan, plan
from glacier.settings import Network
from infra.pipelines import attached_pipeline, attached_settings
from infra.plans import FUNCTION, ROLE_POLICY, definition, lint, statement, task_policy

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
NAT = "aws:ec2/natGateway:NatGateway"
ECR_IMAGE = "999999999999.dkr.ecr.ca-central-1.amazonaws.com/etl:1"


def created(network: dict[str, Any] | None = None, volumes: bool = False, **kw: Any) -> Any:
    """The attached settings (a database, a table, a secret) with no VPC named."""
    extra = {} if volumes else {"volumes": {}}
    return attached_settings(network=network or {}, **extra, **kw)


@pytest.fixture(scope="module")
def db_plan() -> Plan:
    """``fetch`` (Lambda) uses the RDS database and a DynamoDB table; ``report`` neither."""
    return plan(attached_pipeline(created()))


def endpoints(p: Plan) -> dict[str, str]:
    """Service (the end of its name) -> endpoint type."""
    return {
        e.inputs["serviceName"].removeprefix("com.amazonaws.ca-central-1."): e.inputs[
            "vpcEndpointType"
        ]
        for e in p.of_type(ENDPOINT)
    }


def test_a_database_without_network_gets_a_vpc_with_two_private_subnets(db_plan: Plan) -> None:
    (vpc,) = db_plan.of_type(VPC)
    assert vpc.inputs["cidrBlock"] == "10.0.0.0/16"
    assert vpc.inputs["enableDnsSupport"] and vpc.inputs["enableDnsHostnames"]
    subnets = db_plan.of_type(SUBNET)
    assert len(subnets) == 2
    assert {s.inputs["vpcId"] for s in subnets} == {vpc.outputs["id"]}
    zones = [s.inputs["availabilityZone"] for s in subnets]
    assert sorted(zones) == ["ca-central-1a", "ca-central-1b"]  # two zones, looked up
    assert not any(s.inputs["mapPublicIpOnLaunch"] for s in subnets)
    (routes,) = db_plan.of_type(ROUTE_TABLE)
    assert routes.inputs["routes"] == []  # private: no way out but the endpoints
    associated = {a.inputs["subnetId"] for a in db_plan.of_type(ASSOCIATION)}
    assert associated == {s.outputs["id"] for s in subnets}
    (subnet_group,) = db_plan.of_type("aws:rds/subnetGroup:SubnetGroup")
    assert subnet_group.inputs["subnetIds"] == [s.outputs["id"] for s in subnets]
    assert not db_plan.of_type(NAT)


def test_the_database_admits_its_port_from_the_tasks_group_only(db_plan: Plan) -> None:
    (vpc,) = db_plan.of_type(VPC)
    tasks = db_plan.get(GROUP, "prod-tasks-security-group")
    assert tasks.inputs.get("ingress") in (None, [])  # nothing reaches the tasks
    assert [(r["fromPort"], r["toPort"]) for r in tasks.inputs["egress"]] == [
        (443, 443),
        (5432, 5432),
    ]
    assert tasks.inputs["egress"][1]["cidrBlocks"] == ["10.0.0.0/16"]
    database = db_plan.get(GROUP, "prod-prod-warehouse-security-group")
    assert database.inputs["vpcId"] == vpc.outputs["id"]
    (rule,) = database.inputs["ingress"]
    assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 5432, 5432)
    assert rule["securityGroups"] == [tasks.outputs["id"]]
    assert "cidrBlocks" not in rule
    (instance,) = db_plan.of_type("aws:rds/instance:Instance")
    assert instance.inputs["vpcSecurityGroupIds"] == [database.outputs["id"]]
    assert instance.inputs["publiclyAccessible"] is False


def test_endpoints_serve_what_the_tasks_call_without_a_nat(db_plan: Plan) -> None:
    assert endpoints(db_plan) == {
        "s3": "Gateway",
        "dynamodb": "Gateway",  # fetch uses a DynamoDB table from inside the VPC
        "secretsmanager": "Interface",
        "sts": "Interface",
        "logs": "Interface",
    }  # no ECR: a Lambda function's code is not pulled through its VPC
    (routes,) = db_plan.of_type(ROUTE_TABLE)
    tasks = db_plan.get(GROUP, "prod-tasks-security-group")
    guarded = db_plan.get(GROUP, "prod-endpoints-security-group")
    (rule,) = guarded.inputs["ingress"]
    assert (rule["fromPort"], rule["securityGroups"]) == (443, [tasks.outputs["id"]])
    for e in db_plan.of_type(ENDPOINT):
        if e.inputs["vpcEndpointType"] == "Gateway":
            assert e.inputs["routeTableIds"] == [routes.outputs["id"]]
        else:
            assert e.inputs["privateDnsEnabled"] is True
            assert e.inputs["securityGroupIds"] == [guarded.outputs["id"]]
            assert len(e.inputs["subnetIds"]) == 2
    https = tasks.inputs["egress"][0]
    gateways = [
        e.outputs["prefixListId"] for e in db_plan.of_type(ENDPOINT) if "prefixListId" in e.outputs
    ]
    assert sorted(https["prefixListIds"]) == sorted(gateways)


def test_only_the_task_using_the_database_runs_in_the_vpc(db_plan: Plan) -> None:
    tasks = db_plan.get(GROUP, "prod-tasks-security-group")
    subnets = db_plan.of_type(SUBNET)
    fetch = db_plan.get(FUNCTION, "prod-fetch-function")
    assert fetch.inputs["vpcConfig"] == {
        "subnetIds": [s.outputs["id"] for s in subnets],
        "securityGroupIds": [tasks.outputs["id"]],
    }
    eni = statement(task_policy(db_plan, "prod", "fetch"), "ManageNetworkInterfaces")
    assert eni["Resource"] == [
        "arn:aws:ec2:ca-central-1:999999999999:network-interface/*",
        *(s.outputs["arn"] for s in subnets),
        tasks.outputs["arn"],
    ]
    report = db_plan.get(FUNCTION, "prod-report-function")
    assert "vpcConfig" not in report.inputs
    report_policy = task_policy(db_plan, "prod", "report")
    assert not any("ec2:" in str(s["Action"]) for s in report_policy["Statement"])


def test_policies_in_a_created_network_pass_parliament(db_plan: Plan) -> None:
    findings = []
    for policy in db_plan.of_type(ROLE_POLICY):
        findings += lint(policy, "policy", policy.policy())
    assert findings == []


def test_fargate_reaching_the_database_runs_in_the_private_subnets_and_pulls_through_ecr() -> None:
    p = plan(attached_pipeline(created(), compute="ecs"))
    assert {"ecr.api", "ecr.dkr", "logs", "sts", "secretsmanager"} <= set(endpoints(p))
    tasks = p.get(GROUP, "prod-tasks-security-group")
    states = definition(p)["States"]
    placed = states["fetch"]["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert placed == {
        "Subnets": [s.outputs["id"] for s in p.of_type(SUBNET)],
        "SecurityGroups": [tasks.outputs["id"]],
    }  # no public IP: private subnets
    elsewhere = states["report"]["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert elsewhere["AssignPublicIp"] == "ENABLED"  # reaches no database: default VPC


def database_task(settings: Any, image: str) -> Any:
    """One Fargate task running ``image`` that reads the RDS database."""
    import polars as pl

    from glacier import Database, Dataset, Environment, Pipeline

    env = Environment.from_settings(settings)
    pipeline = Pipeline("fmp", env=env)
    quotes = Dataset("quotes", storage=env.storage.s3(bucket="prod-quotes", path="q.parquet"))

    @pipeline.task(compute=env.compute.ecs(image=image))
    def fetch(warehouse: Database) -> quotes:
        return pl.DataFrame({"x": [1]})

    return pipeline


def test_fargate_image_outside_ecr_is_refused_without_nat() -> None:
    with pytest.raises(InfraError, match=r"'python:3.11-slim' is not in ECR.*nat = true"):
        plan(database_task(created(), "python:3.11-slim"))
    p = plan(database_task(created({"nat": True}), "python:3.11-slim"))  # the NAT reaches it
    assert p.of_type(NAT)


def test_nat_replaces_the_interface_endpoints_with_a_nat_gateway() -> None:
    p = plan(attached_pipeline(created({"nat": True})))
    assert endpoints(p) == {"s3": "Gateway", "dynamodb": "Gateway"}  # free, spares NAT bytes
    (nat,) = p.of_type(NAT)
    public = p.get(SUBNET, "prod-public")
    assert nat.inputs["subnetId"] == public.outputs["id"]
    (address,) = p.of_type("aws:ec2/eip:Eip")
    assert nat.inputs["allocationId"] == address.outputs["id"]
    (gateway,) = p.of_type("aws:ec2/internetGateway:InternetGateway")
    private = p.get(ROUTE_TABLE, "prod-private-routes")
    assert private.inputs["routes"] == [
        {"cidrBlock": "0.0.0.0/0", "natGatewayId": nat.outputs["id"]}
    ]
    outside = p.get(ROUTE_TABLE, "prod-public-routes")
    assert outside.inputs["routes"] == [
        {"cidrBlock": "0.0.0.0/0", "gatewayId": gateway.outputs["id"]}
    ]
    https = p.get(GROUP, "prod-tasks-security-group").inputs["egress"][0]
    assert https["cidrBlocks"] == ["0.0.0.0/0"]
    groups = {g.name for g in p.of_type(GROUP)}
    assert "prod-tasks-security-group" in groups
    assert "prod-endpoints-security-group" not in groups  # no interface endpoints to guard


def test_a_volume_without_network_gets_the_vpc_and_mount_targets_in_both_subnets() -> None:
    p = plan(attached_pipeline(created(volumes=True, databases={})))
    subnets = {s.outputs["id"] for s in p.of_type(SUBNET)}
    targets = p.of_type("aws:efs/mountTarget:MountTarget")
    assert {t.inputs["subnetId"] for t in targets} == subnets and len(subnets) == 2
    tasks = p.get(GROUP, "prod-tasks-security-group")
    assert [r["fromPort"] for r in tasks.inputs["egress"]] == [443, 2049]
    nfs = p.get(GROUP, "prod-prod-scratch-nfs")
    assert nfs.inputs["ingress"][0]["securityGroups"] == [tasks.outputs["id"]]
    fetch = p.get(FUNCTION, "prod-fetch-function")
    assert fetch.inputs["vpcConfig"]["securityGroupIds"] == [tasks.outputs["id"]]
    assert "fileSystemConfig" in fetch.inputs


def test_a_named_network_is_used_and_no_vpc_is_created() -> None:
    p = plan(attached_pipeline(attached_settings(volumes={})))
    assert not p.of_type(VPC) and not p.of_type(ENDPOINT)
    (subnet_group,) = p.of_type("aws:rds/subnetGroup:SubnetGroup")
    assert subnet_group.inputs["subnetIds"] == ["subnet-1", "subnet-2"]


def test_a_pipeline_without_database_or_volume_creates_no_vpc() -> None:
    p = plan(attached_pipeline(created(databases={})))
    assert not p.of_type(VPC) and not p.of_type(SUBNET)


def test_a_vpc_without_subnets_is_still_refused_for_a_database() -> None:
    with pytest.raises(InfraError, match=r"RDS instance 'prod-warehouse'.*leave \[network\] out"):
        plan(attached_pipeline(created({"vpc_id": "vpc-1"})))


def test_nat_with_a_named_vpc_is_refused_at_settings_load() -> None:
    with pytest.raises(ConfigError, match=r"nat = true applies to the VPC the plan creates"):
        created({"nat": True, "vpc_id": "vpc-1", "subnet_ids": ["subnet-1", "subnet-2"]})
    assert Network(nat=True).nat and not Network(nat=True).named


@pytest.mark.parametrize("module", ["glacier.infra.aws.network", "glacier.settings.network"])
def test_the_examples_in_the_network_modules_run(module: str) -> None:
    found = doctest.testmod(importlib.import_module(module))
    assert found.attempted > 0
    assert found.failed == 0


def test_the_issues_spelling_env_database_rds_plans_without_a_network() -> None:
    """Issue 22: ``env.database.rds(...)`` in an environment without ``[network]`` was
    refused ("needs at least 2 subnet(s) ... which has 0"); the plan now makes the VPC."""
    import polars as pl

    from glacier import AWSEnvironment, Database, Dataset, Pipeline

    env = AWSEnvironment(account_id="111111111111", region="eu-west-1", environment="dev")
    orders_db = env.database.rds("dev-orders")
    env.register("orders_db", orders_db)
    pipeline = Pipeline("shop", env=env)
    out = Dataset("out", storage=env.storage.s3(bucket="dev-shop-out", path="o.parquet"))

    @pipeline.task()
    def load(orders_db: Database) -> out:
        return pl.DataFrame({"x": [1]})

    p = plan(pipeline)
    (instance,) = p.of_type("aws:rds/instance:Instance")
    assert instance.inputs["identifier"] == "dev-orders"
    assert len(p.of_type(VPC)) == 1
    zones = sorted(s.inputs["availabilityZone"] for s in p.of_type(SUBNET))
    assert zones == ["eu-west-1a", "eu-west-1b"]
    assert p.get(FUNCTION, "dev-load-function").inputs["vpcConfig"]["subnetIds"] == [
        s.outputs["id"] for s in p.of_type(SUBNET)
    ]

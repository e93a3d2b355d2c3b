"""What the plan declares, created on the rehearsal's moto server, from the plan itself.

Created, each in the account of its environment: buckets (with versioning where the plan
turns it on), DynamoDB tables (their keys; on demand), IAM roles with their inline policies
as planned, secrets, and the Step Functions state machine with its definition.

Secrets hold a test value the rehearsal generates (a plan never holds one): those the plan
declares (``declare = true``), and those the tasks read that exist outside the plan (which
the account would hold). Secrets Manager adds a random suffix to a secret's ARN, so the ARN a
declared secret gets is known only once it exists: the policies naming the plan's ARN
(its placeholder, under the mock engine) are given the ARN the emulator returned; the
grants of other secrets match any suffix (``-??????``) and are kept as planned.

A role a service assumes (a task's) trusts the rehearsal's user instead
(:mod:`~glacier.infra.rehearse.identity`); a role another account's task assumes keeps the
plan's trust policy. Not created, and said so in the report (:data:`NOT_CREATED`): the
network (VPC, subnets, endpoints: tasks run on this machine), bucket policies (they deny
requests not sent over TLS, and the emulator speaks plain HTTP; moto's IAM would not read
them anyway), encryption settings, log groups and schedules (nothing in a rehearsal reads
them), and the compute itself (Lambda functions, ECS task definitions, Glue jobs: moto runs
no code without Docker; the rehearsal runs each task's artifact itself).
"""

from __future__ import annotations

import json
import secrets as _random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from glacier.infra.mocks import PlannedResource
from glacier.infra.rehearse.identity import trusting

BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
SECRET = "aws:secretsmanager/secret:Secret"
TABLE = "aws:dynamodb/table:Table"

#: What a rehearsal leaves out, and why (reported with every rehearsal).
NOT_CREATED = (
    "networks are not created (VPCs, subnets, security groups, endpoints): the tasks run "
    "on this machine and reach the emulator directly",
    "bucket policies are not applied: they refuse plain HTTP, which is all the emulator speaks",
    "task roles trust the rehearsal's IAM user instead of their service principal: a service "
    "cannot be the caller of sts:AssumeRole on moto",
    "moto's IAM checks the policies of the role that signs a request, not a bucket's policy nor "
    "the trust policy of a role in another account: across accounts, a task's own "
    "sts:AssumeRole grant and the assumed role's policies are what is enforced",
)


@dataclass
class Created:
    """What was created: the buckets, the DynamoDB tables, the secrets (name -> the ARN the
    emulator gave), the state machine's ARN and its definition."""

    buckets: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)
    state_machine: str | None = None
    definition: str | None = None


def test_value() -> str:
    """A secret's value in a rehearsal: generated, never a real one."""
    return "rehearsal-" + _random.token_urlsafe(24)


def create(
    resources: Iterable[PlannedResource],
    clients_of: Callable[[str | None], Any],
    user_arn: str,
    read_secrets: Iterable[tuple[str | None, str]] = (),
) -> Created:
    """Create on moto what ``resources`` declare (see the module docs); ``clients_of(account)``
    gives the set-up clients acting in an account; ``read_secrets`` are the ``(account,
    name)`` of the secrets the tasks read that the plan does not declare."""
    planned = list(resources)
    made = Created()
    given: dict[str, str] = {}  # the plan's ARN of a declared secret -> the emulator's
    for r in _of(planned, SECRET):
        name = str(r.inputs.get("name") or r.name)
        arn = _new_secret(clients_of(r.account), name)
        made.secrets[name] = given[str(r.outputs.get("arn"))] = arn
    for account, name in read_secrets:
        if name not in made.secrets:
            made.secrets[name] = _new_secret(clients_of(account), name)
    for r in _of(planned, BUCKET):
        name = str(r.inputs["bucket"])
        args: dict[str, Any] = {"Bucket": name}
        if r.region and r.region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": r.region}
        clients_of(r.account).s3.create_bucket(**args)
        made.buckets.append(name)
    for r in _of(planned, VERSIONING):
        status = (r.inputs.get("versioningConfiguration") or {}).get("status")
        bucket = r.inputs.get("bucket")
        if status and bucket in made.buckets:
            clients_of(r.account).s3.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": status}
            )
    for r in _of(planned, TABLE):
        made.tables.append(_new_table(clients_of(r.account), r.inputs))
    for r in _of(planned, ROLE):
        trust = str(r.inputs["assumeRolePolicy"])
        clients_of(r.account).iam.create_role(
            RoleName=str(r.inputs["name"]),
            AssumeRolePolicyDocument=trusting(user_arn) if _service_role(trust) else trust,
        )
    for r in _of(planned, ROLE_POLICY):
        policy = str(r.inputs["policy"])
        for planned_arn, arn in given.items():
            policy = policy.replace(json.dumps(planned_arn), json.dumps(arn))
        clients_of(r.account).iam.put_role_policy(
            RoleName=str(r.inputs["role"]),
            PolicyName=str(r.inputs["name"]),
            PolicyDocument=policy,
        )
    for r in _of(planned, STATE_MACHINE):
        definition = str(r.inputs["definition"])
        machine = clients_of(r.account).sfn.create_state_machine(
            name=str(r.inputs["name"]), definition=definition, roleArn=str(r.inputs["roleArn"])
        )
        made.state_machine, made.definition = str(machine["stateMachineArn"]), definition
    return made


def secret_notes(made: Created) -> tuple[str, ...]:
    """What the report says of the secrets the rehearsal created."""
    if not made.secrets:
        return ()
    names = ", ".join(sorted(made.secrets))
    return (
        f"secrets created with a generated test value: {names}; the grants of those the "
        "plan declares name the ARN the emulator gave",
    )


def _new_table(clients: Any, inputs: Any) -> str:
    """Create the DynamoDB table the plan declares (its keys and attributes, on demand: the
    emulator meters nothing); its name."""
    name = str(inputs["name"])
    keys = [{"AttributeName": str(inputs["hashKey"]), "KeyType": "HASH"}]
    if inputs.get("rangeKey"):
        keys.append({"AttributeName": str(inputs["rangeKey"]), "KeyType": "RANGE"})
    attributes = [
        {"AttributeName": str(a["name"]), "AttributeType": str(a["type"])}
        for a in inputs.get("attributes") or ()
    ]
    clients.dynamodb.create_table(
        TableName=name,
        KeySchema=keys,
        AttributeDefinitions=attributes,
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _new_secret(clients: Any, name: str) -> str:
    """Create secret ``name`` holding a test value; its ARN."""
    return str(clients.secrets.create_secret(Name=name, SecretString=test_value())["ARN"])


def _service_role(trust: str) -> bool:
    """Whether a trust policy lets a service (Lambda, ECS, Glue, ...) assume the role."""
    statements = json.loads(trust).get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    return any("Service" in (s.get("Principal") or {}) for s in statements)


def _of(resources: list[PlannedResource], type_: str) -> list[PlannedResource]:
    return [r for r in resources if r.type == type_]

"""What the plan declares, created on the rehearsal's moto server, from the plan itself.

Created, each in the account of its environment: buckets (with versioning where the plan
turns it on), IAM roles with their inline policies exactly as planned, secrets, and the Step
Functions state machine with its definition. A role a service assumes (a task's) trusts the
rehearsal's user instead (:mod:`~glacier.infra.rehearse.identity`); a role another account's
task assumes keeps the plan's trust policy. Not created, and said so in the report
(:data:`NOT_CREATED`): bucket policies (they deny requests not sent over TLS, and the emulator
speaks plain HTTP; moto's IAM would not read them anyway), encryption settings, log groups
and schedules (nothing in a rehearsal reads them), and the compute itself (Lambda functions,
ECS task definitions, Glue jobs: moto runs no code without Docker; the rehearsal runs each
task's artifact itself).
"""

from __future__ import annotations

import json
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

#: What a rehearsal leaves out, and why (reported with every rehearsal).
NOT_CREATED = (
    "bucket policies are not applied: they refuse plain HTTP, which is all the emulator speaks",
    "task roles trust the rehearsal's IAM user instead of their service principal: a service "
    "cannot be the caller of sts:AssumeRole on moto",
    "moto's IAM checks the policies of the role that signs a request, not a bucket's policy nor "
    "the trust policy of a role in another account: across accounts, a task's own "
    "sts:AssumeRole grant and the assumed role's policies are what is enforced",
)


@dataclass
class Created:
    """What was created: the buckets, the state machine's ARN and its definition."""

    buckets: list[str] = field(default_factory=list)
    state_machine: str | None = None
    definition: str | None = None


def create(
    resources: Iterable[PlannedResource], clients_of: Callable[[str | None], Any], user_arn: str
) -> Created:
    """Create on moto what ``resources`` declare (see the module docs); ``clients_of(account)``
    gives the set-up clients acting in an account."""
    planned = list(resources)
    made = Created()
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
    for r in _of(planned, ROLE):
        trust = str(r.inputs["assumeRolePolicy"])
        clients_of(r.account).iam.create_role(
            RoleName=str(r.inputs["name"]),
            AssumeRolePolicyDocument=trusting(user_arn) if _service_role(trust) else trust,
        )
    for r in _of(planned, ROLE_POLICY):
        clients_of(r.account).iam.put_role_policy(
            RoleName=str(r.inputs["role"]),
            PolicyName=str(r.inputs["name"]),
            PolicyDocument=str(r.inputs["policy"]),
        )
    for r in _of(planned, SECRET):
        clients_of(r.account).secrets.create_secret(Name=str(r.inputs.get("name") or r.name))
    for r in _of(planned, STATE_MACHINE):
        definition = str(r.inputs["definition"])
        machine = clients_of(r.account).sfn.create_state_machine(
            name=str(r.inputs["name"]), definition=definition, roleArn=str(r.inputs["roleArn"])
        )
        made.state_machine, made.definition = str(machine["stateMachineArn"]), definition
    return made


def _service_role(trust: str) -> bool:
    """Whether a trust policy lets a service (Lambda, ECS, Glue, ...) assume the role."""
    statements = json.loads(trust).get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    return any("Service" in (s.get("Principal") or {}) for s in statements)


def _of(resources: list[PlannedResource], type_: str) -> list[PlannedResource]:
    return [r for r in resources if r.type == type_]

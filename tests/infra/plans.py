"""Reading a plan in the infrastructure tests: resource types, policies, the state machine.

Shared by the modules of ``tests/infra``; the pipelines they plan are in
``tests/infra_pipelines.py`` (the seed's scenarios) and ``tests/infra/pipelines.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from parliament import analyze_policy_string

from glacier import Pipeline
from glacier.infra import Plan, PlannedResource

#: ``tests/``, where the seed pipelines and raw-resource modules are.
TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent

PROVIDER = "pulumi:providers:aws"
BUCKET = "aws:s3/bucket:Bucket"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
FUNCTION = "aws:lambda/function:Function"
STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
GLUE_JOB = "aws:glue/job:Job"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"


def s3_resources(doc: dict[str, Any]) -> set[str]:
    """Every resource of the statements that grant S3 actions."""
    out: set[str] = set()
    for stmt in doc["Statement"]:
        actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
        if any(a.startswith("s3:") for a in actions) and stmt["Effect"] == "Allow":
            out.update(stmt["Resource"])
    return out


def statement(doc: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in doc["Statement"] if s["Sid"] == sid)


def lint(resource: PlannedResource, key: str, doc: dict[str, Any]) -> list[str]:
    """Parliament's findings for one generated policy.

    A trust policy is the resource policy of its role: it is linted with the role's ARN as
    its resource (IAM forbids the Resource element in trust policies themselves)."""
    if key == "assumeRolePolicy":
        role_arn = resource.outputs["arn"]
        doc = {**doc, "Statement": [{**s, "Resource": role_arn} for s in doc["Statement"]]}
    found = analyze_policy_string(json.dumps(doc)).findings
    return [f"{resource.name}.{key}: {f.issue} {f.detail}" for f in found]


def providers_of(p: Plan) -> dict[str, PlannedResource]:
    return {r.name: r for r in p.of_type(PROVIDER)}


def task_policy(p: Plan, env: str, task: str) -> dict[str, Any]:
    return p.get(ROLE_POLICY, f"{env}-{task}-policy").policy()


def definition(p: Plan) -> dict[str, Any]:
    (machine,) = p.of_type(STATE_MACHINE)
    parsed: dict[str, Any] = json.loads(machine.inputs["definition"])
    return parsed


def levels_of(defn: dict[str, Any]) -> list[list[str]]:
    """The tasks of each state, following Next from StartAt."""
    out = []
    name: str | None = defn["StartAt"]
    while name is not None:
        state = defn["States"][name]
        if state["Type"] == "Parallel":
            out.append([b["StartAt"] for b in state["Branches"]])
        else:
            out.append([name])
        name = state.get("Next")
    return out


def assert_matches_dag(defn: dict[str, Any], pipeline: Pipeline) -> None:
    levels = levels_of(defn)
    level = {t: i for i, names in enumerate(levels) for t in names}
    assert sorted(level) == sorted(pipeline.tasks)  # every task exactly once
    assert sum(len(x) for x in levels) == len(pipeline.tasks)
    for producer, consumer, _ in pipeline.dag.edges():
        assert level[producer] < level[consumer]
    for names in levels:  # tasks sharing a level are independent
        for a in names:
            for b in names:
                assert (a, b) not in {(x, y) for x, y, _ in pipeline.dag.edges()}

"""The Step Functions definition: one state per DAG level, parallel branches, retries."""

from __future__ import annotations

import json

import infra_pipelines as seeds
from glacier.infra import Plan, plan
from infra.pipelines import diamond_pipeline
from infra.plans import (
    BUCKET,
    FUNCTION,
    ROLE_POLICY,
    STATE_MACHINE,
    assert_matches_dag,
    definition,
    levels_of,
    statement,
    task_policy,
)


def test_state_machine_follows_the_dag_with_retries_and_its_own_role(dev_plan: Plan) -> None:
    defn = definition(dev_plan)
    assert levels_of(defn) == [["extract"], ["clean"]]
    assert_matches_dag(defn, seeds.dev_pipeline)
    clean = defn["States"]["clean"]
    assert clean["Resource"] == "arn:aws:states:::lambda:invoke"
    assert clean["Parameters"]["FunctionName"] == (
        "arn:aws:lambda:us-west-2:111111111111:function:dev-analytics-dev-clean"
    )
    # retries=2, timeout=600: three attempts of 600 s cannot fit one invocation (900 s at
    # most), so each invocation runs one attempt and the state retries the task (tests/infra/
    # test_deployed_retries.py), after retrying Lambda's throttling.
    assert clean["Retry"] == [
        {
            "ErrorEquals": ["Lambda.TooManyRequestsException"],
            "IntervalSeconds": 2,
            "MaxAttempts": 6,
            "BackoffRate": 2.0,
        },
        {"ErrorEquals": ["NotRetriedError"], "MaxAttempts": 0},
        {
            "ErrorEquals": ["States.ALL"],
            "IntervalSeconds": 1,
            "MaxAttempts": 2,
            "BackoffRate": 1.0,
        },
    ]
    assert clean["TimeoutSeconds"] == 600
    (machine,) = dev_plan.of_type(STATE_MACHINE)
    assert (
        machine.inputs["roleArn"] == "arn:aws:iam::111111111111:role/dev-analytics-dev-orchestrator"
    )
    orchestrator = dev_plan.get(ROLE_POLICY, "dev-orchestrator-policy").policy()
    assert orchestrator["Statement"] == [
        {
            "Sid": "InvokeTaskFunctions",
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction"],
            "Resource": [
                "arn:aws:lambda:us-west-2:111111111111:function:dev-analytics-dev-extract",
                "arn:aws:lambda:us-west-2:111111111111:function:dev-analytics-dev-clean",
            ],
        }
    ]


def test_independent_tasks_run_in_parallel_branches() -> None:
    pipeline = diamond_pipeline()
    p = plan(pipeline)
    defn = definition(p)
    assert levels_of(defn) == [["start", "side"], ["left", "right"], ["join"], ["publish"]]
    assert_matches_dag(defn, pipeline)
    level2 = defn["States"]["Level 2"]
    assert level2["Type"] == "Parallel" and level2["Next"] == "join"
    assert all(b["States"][b["StartAt"]]["End"] for b in level2["Branches"])
    # in-memory datasets between processes travel through one artifacts bucket
    artifacts = [r.inputs["bucket"] for r in p.of_type(BUCKET) if "artifacts" in r.name]
    assert artifacts == ["dev-diamond-artifacts-111111111111"]
    join = task_policy(p, "dev", "join")
    base = "arn:aws:s3:::dev-diamond-artifacts-111111111111"
    assert statement(join, "Read")["Resource"] == [
        f"{base}/b/*",
        f"{base}/c/*",
        f"{base}/d/*",
        f"{base}/e/*",
    ]
    assert statement(join, "Write")["Resource"] == [f"{base}/d/*"]
    env_vars = p.get(FUNCTION, "dev-join-function").inputs["environment"]["variables"]
    # Each in-memory dataset the task reads or writes, at its own prefix (not where writes
    # stage their temporary objects).
    assert json.loads(env_vars["GLACIER_ARTIFACTS"]) == {
        name: f"s3://dev-diamond-artifacts-111111111111/{name}/" for name in ("b", "c", "d", "e")
    }
    publish = task_policy(p, "dev", "publish")
    assert "arn:aws:s3:::dev-diamond/out.parquet*" in statement(publish, "Write")["Resource"]

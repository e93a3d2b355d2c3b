"""The state machine's role, its schedule, and the invoker role across accounts."""

from __future__ import annotations

import pytest

import infra_pipelines as seeds
from glacier.errors import PipelineDefinitionError
from glacier.infra import Plan, plan
from infra.plans import ROLE, ROLE_POLICY, assert_matches_dag, definition, levels_of, statement


def test_schedule_starts_the_state_machine(dev_plan: Plan) -> None:
    (rule,) = dev_plan.of_type("aws:cloudwatch/eventRule:EventRule")
    assert rule.inputs["scheduleExpression"] == "rate(1 day)"
    (target,) = dev_plan.of_type("aws:cloudwatch/eventTarget:EventTarget")
    machine_arn = "arn:aws:states:us-west-2:111111111111:stateMachine:dev-analytics-dev"
    assert target.inputs["arn"] == machine_arn
    start = dev_plan.get(ROLE_POLICY, "dev-scheduler-policy").policy()
    assert start["Statement"][0]["Action"] == ["states:StartExecution"]
    assert start["Statement"][0]["Resource"] == [machine_arn]
    trust = dev_plan.get(ROLE, "dev-scheduler").policy()
    assert trust["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}


def test_a_bad_schedule_is_refused_before_any_plan() -> None:
    pipeline = seeds.create_pipeline(seeds.aws_dev)
    with pytest.raises(PipelineDefinitionError, match=r"rate\(1 day\)"):
        pipeline.schedule = "every day"
    assert pipeline.schedule == "rate(1 day)"  # the bad value did not replace the good one
    pipeline.schedule = "rate(6 hours)"
    (rule,) = plan(pipeline).of_type("aws:cloudwatch/eventRule:EventRule")
    assert rule.inputs["scheduleExpression"] == "rate(6 hours)"


def test_orchestration_across_accounts_uses_an_invoker_role(lake_plan: Plan) -> None:
    defn = definition(lake_plan)
    assert levels_of(defn) == [["extract_events"], ["train"]]
    assert_matches_dag(defn, seeds.data_lake_pipeline)
    invoker = "arn:aws:iam::222222222222:role/aws-222222222222-us-west-2-churn-invoker"
    assert defn["States"]["train"]["Credentials"] == {"RoleArn": invoker}
    assert "Credentials" not in defn["States"]["extract_events"]
    home = "aws-111111111111-us-east-1"
    sm_policy = lake_plan.get(ROLE_POLICY, f"{home}-orchestrator-policy").policy()
    assert statement(sm_policy, "AssumeInvokerRoles")["Resource"] == [invoker]
    assert statement(sm_policy, "InvokeTaskFunctions")["Resource"] == [
        "arn:aws:lambda:us-east-1:111111111111:function:aws-111111111111-us-east-1-churn-extract_events"
    ]
    ml = "aws-222222222222-us-west-2"
    trust = lake_plan.get(ROLE, f"{ml}-invoker").policy()["Statement"][0]
    assert trust["Condition"]["ArnEquals"]["aws:PrincipalArn"] == [
        "arn:aws:iam::111111111111:role/aws-111111111111-us-east-1-churn-orchestrator"
    ]
    invoke = lake_plan.get(ROLE_POLICY, f"{ml}-invoker-policy").policy()
    assert statement(invoke, "InvokeTaskFunctions")["Resource"] == [
        "arn:aws:lambda:us-west-2:222222222222:function:aws-222222222222-us-west-2-churn-train"
    ]

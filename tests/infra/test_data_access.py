"""The data statements every policy is built from: prefixes, listing, KMS keys."""

from __future__ import annotations

from glacier.infra import Plan
from infra.plans import ROLE_POLICY, statement


def test_customer_kms_keys_are_granted_to_the_tasks_that_use_them(lake_plan: Plan) -> None:
    key = "arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    # The lake is another account: its tasks use the key through the roles they assume there.
    lake = "aws-999999999999-us-east-1"
    train = lake_plan.get(ROLE_POLICY, f"{lake}-train-from-222222222222-policy").policy()
    assert statement(train, "Kms1")["Resource"] == [key]
    assert statement(train, "Kms1")["Action"] == ["kms:Decrypt"]
    extract = lake_plan.get(ROLE_POLICY, f"{lake}-extract_events-from-111111111111-policy")
    assert statement(extract.policy(), "Kms1")["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    sse = next(
        r
        for r in lake_plan
        if r.type.endswith("BucketServerSideEncryptionConfiguration") and "data-lake" in r.name
    )
    rule = sse.inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": key,
    }
    assert rule["bucketKeyEnabled"] is True

"""Buckets: security defaults, lifecycle, bucket policies; raw Pulumi buckets used as they are."""

from __future__ import annotations

from pathlib import Path

import pytest

import infra_pipelines as seeds
from glacier import Dataset, Pipeline
from glacier.errors import InfraError
from glacier.infra import Plan, build_model, plan
from infra.pipelines import raw_bucket_pipeline
from infra.plans import BUCKET, BUCKET_POLICY, TESTS, s3_resources, statement, task_policy


def test_buckets_get_versioning_encryption_public_access_block_lifecycle_and_tls(
    dev_plan: Plan,
) -> None:
    buckets = {r.inputs["bucket"]: r for r in dev_plan.of_type(BUCKET)}
    assert sorted(buckets) == ["dev-clean-data", "dev-raw-data"]
    for name in buckets:
        logical = f"dev-{name}"
        versioning = dev_plan.get(
            "aws:s3/bucketVersioning:BucketVersioning", f"{logical}-versioning"
        )
        assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
        sse = dev_plan.get(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            f"{logical}-encryption",
        )
        default = sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
        assert default["sseAlgorithm"] == "AES256"
        block = dev_plan.get(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            f"{logical}-public-access-block",
        )
        assert all(
            block.inputs[k]
            for k in (
                "blockPublicAcls",
                "blockPublicPolicy",
                "ignorePublicAcls",
                "restrictPublicBuckets",
            )
        )
        tls = statement(
            dev_plan.get(BUCKET_POLICY, f"{logical}-policy").policy(), "DenyInsecureTransport"
        )
        assert tls["Effect"] == "Deny"
        assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert tls["Resource"] == [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"]
    (lifecycle,) = dev_plan.of_type(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    )
    assert lifecycle.name == "dev-dev-clean-data-lifecycle"
    (rule,) = lifecycle.inputs["rules"]
    assert rule["id"] == "archive"
    assert rule["status"] == "Enabled"
    assert rule["transitions"] == [{"days": 90, "storageClass": "GLACIER"}]


def test_raw_pulumi_resources_are_used_as_is_and_referenced_by_arn() -> None:
    p = plan(raw_bucket_pipeline)
    buckets = {r.name: r for r in p.of_type(BUCKET)}
    assert set(buckets) == {"landing", "dev-dev-curated"}
    landing = buckets["landing"]
    assert landing.inputs == {"bucket": "acme-landing", "forceDestroy": False}  # untouched
    assert landing.provider == ""  # the user's default provider, not Glacier's
    # nothing declared on it: no versioning, encryption, access block or bucket policy
    assert [r.name for r in p if "landing" in r.name] == ["landing"]
    policy = task_policy(p, "dev", "curate")
    assert "arn:aws:s3:::acme-landing/landing.parquet*" in statement(policy, "Read")["Resource"]
    assert "arn:aws:s3:::acme-landing" in s3_resources(policy)


def test_raw_resources_in_a_module_are_planned_from_the_module() -> None:
    p = plan(f"{TESTS / 'infra_raw.py'}:pipeline")
    assert [r.name for r in p.of_type(BUCKET) if r.provider == ""] == ["vendor-drop"]
    policy = task_policy(p, "dev", "load")
    assert "arn:aws:s3:::acme-vendor-drop/vendor.parquet*" in statement(policy, "Read")["Resource"]
    again = plan(f"{TESTS / 'infra_raw.py'}:pipeline")
    assert [r.name for r in again] == [r.name for r in p]


def test_local_datasets_cannot_be_reached_from_the_cloud(tmp_path: Path) -> None:
    pipeline = Pipeline("mixed")
    local = Dataset("local", storage=str(tmp_path / "x.parquet"))
    out = Dataset("out", storage=seeds.aws_dev.storage.s3(bucket="dev-out"))

    @pipeline.task(compute=seeds.aws_dev.compute.lambda_())
    def push(data: local) -> out:
        return data

    with pytest.raises(InfraError, match="local path"):
        build_model(pipeline)

"""A pipeline reading a raw Pulumi bucket declared at module level (planned from its module)."""

from __future__ import annotations

import pulumi_aws as aws

from glacier import AWSEnvironment, Dataset, Pipeline

dev = AWSEnvironment(account_id="111111111111", region="us-west-2", environment="dev")

vendor_drop = aws.s3.Bucket("vendor-drop", bucket="acme-vendor-drop")
vendor = Dataset("vendor", storage=vendor_drop)
loaded = Dataset("loaded", storage=dev.storage.s3(bucket="dev-loaded", path="loaded.parquet"))

pipeline = Pipeline("vendor-load")


@pipeline.task(compute=dev.compute.lambda_())
def load(data: vendor) -> loaded:
    return data

"""Switch clouds by changing config (the seeds' "Example 2"): one pipeline, four places.

The tasks name no cloud. ``dev`` runs them on local files; ``prod-aws``, ``prod-gcp`` and
``prod-azure`` are the same pipeline planned for AWS (Lambda, Step Functions, an IAM role per
task), for GCP (Cloud Run jobs, Workflows, a service account per task with IAM Conditions) and
for Azure (Container Apps jobs, a Logic App, a managed identity per task with ABAC
conditions), offline::

    python examples/switch_clouds.py          # run on dev (local files under data/dev)
    python examples/switch_clouds.py plan     # what prod-aws, prod-gcp and prod-azure would get
"""

from __future__ import annotations

import sys

import polars as pl

from glacier import Dataset, Pipeline
from glacier.provider import Provider
from glacier.settings import AwsConfig, AzureConfig, GcpConfig, LocalConfig

#: The only thing that changes between clouds.
CONFIGS = {
    "dev": LocalConfig(base_path="data/dev"),
    "prod-aws": AwsConfig(region="eu-west-1", account_id="111111111111"),
    "prod-gcp": GcpConfig(project="acme-data-prod", region="europe-west1"),
    # The seeds' production: a resource group in East US (and the storage account that holds
    # the containers "acme-orders" and "acme-reports").
    "prod-azure": AzureConfig(
        subscription_id="00000000-1111-2222-3333-444444444444",
        resource_group="prod-data-rg",
        location="eastus",
        storage_account="acmedataprod",
    ),
}


def build(name: str) -> Pipeline:
    """The pipeline in environment ``name``."""
    env = Provider(config=CONFIGS[name]).env(name=name)
    orders = Dataset("orders", storage=env.storage.bucket("acme-orders", "orders.parquet"))
    revenue = Dataset("revenue", storage=env.storage.bucket("acme-reports", "revenue.parquet"))
    pipeline = Pipeline("switch_clouds", env=env, schedule="rate(1 day)")

    @pipeline.task()
    def extract() -> orders:
        return pl.DataFrame({"day": ["mon", "mon", "tue"], "amount": [10.0, 5.0, 7.5]})

    @pipeline.task(retries=2)
    def summarise(rows: orders) -> revenue:
        return rows.group_by("day").agg(pl.col("amount").sum()).sort("day")

    return pipeline


dev_pipeline = build("dev")
aws_pipeline = build("prod-aws")
gcp_pipeline = build("prod-gcp")
azure_pipeline = build("prod-azure")

if __name__ == "__main__":
    if sys.argv[1:] == ["plan"]:
        from glacier.infra import plan

        for pipeline in (aws_pipeline, gcp_pipeline, azure_pipeline):
            planned = plan(pipeline)
            print(planned.to_text())
    else:
        result = dev_pipeline.run()
        print(result.tasks)
        print(pl.read_parquet("data/dev/acme-reports/revenue.parquet"))

"""The builder: chosen by the environment's container, for annotated and data-flow pipelines,
local or cloud."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
from dependency_injector import providers

import infra_pipelines as seeds
from glacier import AWSEnvironment, Dataset, Environment, Pipeline
from glacier.infra import Plan, plan
from infra.plans import FUNCTION, PROVIDER, ROOT, definition, levels_of, statement, task_policy


def test_data_flow_pipelines_plan_and_generate_like_annotated_ones(tmp_path: Path) -> None:
    p = plan(seeds.sales)
    assert levels_of(definition(p)) == [["extract_sales"], ["total"]]
    extract = task_policy(p, "flow", "extract_sales")
    # a resource passed to a traced call is read and written
    assert "arn:aws:s3:::flow-sales/sales.parquet*" in statement(extract, "Write")["Resource"]
    assert p.get(FUNCTION, "flow-extract_sales-function").inputs["memorySize"] == 256
    # a task without a compute hint gets a Lambda function with the defaults
    defaults = p.get(FUNCTION, "flow-total-function").inputs
    assert (defaults["memorySize"], defaults["timeout"]) == (512, 300)
    written = seeds.sales.run(mode="generate", output_dir=tmp_path / "flow")
    assert written["stacks"] == ["flow"]
    main = (tmp_path / "flow" / "__main__.py").read_text()
    assert "'flow': (" in main and "'sales')" in main


def test_local_environments_need_no_infrastructure(tmp_path: Path) -> None:
    env = Environment.local(base_path=tmp_path / "data", state_dir=tmp_path / ".glacier")
    pipeline = Pipeline("local-only", env=env)
    raw = Dataset("raw", storage=env.provider.bucket("raw", path="a.parquet"))

    @pipeline.task()
    def make() -> raw:
        return pl.DataFrame({"x": [1]})

    assert len(plan(pipeline)) == 0
    builder = env.container.cloud.infrastructure()
    assert "needs no cloud infrastructure" in builder.describe()
    written = pipeline.run(mode="generate", output_dir=tmp_path / "infra")
    assert written["files"] == [] and not (tmp_path / "infra").exists()


def test_the_infrastructure_builder_comes_from_the_container(tmp_path: Path) -> None:
    env = AWSEnvironment(account_id="444444444444", region="us-east-1", environment="custom")
    raw = Dataset("raw", storage=env.storage.s3(bucket="custom-raw", path="raw.parquet"))
    pipeline = Pipeline("custom", env=env)

    @pipeline.task()
    def make() -> raw:
        return pl.DataFrame({"x": [1]})

    calls: list[tuple[str, int]] = []

    class Recording:
        def __init__(self, config: Any = None) -> None:
            self.config = config

        def declare(self, model: Any, key: str) -> None:
            calls.append((key, len(model.tasks)))

    with env.container.cloud.infrastructure.override(providers.Factory(Recording)):
        assert len(plan(pipeline)) == 0
    assert calls == [("custom", 1)]
    assert len(plan(pipeline)) > 0  # the override is gone


def test_a_local_environment_named_like_a_cloud_one_selects_the_cloud_share(
    tmp_path: Path, dev_plan: Plan
) -> None:
    laptop = Environment.local(base_path=tmp_path / "d", name="dev", state_dir=tmp_path / "s")
    selected = plan(seeds.dev_pipeline, env=laptop)
    assert [r.name for r in selected] == [r.name for r in dev_plan]
    assert {r.account for r in selected} == {"111111111111"}


def test_repeated_plans_in_one_process_are_independent(dev_plan: Plan) -> None:
    again = plan(seeds.dev_pipeline)
    assert [r.to_dict() for r in again] == [r.to_dict() for r in dev_plan]
    assert json.loads(again.to_json())["resources"][0]["type"] == PROVIDER
    assert "dev (111111111111, us-west-2)" in again.to_text()


def test_importing_glacier_loads_no_cloud_sdk() -> None:
    code = (
        "import sys, glacier, glacier.infra\n"
        "from glacier.infra import build_model\n"
        "heavy = [m for m in ('pulumi', 'pulumi_aws', 'boto3') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "[]"


def test_the_aws_builder_is_where_the_container_names_it_and_loads_no_sdk() -> None:
    from glacier.settings import AwsConfig

    module, _, name = "glacier.infra.aws:AwsInfrastructure".partition(":")
    builder = getattr(importlib.import_module(module), name)(config=AwsConfig(region="eu-west-1"))
    assert builder.cloud == "aws"
    assert builder.describe() == "AWS resources with pulumi_aws in eu-west-1"
    code = (
        "import sys, glacier.infra.aws\n"
        "print([m for m in ('pulumi', 'pulumi_aws', 'boto3') if m in sys.modules])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "[]"

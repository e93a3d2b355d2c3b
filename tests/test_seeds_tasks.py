"""Seed 001's task binding: @task(env), deferred binding, Task.run() in each mode, and
Inject("name") parameters filled from the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier import Bucket, Dataset, Environment, Inject, Provider, RunResult, task
from glacier.config import AwsConfig, LocalConfig
from glacier.errors import ConfigError, InjectionError, InvalidAnnotationError, InvalidTaskError


@pytest.fixture
def env(tmp_path: Path) -> Environment:
    env = Environment(Provider(config=LocalConfig(base_path=tmp_path / "data")), name="dev")
    sales = env.register("sales_data", env.provider.bucket("sales", path="sales.parquet"))
    sales.write(pl.DataFrame({"amount": [5.0, -1.0, 7.0]}))
    return env


def test_task_with_an_environment_argument_binds_to_it(env: Environment) -> None:
    @task(env)
    def positive(source: Bucket) -> pl.LazyFrame:
        return source.scan().filter(pl.col("amount") > 0)

    assert positive.env is env
    assert "positive" in env.tasks
    # A direct call fills the resource from the registry by parameter name... not here:
    # 'source' is not registered, so it is passed explicitly.
    assert positive(env.get("sales_data")).collect()["amount"].to_list() == [5.0, 7.0]


def test_task_with_an_environment_and_options(env: Environment) -> None:
    @task(env, retries=2, name="cleaned")
    def clean(sales_data: Bucket) -> pl.LazyFrame:
        return sales_data.scan()

    assert clean.name == "cleaned"
    assert env.task_config(clean).retries == 2


def test_deferred_binding_to_two_environments(env: Environment, tmp_path: Path) -> None:
    @task
    def total(sales_data: Bucket) -> float:
        return float(sales_data.read()["amount"].sum())

    other = Environment(Provider(config=LocalConfig(base_path=tmp_path / "other")), name="qa")
    other.register("sales_data", other.provider.bucket("sales", path="sales.parquet")).write(
        pl.DataFrame({"amount": [1.0]})
    )
    dev_total, qa_total = env.bind(total), total.bind(other)
    assert (dev_total.env, qa_total.env) == (env, other)
    assert dev_total.run()["total"] == 11.0
    assert qa_total.run(mode="local")["total"] == 1.0


def test_task_run_local_reads_its_inputs_from_storage(env: Environment) -> None:
    @env.task()
    def positive(sales_data: Bucket) -> pl.LazyFrame:
        return sales_data.scan().filter(pl.col("amount") > 0)

    result = positive.run(mode="local")
    assert isinstance(result, RunResult)
    assert result.tasks["positive"].status == "succeeded"
    assert result["positive"].collect()["amount"].to_list() == [5.0, 7.0]


def test_task_run_reads_dataset_inputs_from_their_storage(env: Environment) -> None:
    raw = Dataset("raw", storage=env.get("sales_data"))
    cleaned = Dataset("cleaned", storage=env.provider.bucket("clean", path="c.parquet"))

    @task(env)
    def clean(data: raw) -> cleaned:
        return data.filter(pl.col("amount") > 0)

    clean.run()
    assert env.bucket_for(cleaned).read()["amount"].to_list() == [5.0, 7.0]
    with pytest.raises(ConfigError, match="reads its inputs from their datasets' storage"):
        clean.run(args=(1,))


def test_task_run_with_arguments(env: Environment) -> None:
    @env.task()
    def scaled(factor: float, sales_data: Bucket) -> pl.DataFrame:
        return sales_data.read().with_columns(pl.col("amount") * factor)

    out = scaled.run(args=(2.0,))["scaled"]
    assert out["amount"].to_list() == [10.0, -2.0, 14.0]
    assert scaled.run(kwargs={"factor": 0.0})["scaled"]["amount"].sum() == 0.0


def test_task_run_analyze_describes_without_running(env: Environment) -> None:
    calls: list[int] = []

    @env.task()
    def count(sales_data: Bucket) -> int:
        calls.append(1)
        return sales_data.read().height

    described = count.run(mode="analyze")
    assert [t["name"] for t in described["tasks"]] == ["count"]
    assert described["tasks"][0]["resources"] == ["sales_data"]
    assert calls == []


def test_task_run_generate_writes_its_infrastructure(tmp_path: Path) -> None:
    prod = Environment(Provider(config=AwsConfig(region="us-east-1")), name="prod")
    prod.register("sales_data", prod.provider.bucket("acme-prod-sales", path="s.parquet"))

    @prod.task()
    def count(sales_data: Bucket) -> int:
        return sales_data.read().height

    written = count.run(mode="generate", output_dir=tmp_path / "infra" / "prod")
    assert written["stacks"] == ["prod"]
    assert (tmp_path / "infra" / "prod" / "Pulumi.prod.yaml").is_file()
    assert "count" in (tmp_path / "infra" / "prod" / "__main__.py").read_text()


def test_task_resolves_datasets_local_to_the_defining_function() -> None:
    # With postponed annotations, 'raw' is a local of this function: @task must look in the
    # frame that applied it (it looked one frame further out, and failed).
    raw = Dataset("raw")

    @task
    def clean(data: raw) -> None:
        return None

    assert clean.input_datasets == (raw,)


def test_an_unbound_task_cannot_run_and_says_how_to_bind() -> None:
    @task
    def alone() -> int:
        return 1

    with pytest.raises(InvalidTaskError, match=r"bound to no environment.*env\.bind\(task\)"):
        alone.run()


def test_inject_fills_a_parameter_from_the_registry(env: Environment) -> None:
    @env.task()
    def extract(source: Bucket = Inject("sales_data")) -> pl.LazyFrame:
        return source.scan()

    @env.pipeline()
    def auto() -> Any:
        return extract()  # no need to pass sales_data explicitly

    assert auto.run().output.collect().height == 3
    assert extract().collect().height == 3  # a direct call too
    assert auto.run(mode="analyze")["tasks"][0]["resources"] == ["source"]


def test_inject_of_an_unregistered_name_names_the_known_ones(env: Environment) -> None:
    @env.task()
    def extract(source: Bucket = Inject("nope")) -> pl.LazyFrame:
        return source.scan()

    with pytest.raises(InjectionError, match=r"Provide\['nope'\].*Registered: sales_data"):
        extract()


def test_inject_needs_a_name() -> None:
    with pytest.raises(InvalidAnnotationError, match="give the registered resource's name"):
        Inject("")

"""``--env X`` and ``GLACIER_ENV=X`` are one selection, for every way a pipeline is built.

The construction styles are those of the docs and the seed notes: a module-level
``Environment.from_env()``; a factory ``build(Environment.from_env())`` whose ``Pipeline(name)``
is given no ``env=`` (seed 003's ``ingest-fmp-{env}``) or is (docs/cli.md); ``Pipeline(...)``
without an environment at all; a data-flow ``@env.pipeline()`` (seed 001); and
``Environment.local()``, which no selection moves. Each is run and planned both ways; the
outcome (exit code, the environment named) must be the same, and the expected one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .commands import invoke
from .projects import write

HEAD = """
import polars as pl

from glacier import Dataset, Environment, Pipeline
"""

STYLES = {
    "module-level from_env": """
env = Environment.from_env()
pipeline = Pipeline(f"orders-{env.name}", env=env)
orders = Dataset("orders", storage=env.storage.s3("lake", "orders.parquet"))


@pipeline.task()
def extract() -> orders:
    return pl.DataFrame({"id": [1]})
""",
    "factory, Pipeline without env=": """
def build(env):
    pipeline = Pipeline(f"ingest-fmp-{env.name}")
    orders = Dataset("orders", storage=env.storage.s3("lake", "orders.parquet"))

    @pipeline.task()
    def extract() -> orders:
        return pl.DataFrame({"id": [1]})

    return pipeline


pipeline = build(Environment.from_env())
""",
    "factory, Pipeline with env=": """
def build(env):
    pipeline = Pipeline(f"daily-{env.name}", env=env)
    orders = Dataset("orders", storage=env.storage.s3("lake", "orders.parquet"))

    @pipeline.task()
    def extract() -> orders:
        return pl.DataFrame({"id": [1]})

    return pipeline


pipeline = build(Environment.from_env())
""",
    "Pipeline without an environment": """
pipeline = Pipeline("plain")
orders = Dataset("orders")


@pipeline.task()
def extract() -> orders:
    return pl.DataFrame({"id": [1]})
""",
    "data-flow @env.pipeline": """
env = Environment.from_env()


@env.task()
def extract() -> pl.DataFrame:
    return pl.DataFrame({"id": [1]})


@env.pipeline(name="flow")
def flow():
    return extract()
""",
    "data-flow factory": """
def create_pipeline(env):
    @env.task()
    def extract() -> pl.DataFrame:
        return pl.DataFrame({"id": [1]})

    @env.pipeline(name="data_pipeline")
    def data_pipeline():
        return extract()

    return data_pipeline


pipeline = create_pipeline(Environment.from_env())
""",
    "Environment built in code": """
from glacier import Provider
from glacier.config import LocalConfig

env = Environment(Provider(config=LocalConfig(base_path="data/pinned")), name="pinned")
pipeline = Pipeline("pinned", env=env)
orders = Dataset("orders", storage=env.storage.s3("lake", "orders.parquet"))


@pipeline.task()
def extract() -> orders:
    return pl.DataFrame({"id": [1]})
""",
    "Environment.local()": """
env = Environment.local(base_path="data/local")
pipeline = Pipeline("pinned", env=env)
orders = Dataset("orders", storage=env.storage.s3("lake", "orders.parquet"))


@pipeline.task()
def extract() -> orders:
    return pl.DataFrame({"id": [1]})
""",
}

LOCAL_SETTINGS = """
name = "{name}"
[provider]
kind = "local"
base_path = "data/{name}"
"""

AWS_SETTINGS = """
name = "{name}"
[provider]
kind = "aws"
region = "eu-west-1"
account_id = "123456789012"
"""


#: Environments built in code are not moved by a selection.
PINNED = {"Environment.local()": "local", "Environment built in code": "pinned"}


def _expected(style: str) -> str:
    return PINNED.get(style, "staging")


def _project(root: Path, style: str, cloud: bool) -> None:
    settings = AWS_SETTINGS if cloud else LOCAL_SETTINGS
    write(
        root,
        {
            "pipeline.py": HEAD + STYLES[style],
            "containers/dev.toml": LOCAL_SETTINGS.format(name="dev"),
            "containers/staging.toml": settings.format(name="staging"),
        },
    )


def _both_ways(
    monkeypatch: pytest.MonkeyPatch, *command: str
) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    by_option = invoke(*command, "pipeline.py", "--env", "staging")
    with monkeypatch.context() as m:
        m.setenv("GLACIER_ENV", "staging")
        by_variable = invoke(*command, "pipeline.py")
    return by_option, by_variable


@pytest.mark.parametrize("style", list(STYLES))
def test_run_env_option_and_variable_select_the_same_environment(
    project: Path, monkeypatch: pytest.MonkeyPatch, style: str
) -> None:
    _project(project, style, cloud=False)
    (code, out, err), (code2, out2, _err2) = _both_ways(monkeypatch, "run")

    assert code == 0, err
    assert (code2, out2.splitlines()[0]) == (code, out.splitlines()[0])
    assert f"environment {_expected(style)} (local)" in out.splitlines()[0]


@pytest.mark.parametrize("style", [s for s in STYLES if s not in PINNED])
def test_plan_env_option_and_variable_plan_the_same_environment(
    project: Path, monkeypatch: pytest.MonkeyPatch, style: str
) -> None:
    _project(project, style, cloud=True)
    (code, out, err), (code2, out2, _err2) = _both_ways(monkeypatch, "plan")

    assert code == 0, err
    assert (code2, out2) == (code, out)
    assert "environment staging (aws 123456789012 eu-west-1)" in out
    # the count line (the compute choices follow it)
    assert any(" resources in staging" in line for line in out.splitlines())


def test_without_a_selection_a_pipeline_without_an_environment_runs_locally(
    project: Path,
) -> None:
    _project(project, "Pipeline without an environment", cloud=False)
    code, out, err = invoke("run", "pipeline.py")
    assert code == 0, err
    assert "environment local (local)" in out.splitlines()[0]


def test_a_pipeline_without_env_runs_where_its_resources_live(tmp_path: Path) -> None:
    """The same decision in Python: a factory's ``Pipeline(name)`` over one environment's
    resources runs in that environment (its run store, its cache), not in a local default."""
    from glacier import Dataset, Environment, Pipeline

    staging = Environment.local(tmp_path / "data", name="staging", state_dir=tmp_path / "state")
    other = Environment.local(tmp_path / "other", name="other")
    pipeline = Pipeline("ingest-fmp-staging")
    orders = Dataset("orders", storage=staging.storage.s3("lake", "orders.parquet"))

    @pipeline.task()
    def extract() -> orders:
        import polars as pl

        return pl.DataFrame({"id": [1]})

    assert pipeline.environment() is staging
    result = pipeline.run()
    assert staging.container.run_store().load(result.run_id)["pipeline"] == "ingest-fmp-staging"

    mixed = Pipeline("mixed")
    elsewhere = Dataset("elsewhere", storage=other.storage.s3("lake", "e.parquet"))

    @mixed.task()
    def copy(data: orders) -> elsewhere:
        return data

    assert mixed.environment().name == "local"  # two environments: none is chosen


def test_env_naming_no_settings_file_says_how_to_plan_an_environment_built_in_code(
    project: Path,
) -> None:
    """A pipeline whose environment its code builds (Provider(config=...).env(name="prod-aws"))
    was refused under --env prod-aws with only "No settings file"; the error says that --env
    selects a settings file and to name the pipeline instead."""
    write(
        project,
        {
            "p.py": (
                "import polars as pl\n"
                "from glacier import Dataset, Pipeline\n"
                "from glacier.provider import Provider\n"
                "from glacier.settings import AwsConfig\n"
                'config = AwsConfig(region="us-east-1", account_id="123456789012")\n'
                'env = Provider(config=config).env(name="prod-aws")\n'
                'pipeline = Pipeline("p", env=env)\n'
                'raw = Dataset("raw", storage=env.storage.bucket("acme-raw-x", "raw.parquet"))\n'
                "@pipeline.task()\n"
                "def extract() -> raw:\n"
                '    return pl.DataFrame({"a": [1]})\n'
            )
        },
    )
    code, _, err = invoke("plan", "p.py:pipeline", "--env", "prod-aws")
    assert code == 2, err
    text = " ".join(err.split())
    assert "No settings file for environment 'prod-aws'" in text
    assert "leave out --env and name the pipeline instead (FILE:attribute)" in text
    code, out, err = invoke("plan", "p.py:pipeline")
    assert code == 0, err
    assert "prod-aws" in out and "aws:s3" in out

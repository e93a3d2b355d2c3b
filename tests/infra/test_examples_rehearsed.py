"""Every example file, generated and rehearsed on every cloud it plans for.

For each example pipeline with cloud resources and each cloud environment it plans for (a
*cell*), ``glacier generate`` writes the Pulumi project (the stack file, the program, the
requirements naming the cloud's Pulumi package), the program declares under Pulumi's mocks
exactly what ``glacier plan`` declares, and ``glacier rehearse`` runs every task of the
pipeline from its packaged code, in the orchestration's order — AWS on moto with IAM
enforced, GCP on the GCS emulator and Azure on Azurite with Glacier's evaluator checking
every storage request — and every task succeeds with no request denied. A pipeline whose
tasks read data no task of it writes (a landing bucket, a stored model) is given that data
as a user gives it, ``glacier rehearse --seed DIR``.

A rehearsal costs 10-40 s, so the default run rehearses one cell per cloud
(``config_cascade.py`` on AWS, seeded; ``switch_clouds.py`` on GCP and on Azure); the stress
run (``python3 dev.py test --stress``) rehearses and generates every cell.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
import yaml

from cli.commands import invoke
from glacier.infra import plan
from glacier.infra.mocks import plan_project

from .plans import ROOT

EXAMPLES = ROOT / "examples"
CONTAINERS = ROOT / "containers"

#: The Pulumi package a generated project's requirements name, per cloud.
PULUMI_PACKAGE = {"aws": "pulumi-aws", "gcp": "pulumi-gcp", "azure": "pulumi-azure-native"}


@dataclass(frozen=True)
class Cell:
    """One example pipeline in one cloud environment, and the tasks a rehearsal runs there."""

    #: The example file, and its pipeline's name in it ("" for the file's only pipeline).
    file: str
    pipeline: str
    cloud: str
    env: str
    tasks: tuple[str, ...]
    #: For a file whose environment comes from ``containers/``: the ``--env`` to select.
    settings_env: str | None = None
    #: The source data its tasks read and none writes (a key of :data:`SEEDS`).
    seed: str | None = None

    @property
    def id(self) -> str:
        return f"{self.file.removesuffix('.py')}-{self.pipeline or self.env}"


#: ``models.py`` builds its pipelines in functions; a user deploys them from a module that
#: builds them for AWS, which is this file, written beside a copy of the example.
MODELS_ON_AWS = """\
from models import aws_environment, prediction_pipeline, training_pipeline

training = training_pipeline(aws_environment())
prediction = prediction_pipeline(aws_environment())
"""

CELLS = (
    Cell(
        "config_cascade.py",
        "",
        "aws",
        "production",
        ("extract_critical_data", "intensive_transformation"),
        seed="sales",
    ),
    Cell("environments.py", "dev_pipeline", "aws", "dev", ("extract", "clean")),
    Cell("environments.py", "staging_pipeline", "aws", "staging", ("extract", "clean")),
    Cell("environments.py", "prod_pipeline", "aws", "prod", ("extract", "clean")),
    Cell(
        "medallion.py",
        "",
        "aws",
        "staging",
        ("ingest", "clean", "revenue", "customer_value"),
        settings_env="staging",
    ),
    Cell(
        "medallion.py",
        "",
        "aws",
        "prod",
        ("ingest", "clean", "revenue", "customer_value"),
        settings_env="prod",
    ),
    Cell(
        "multi_environment.py",
        "staging_pipeline",
        "aws",
        "staging",
        ("extract", "transform", "aggregate"),
        seed="categories",
    ),
    Cell(
        "multi_environment.py",
        "prod_pipeline",
        "aws",
        "production",
        ("extract", "transform", "aggregate"),
        seed="categories",
    ),
    Cell("models.py", "training", "aws", "prod", ("make_model_input", "train", "evaluate")),
    Cell("models.py", "prediction", "aws", "prod", ("predict",), seed="regressor"),
    Cell("switch_clouds.py", "aws_pipeline", "aws", "prod-aws", ("extract", "summarise")),
    Cell("switch_clouds.py", "gcp_pipeline", "gcp", "prod-gcp", ("extract", "summarise")),
    Cell("switch_clouds.py", "azure_pipeline", "azure", "prod-azure", ("extract", "summarise")),
)


def _sales(seed: Path, code: Path) -> None:
    """config_cascade.py reads the critical sales a landing system writes."""
    (seed / "critical-sales-data").mkdir(parents=True)
    sales = pl.DataFrame({"region": ["n", "s"], "amount": [120.0, 80.5]})
    sales.write_parquet(seed / "critical-sales-data" / "transactions.parquet")


def _categories(seed: Path, code: Path) -> None:
    """multi_environment.py reads the sales its dev run writes first (its ``main``)."""
    (seed / "data").mkdir(parents=True)
    sales = pl.DataFrame({"category": ["a", "b", "a", "c"], "amount": [150, 90, 300, 120]})
    sales.write_parquet(seed / "data" / "sales.parquet")


def _regressor(seed: Path, code: Path) -> None:
    """models.py's prediction loads the model its training pipeline stored (the class
    pickled from the module ``models``, as a deployed training task pickles it)."""
    (seed / "acme-models").mkdir(parents=True)
    dump = (
        "import sys, joblib, numpy as np, models\n"
        "model = models.LinearModel(coef=np.array([3.0, 0.5, -1.2]), intercept=4.0)\n"
        "joblib.dump(model, sys.argv[1], compress=3)\n"
    )
    target = seed / "acme-models" / "regressor.joblib"
    subprocess.run([sys.executable, "-c", dump, str(target)], cwd=code, check=True, timeout=120)


#: Source data of the cells whose tasks read what no task of theirs writes (``--seed DIR``).
SEEDS: dict[str, Callable[[Path, Path], None]] = {
    "sales": _sales,
    "categories": _categories,
    "regressor": _regressor,
}


#: The example files with no cloud environment to rehearse (they run locally only, or have no
#: pipeline to deploy): tests/infra/test_terraform.py says what each one's plan is.
WITHOUT_CLOUD = {
    "quickstart.py",
    "simple_etl.py",
    "jaffle_shop.py",
    "registry.py",
    "cloud_plugin.py",
    "test_mock_environment.py",
}

#: One cell per cloud in the default run; every cell in the stress run.
DEFAULT = {
    "config_cascade-production",
    "switch_clouds-gcp_pipeline",
    "switch_clouds-azure_pipeline",
}
MATRIX = [
    pytest.param(c, id=c.id, marks=() if c.id in DEFAULT else pytest.mark.stress) for c in CELLS
]


def test_every_example_file_is_rehearsed_or_has_no_cloud() -> None:
    assert {c.file for c in CELLS} | WITHOUT_CLOUD == {p.name for p in EXAMPLES.glob("*.py")}
    assert {c.cloud for c in CELLS if c.id in DEFAULT} == {"aws", "gcp", "azure"}


@pytest.fixture
def example(cell: Cell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The cell's ``TARGET [--env E --settings-dir containers/]`` for a glacier command, run
    from an empty directory with no environment selected from outside, Azurite findable."""
    from conftest import azurite_executable

    if cell.cloud == "azure":
        path = os.pathsep.join([str(azurite_executable().parent), os.environ["PATH"]])
        monkeypatch.setenv("PATH", path)
    for var in ("GLACIER_ENV", "GLACIER_SETTINGS_DIR", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    target = str(EXAMPLES / cell.file) + (f":{cell.pipeline}" if cell.pipeline else "")
    code = EXAMPLES
    if cell.file == "models.py":
        code = tmp_path / "code"
        code.mkdir()
        shutil.copy(EXAMPLES / "models.py", code / "models.py")
        (code / "models_on_aws.py").write_text(MODELS_ON_AWS)
        target = f"{code / 'models_on_aws.py'}:{cell.pipeline}"
    args = [target]
    if cell.settings_env is not None:
        args += ["--env", cell.settings_env, "--settings-dir", str(CONTAINERS)]
    if cell.seed is not None:
        SEEDS[cell.seed](tmp_path / "seed", code)
        args += ["--seed", str(tmp_path / "seed")]
    return args


@pytest.mark.parametrize("cell", MATRIX)
def test_the_example_generates_a_project_that_declares_its_plan(
    cell: Cell, example: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "infra"
    given = example[: example.index("--seed")] if "--seed" in example else example
    code, printed, err = invoke("generate", *given, "-o", str(out))
    assert code == 0, printed + err
    files = sorted(p.name for p in out.iterdir())
    assert {"Pulumi.yaml", f"Pulumi.{cell.env}.yaml", "__main__.py", "requirements.txt"} <= set(
        files
    ), files
    stack = yaml.safe_load((out / f"Pulumi.{cell.env}.yaml").read_text())["config"]
    assert stack["glacier:environment"] == cell.env
    requirements = (out / "requirements.txt").read_text().splitlines()
    assert any(r.startswith(PULUMI_PACKAGE[cell.cloud]) for r in requirements), requirements
    tree = ast.parse((out / "__main__.py").read_text())
    stacks = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "STACKS"
    )
    assert cell.env in stacks and not Path(stacks[cell.env][0]).is_absolute()
    # The program, run as `pulumi up` runs it (under the mocks), declares the plan.
    if cell.settings_env is not None:
        monkeypatch.setenv("GLACIER_SETTINGS_DIR", str(CONTAINERS))
        monkeypatch.setenv("GLACIER_ENV", cell.settings_env)
    target = example[0]
    declared = sorted((r.type, r.name) for r in plan_project(out, cell.env))
    planned = sorted((r.type, r.name) for r in plan(target, cell.env) if r.environment == cell.env)
    assert declared == planned
    jobs = {
        "aws": ("aws:lambda/", "aws:ecs/"),
        "gcp": ("gcp:cloudrunv2/job",),
        "azure": ("azure-native:app:Job",),
    }[cell.cloud]
    assert any(t.startswith(jobs) for t, _ in planned), planned


#: A task's line in the rehearsal's report: "  name  compute  status  seconds ...".
_TASK_LINE = re.compile(r"^  (\S+)\s+(\S+)\s+(succeeded|failed|not run)\b", re.M)


@pytest.mark.parametrize("cell", MATRIX)
def test_the_example_rehearses_every_task_with_nothing_denied(
    cell: Cell, example: list[str]
) -> None:
    code, printed, err = invoke("rehearse", *example)
    report = printed + err
    assert f"environment {cell.env!r}" in report, report
    ran = {name: status for name, _, status in _TASK_LINE.findall(printed)}
    assert ran == dict.fromkeys(cell.tasks, "succeeded"), report
    assert code == 0 and ": passed" in printed and "\n      denied " not in printed, report
    if cell.seed is not None:
        assert "source data put in the buckets before the first task (--seed): " in printed


def test_a_seed_naming_a_bucket_the_plan_lacks_is_refused_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seed" / "acme-orderz").mkdir(parents=True)
    (tmp_path / "seed" / "acme-orderz" / "orders.parquet").write_bytes(b"PAR1")
    target = f"{EXAMPLES / 'switch_clouds.py'}:aws_pipeline"
    code, printed, err = invoke("rehearse", target, "--seed", str(tmp_path / "seed"))
    assert code != 0 and printed == "", printed
    assert "holds 'acme-orderz', which the plan has no bucket of" in err
    assert "its buckets are: acme-orders, acme-reports" in err
    code, printed, err = invoke("rehearse", target, "--seed", str(tmp_path / "none"))
    assert code != 0 and "is not a directory" in err, err


SEEDED = """
import polars as pl
from glacier import Dataset, Environment, Pipeline, Provider
from glacier.settings import {config}

env = Environment(Provider(config={make}), name="landing")
pipeline = Pipeline("landed")
landed = Dataset("landed", storage=env.provider.bucket("inbox", path="in/orders.parquet"))
totals = Dataset("totals", storage=env.provider.bucket("inbox", path="out/totals.parquet"))


@pipeline.task()
def total(rows: landed) -> totals:
    return rows.group_by("k").agg(pl.col("v").sum()).sort("k")
"""
CONFIGS = {
    "gcp": ("GcpConfig", 'GcpConfig(project="acme-landing")'),
    "azure": (
        "AzureConfig",
        'AzureConfig(storage_account="acmelanding", '
        'subscription_id="00000000-1111-2222-3333-444444444444")',
    ),
}


@pytest.mark.stress
@pytest.mark.parametrize("cloud", ["gcp", "azure"])
def test_a_seed_is_in_the_emulators_buckets_before_the_first_task(
    cloud: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a landing system wrote is there for the first task, on GCP and on Azure (on AWS,
    config_cascade.py's cell reads its seed)."""
    from conftest import azurite_executable

    monkeypatch.setenv(
        "PATH", os.pathsep.join([str(azurite_executable().parent), os.environ["PATH"]])
    )
    monkeypatch.chdir(tmp_path)
    config, make = CONFIGS[cloud]
    (tmp_path / "landed.py").write_text(SEEDED.format(config=config, make=make))
    (tmp_path / "seed" / "inbox" / "in").mkdir(parents=True)
    rows = pl.DataFrame({"k": ["a", "b", "a"], "v": [1, 2, 3]})
    rows.write_parquet(tmp_path / "seed" / "inbox" / "in" / "orders.parquet")
    code, printed, err = invoke("rehearse", "landed.py", "--seed", str(tmp_path / "seed"))
    assert code == 0, printed + err
    assert {n: s for n, _, s in _TASK_LINE.findall(printed)} == {"total": "succeeded"}, printed
    assert (
        "source data put in the buckets before the first task (--seed): inbox/in/orders.parquet"
        in printed
    )

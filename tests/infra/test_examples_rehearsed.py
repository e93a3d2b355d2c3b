"""Every example file, generated and rehearsed on every cloud it plans for.

For each example pipeline with cloud resources and each cloud environment it plans for (a
*cell*), ``glacier generate`` writes the Pulumi project (the stack file, the program, the
requirements naming the cloud's Pulumi package), the program declares under Pulumi's mocks
exactly what ``glacier plan`` declares, and ``glacier rehearse`` runs every task of the
pipeline from its packaged code, in the orchestration's order — AWS on moto with IAM
enforced, GCP on the GCS emulator and Azure on Azurite with Glacier's evaluator checking
every storage request — and every task succeeds with no request denied.

A rehearsal costs 10-40 s, so the default run rehearses one cell per cloud (the three twins of
``examples/switch_clouds.py``); the stress run (``python3 dev.py test --stress``) rehearses
and generates every cell.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

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

    @property
    def id(self) -> str:
        return f"{self.file.removesuffix('.py')}-{self.env}"


#: ``models.py`` builds its pipelines in functions; a user deploys them from a module that
#: builds them for AWS, which is this file, written beside a copy of the example.
MODELS_ON_AWS = """\
from models import aws_environment, prediction_pipeline, training_pipeline

training = training_pipeline(aws_environment())
prediction = prediction_pipeline(aws_environment())
"""

CELLS = (
    Cell("config_cascade.py", "", "aws", "production", ("extract_critical_data",
         "intensive_transformation")),  # fmt: skip
    Cell("environments.py", "dev_pipeline", "aws", "dev", ("extract", "clean")),
    Cell("environments.py", "staging_pipeline", "aws", "staging", ("extract", "clean")),
    Cell("environments.py", "prod_pipeline", "aws", "prod", ("extract", "clean")),
    Cell("medallion.py", "", "aws", "staging", ("ingest", "clean", "revenue", "customers"),
         settings_env="staging"),  # fmt: skip
    Cell("medallion.py", "", "aws", "prod", ("ingest", "clean", "revenue", "customers"),
         settings_env="prod"),  # fmt: skip
    Cell("multi_environment.py", "staging_pipeline", "aws", "staging",
         ("extract", "transform", "aggregate")),  # fmt: skip
    Cell("multi_environment.py", "prod_pipeline", "aws", "production",
         ("extract", "transform", "aggregate")),  # fmt: skip
    Cell("models.py", "training", "aws", "prod", ("make_model_input", "train", "evaluate")),
    Cell("models.py", "prediction", "aws", "prod", ("predict",)),
    Cell("switch_clouds.py", "aws_pipeline", "aws", "prod-aws", ("extract", "summarise")),
    Cell("switch_clouds.py", "gcp_pipeline", "gcp", "prod-gcp", ("extract", "summarise")),
    Cell("switch_clouds.py", "azure_pipeline", "azure", "prod-azure", ("extract", "summarise")),
)

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
DEFAULT = {"switch_clouds-prod-aws", "switch_clouds-prod-gcp", "switch_clouds-prod-azure"}
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
    if cell.file == "models.py":
        code = tmp_path / "code"
        code.mkdir()
        shutil.copy(EXAMPLES / "models.py", code / "models.py")
        (code / "models_on_aws.py").write_text(MODELS_ON_AWS)
        return [f"{code / 'models_on_aws.py'}:{cell.pipeline}"]
    target = str(EXAMPLES / cell.file) + (f":{cell.pipeline}" if cell.pipeline else "")
    if cell.settings_env is None:
        return [target]
    return [target, "--env", cell.settings_env, "--settings-dir", str(CONTAINERS)]


@pytest.mark.parametrize("cell", MATRIX)
def test_the_example_generates_a_project_that_declares_its_plan(
    cell: Cell, example: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "infra"
    code, printed, err = invoke("generate", *example, "-o", str(out))
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
    jobs = {"aws": ("aws:lambda/", "aws:ecs/"), "gcp": ("gcp:cloudrunv2/job",),
            "azure": ("azure-native:app:Job",)}[cell.cloud]  # fmt: skip
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

"""A matrix of first pipelines (issue 22, item 8): the shapes a user writes first — a dataset at
a bucket's root, under a prefix or in a file; csv, parquet or a Delta table; the default
compute, Lambda, ECS or Glue; one account or several; scheduled or not — each planned and
generated, and the cells that differ in what runs rehearsed. (The database and secret cells
are the network work's.)

Each cell is a module of its own (a generated program imports its pipeline from a file):
``make`` writes a source file, ``shape`` writes the cell's dataset, ``check`` reads it back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from glacier.infra import PlannedResource, generate, plan, rehearse
from glacier.targets import load_target

ECS_IMAGE = "111111111111.dkr.ecr.us-east-1.amazonaws.com/first:1"
COMPUTES = {
    "default": "None",
    "lambda": "home.compute.lambda_()",
    "ecs": f"home.compute.ecs(image={ECS_IMAGE!r})",
    "ecs-built": "home.compute.ecs()",
    "glue": "home.compute.glue()",
}


@dataclass(frozen=True)
class Cell:
    """One first pipeline: where its dataset lives, in which format, on what compute."""

    location: str  # "root", "prefix" or "file"
    format: str  # "csv", "parquet" (a file) or "delta" (a directory of parquet)
    compute: str = "default"
    accounts: int = 1
    schedule: str | None = None

    @property
    def id(self) -> str:
        parts = [self.location, self.format, self.compute]
        if self.accounts > 1:
            parts.append("two-accounts")
        if self.schedule:
            parts.append("scheduled")
        return "-".join(parts)

    def storage(self) -> str:
        """The cell's dataset declaration (``home`` or ``data`` account)."""
        env = "data" if self.accounts > 1 else "home"
        bucket = f"first-{self.id}"[:63]
        path = {"root": "", "prefix": "out/", "file": f"out.{self.format}"}[self.location]
        fmt = "csv" if self.format == "csv" else "parquet"
        return f"{env}.storage.s3(bucket={bucket!r}, path={path!r}, format={fmt!r})"

    def source(self) -> str:
        compute = COMPUTES[self.compute]
        return f"""
import polars as pl

from glacier import AWSEnvironment, Dataset, Pipeline

home = AWSEnvironment(account_id="111111111111", region="us-east-1")
data = AWSEnvironment(account_id="222222222222", region="us-east-1")
pipeline = Pipeline("first-{self.id}", env=home, schedule={self.schedule!r})
source = Dataset("source", storage=home.storage.s3(bucket="first-src", path="src.parquet"))
shaped = Dataset("shaped", storage={self.storage()})
checked = Dataset("checked", storage=home.storage.s3(bucket="first-src", path="n.parquet"))


@pipeline.task(compute={compute})
def make() -> source:
    return pl.DataFrame({{"id": [1, 2, 3], "v": [1.5, 2.5, 3.5]}})


@pipeline.task(compute={compute})
def shape(rows: source) -> shaped:
    return rows.with_columns(w=pl.col("v") * 2)


@pipeline.task(compute={compute})
def check(rows: shaped) -> checked:
    frame = rows.collect() if isinstance(rows, pl.LazyFrame) else rows
    assert sorted(frame["id"].to_list()) == [1, 2, 3], frame
    return pl.DataFrame({{"rows": [frame.height]}})
"""


CELLS = [
    # where and in which format, on the default compute
    Cell("root", "delta"),
    Cell("prefix", "delta"),
    Cell("file", "parquet"),
    Cell("root", "csv"),
    Cell("prefix", "csv"),
    Cell("file", "csv"),
    # on each compute
    Cell("prefix", "delta", "lambda"),
    Cell("file", "parquet", "lambda"),
    Cell("file", "csv", "lambda"),
    Cell("prefix", "delta", "ecs"),
    Cell("file", "parquet", "ecs"),
    Cell("prefix", "delta", "ecs-built"),
    Cell("prefix", "delta", "glue"),
    Cell("file", "parquet", "glue"),
    # several accounts, scheduled
    Cell("prefix", "delta", accounts=2),
    Cell("file", "parquet", "lambda", accounts=2),
    Cell("root", "delta", schedule="rate(1 day)"),
    Cell("file", "parquet", "ecs", schedule="cron(0 6 * * ? *)"),
]

#: What each compute deploys as, by cell compute and whether the task touches a Delta table.
DEPLOYED = {
    ("default", False): ("aws:lambda/function:Function", "Zip"),
    ("default", True): ("aws:lambda/function:Function", "Image"),
    ("lambda", False): ("aws:lambda/function:Function", "Zip"),
    ("lambda", True): ("aws:lambda/function:Function", "Image"),
    ("ecs", False): ("aws:ecs/taskDefinition:TaskDefinition", None),
    ("ecs", True): ("aws:ecs/taskDefinition:TaskDefinition", None),
    ("ecs-built", True): ("aws:ecs/taskDefinition:TaskDefinition", None),
    ("glue", False): ("aws:glue/job:Job", None),
    ("glue", True): ("aws:glue/job:Job", None),
}


def task_of(resource: PlannedResource) -> str:
    """The task a function, task definition or job runs."""
    inputs = resource.inputs
    if "containerDefinitions" in inputs:
        container = json.loads(str(inputs["containerDefinitions"]))[0]
        return str({e["name"]: e["value"] for e in container["environment"]}["GLACIER_TASK_NAME"])
    if "defaultArguments" in inputs:
        return str(inputs["defaultArguments"]["--GLACIER_TASK_NAME"])
    return str(inputs["environment"]["variables"]["GLACIER_TASK_NAME"])


def write_cell(cell: Cell, directory: Path) -> str:
    module = directory / f"first_{cell.id.replace('-', '_')}.py"
    module.write_text(cell.source())
    return f"{module}:pipeline"


@pytest.mark.parametrize("cell", CELLS, ids=lambda c: c.id)
def test_a_first_pipeline_plans_and_generates(cell: Cell, tmp_path: Path) -> None:
    target = write_cell(cell, tmp_path)
    planned = plan(target)
    kind, package = DEPLOYED[(cell.compute, cell.format == "delta")]
    tasks = {task_of(r): r for r in planned.of_type(kind)}
    assert sorted(tasks) == ["check", "make", "shape"]
    if package is not None:
        # make writes a file; shape and check touch the cell's dataset.
        assert tasks["make"].inputs["packageType"] == "Zip"
        for task in ("shape", "check"):
            assert tasks[task].inputs["packageType"] == package, task
        assert {c.task for c in planned.choices} == {"make", "shape", "check"}
    rules = planned.of_type("aws:cloudwatch/eventRule:EventRule")
    assert [r.inputs["scheduleExpression"] for r in rules] == (
        [cell.schedule] if cell.schedule else []
    )
    if cell.accounts > 1:
        assert {r.account for r in planned.of_type("aws:s3/bucket:Bucket")} == {
            "111111111111",
            "222222222222",
        }
    written = generate(load_target(target), tmp_path / "infra")
    names = {Path(f).name for f in written["files"]}
    assert "__main__.py" in names
    assert ("Dockerfile.lambda" in names) == (package == "Image")
    assert ("Dockerfile" in names) == cell.compute.startswith("ecs")
    if cell.compute == "ecs-built":  # the image deploy builds, chosen and shown by the plan
        assert {c.task for c in planned.choices} == {"make", "shape", "check"}
        assert {i["kind"] for i in written["images"]} == {"ecs"}


#: The cells that differ in what runs: a zip, an image, csv directories, ECS, Glue, another
#: account's Delta table. Rehearsed (each on its own moto server, IAM enforced), 20-40 s a
#: cell. The default run rehearses the two data shapes no other rehearsal has (a Delta table
#: at a bucket's root, on the default compute's image; csv directories under a prefix); the
#: others are rehearsed elsewhere too (a zip on Lambda and ECS: tests/infra/test_rehearse.py's
#: medallion; Glue: tests/test_rehearse_deployments.py; another account's bucket:
#: test_rehearse.py's cross-account test), so here they run in the stress run only.
REHEARSED = [
    pytest.param(
        Cell("file", "parquet", "lambda", schedule="rate(1 day)"), marks=pytest.mark.stress
    ),
    Cell("root", "delta"),
    Cell("prefix", "csv"),
    pytest.param(Cell("prefix", "delta", "ecs"), marks=pytest.mark.stress),
    pytest.param(Cell("prefix", "delta", "glue"), marks=pytest.mark.stress),
    pytest.param(Cell("prefix", "delta", accounts=2), marks=pytest.mark.stress),
]


@pytest.mark.parametrize("cell", REHEARSED, ids=lambda c: c.id)
def test_a_first_pipeline_rehearses(cell: Cell, tmp_path: Path) -> None:
    report = rehearse(write_cell(cell, tmp_path))
    assert report.ok, report.to_text()
    assert [t.task for t in report.tasks] == ["make", "shape", "check"]
    assert report.task("shape").written == ("shaped",)
    assert report.task("check").written == ("checked",)

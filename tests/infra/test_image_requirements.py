"""What the deployed images and layers install, derived from what their tasks import.

Found while merging: every image (ECS, Cloud Run, Container Apps) installed the Lambda
layer's AWS pins, so a deployed GCP job had no gcsfs, an Azure job no adlfs, and no image or
layer carried the PostgreSQL driver a database task imports. One function
(:mod:`glacier.infra.requirements`) now says what a package needs, per cloud and per task.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from glacier import Dataset, Pipeline
from glacier.infra import plan
from glacier.infra.image import dockerfile_source, image_requirements
from glacier.infra.lambda_package import function_spec
from glacier.infra.model import build_model
from glacier.infra.requirements import extra_distributions
from glacier.targets import load_target
from infra.azure.pipelines import azure_env, lake_pipeline
from infra.gcp.pipelines import gcp_env
from infra.gcp.test_project import PIPELINE
from infra.pipelines import attached_pipeline
from infra.plans import ROOT
from infra.test_rehearse_clouds import CLOUDS, _pipeline

# The GCP project test's two-task pipeline, with settings of its own (one-file datasets).
GCP_PIPELINE = PIPELINE

GCP_SETTINGS = """
name = "gcp"
[provider]
kind = "gcp"
project_id = "acme-data-prod"
region = "europe-west1"

[buckets.raw]
bucket_name = "acme-prod-raw"
path = "orders.parquet"

[buckets.clean]
bucket_name = "acme-prod-clean"
path = "orders.parquet"
"""


def names(requirements: list[str] | tuple[str, ...]) -> set[str]:
    """The distribution names of pinned requirements."""
    return {r.split("==")[0] for r in requirements}


@pytest.fixture
def gcp_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GLACIER_ENV", raising=False)
    (tmp_path / "containers").mkdir()
    (tmp_path / "lake.py").write_text(GCP_PIPELINE)
    (tmp_path / "containers" / "gcp.toml").write_text(GCP_SETTINGS)
    yield tmp_path
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", "") or "").startswith(str(tmp_path)):
            del sys.modules[name]


def test_a_gcp_pipelines_generated_dockerfile_installs_gcsfs_not_the_aws_clients(
    gcp_project: Path,
) -> None:
    from glacier.cli import app

    result = CliRunner().invoke(app, ["generate", "lake.py", "--env", "gcp", "-o", "infra"])
    assert result.exit_code == 0, result.output
    dockerfile = (gcp_project / "infra" / "Dockerfile").read_text()
    installed = {
        line.strip(" \\").split("==")[0]
        for line in dockerfile.split("RUN pip install --no-cache-dir \\\n", 1)[1]
        .split("\nRUN", 1)[0]
        .splitlines()
    }
    assert {"gcsfs", "google-auth", "polars"} <= installed
    assert not {"s3fs", "boto3", "adlfs", "deltalake"} & installed  # no tables here


def test_an_azure_image_installs_adlfs_and_azure_identity() -> None:
    pipeline, env = lake_pipeline()
    model = build_model(pipeline, [env])
    requirements = image_requirements(model)
    assert {"adlfs", "azure-identity"} <= names(requirements)
    assert not {"s3fs", "boto3", "gcsfs"} & names(requirements)
    # raw/ is a parquet directory (a Delta table): deltalake comes with it.
    assert "deltalake" in names(requirements)
    source = dockerfile_source("etl", "..", from_index=True, requirements=requirements)
    assert "adlfs==" in source and "azure-identity==" in source


def test_a_database_tasks_image_installs_the_postgres_driver_and_dynamodbs_client() -> None:
    model = build_model(attached_pipeline(compute="ecs"))
    requirements = names(image_requirements(model))
    assert set(extra_distributions("postgres")) <= requirements
    assert {"adbc-driver-postgresql", "adbc-driver-manager", "pyarrow"} <= requirements
    assert {"s3fs", "aiobotocore", "boto3"} <= requirements
    assert not {"gcsfs", "adlfs"} & requirements


def test_each_lambda_task_gets_what_it_imports_and_a_database_task_an_image() -> None:
    pipeline = attached_pipeline(compute="lambda")
    model = build_model(pipeline)
    fetch, report = model.task("fetch"), model.task("report")
    fetch_needs = names(function_spec(model, fetch).requirements)
    report_needs = names(function_spec(model, report).requirements)
    assert "adbc-driver-postgresql" in fetch_needs and "pyarrow" in fetch_needs
    assert "adbc-driver-postgresql" not in report_needs and "deltalake" not in report_needs
    assert {"s3fs", "boto3", "polars"} <= report_needs

    planned = plan(pipeline)
    texts = {c.task: c.text for c in planned.choices if hasattr(c, "package")}
    assert texts["fetch"].startswith("fetch: Lambda container image — its database needs the ")
    assert "adbc-driver-postgresql" in texts["fetch"]
    assert texts["report"].startswith("report: Lambda zip package")
    functions = {f.name: f.inputs for f in planned.of_type("aws:lambda/function:Function")}
    by_task = {k.rsplit("-", 2)[-2]: v for k, v in functions.items()}
    assert by_task["fetch"]["packageType"] == "Image"
    assert by_task["report"]["packageType"] == "Zip"
    # The image holds what its functions import: the driver among them.
    (image,) = planned.images
    assert "adbc-driver-postgresql" in names(image.requirements)


def test_a_zip_asked_for_a_database_task_is_refused_naming_the_image() -> None:
    from glacier import Database, Environment
    from glacier.errors import InfraError
    from infra.pipelines import attached_settings

    env = Environment.from_settings(attached_settings())
    pipeline = Pipeline("zipped", env=env)
    out = Dataset("out", storage=env.storage.s3(bucket="prod-quotes", path="z.parquet"))

    @pipeline.task(compute=env.compute.lambda_(package_type="Zip"))
    def fetch(warehouse: Database) -> out:
        return pl.DataFrame({"x": [1]})

    with pytest.raises(InfraError) as caught:
        plan(pipeline)
    text = str(caught.value)
    for part in ("'fetch'", "PostgreSQL driver", "package_type='Image'", "250 MB"):
        assert part in text


def _excel_pipeline(excel: bool) -> Any:
    env = gcp_env()
    fmt = {"format": "xlsx"} if excel else {}
    path = "o.xlsx" if excel else "o.parquet"
    out = Dataset("out", storage=env.storage.gcs("acme-out", path, **fmt))  # type: ignore[attr-defined]
    pipeline = Pipeline("sheets", env=env)

    @pipeline.task()
    def make() -> out:
        return pl.DataFrame({"x": [1]})

    return pipeline


def test_a_formats_extra_goes_into_the_image_and_moves_its_tag() -> None:
    with_excel = build_model(_excel_pipeline(True))
    without = build_model(_excel_pipeline(False))
    assert set(extra_distributions("excel")) <= names(image_requirements(with_excel))
    assert not set(extra_distributions("excel")) & names(image_requirements(without))
    # The image tag is derived from the requirements: it moves with them.
    tags = []
    for excel in (True, False):
        planned = plan(_excel_pipeline(excel))
        (image,) = {c.image for c in planned.choices if hasattr(c, "image")}
        tags.append(image.rsplit(":", 1)[1])
    assert tags[0] != tags[1]


def test_an_azure_jobs_image_tag_moves_with_its_requirements() -> None:
    env = azure_env()

    def pipeline(table: bool) -> Pipeline:
        out = Dataset("out", storage=env.storage.blob("lake", "out/" if table else "o.parquet"))
        p = Pipeline("tagged")

        @p.task()
        def make() -> out:
            return pl.DataFrame({"x": [1]})

        return p

    images = []
    for table in (True, False):
        (job,) = plan(pipeline(table), environments=[env]).of_type("azure-native:app:Job")
        images.append(job.inputs["template"]["containers"][0]["image"])
    assert images[0] != images[1]


# -- the requirement sets are enough, run as the cloud would run them ---------------------------


@pytest.fixture
def emulators(request: pytest.FixtureRequest) -> dict[str, str]:
    """The suite's emulators: the GCS emulator's URL, Azurite's blob endpoint."""
    azurite = request.getfixturevalue("azurite_server")
    return {
        "gcp": request.getfixturevalue("gcs_endpoint"),
        "azure": f"http://127.0.0.1:{azurite.port}",
    }


@pytest.fixture(scope="session")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Callable[[list[str]], Path]:
    """A virtual environment holding exactly ``requirements`` and Glacier (installed without
    its dependencies, as the generated Dockerfile installs it), from uv's cache (offline,
    the lock installed here as constraints); one per requirement set per session."""
    uv = Path(sys.executable).with_name("uv")
    made: dict[tuple[str, ...], Path] = {}
    constraints = tmp_path_factory.mktemp("constraints") / "installed.txt"
    frozen = subprocess.run(
        [str(uv), "pip", "freeze", "--python", sys.executable],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    constraints.write_text(
        "\n".join(line for line in frozen if "==" in line and "glacier" not in line)
    )

    def make(requirements: list[str]) -> Path:
        key = tuple(sorted(requirements))
        if key in made:
            return made[key]
        root = tmp_path_factory.mktemp("image-venv")
        steps = [
            [str(uv), "venv", "--quiet", "--python", sys.executable, str(root / "v")],
            [str(uv), "pip", "install", "--quiet", "--offline", "--python", str(root / "v"),
             "-c", str(constraints), *requirements],
            [str(uv), "pip", "install", "--quiet", "--offline", "--no-deps", "--python",
             str(root / "v"), str(ROOT)],
        ]  # fmt: skip
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, check=False)
            assert done.returncode == 0, done.stderr
        made[key] = root / "v" / "bin" / "python"
        return made[key]

    return make


@pytest.mark.parametrize("cloud", ["gcp", "azure"])
def test_a_deployed_job_runs_from_exactly_its_images_requirements(
    cloud: str,
    tmp_path: Path,
    emulators: dict[str, str],
    image_venv: Callable[[list[str]], Path],
) -> None:
    """The rehearsal of the builders' own plan, its jobs started with the interpreter of a
    virtual environment holding only what the generated Dockerfile installs: the storage
    client of the cloud is there, the other clouds' are not, and every job succeeds."""
    from glacier.infra import rehearse

    bucket = f"image-{uuid.uuid4().hex[:10]}"
    target = _pipeline(tmp_path, cloud, bucket)
    model = build_model(load_target(target))
    requirements = image_requirements(model)
    python = image_venv(requirements)
    others = {"gcp": "s3fs, boto3, adlfs", "azure": "s3fs, boto3, gcsfs"}[cloud]
    probe = (
        f"import importlib.util as u; print([m for m in '{others}'.split(', ') if u.find_spec(m)])"
    )
    found = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"  # nothing of another cloud's in the image

    report = rehearse(target, CLOUDS[cloud]["env"], emulator=emulators[cloud], python=str(python))
    assert report.ok, report.to_text()
    assert {t.task: t.status for t in report.tasks} == {
        "extract": "succeeded",
        "summarize": "succeeded",
        "publish": "succeeded",
        "count": "succeeded",
    }
    assert report.task("summarize").written == ("totals",)


def test_python_is_refused_for_an_aws_rehearsal(tmp_path: Path) -> None:
    from glacier.errors import ConfigError
    from glacier.infra import rehearse

    with pytest.raises(ConfigError, match="python= applies to GCP and Azure"):
        rehearse(attached_pipeline(), "prod", python=sys.executable)


def test_a_gcp_task_reaching_an_existing_postgres_server_gets_the_driver() -> None:
    """The plan declares nothing for a server reached through its settings alone (no Cloud
    SQL instance), but the task still imports the driver at run time."""
    from glacier import Database

    env = gcp_env()
    env.register("warehouse", env.database.postgres("warehouse"))  # type: ignore[attr-defined]
    out = Dataset("out", storage=env.storage.gcs("acme-out", "o.parquet"))  # type: ignore[attr-defined]
    pipeline = Pipeline("pg", env=env)

    @pipeline.task()
    def load(warehouse: Database) -> out:
        return pl.DataFrame({"x": [1]})

    model = build_model(pipeline)
    assert not model.databases  # nothing declared for it
    requirements = names(image_requirements(model))
    assert set(extra_distributions("postgres")) | {"gcsfs"} <= requirements


def test_the_requirements_modules_examples_run() -> None:
    import doctest

    import glacier.infra.requirements as module

    result = doctest.testmod(module)
    assert result.failed == 0 and result.attempted > 0

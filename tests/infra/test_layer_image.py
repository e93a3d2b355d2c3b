"""The image of ECS tasks: a Dockerfile in the generated project holding the Lambda layer's
dependencies, Glacier, and the pipeline's code, starting the entry point the plan uses.
(No Docker here: its content is what is checked.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

from glacier.infra import generate, plan
from glacier.infra.layer import LayerSpec
from glacier.targets import load_target
from glacier.version import __version__

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"

ECS = 'env.compute.ecs(image="acme/etl:1", cpu=512, memory=1024)'
CONTAINERS = """
import polars as pl
from glacier import AWSEnvironment, Dataset, Pipeline

env = AWSEnvironment(account_id="444444444444", region="eu-west-1", environment="img")
pipeline = Pipeline("imaged")
raw = Dataset("raw", storage=env.storage.s3(bucket="img-raw", path="raw.parquet"))
out = Dataset("out", storage=env.storage.s3(bucket="img-out", path="out/"))


@pipeline.task(compute=env.compute.lambda_())
def extract() -> raw:
    return pl.DataFrame({"x": [1]})


@pipeline.task(compute={compute})
def load(data: raw) -> out:
    return data
"""


def dockerfile_pins(text: str) -> list[str]:
    """The requirements of the Dockerfile's first ``pip install`` (continued lines)."""
    step = re.search(r"^RUN pip install --no-cache-dir \\\n((?:    .*\n)+)", text, re.M)
    assert step is not None, text
    return [line.strip().rstrip("\\").strip() for line in step.group(1).splitlines()]


def test_the_generated_dockerfile_holds_the_layers_pins_and_runs_the_plans_entry_point(
    tmp_path: Path,
) -> None:
    code = tmp_path / "etl"
    code.mkdir()
    (code / "pipeline.py").write_text(CONTAINERS.replace("{compute}", ECS))
    pipeline = load_target(f"{code / 'pipeline.py'}:pipeline")
    written = generate(pipeline, tmp_path / "infra")
    dockerfile = tmp_path / "infra" / "Dockerfile"
    assert str(dockerfile) in written["files"]
    text = dockerfile.read_text()
    # The same versions as the Lambda layer, plus deltalake (an image has room for it).
    pins = dockerfile_pins(text)
    layer = LayerSpec.for_function("python3.11", "x86_64").requirements
    assert set(layer) <= set(pins)
    assert [p for p in pins if p not in layer] == [
        r
        for r in LayerSpec.for_function("python3.11", "x86_64", tables=True).requirements
        if r.startswith("deltalake==")
    ]
    assert f"--no-deps glacier-pipelines=={__version__}" in text
    assert "FROM public.ecr.aws/docker/library/python:3.11-slim" in text
    # Built from the pipeline's code root, which it copies where the command runs.
    assert "docker build -f Dockerfile -t <registry>/<repository>:<tag> ../etl" in text
    assert "WORKDIR /app\nCOPY . /app\n" in text
    # The task definition's command is the Dockerfile's CMD, then the target and the task.
    cmd = json.loads(re.search(r"^CMD (.*)$", text, re.M).group(1))  # type: ignore[union-attr]
    (definition,) = plan(pipeline).of_type(TASK_DEFINITION)
    command = json.loads(definition.inputs["containerDefinitions"])[0]["command"]
    assert command == [*cmd, "pipeline.py:pipeline", "load"]
    assert (code / command[3].split(":")[0]).is_file()  # the target, found in /app


def test_a_project_without_ecs_tasks_gets_no_dockerfile(tmp_path: Path) -> None:
    code = tmp_path / "etl"
    code.mkdir()
    (code / "pipeline.py").write_text(CONTAINERS.replace("{compute}", "env.compute.lambda_()"))
    written = generate(load_target(f"{code / 'pipeline.py'}:pipeline"), tmp_path / "infra")
    assert written["files"] and not (tmp_path / "infra" / "Dockerfile").exists()

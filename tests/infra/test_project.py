"""Generating a Pulumi project: a stack per environment, a program that runs under mocks."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import infra_pipelines as seeds
from glacier.infra import Plan, generate, plan
from infra.plans import ROOT, TESTS


def test_generate_writes_a_project_with_a_stack_per_environment(tmp_path: Path) -> None:
    out = tmp_path / "infra"
    written = generate(seeds.dev_pipeline, out, [seeds.aws_dev, seeds.aws_staging, seeds.aws_prod])
    assert written["stacks"] == ["dev", "staging", "prod"]
    names = sorted(Path(f).name for f in written["files"])
    assert names == [
        "Pulumi.dev.yaml",
        "Pulumi.prod.yaml",
        "Pulumi.staging.yaml",
        "Pulumi.yaml",
        "__main__.py",
        "requirements.txt",
    ]
    project = yaml.safe_load((out / "Pulumi.yaml").read_text())
    assert project["name"] == "analytics-dev"
    assert project["runtime"]["name"] == "python"
    prod = yaml.safe_load((out / "Pulumi.prod.yaml").read_text())["config"]
    assert prod["aws:region"] == "us-east-1"
    assert prod["aws:profile"] == "production"
    assert prod["aws:allowedAccountIds"] == ["999999999999"]
    assert prod["glacier:environment"] == "prod"
    assert prod["glacier:pipeline"] == "analytics-prod"  # the factory's prod pipeline serves it
    main = (out / "__main__.py").read_text()
    tree = ast.parse(main)
    stacks = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and node.targets[0].id == "STACKS"  # type: ignore[attr-defined]
    )
    table = ast.literal_eval(stacks)
    assert {k: attr for k, (_, attr) in table.items()} == {
        "dev": "dev_pipeline",
        "staging": "staging_pipeline",
        "prod": "prod_pipeline",
    }
    for module, _ in table.values():  # relative to the project, resolved from __main__.py
        assert not Path(module).is_absolute()
        assert (out / module).resolve() == TESTS / "infra_pipelines.py"
    requirements = (out / "requirements.txt").read_text().splitlines()
    assert any(r.startswith("pulumi-aws") for r in requirements)
    assert any(r.startswith("glacier-pipelines[s3,deploy]==") for r in requirements)


def test_the_generated_program_runs_under_mocks(tmp_path: Path, dev_plan: Plan) -> None:
    out = tmp_path / "infra"
    generate(seeds.dev_pipeline, out, [seeds.aws_dev, seeds.aws_prod])
    script = (
        "import sys, json\n"
        "from glacier.infra.mocks import plan_project\n"
        "p = plan_project(sys.argv[1], sys.argv[2])\n"
        "print(json.dumps({'count': len(p), 'envs': sorted({r.environment or '' for r in p})}))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(TESTS)])}
    runs = {}
    for stack in ("dev", "prod"):
        done = subprocess.run(
            [sys.executable, "-c", script, str(out), stack],
            capture_output=True,
            text=True,
            env=env,
            cwd=out,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        runs[stack] = json.loads(done.stdout.strip().splitlines()[-1])
    assert runs["dev"] == {"count": len(dev_plan), "envs": ["dev"]}
    assert runs["prod"]["envs"] == ["prod"]
    assert runs["prod"]["count"] == len(plan(seeds.prod_pipeline))


def test_run_generate_uses_the_pipelines_environments(tmp_path: Path) -> None:
    written = seeds.cross_account_pipeline.run(mode="generate", output_dir=tmp_path / "p")
    assert written["stacks"] == ["dev", "prod"]
    for f in written["files"]:
        if f.endswith(".yaml"):
            assert isinstance(yaml.safe_load(Path(f).read_text()), dict)
        if f.endswith(".py"):
            compile(Path(f).read_text(), f, "exec")


def test_generate_refuses_what_plan_refuses_and_writes_nothing(tmp_path: Path) -> None:
    """Issue 22: `glacier generate` wrote a project for a pipeline `glacier plan` refused."""
    from glacier.errors import InfraError
    from infra.test_lambda_image import small_pipeline

    refused = small_pipeline("out/", package_type="Zip")  # a Delta table in a zip: refused
    with pytest.raises(InfraError) as planned:
        plan(refused)
    out = tmp_path / "infra"
    with pytest.raises(InfraError) as generated:
        generate(refused, out)
    assert str(generated.value) == str(planned.value)
    assert not out.exists()


def test_generate_onto_a_file_is_an_output_path_error(tmp_path: Path) -> None:
    from glacier.errors import OutputPathError

    taken = tmp_path / "taken"
    taken.write_text("mine")
    with pytest.raises(OutputPathError, match="is a file, not a directory"):
        generate(seeds.dev_pipeline, taken)
    assert taken.read_text() == "mine"


def test_generate_writes_the_lambda_image_dockerfile_with_the_plan_pins(tmp_path: Path) -> None:
    from importlib.metadata import version

    from glacier.infra.image import IMAGE_HANDLER
    from infra import seed_patterns

    written = generate(seed_patterns.layer2_pipeline, tmp_path / "infra")
    dockerfile = (tmp_path / "infra" / "Dockerfile.lambda").read_text()
    assert "FROM public.ecr.aws/lambda/python:3.11\n" in dockerfile
    for name in ("polars", "deltalake", "pydantic", "boto3"):
        assert f"{name}=={version(name)}" in dockerfile
    assert "COPY . ${LAMBDA_TASK_ROOT}\n" in dockerfile
    assert dockerfile.endswith(f'CMD ["{IMAGE_HANDLER}"]\n')
    (image,) = written["images"]
    function = plan(seed_patterns.layer2_pipeline).of_type("aws:lambda/function:Function")[0]
    assert function.inputs["imageUri"].endswith(f":{image['tag']}")
    assert image["repository"] == "prod-layer-two" and image["platform"] == "linux/amd64"
    assert image["dockerfile"] == str(tmp_path / "infra" / "Dockerfile.lambda")
    assert Path(image["context"]) == TESTS  # the code root: above the infra package

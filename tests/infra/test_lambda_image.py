"""Defaults that fit (issue 22, item 1): a Lambda task whose runtime cannot fit a zip (Delta
tables: deltalake beside polars) is packaged as a container image, chosen by the plan and
shown in it; an explicit compute or package is kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from glacier import AWSEnvironment, Dataset, Pipeline
from glacier.errors import ConfigError, InfraError
from glacier.infra import generate, plan
from glacier.infra.image import IMAGE_HANDLER
from glacier.settings import LambdaConfig
from infra import seed_patterns

FUNCTION = "aws:lambda/function:Function"
REPOSITORY = "aws:ecr/repository:Repository"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def functions(planned: Any) -> dict[str, Any]:
    return {
        f.inputs["environment"]["variables"]["GLACIER_TASK_NAME"]: f
        for f in planned.of_type(FUNCTION)
    }


@pytest.mark.parametrize("name", sorted(seed_patterns.PATTERNS))
def test_the_seed_patterns_plan_their_table_tasks_as_images(name: str) -> None:
    planned = plan(seed_patterns.PATTERNS[name])
    made = functions(planned)
    assert made, "every seed pattern runs on Lambda"
    for task, function in made.items():
        assert function.inputs["packageType"] == "Image", task
    packages = [c for c in planned.choices if hasattr(c, "package")]  # not the timing lines
    assert sorted(c.task for c in packages) == sorted(made)
    for choice in packages:
        assert choice.package == "Image" and choice.chosen
        assert choice.text.startswith(f"{choice.task}: Lambda container image — Delta tables")
        assert "need deltalake, " in choice.text and choice.text.endswith(" MB")


def test_an_image_function_runs_the_image_handler_from_the_environment_repository() -> None:
    planned = plan(seed_patterns.layer2_pipeline)
    function = functions(planned)["process"]
    inputs = function.inputs
    (repository,) = planned.of_type(REPOSITORY)
    url = repository.outputs["repositoryUrl"]
    assert url == "123456789012.dkr.ecr.us-east-1.amazonaws.com/prod-layer-two"
    assert inputs["imageUri"].startswith(f"{url}:py311-x86_64-")
    assert inputs["imageConfig"] == {"commands": [IMAGE_HANDLER]}
    # An image function has no runtime, handler, code or layers: the image holds them.
    assert not {"runtime", "handler", "code", "layers"} & set(inputs)
    assert not planned.of_type("aws:lambda/layerVersion:LayerVersion")
    variables = inputs["environment"]["variables"]
    assert variables["GLACIER_TARGET"] == "infra/seed_patterns.py:layer2_pipeline"
    assert repository.inputs["imageTagMutability"] == "IMMUTABLE"
    (lifecycle,) = planned.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    (rule,) = json.loads(lifecycle.inputs["policy"])["rules"]
    assert rule["selection"]["countNumber"] == 10 and rule["action"] == {"type": "expire"}
    assert "\nChosen by the plan:\n  process: Lambda container image — " in planned.to_text()


def test_the_lambda_service_pulls_images_for_the_environment_functions_only() -> None:
    planned = plan(seed_patterns.layer2_pipeline)
    (policy,) = planned.of_type(REPOSITORY_POLICY)
    assert policy.inputs["repository"] == "prod-layer-two"
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statement["Action"] == ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    assert statement["Condition"] == {
        "StringLike": {"aws:sourceArn": "arn:aws:lambda:us-east-1:123456789012:function:*"}
    }
    # The function's own role needs nothing of ECR: the service pulls the image.
    for role_policy in planned.of_type(ROLE_POLICY):
        actions = [a for s in role_policy.policy()["Statement"] for a in s["Action"]]
        assert not [a for a in actions if a.startswith("ecr:")], role_policy.name


def test_one_repository_per_environment_and_one_tag_per_content() -> None:
    planned = plan(seed_patterns.dev_pipeline)
    assert len(planned.of_type(REPOSITORY)) == 1
    uris = {f.inputs["imageUri"] for f in planned.of_type(FUNCTION)}
    assert len(uris) == 1  # both tasks run the same image: the handler picks the task


def small_pipeline(path: str, **lambda_: Any) -> Pipeline:
    env = AWSEnvironment(account_id="111111111111", region="us-east-1", environment="pk")
    pipeline = Pipeline("packaged", env=env)
    out = Dataset("out", storage=env.storage.s3(bucket="pk-out", path=path))
    compute = env.compute.lambda_(**lambda_) if lambda_ else None

    @pipeline.task(compute=compute)
    def make() -> out:
        return None

    return pipeline


def test_a_task_whose_runtime_fits_stays_a_zip_and_the_plan_says_why() -> None:
    planned = plan(small_pipeline("out.parquet"))
    (function,) = planned.of_type(FUNCTION)
    assert function.inputs["packageType"] == "Zip" and function.inputs["handler"]
    (choice,) = planned.choices
    assert choice.package == "Zip" and choice.chosen
    assert choice.text.startswith("make: Lambda zip package — its code and dependencies (")
    assert choice.text.endswith(" MB) fit 250 MB")


def test_a_package_named_in_the_settings_is_kept() -> None:
    planned = plan(small_pipeline("out.parquet", package_type="Image"))
    (function,) = planned.of_type(FUNCTION)
    assert function.inputs["packageType"] == "Image"
    (choice,) = planned.choices
    assert not choice.chosen
    assert choice.text == "make: Lambda container image — package_type='Image' in its settings"


def test_a_zip_named_for_a_table_task_is_refused_naming_the_image() -> None:
    with pytest.raises(InfraError) as caught:
        plan(small_pipeline("out/", package_type="Zip"))
    message = str(caught.value)
    assert "Task 'make'" in message and "Delta table(s) 'out'" in message
    assert "package_type='Image'" in message


def test_an_explicit_compute_wins() -> None:
    env = AWSEnvironment(account_id="111111111111", region="us-east-1", environment="pk")
    pipeline = Pipeline("on-ecs", env=env)
    out = Dataset("out", storage=env.storage.s3(bucket="pk-out"))

    @pipeline.task(
        compute=env.compute.ecs(image="111111111111.dkr.ecr.us-east-1.amazonaws.com/x:1")
    )
    def make() -> out:
        return None

    planned = plan(pipeline)
    assert not planned.of_type(FUNCTION) and not planned.choices
    assert planned.of_type("aws:ecs/taskDefinition:TaskDefinition")


def test_an_image_function_has_no_layers() -> None:
    with pytest.raises(ConfigError, match="package_type='Image'"):
        LambdaConfig(
            package_type="Image", layers=["arn:aws:lambda:us-east-1:123456789012:layer:x:1"]
        )


def test_the_plan_shows_its_choices_in_the_table_and_the_json() -> None:
    from cli.commands import invoke

    target = f"{Path(seed_patterns.__file__)}:layer2_pipeline"
    code, out, _ = invoke("plan", target)
    assert code == 0
    assert "process: Lambda container image — Delta tables need deltalake, " in out
    code, out, _ = invoke("plan", target, "--json")
    assert code == 0
    (choice,) = json.loads(out)["choices"]
    assert choice["task"] == "process" and choice["package"] == "Image"
    assert choice["text"].startswith("process: Lambda container image — Delta tables need")


def test_a_rehearsal_runs_the_image_handler_on_the_code_the_image_holds() -> None:
    from glacier.infra.aws.packaging import code_files, glacier_files
    from glacier.infra.model import build_model
    from glacier.infra.rehearse.artifacts import artifacts

    planned = plan(seed_patterns.layer2_pipeline)
    model = build_model(seed_patterns.layer2_pipeline)
    art = artifacts(planned.resources, model)["process"]
    assert art.compute == "lambda" and art.entry == (IMAGE_HANDLER,)
    assert art.variables["GLACIER_TARGET"] == "infra/seed_patterns.py:layer2_pipeline"
    assert model.code is not None
    assert set(art.files) == {*glacier_files(), *code_files(model.code)}
    assert "glacier_handler.py" not in art.files  # a zip's entry point, not the image's


def test_promotion_generates_a_stack_per_environment_each_with_its_image(tmp_path: Path) -> None:
    """The seeds' promotion: one project, dev/staging/prod stacks, bucket-root datasets."""
    envs = [seed_patterns.aws_dev, seed_patterns.aws_staging, seed_patterns.aws_prod]
    written = generate(seed_patterns.dev_pipeline, tmp_path / "infra", envs)
    assert written["stacks"] == ["dev", "staging", "prod"]
    assert (tmp_path / "infra" / "Dockerfile.lambda").is_file()
    images = {(i["environment"], i["repository"]) for i in written["images"]}
    assert images == {
        ("dev", "dev-analytics-dev"),
        ("staging", "staging-analytics-staging"),
        ("prod", "prod-analytics-prod"),
    }

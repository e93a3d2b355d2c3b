"""The ECR repository of an environment's container images, and the image a task runs.

One repository per project and environment, declared on first use (an environment whose
functions are all zips, and whose ECS tasks name their images, has none): Lambda functions
packaged as images, and ECS tasks given no ``image=``, run images ``glacier deploy`` builds
and pushes there. Its policy lets the Lambda service pull the images for
the environment's own functions (what a function created from an image needs; the function's
role needs no ECR permission). The image is tagged with a digest of what it holds: the
pinned requirements, the Python version and architecture, Glacier and the pipeline's code,
so a change of any of them is a new tag, and a new tag a new function version; the
repository keeps the :data:`KEPT_IMAGES` most recent.

Example:
    >>> image_tag(["polars==1.0"], "3.11", "x86_64", {})[:12]
    'py311-x86_64'
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from glacier.infra import iam
from glacier.infra.aws.naming import partition_of, repository_name
from glacier.infra.aws.packaging import code_files, code_spec, glacier_files
from glacier.infra.aws.stack import Stack, account_of, add, json_input, logical_name
from glacier.infra.image import image_requirements
from glacier.infra.lambda_package import ContainerImage, image_spec
from glacier.infra.model import TaskSpec
from glacier.version import __version__

#: Images a repository keeps: every deployment of changed code pushes one (hundreds of MB),
#: and the images in use are the most recent (one per kind and Python version).
KEPT_IMAGES = 10
#: What the Lambda service needs on a repository to create functions from its images.
LAMBDA_PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")


def repository(stack: Stack) -> Any:
    """The environment's image repository (declared once)."""
    made = stack.shared.get("repository")
    if made is not None:
        return made
    aws, env, model = stack.aws, stack.env, stack.model
    made = stack.shared["repository"] = add(
        stack,
        aws.ecr.Repository,
        logical_name(stack, "images"),
        name=repository_name(model, env),
        image_tag_mutability="IMMUTABLE",
        image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
            scan_on_push=True
        ),
        tags=stack.tags,
    )
    add(
        stack,
        aws.ecr.LifecyclePolicy,
        logical_name(stack, "images", "lifecycle"),
        repository=made.name,
        policy=json.dumps(
            {
                "rules": [
                    {
                        "rulePriority": 1,
                        "description": f"Keep the {KEPT_IMAGES} most recent images",
                        "selection": {
                            "tagStatus": "any",
                            "countType": "imageCountMoreThan",
                            "countNumber": KEPT_IMAGES,
                        },
                        "action": {"type": "expire"},
                    }
                ]
            }
        ),
    )
    return made


def lambda_pull_policy(stack: Stack) -> None:
    """The repository's policy letting the Lambda service pull images for the environment's
    own functions (declared once, when a function runs an image)."""
    if stack.shared.get("lambda_pull_policy"):
        return
    stack.shared["lambda_pull_policy"] = True
    aws, env, made = stack.aws, stack.env, repository(stack)
    functions = f"arn:{partition_of(env)}:lambda:{env.region}:{{account}}:function:*"
    account = account_of(stack)
    source = (
        functions.format(account=account)
        if isinstance(account, str)
        else account.apply(lambda a: functions.format(account=a))
    )
    add(
        stack,
        aws.ecr.RepositoryPolicy,
        logical_name(stack, "images", "policy"),
        repository=made.name,
        policy=json_input(
            stack,
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "LambdaPull",
                        "Effect": "Allow",
                        "Principal": {"Service": iam.COMPUTE_PRINCIPALS["lambda"]},
                        "Action": list(LAMBDA_PULL_ACTIONS),
                        "Condition": {"StringLike": {"aws:sourceArn": source}},
                    }
                ],
            },
        ),
    )


def image_uri(stack: Stack, task: TaskSpec, kind: Literal["lambda", "ecs"] = "lambda") -> Any:
    """The URI (an Output) of the image ``task`` runs: the repository's, tagged with
    :func:`image_tag`. ``kind`` is the Dockerfile it is built from: a Lambda function's
    (AWS's Lambda base image, the function's Python and architecture) or an ECS task's (the
    Python image of this interpreter, x86_64, Fargate's default platform)."""
    if kind == "lambda":
        spec = image_spec(stack.model, task)
        python, architecture = spec.python_version, task.config.architecture
        requirements = spec.requirements
    else:
        python, architecture = f"{sys.version_info.major}.{sys.version_info.minor}", "x86_64"
        requirements = tuple(image_requirements(stack.model))
    if kind == "lambda":
        lambda_pull_policy(stack)
    key = "image_tag:" + "|".join((kind, python, architecture, *requirements))
    tag = stack.shared.get(key)  # one digest of the code per image, not per task
    if tag is None:
        files = {**glacier_files(), **code_files(code_spec(stack))}
        tag = stack.shared[key] = image_tag(requirements, python, architecture, files, kind)
    stack.out.images[tag] = ContainerImage(
        environment=stack.env.key,
        repository=repository_name(stack.model, stack.env),
        tag=tag,
        python=python,
        architecture=architecture,
        requirements=requirements,
        kind=kind,
    )
    return repository(stack).repository_url.apply(lambda url: f"{url}:{tag}")


def image_tag(
    requirements: Sequence[str],
    python: str,
    architecture: str,
    files: Mapping[str, Path],
    kind: str = "lambda",
) -> str:
    """``py311-x86_64-<digest>`` (``ecs-py311-...`` for an ECS image): the digest of the
    requirements, Glacier's version and the files the image holds (by name and content)."""
    digest = hashlib.sha256()
    for part in (*sorted(requirements), python, architecture, __version__, kind):
        digest.update(part.encode() + b"\0")
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].read_bytes() + b"\0")
    prefix = "" if kind == "lambda" else f"{kind}-"
    return f"{prefix}py{python.replace('.', '')}-{architecture}-{digest.hexdigest()[:16]}"

"""The ECR repository of an environment's Lambda container images, and the image they run.

One repository per project and environment, declared on first use (an environment whose
functions are all zips has none). Its policy lets the Lambda service pull the images for
the environment's own functions (what a function created from an image needs; the function's
role needs no ECR permission). The image is tagged with a digest of what it holds: the
pinned requirements, the Python version and architecture, Glacier and the pipeline's code,
so a change of any of them is a new tag, and a new tag a new function version.

Example:
    >>> image_tag(["polars==1.0"], "3.11", "x86_64", {})[:12]
    'py311-x86_64'
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from glacier.infra import iam
from glacier.infra.aws.naming import repository_name
from glacier.infra.aws.packaging import code_files, code_spec, glacier_files
from glacier.infra.aws.stack import Stack, account_of, add, json_input, logical_name
from glacier.infra.lambda_package import LambdaImage, table_spec
from glacier.infra.model import TaskSpec
from glacier.version import __version__

#: What the Lambda service needs on a repository to create functions from its images.
LAMBDA_PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")


def repository(stack: Stack) -> Any:
    """The environment's image repository (declared once, with its pull policy)."""
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
    functions = f"arn:{env.partition}:lambda:{env.region}:{{account}}:function:*"
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
    return made


def image_uri(stack: Stack, task: TaskSpec) -> Any:
    """The URI (an Output) of the image ``task``'s function runs: the repository's, tagged
    with :func:`image_tag`."""
    spec = table_spec(task)
    tag = image_tag(
        spec.requirements,
        spec.python_version,
        task.config.architecture,
        {**glacier_files(), **code_files(code_spec(stack))},
    )
    stack.out.images[tag] = LambdaImage(
        environment=stack.env.key,
        repository=repository_name(stack.model, stack.env),
        tag=tag,
        python=spec.python_version,
        architecture=task.config.architecture,
        requirements=spec.requirements,
    )
    return repository(stack).repository_url.apply(lambda url: f"{url}:{tag}")


def image_tag(
    requirements: Sequence[str], python: str, architecture: str, files: Mapping[str, Path]
) -> str:
    """``py311-x86_64-<digest>``: the digest of the requirements, Glacier's version and the
    files the image holds (by name and content)."""
    digest = hashlib.sha256()
    for part in (*sorted(requirements), python, architecture, __version__):
        digest.update(part.encode() + b"\0")
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].read_bytes() + b"\0")
    return f"py{python.replace('.', '')}-{architecture}-{digest.hexdigest()[:16]}"

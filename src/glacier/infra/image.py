"""The images deployed tasks run: Dockerfiles written into the generated project.

``Dockerfile`` is the image of ECS tasks; ``Dockerfile.lambda`` the image of Lambda functions
packaged as container images (:func:`lambda_dockerfile_source`, :mod:`glacier.infra.aws.ecr`),
which ``glacier deploy`` builds and pushes itself.

Glacier does not build or push images (there may be no Docker where a plan is made); the
user's CI does, from the Dockerfile ``glacier generate`` writes beside the Pulumi program, and
the tasks name the pushed image (``env.compute.ecs(image=...)``). The same image runs GCP's
Cloud Run jobs and Azure's Container Apps jobs. It holds what its tasks import at run time
(:func:`image_requirements`: their clouds' storage clients, deltalake, database drivers,
formats' extras, derived in one place, :mod:`glacier.infra.requirements`) pinned to the
versions installed here, Glacier itself, and the pipeline's code; its command is the entry
point the task definitions start (``python -m glacier.infra.runtime <target> <task>``).

Example:
    >>> "glacier.infra.runtime" in " ".join(ENTRY_POINT)
    True
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from glacier.extras import DISTRIBUTION
from glacier.infra.requirements import distributions, model_distributions, pinned
from glacier.version import __version__

if TYPE_CHECKING:
    from glacier.infra.model import InfraModel

#: The program an ECS task's container runs; a task definition appends the target and task.
ENTRY_POINT = ("python", "-m", "glacier.infra.runtime")
#: The base image: the official Python image of this interpreter's version, from ECR Public
#: (no Docker Hub rate limits from AWS).
BASE_IMAGE = "public.ecr.aws/docker/library/python:{version}-slim"


#: The compute kinds whose tasks run this image (ECS, Cloud Run jobs, Container Apps jobs).
CONTAINER_COMPUTES = ("ecs", "cloud_run", "container_app")


def image_requirements(model: InfraModel, *more: InfraModel) -> list[str]:
    """What the image pip-installs besides Glacier: what the container tasks of ``model``
    (and of ``more``: the other stacks of a project) import at run time (their clouds'
    storage clients, deltalake for Delta tables, database drivers, formats' extras:
    :mod:`glacier.infra.requirements`), pinned to the versions installed here. One image
    serves every container task of a project, so the union."""
    names: dict[str, None] = {}
    for each in (model, *more):
        tasks = [t for t in each.tasks if t.compute in CONTAINER_COMPUTES]
        if tasks:
            names.update(dict.fromkeys(model_distributions(each, tasks)))
    return pinned(list(names) or distributions([]))


def dockerfile_source(
    pipeline: str,
    code_root: str,
    *,
    from_index: bool,
    requirements: Sequence[str],
    origin: str = "checkout",
) -> str:
    """The Dockerfile of ``pipeline``'s container tasks (ECS, Cloud Run and Container Apps
    jobs); ``code_root`` is the build context (the pipeline's code root, relative to the
    generated project); ``from_index`` says whether Glacier's version can be installed from
    the package index; ``requirements`` are :func:`image_requirements`."""
    pins = list(requirements)
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    install = " \\\n    ".join(pins)
    glacier = f"{DISTRIBUTION}=={__version__}"
    glacier_step = (
        "" if from_index else _not_from_index(origin)
    ) + f"RUN pip install --no-cache-dir --no-deps {glacier}\n"
    return (
        f"# Image of the container tasks (ECS tasks, Cloud Run jobs, Container Apps jobs) of\n"
        f"# Glacier pipeline {pipeline!r} (generated, do not edit). glacier deploy builds and\n"
        "# pushes it to the tag the plan names (glacier package writes the commands for\n"
        "# Terraform); the build context is the pipeline's code root, from this directory:\n"
        f"#   docker build -f Dockerfile -t <registry>/<repository>:<tag> {code_root}\n"
        "# Its dependencies are what its tasks import (their clouds' storage clients, and\n"
        "# deltalake, database drivers or formats' extras when they need them), pinned to the\n"
        "# versions that generated it.\n"
        f"FROM {BASE_IMAGE.format(version=python)}\n"
        "ENV PYTHONUNBUFFERED=1\n"
        f"RUN pip install --no-cache-dir \\\n    {install}\n"
        f"{glacier_step}"
        "WORKDIR /app\n"
        "COPY . /app\n"
        f"CMD {json.dumps(list(ENTRY_POINT))}\n"
    )


#: The base image of Lambda functions packaged as container images: AWS's Lambda image for
#: Python (its runtime interface client calls the handler), from ECR Public.
LAMBDA_BASE_IMAGE = "public.ecr.aws/lambda/python:{version}"
#: The handler a Lambda container image runs (the function's image command); it finds the
#: pipeline through the function's ``GLACIER_TARGET`` variable.
IMAGE_HANDLER = "glacier.infra.runtime.image_handler"
#: The file ``glacier generate`` writes the Lambda image's Dockerfile to.
LAMBDA_DOCKERFILE = "Dockerfile.lambda"


def lambda_dockerfile_source(
    pipeline: str,
    code_root: str,
    *,
    python: str,
    requirements: Sequence[str],
    from_index: bool,
    origin: str = "checkout",
) -> str:
    """The Dockerfile of ``pipeline``'s Lambda container image functions: AWS's Lambda base
    image for ``python`` (``3.11``), the pinned ``requirements`` (what its functions import),
    Glacier, and the pipeline's code (the build context ``code_root``) in the task root."""
    install = " \\\n    ".join(requirements)
    glacier = f"{DISTRIBUTION}=={__version__}"
    note = "" if from_index else _not_from_index(origin)
    return (
        f"# Image of the Lambda functions of Glacier pipeline {pipeline!r} (generated, do not\n"
        "# edit). `glacier deploy` builds and pushes it when Docker (buildx) is installed, else\n"
        "# prints the commands; the build context is the pipeline's code root, from here:\n"
        f"#   docker buildx build --platform linux/amd64 --provenance=false -f {LAMBDA_DOCKERFILE}"
        f" -t <repository>:<tag> {code_root}\n"
        "# Its dependencies are what its functions import, pinned to the versions that\n"
        "# generated it.\n"
        f"FROM {LAMBDA_BASE_IMAGE.format(version=python)}\n"
        f"RUN pip install --no-cache-dir \\\n    {install}\n"
        f"{note}"
        f"RUN pip install --no-cache-dir --no-deps {glacier}\n"
        "COPY . ${LAMBDA_TASK_ROOT}\n"
        f"CMD {json.dumps([IMAGE_HANDLER])}\n"
    )


def lambda_dockerfile_name(python: str, pythons: Sequence[str]) -> str:
    """The file of the Lambda image for ``python`` (``3.11``): :data:`LAMBDA_DOCKERFILE`, or,
    when the project's functions run several versions, ``Dockerfile.lambda-py3.11``.

    Example:
        >>> lambda_dockerfile_name("3.11", ["3.11"])
        'Dockerfile.lambda'
        >>> lambda_dockerfile_name("3.12", ["3.11", "3.12"])
        'Dockerfile.lambda-py3.12'
    """
    return LAMBDA_DOCKERFILE if len(set(pythons)) <= 1 else f"{LAMBDA_DOCKERFILE}-py{python}"


def _not_from_index(origin: str) -> str:
    """The Dockerfile's note when Glacier was not installed from the package index here:
    from a checkout (``origin`` ``"checkout"``) or from the wheel or sdist file ``origin``."""
    if origin == "checkout":
        return (
            "# Glacier is installed here from a checkout, whose changes may not be published:\n"
            "# build a wheel into the context (pip wheel --no-deps <checkout> -w wheels/) and\n"
            "# install it instead: RUN pip install --no-cache-dir --no-deps wheels/<the wheel>\n"
        )
    return (
        f"# Glacier is installed here from the file {origin}, not from the package index: copy\n"
        "# it into wheels/ in the build context (the code root) and install it instead:\n"
        f"#   RUN pip install --no-cache-dir --no-deps wheels/{origin}\n"
    )

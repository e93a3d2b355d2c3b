"""The Artifact Registry repository of an environment's images, and the image a job runs.

A task given no ``image=`` runs the image built from the ``Dockerfile`` ``glacier generate``
writes (:func:`glacier.infra.image.dockerfile_source`: the same image ECS tasks run), pushed
to the environment's Docker repository (declared on first use, one per project, pipeline and
naming prefix) and tagged with a digest of what it holds: the pinned requirements, the Python
version, Glacier's version and the pipeline's code file, so a change of any of them is a new
tag. ``glacier deploy`` builds and pushes it (:mod:`glacier.infra.image_push`) before the
jobs; the plan names it (:class:`ImageChoice`).

Example:
    >>> image_tag(["polars==1.0"], "3.11", b"code")[:5]
    'py311'
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from glacier.infra.gcp.naming import repository_id
from glacier.infra.gcp.stack import GcpStack, add, logical_name
from glacier.infra.image import image_requirements
from glacier.infra.lambda_package import ContainerImage
from glacier.infra.model import TaskSpec
from glacier.version import __version__

__all__ = ["KEPT_IMAGES", "ImageChoice", "image_tag", "image_uri", "repository"]

#: Image versions the repository keeps (its cleanup policy deletes older ones).
KEPT_IMAGES = 10


@dataclass(frozen=True)
class ImageChoice:
    """The image a Cloud Run task runs when its settings name none, and why."""

    task: str
    image: str
    reason: str
    compute: str = "cloud_run"

    @property
    def text(self) -> str:
        """One line for a plan."""
        return f"{self.task}: Cloud Run image {self.image} — {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-able) for a plan."""
        return {
            "task": self.task,
            "compute": self.compute,
            "package": "Image",
            "chosen": True,
            "reason": self.reason,
            "text": self.text,
        }


def repository(stack: GcpStack) -> Any:
    """The environment's Docker repository (declared once)."""
    made = stack.shared.get("repository")
    if made is None:
        gcp = stack.gcp
        made = stack.shared["repository"] = add(
            stack,
            gcp.artifactregistry.Repository,
            logical_name(stack, "images"),
            repository_id=repository_id(stack.model.pipeline, stack.env),
            location=stack.region,
            format="DOCKER",
            description=f"Images of Glacier pipeline {stack.model.pipeline!r}",
            docker_config=gcp.artifactregistry.RepositoryDockerConfigArgs(immutable_tags=True),
            cleanup_policies=[
                gcp.artifactregistry.RepositoryCleanupPolicyArgs(
                    id="keep-recent",
                    action="KEEP",
                    most_recent_versions=gcp.artifactregistry.RepositoryCleanupPolicyMostRecentVersionsArgs(
                        keep_count=KEPT_IMAGES
                    ),
                )
            ],
            labels=stack.labels,
        )
        stack.out.repository = made
    return made


def image_uri(stack: GcpStack, task: TaskSpec) -> str:
    """The image ``task`` runs when it names none:
    ``<region>-docker.pkg.dev/<project>/<repository>/<pipeline>:<tag>``."""
    repository(stack)
    tag = stack.shared.get("image_tag")
    if tag is None:
        python = f"{sys.version_info.major}.{sys.version_info.minor}"
        code = stack.model.code.file.read_bytes() if stack.model.code else b""
        tag = stack.shared["image_tag"] = image_tag(image_requirements(stack.model), python, code)
    repo = repository_id(stack.model.pipeline, stack.env)
    image = stack.model.pipeline.lower().replace("_", "-").replace(".", "-")
    path = f"{stack.region}-docker.pkg.dev/{stack.project}/{repo}/{image}"
    uri = f"{path}:{tag}"
    stack.out.images[tag] = ContainerImage(  # built and pushed by glacier deploy
        environment=stack.env.key,
        repository=path,
        tag=tag,
        python=f"{sys.version_info.major}.{sys.version_info.minor}",
        architecture="x86_64",
        requirements=tuple(image_requirements(stack.model)),
        kind="cloud_run",
    )
    stack.out.choices.append(
        ImageChoice(task.name, uri, "no image= given; glacier deploy builds it from the Dockerfile")
    )
    return uri


def image_tag(requirements: Sequence[str], python: str, code: bytes) -> str:
    """``py311-<digest>``: the digest of the requirements, Python, Glacier and the code."""
    digest = hashlib.sha256()
    for part in (*sorted(requirements), python, __version__):
        digest.update(part.encode() + b"\0")
    digest.update(code)
    return f"py{python.replace('.', '')}-{digest.hexdigest()[:16]}"

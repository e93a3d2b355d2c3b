"""The Azure Container Registry the jobs pull their image from.

Admin user off and anonymous pull off: each task's managed identity is granted ``AcrPull`` on
this registry alone, and the job pulls with that identity. The image is built from the
Dockerfile ``glacier generate`` writes (:mod:`glacier.infra.image`: the same image as an ECS
task's, whose command is ``python -m glacier.infra.runtime``) and pushed by ``glacier deploy``
(:mod:`glacier.infra.image_push`) before the jobs; its tag is a digest of what it holds, so a
new version of the code is a new tag.
"""

from __future__ import annotations

import hashlib
import sys
from typing import Any

from glacier.infra.azure.data_access import role_assignment
from glacier.infra.azure.naming import assignment_name, registry_name, resource_group_id
from glacier.infra.azure.stack import Stack, add, logical_name, native
from glacier.infra.image import image_requirements
from glacier.infra.lambda_package import ContainerImage
from glacier.infra.model import TaskSpec
from glacier.version import __version__

#: The repository of the pipeline's image in the registry.
REPOSITORY = "glacier"


def registry(stack: Stack) -> Any:
    """Declare the environment's registry once."""
    found = stack.shared.get("registry")
    if found is None:
        acr = native("containerregistry")
        found = add(
            stack,
            acr.Registry,
            logical_name(stack, "registry"),
            depends_on=[stack.out.resource_group],
            registry_name=registry_name(stack.model, stack.env),
            resource_group_name=stack.group,
            location=stack.location,
            sku={"name": "Basic"},
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            tags=stack.tags,
        )
        stack.shared["registry"] = stack.out.registry = found
    return found


def registry_id(stack: Stack) -> str:
    """The registry's id: the scope of the tasks' AcrPull."""
    name = registry_name(stack.model, stack.env)
    group = resource_group_id(stack.subscription, stack.group)
    return f"{group}/providers/Microsoft.ContainerRegistry/registries/{name}"


def image_tag(stack: Stack) -> str:
    """``py311-<digest>``: the digest of the image's requirements, Glacier's version and the
    pipeline's code file."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    digest = hashlib.sha256()
    for part in (*sorted(image_requirements(stack.model)), python, __version__):
        digest.update(part.encode() + b"\0")
    code = stack.model.code
    if code is not None and code.file.is_file():
        digest.update(code.file.read_bytes())
    return f"py{python.replace('.', '')}-{digest.hexdigest()[:16]}"


def image_of(stack: Stack, task: TaskSpec, identity: Any) -> tuple[Any, Any]:
    """The image ``task`` runs and the registry it is pulled from (None for an image the
    task names): the environment's registry, with AcrPull for the task's identity."""
    given = getattr(task.config, "image", None)
    if given:
        return given, None
    made = registry(stack)
    scope = registry_id(stack)
    role_assignment(
        stack,
        task.name,
        logical_name(stack, task.name, "acr-pull"),
        principal_id=identity.principal_id,
        role="AcrPull",
        scope=scope,
        name=assignment_name(scope, task.name, "AcrPull"),
        depends_on=[made],
        description=f"Glacier task {task.name!r} pulls its image",
    )
    tag = stack.shared.get("image_tag")
    if tag is None:  # one digest of the code per environment, not per task
        tag = stack.shared["image_tag"] = image_tag(stack)
    server = f"{registry_name(stack.model, stack.env)}.azurecr.io"
    stack.out.images[tag] = ContainerImage(  # built and pushed by glacier deploy
        environment=stack.env.key,
        repository=f"{server}/{REPOSITORY}",
        tag=tag,
        python=f"{sys.version_info.major}.{sys.version_info.minor}",
        architecture="x86_64",
        requirements=tuple(image_requirements(stack.model)),
        kind="container_app",
    )
    key = f"choice:{task.name}"
    if key not in stack.shared:
        stack.shared[key] = True
        stack.out.choices.append(
            ImageChoice(task.name, "no image= given; glacier deploy builds it from the Dockerfile")
        )
    return made.login_server.apply(lambda server: f"{server}/{REPOSITORY}:{tag}"), made


class ImageChoice:
    """What the plan chose for a job that named no image (shown with the plan)."""

    def __init__(self, task: str, reason: str) -> None:
        self.task = task
        self.reason = reason

    @property
    def text(self) -> str:
        """One line for a plan."""
        return f"{self.task}: Container Apps image from the environment's registry — {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-able) for a plan."""
        return {
            "task": self.task,
            "compute": "container_app",
            "package": "Image",
            "chosen": True,
            "reason": self.reason,
            "text": self.text,
        }

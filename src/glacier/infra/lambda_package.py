"""How a Lambda task's code is packaged: a zip with Glacier's layer, or a container image
(and the images a deployment builds: :class:`ContainerImage`).

A zip package and its layers may hold 250 MB unzipped (:data:`~glacier.infra.layer.
LAMBDA_UNZIPPED_LIMIT`); a container image up to 10 GB. A task whose compute settings say
neither (``LambdaConfig.package_type`` unset: the default compute, or
``env.compute.lambda_(...)`` without it) gets a zip when its runtime fits one, else an
image: a task reading or writing Delta tables needs ``deltalake`` beside polars, and one
using a PostgreSQL database the ADBC driver and pyarrow; either is over the limit with
polars. What a runtime holds is derived from what the task imports
(:mod:`glacier.infra.requirements`). The plan shows each choice and why
(:attr:`PackageChoice.text`).
A package the settings name is kept: an image as asked, a zip that cannot fit refused where
the function is declared (:mod:`glacier.infra.aws.lambda_`).

Example:
    >>> PackageChoice("extract", "Image", "Delta tables need deltalake, 370 MB").text
    'extract: Lambda container image — Delta tables need deltalake, 370 MB'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from glacier.infra.layer import LAMBDA_UNZIPPED_LIMIT, LayerSpec, built, estimated_size
from glacier.infra.model import InfraModel, TaskSpec
from glacier.infra.requirements import (
    DATABASE_EXTRA,
    TABLES,
    extra_distributions,
    model_distributions,
    task_distributions,
)

#: What each package is called in a plan, by compute and package type.
PACKAGE_NAMES = {
    ("lambda", "Zip"): "Lambda zip package",
    ("lambda", "Image"): "Lambda container image",
    ("ecs", "Image"): "ECS image built from the generated Dockerfile",
}


@dataclass(frozen=True)
class PackageChoice:
    """The package of one Lambda task, and why: chosen by the plan, or given."""

    task: str
    package: Literal["Zip", "Image"]
    reason: str
    #: False when the task's settings named the package.
    chosen: bool = True
    compute: Literal["lambda", "ecs"] = "lambda"

    @property
    def text(self) -> str:
        """One line for a plan: ``extract: Lambda container image — <why>``."""
        return f"{self.task}: {PACKAGE_NAMES[self.compute, self.package]} — {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-able) for a plan."""
        return {
            "task": self.task,
            "compute": self.compute,
            "package": self.package,
            "chosen": self.chosen,
            "reason": self.reason,
            "text": self.text,
        }


@dataclass(frozen=True)
class TimingChoice:
    """How long a Lambda task's function may run, and who retries it, where the plan chose:
    the function's timeout raised to fit the task's attempts (its settings named none), or
    the state machine retrying, one attempt per invocation, when they cannot fit 900 s."""

    task: str
    function_timeout: int
    attempts: int
    seconds: float
    by_state: bool
    #: The task's ``timeout`` when it is longer than the function may run (an attempt is
    #: ended at the function's timeout), else None.
    cut: float | None = None

    @property
    def text(self) -> str:
        """One line for a plan."""
        if self.cut is not None:
            who = "the state machine retries, one attempt per invocation" if self.by_state else ""
            return (
                f"{self.task}: Lambda timeout {self.function_timeout} s, less than the task's "
                f"timeout={self.cut:g} s: an attempt still running then is ended"
                + (f"; {who}" if who else "")
                + " (run it on ECS, compute=env.compute.ecs(...), to give it longer)"
            )
        if self.by_state:
            return (
                f"{self.task}: retried by the state machine, one attempt per invocation of up "
                f"to {self.function_timeout} s — {self.attempts} attempts and their waits take "
                f"up to {self.seconds:g} s, more than one invocation may run"
            )
        return (
            f"{self.task}: Lambda timeout {self.function_timeout} s — the task's "
            f"{self.attempts} attempt(s) and their waits take up to {self.seconds:g} s"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-able) for a plan."""
        return {
            "task": self.task,
            "compute": "lambda",
            "function_timeout": self.function_timeout,
            "retried_by": "state machine" if self.by_state else "task",
            "attempt_cut_at": self.function_timeout if self.cut is not None else None,
            "attempts": self.attempts,
            "seconds": self.seconds,
            "text": self.text,
        }


@dataclass(frozen=True)
class ContainerImage:
    """A container image an environment's tasks run, which a deployment builds and pushes:
    its repository (by name; for ``cloud_run`` and ``container_app``, the image's full
    repository path in the registry), its tag, and what it is built from (which Dockerfile:
    ``kind`` ``lambda``, else the generated ``Dockerfile``; Python version, architecture,
    pinned requirements)."""

    environment: str
    repository: str
    tag: str
    python: str
    architecture: str
    requirements: tuple[str, ...]
    kind: Literal["lambda", "ecs", "cloud_run", "container_app"] = "lambda"

    @property
    def platform(self) -> str:
        """Docker's name of the architecture (``linux/amd64``)."""
        return DOCKER_PLATFORMS[self.architecture]


#: Docker's platform of each Lambda architecture.
DOCKER_PLATFORMS = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}


def layer_size(spec: LayerSpec) -> int:
    """The unzipped bytes of ``spec``'s layer: measured when it was built, else estimated
    from the same distributions installed here."""
    layer = built(spec)
    return layer.size if layer is not None else estimated_size(spec)


def function_spec(model: InfraModel, task: TaskSpec) -> LayerSpec:
    """The dependencies of Lambda task ``task`` of ``model``: what it imports at run time
    (:func:`glacier.infra.requirements.task_distributions`), for its runtime and
    architecture."""
    cfg = task.config
    return LayerSpec.for_function(
        cfg.runtime, cfg.architecture, needs=task_distributions(model, task)
    )


def image_spec(model: InfraModel, task: TaskSpec) -> LayerSpec:
    """The dependencies of the Lambda container image ``task`` runs: what the Lambda tasks of
    its environment import (one image serves them all, so one requirement set)."""
    cfg = task.config
    tasks = [t for t in model.tasks if t.env == task.env and t.compute == "lambda"]
    return LayerSpec.for_function(
        cfg.runtime, cfg.architecture, needs=model_distributions(model, tasks or [task])
    )


def heavy_needs(spec: LayerSpec) -> list[str]:
    """What in ``spec`` makes a runtime too large for a zip, said for a plan: Delta tables'
    deltalake, a database's driver (the ``postgres`` extra, with pyarrow)."""
    names = {r.split("==")[0] for r in spec.requirements}
    out = []
    if set(TABLES) & names:
        out.append("Delta tables need deltalake")
    driver = extra_distributions(DATABASE_EXTRA)
    if set(driver) & names:
        out.append(f"its database needs the PostgreSQL driver ({', '.join(driver)})")
    return out


def choose(task: TaskSpec, code_size: int, spec: LayerSpec) -> PackageChoice:
    """The package of Lambda task ``task``, whose code (the pipeline's and Glacier's) is
    ``code_size`` bytes and whose dependencies are ``spec`` (:func:`function_spec`): the one
    its settings name, else a zip when code and dependencies fit Lambda's unzipped limit,
    else an image (saying what made it too large)."""
    cfg = task.config
    given = getattr(cfg, "package_type", None)
    limit = LAMBDA_UNZIPPED_LIMIT // 2**20
    if given == "Image":
        return PackageChoice(task.name, "Image", "package_type='Image' in its settings", False)
    if given == "Zip":
        return PackageChoice(task.name, "Zip", "package_type='Zip' in its settings", False)
    size = layer_size(spec)
    heavy = heavy_needs(spec)
    if heavy and size > LAMBDA_UNZIPPED_LIMIT:
        return PackageChoice(task.name, "Image", f"{' and '.join(heavy)}, {size / 2**20:.0f} MB")
    total = size + code_size
    if total > LAMBDA_UNZIPPED_LIMIT:
        return PackageChoice(
            task.name,
            "Image",
            f"its code and dependencies are {total / 2**20:.0f} MB, over the zip's {limit} MB",
        )
    return PackageChoice(
        task.name, "Zip", f"its code and dependencies ({total / 2**20:.0f} MB) fit {limit} MB"
    )

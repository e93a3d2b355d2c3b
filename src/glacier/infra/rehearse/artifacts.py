"""Each task's deployment artifact, as the plan declares it: its code, how the cloud starts
it, the variables it is started with and the role it runs as.

- **Lambda**: the function's code archive (the plan's own ``AssetArchive``: the handler, the
  pipeline's code, Glacier), called the way Lambda's Python runtime calls it: the handler
  module imported from the code's root, ``handler(event, context)``. A container image
  function's code is what its image holds (the pipeline's code in the task root, Glacier),
  and its handler the image's command.
- **ECS**: the container's command and environment from the task definition, run in the
  code the image holds (the same package as a function's: the pipeline's code and Glacier).
- **Glue**: the job's script with its default arguments, the code as ``--extra-py-files``.

What Glacier builds on (polars, ...) comes from this interpreter, standing in for the layer,
the image or the job's ``--additional-python-modules``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glacier import env_vars
from glacier.errors import InfraError
from glacier.infra.aws.glue import GLUE_JOB_SOURCE, GLUE_SCRIPT
from glacier.infra.aws.packaging import code_files, glacier_files
from glacier.infra.mocks import PlannedResource
from glacier.infra.model import InfraModel

FUNCTION = "aws:lambda/function:Function"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
GLUE_JOB = "aws:glue/job:Job"

#: How Lambda's Python runtime calls a handler, reduced to what a task sees.
LAMBDA_BOOTSTRAP = (
    "import importlib, json, sys\n"
    "module, _, function = sys.argv[1].rpartition('.')\n"
    "handler = getattr(importlib.import_module(module), function)\n"
    "print(json.dumps(handler(json.loads(sys.argv[2]), None)))\n"
)


@dataclass(frozen=True)
class Artifact:
    """One task as deployed: ``files`` (name in the package -> a path or a text), and how
    it starts (``entry``: the handler, the container's command or the job's arguments)."""

    task: str
    compute: str
    role_arn: str
    region: str
    variables: Mapping[str, str]
    entry: tuple[str, ...]
    files: Mapping[str, Path | str] = field(repr=False)
    #: How the orchestrator refers to it: a function ARN, a job name, a task family.
    reference: str = ""

    def command(self, python: str, run_id: str) -> list[str]:
        """The process the cloud would start for one run."""
        if self.compute == "lambda":
            event = {"pipeline": self.variables.get(env_vars.GLACIER_PIPELINE), "task": self.task}
            event["run_id"] = run_id
            return [python, "-c", LAMBDA_BOOTSTRAP, self.entry[0], json.dumps(event)]
        if self.compute == "glue":
            return [python, GLUE_SCRIPT, *self.entry, "--GLACIER_RUN_ID", run_id]
        program, *args = self.entry
        return [python if program.startswith("python") else program, *args]

    def unpack(self, directory: Path) -> Path:
        """Write the package's files under ``directory``; returns it."""
        directory.mkdir(parents=True, exist_ok=True)
        for name, source in self.files.items():
            target = directory / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(source, str):
                target.write_text(source, encoding="utf-8")
            elif source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)
            else:
                shutil.copyfile(source, target)
        return directory


def artifacts(resources: Iterable[PlannedResource], model: InfraModel) -> dict[str, Artifact]:
    """Every task's artifact in ``resources`` (one environment's plan), by task name."""
    out: dict[str, Artifact] = {}
    for r in resources:
        if r.type == FUNCTION:
            variables = dict((r.inputs.get("environment") or {}).get("variables") or {})
            image = r.inputs.get("packageType") == "Image"
            art = Artifact(
                task=variables[env_vars.GLACIER_TASK_NAME],
                compute="lambda",
                role_arn=str(r.inputs["role"]),
                region=r.region or "us-east-1",
                variables=variables,
                entry=(
                    str((r.inputs.get("imageConfig") or {})["commands"][0])
                    if image
                    else str(r.inputs["handler"]),
                ),
                # An image holds the code in its task root (COPY of the code root) and
                # Glacier installed: the files a package would.
                files=package_files(model) if image else archive_files(r.inputs["code"]),
                reference=str(r.outputs.get("arn") or r.inputs.get("name")),
            )
        elif r.type == TASK_DEFINITION:
            container = json.loads(str(r.inputs["containerDefinitions"]))[0]
            variables = {e["name"]: e["value"] for e in container.get("environment", [])}
            art = Artifact(
                task=variables[env_vars.GLACIER_TASK_NAME],
                compute="ecs",
                role_arn=str(r.inputs["taskRoleArn"]),
                region=r.region or "us-east-1",
                variables=variables,
                entry=tuple(container["command"]),
                files=package_files(model),
                reference=str(r.inputs["family"]),
            )
        elif r.type == GLUE_JOB:
            arguments = dict(r.inputs.get("defaultArguments") or {})
            variables = {k[2:]: str(v) for k, v in arguments.items() if k.startswith("--GLACIER_")}
            art = Artifact(
                task=variables[env_vars.GLACIER_TASK_NAME],
                compute="glue",
                role_arn=str(r.inputs["roleArn"]),
                region=r.region or "us-east-1",
                variables={},  # Glue passes them as arguments; the script exports them
                entry=tuple(x for k, v in sorted(variables.items()) for x in (f"--{k}", v)),
                files={**package_files(model), GLUE_SCRIPT: GLUE_JOB_SOURCE},
                reference=str(r.inputs["name"]),
            )
        else:
            continue
        out[art.task] = art
    return out


def archive_files(archive: Any) -> dict[str, Path | str]:
    """The files of a Pulumi ``AssetArchive`` (string assets, file assets, directories)."""
    assets = getattr(archive, "assets", None)
    if not isinstance(assets, Mapping):
        raise InfraError(
            f"A function's code is a {type(archive).__name__}, not the archive Glacier "
            "packages; a rehearsal runs Glacier's own packages only."
        )
    out: dict[str, Path | str] = {}
    for name, asset in assets.items():
        text = getattr(asset, "text", None)
        out[name] = text if isinstance(text, str) else Path(str(asset.path))
    return out


def package_files(model: InfraModel) -> dict[str, Path | str]:
    """The code an ECS image or a Glue job holds: the pipeline's code and Glacier."""
    if model.code is None:
        raise InfraError(f"Pipeline {model.pipeline!r} was not defined in a file.")
    return {**glacier_files(), **code_files(model.code)}

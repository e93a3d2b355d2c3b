"""The Terraform configuration of a pipeline: one directory of ``*.tf.json`` per environment.

Each environment's share of the plan (what its Pulumi stack would deploy) is recorded under
:class:`~glacier.infra.terraform.references.TerraformMocks` and written as::

    DIR/<environment>/
        main.tf.json              terraform (pinned provider), provider "aws", "google" or
                                  "azurerm" (Azure: glacier.infra.terraform.azure), resources
        variables.tf.json         region and account id, project, or subscription, location
                                  and resource group (defaults: the settings)
        outputs.tf.json           state machine ARN or workflow, buckets, functions or jobs
        backend.tf.json.example   an S3, GCS or azurerm backend to copy to backend.tf.json
        .checkov.yaml             the checks skipped on purpose, each with its reason
        README.md                 how to package the artifacts, init, validate, plan
        artifacts/                Lambda code and layers, written by `glacier package`
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glacier.errors import TerraformError
from glacier.infra.mocks import Plan, plan
from glacier.infra.model import EnvSpec
from glacier.infra.terraform import azure
from glacier.infra.terraform.azure_context import AzureContext
from glacier.infra.terraform.checkov import SKIPPED_CHECKS, checkov_config
from glacier.infra.terraform.references import TerraformMocks
from glacier.infra.terraform.translate import Artifact, provider_body, resource_body, value
from glacier.infra.terraform.types import PROVIDERS

_REFERENCE = re.compile(
    r"(?<!\$)\$\{(?:jsonencode\()?((?:aws_[a-z0-9_]+|google_[a-z0-9_]+|azurerm_[a-z0-9_]+|"
    r"azapi_[a-z0-9_]+|data\.[a-z0-9_]+)"
    r"\.[A-Za-z0-9_]+)"
)


@dataclass
class EnvironmentConfiguration:
    """One environment's Terraform documents (file name -> JSON document) and artifacts."""

    env: EnvSpec
    plan: Plan
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    artifacts: dict[str, Artifact] = field(default_factory=dict)


def configurations(
    pipeline: Any, environments: Sequence[Any] | None = None
) -> list[EnvironmentConfiguration]:
    """Every environment's configuration: those listed that are clouds, else every cloud one
    the pipeline uses (``pipeline.run(mode="generate")`` lists its local default).

    The whole program runs once to find the environments (and, for one environment, that run
    is its share); with several, each runs on its own, as each Pulumi stack does.
    """
    mocks = TerraformMocks()
    full = plan(pipeline, environments=environments, mocks=mocks)
    mocks.check()
    clouds = [k for k in full.environments if mocks.environments[k].cloud != "local"]
    listed = [str(e.name) for e in environments or () if not _is_local(e)]
    missing = [key for key in listed if key not in clouds]
    if missing:
        raise TerraformError(
            f"Pipeline {full.pipeline!r} has no resources in environment(s) "
            f"{', '.join(repr(k) for k in missing)}; it uses {', '.join(clouds) or 'none'}. "
            "Generate the pipeline built for that environment (e.g. "
            "create_pipeline(env)) into the same directory: each environment gets its own."
        )
    keys = listed or clouds
    for key in keys:
        cloud = mocks.environments[key].cloud
        if cloud not in PROVIDERS:
            raise TerraformError(
                f"Environment {key!r} is on {cloud}; the Terraform target writes "
                f"{' and '.join(sorted(PROVIDERS))} configurations only so far. Generate it "
                "with --target pulumi."
            )
    if len(full.environments) == 1 and keys == list(full.environments):
        return [configure(pipeline, keys[0], environments, recorded=(full, mocks))]
    return [configure(pipeline, key, environments) for key in keys]


def configure(
    pipeline: Any,
    key: str,
    environments: Sequence[Any] | None = None,
    *,
    recorded: tuple[Plan, TerraformMocks] | None = None,
) -> EnvironmentConfiguration:
    """Environment ``key``'s Terraform documents, from its share of the Pulumi program (or
    from ``recorded``, a run of that share already made)."""
    if recorded is None:
        mocks = TerraformMocks()
        chosen = next((e for e in environments or () if str(e.name) == key), key)
        planned = plan(pipeline, env=chosen, environments=environments, mocks=mocks)
        mocks.check()
    else:
        planned, mocks = recorded
    spec = mocks.environments[key]
    out = EnvironmentConfiguration(spec, planned)
    resources: dict[str, dict[str, Any]] = {}
    provider: dict[str, Any] = {}
    aliases: list[dict[str, Any]] = []
    context = None
    if spec.cloud == "azure":
        context = AzureContext.of(list(planned), str(spec.account_id), str(spec.region))
        context.arns = mocks.arns
    for r in planned:
        if r.is_provider and context is not None:
            if r.name == key:
                provider = azure.provider_body(r, context)
            else:  # another subscription's provider, for lookups there
                aliases.append(azure.provider_body(r, context, alias=True))
            continue
        if r.is_provider:
            provider = provider_body(r)
            continue
        if context is not None:
            written = azure.resource_body(r, context)
            if written is None:
                continue  # a block of another resource (azure_types.FOLDED)
            tf_type, name, body = written
        else:
            tf_type, name, body = resource_body(r, spec, out.artifacts, mocks.arns)
        referenced = json.dumps(body)
        after = [a for a in mocks.depends_on(r.type, r.name) if "${" + a + "." not in referenced]
        if after:
            # What Pulumi orders by an explicit depends_on (a function after its role's
            # policy), Terraform cannot see in the references.
            body["depends_on"] = sorted(set(after))
        of_type = resources.setdefault(tf_type, {})
        if name in of_type:
            raise TerraformError(
                f"Two resources become {tf_type}.{name} in Terraform (Pulumi names that differ "
                f"only in punctuation, one of them {r.name!r}); rename one."
            )
        of_type[name] = body
    data: dict[str, dict[str, Any]] = {}
    for source in sorted(mocks.data_sources):
        _, tf_type, name = source.split(".")
        _, arguments = mocks.lookups.get(source, (tf_type, {}))
        data.setdefault(tf_type, {})[name] = value(arguments, tf_type, spec, "", mocks.arns)
    _check_references(key, resources, data)
    tf = PROVIDERS[spec.cloud]
    main: dict[str, Any] = {
        # No required_version beside it: checkov's JSON parser fails on a plain attribute in
        # the terraform block ("this method receives only dicts", checkov 3.3.30).
        "terraform": {
            "required_providers": {tf.name: {"source": tf.source, "version": tf.version}},
        },
        "provider": {tf.name: provider or {"region": "${var.region}"}},
        "resource": resources,
    }
    if context is not None:
        main = azure.main_document(main, provider, aliases, resources)
    if data:
        main["data"] = data
    out.documents = {
        "main.tf.json": main,
        "variables.tf.json": (
            azure.variables(spec, context) if context is not None else _variables(spec)
        ),
        "outputs.tf.json": azure.outputs(resources) if context is not None else _outputs(resources),
        "backend.tf.json.example": (
            azure.backend(spec, planned.pipeline)
            if context is not None
            else _backend(spec, planned.pipeline)
        ),
    }
    return out


def write(
    pipeline: Any, output_dir: str | Path, environments: Sequence[Any] | None = None
) -> dict[str, Any]:
    """Write the Terraform configuration of every environment (see the module docs).

    Returns:
        ``{"files": [paths], "environments": [names], "output_dir": path, "target":
        "terraform", "artifacts": {environment: [artifact files]}, "images": {environment:
        [the job images Glacier plans, which glacier package writes the build of]}}``.
    """
    out = Path(output_dir)
    configs = configurations(pipeline, environments)  # every one, then write
    keys = [cfg.env.key for cfg in configs]
    if not configs:
        return {
            "files": [],
            "environments": [],
            "output_dir": str(out),
            "target": "terraform",
            "artifacts": {},
            "message": "Every environment is local: local environments need no cloud "
            "infrastructure, so nothing was written.",
        }
    files: list[str] = []
    for cfg in configs:
        directory = out / cfg.env.key
        directory.mkdir(parents=True, exist_ok=True)
        for name, doc in cfg.documents.items():
            files.append(_write(directory / name, json.dumps(doc, indent=2) + "\n"))
        files.append(_write(directory / ".checkov.yaml", checkov_config()))
        files.append(_write(directory / "README.md", _readme(cfg)))
    return {
        "files": files,
        "environments": keys,
        "output_dir": str(out),
        "target": "terraform",
        "artifacts": {cfg.env.key: sorted(cfg.artifacts) for cfg in configs},
        "images": {cfg.env.key: _job_images(cfg) for cfg in configs},
    }


def _is_local(env: Any) -> bool:
    return getattr(getattr(env, "provider", None), "kind", None) == "local"


def _check_references(
    key: str, resources: dict[str, dict[str, Any]], data: dict[str, dict[str, Any]]
) -> None:
    """Every resource a body refers to is declared in the same directory, and no marker was
    left uninterpreted (a value the program changed in a way no reference can say)."""
    declared = {f"{t}.{n}" for t, named in resources.items() for n in named}
    declared |= {f"data.{t}.{n}" for t, named in data.items() for n in named}
    text = json.dumps([resources, data])
    left = re.search(r"@@(?:tf|arn|tflist)~([^@]+)@@", text)
    if left:
        raise TerraformError(
            f"Environment {key!r}: a value derived from {left.group(1)} has no Terraform "
            "form; generate with --target pulumi, and report it so the Terraform target "
            "learns it."
        )
    for found in _REFERENCE.findall(text):
        if found not in declared:
            raise TerraformError(
                f"Environment {key!r} refers to {found}, which another environment declares; "
                "one Terraform directory cannot refer to another's resources. Generate with "
                "--target pulumi, or keep the resources in one environment."
            )


def _variables(env: EnvSpec) -> dict[str, Any]:
    if env.cloud == "gcp":
        return {
            "variable": {
                "project": {
                    "type": "string",
                    "default": env.account_id,
                    "description": f"GCP project of environment {env.key!r} (its settings' "
                    "project): the provider's, and every resource's that names one.",
                },
                "region": {
                    "type": "string",
                    "default": env.region,
                    "description": f"GCP region of environment {env.key!r} (its settings' region).",
                },
            }
        }
    variables: dict[str, Any] = {
        "region": {
            "type": "string",
            "default": env.region,
            "description": f"AWS region of environment {env.key!r} (its settings' region).",
        }
    }
    if env.account_id:
        variables["account_id"] = {
            "type": "string",
            "default": env.account_id,
            "description": f"AWS account of environment {env.key!r}; the provider refuses "
            "any other.",
        }
    return {"variable": variables}


def _outputs(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    outputs: dict[str, Any] = {}
    machines = resources.get("aws_sfn_state_machine", {})
    for name in machines:
        key = "state_machine_arn" if len(machines) == 1 else f"state_machine_arn_{name}"
        outputs[key] = {
            "value": f"${{aws_sfn_state_machine.{name}.arn}}",
            "description": "The state machine running the pipeline: start executions here.",
        }
    for name in resources.get("aws_s3_bucket", {}):
        outputs[f"bucket_{name}"] = {"value": f"${{aws_s3_bucket.{name}.bucket}}"}
    for name in resources.get("aws_lambda_function", {}):
        outputs[f"function_{name}"] = {"value": f"${{aws_lambda_function.{name}.function_name}}"}
    workflows = resources.get("google_workflows_workflow", {})
    for name in workflows:
        key = "workflow_id" if len(workflows) == 1 else f"workflow_id_{name}"
        outputs[key] = {
            "value": f"${{google_workflows_workflow.{name}.id}}",
            "description": "The workflow running the pipeline: create executions here.",
        }
    for name in resources.get("google_storage_bucket", {}):
        outputs[f"bucket_{name}"] = {"value": f"${{google_storage_bucket.{name}.name}}"}
    for name in resources.get("google_cloud_run_v2_job", {}):
        outputs[f"job_{name}"] = {"value": f"${{google_cloud_run_v2_job.{name}.name}}"}
    return {"output": outputs}


def _backend(env: EnvSpec, pipeline: str) -> dict[str, Any]:
    if env.cloud == "gcp":
        return {
            "terraform": {
                "backend": {
                    "gcs": {
                        "bucket": "YOUR-TERRAFORM-STATE-BUCKET",
                        "prefix": f"glacier/{pipeline}/{env.key}",
                    }
                }
            }
        }
    return {
        "terraform": {
            "backend": {
                "s3": {
                    "bucket": "YOUR-TERRAFORM-STATE-BUCKET",
                    "key": f"glacier/{pipeline}/{env.key}.tfstate",
                    "region": env.region,
                    "encrypt": True,
                    "use_lockfile": True,
                }
            }
        }
    }


def _readme(cfg: EnvironmentConfiguration) -> str:
    env, pipeline = cfg.env, cfg.plan.pipeline
    skips = "\n".join(f"- `{c}`: {why}" for c, why in SKIPPED_CHECKS.items())
    if env.cloud == "azure":
        where = f"Subscription `{env.account_id}`, location `{env.region}`"
        artifacts, package = azure.readme_artifacts(cfg.plan, env.key)
    elif env.cloud == "gcp":
        where = f"Project `{env.account_id}`, region `{env.region}`"
        built = _images(cfg)
        artifacts = f"""The Cloud Run jobs run these images, which Terraform does not build:

{built}

`glacier package <pipeline file> --env {env.key} -o <this directory's parent>` writes the
`Dockerfile` of the image named after this project's repository and `images.sh`, which builds
and pushes it (`docker buildx build --push`, after `gcloud auth print-access-token | docker
login`): run it before `terraform apply`, once `terraform apply -target` has created the
repository; an image a task names in its settings is yours."""
        package = f"glacier package <pipeline file> --env {env.key} -o <parent of this directory>"
    else:
        where = f"Account `{env.account_id or '(any)'}`, region `{env.region}`"
        files = "\n".join(f"- `{a}`" for a in sorted(cfg.artifacts)) or "- (none)"
        artifacts = f"""The configuration refers to these files, which Terraform does not build:

{files}

Write them with `glacier package <pipeline file> --env {env.key} -o <this directory's parent>`
(the Lambda code package and the dependencies layer built for the function's platform)."""
        package = f"glacier package <pipeline file> --env {env.key} -o <parent of this directory>"
    return f"""# Terraform configuration of Glacier pipeline `{pipeline}`, environment `{env.key}`

Generated by `glacier generate --target terraform` from the same program as the Pulumi
project; do not edit, generate again. {where} (the defaults of `variables.tf.json`, from the
environment's settings).

## Artifacts

{artifacts}

## State

State storage is your choice: copy `backend.tf.json.example` to `backend.tf.json` and name
your state bucket, or keep Terraform's local state.

## CI

```
{package}
terraform init
terraform validate
terraform plan -out plan.tfplan
checkov -d .
```

`checkov -d <this directory>` reads `.checkov.yaml` here: the framework (`terraform_json`) and
the checks skipped on purpose.

## Checks skipped on purpose (`.checkov.yaml`)

{skips}
"""


def _job_images(cfg: EnvironmentConfiguration) -> list[str]:
    """The URIs of the Cloud Run or Container Apps job images the plan chose."""
    jobs = ("cloud_run", "container_app")
    return [f"{i.repository}:{i.tag}" for i in cfg.plan.images if i.kind in jobs]


def _images(cfg: EnvironmentConfiguration) -> str:
    """The images the environment's Cloud Run jobs run, one list item each."""
    images = sorted(
        {
            str(container.get("image"))
            for r in cfg.plan
            if r.type == "gcp:cloudrunv2/job:Job"
            for container in r.inputs.get("template", {}).get("template", {}).get("containers", [])
        }
    )
    return "\n".join(f"- `{i}`" for i in images) or "- (none)"


def _write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)

"""One recorded resource as a Terraform JSON resource body.

Inputs keep their values and get Terraform's names (:mod:`glacier.infra.terraform.types`);
markers become interpolations and literal ``${`` is escaped
(:func:`~glacier.infra.terraform.references.interpolate`); the environment's own account and
region inside ARNs become ``var.account_id`` and ``var.region``. Code is never inlined: an
archive or file the program would upload is an :class:`Artifact`, a file under
``artifacts/`` beside the configuration, written by ``glacier package``.

Example:
    >>> value({"retentionInDays": 30.0, "tags": {"glacier:task": "x"}}, "aws_cloudwatch_log_group")
    {'retention_in_days': 30, 'tags': {'glacier:task': 'x'}}
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glacier.errors import TerraformError
from glacier.infra.mocks import PlannedResource
from glacier.infra.model import EnvSpec
from glacier.infra.terraform.references import interpolate, resource_name, whole_list
from glacier.infra.terraform.types import MAP_ARGUMENTS, argument_name, terraform_type

#: Where artifacts go, relative to an environment's directory (Terraform resolves relative
#: paths from the directory it runs in).
ARTIFACTS = "artifacts"

#: Inputs holding code or files, by Terraform type: (input, argument naming the file, argument
#: holding its hash, the hash function).
FILE_INPUTS: Mapping[tuple[str, str], tuple[str, str, str]] = {
    ("aws_lambda_function", "code"): ("filename", "source_code_hash", "filebase64sha256"),
    ("aws_lambda_layer_version", "code"): ("filename", "source_code_hash", "filebase64sha256"),
    ("aws_s3_object", "source"): ("source", "source_hash", "filemd5"),
}

_SECURITY_GROUP_RULE: Mapping[str, Any] = {
    "cidr_blocks": [],
    "ipv6_cidr_blocks": [],
    "prefix_list_ids": [],
    "security_groups": [],
    "self": False,
    "description": "",
}

#: Arguments Terraform reads as attributes in JSON (its "attributes as blocks"), where every
#: field of each element must be given: the provider's defaults for those Pulumi leaves out.
ATTRIBUTE_BLOCKS: Mapping[tuple[str, str], Mapping[str, Any]] = {
    ("aws_security_group", "ingress"): _SECURITY_GROUP_RULE,
    ("aws_security_group", "egress"): _SECURITY_GROUP_RULE,
}

#: Top-level arguments of google resources that name the environment's project or region,
#: written as the directory's variable when they hold the environment's own value.
GOOGLE_VARIABLES: Mapping[str, str] = {
    "project": "project",
    "region": "region",
    "location": "region",
}

_ARN = re.compile(r"arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12})?:")


@dataclass(frozen=True)
class Artifact:
    """A file a resource refers to: ``file`` relative to the environment's directory, and the
    Pulumi asset or archive it is made from."""

    file: str
    source: Any

    @property
    def kind(self) -> str:
        """``"archive"`` (a zip of files), ``"directory"`` (a zip of a directory), ``"file"``."""
        name = type(self.source).__name__
        return {"AssetArchive": "archive", "FileArchive": "directory"}.get(name, "file")


def resource_body(
    resource: PlannedResource,
    env: EnvSpec | None,
    artifacts: dict[str, Artifact],
    arns: Mapping[str, str] | None = None,
) -> tuple[str, str, dict[str, Any]]:
    """``(terraform type, terraform name, body)`` of ``resource``; the files it refers to
    are added to ``artifacts`` (by file). ``arns`` are the realistic ARNs of the run's
    markers (:attr:`TerraformMocks.arns`)."""
    tf_type = terraform_type(resource.type)
    body: dict[str, Any] = {}
    for key, raw in resource.inputs.items():
        if raw is None:
            continue
        files = FILE_INPUTS.get((tf_type, key))
        if files is not None:
            body.update(_file_arguments(tf_type, resource.name, raw, files, artifacts, arns))
            continue
        if _is_asset(raw):
            raise TerraformError(
                f"{tf_type} {resource.name!r}: input {key!r} holds a {type(raw).__name__}, "
                "which the Terraform target cannot write as a file yet; add it to "
                "glacier.infra.terraform.translate.FILE_INPUTS."
            )
        name = argument_name(tf_type, key, raw)
        body[name] = value(raw, tf_type, env, key, arns)
        variable = _variable(tf_type, key, raw, env)
        if variable is not None:
            body[name] = variable
        defaults = ATTRIBUTE_BLOCKS.get((tf_type, name))
        if defaults is not None and isinstance(body[name], list):
            body[name] = [{**defaults, **element} for element in body[name]]
    return tf_type, resource_name(resource.name), body


def provider_body(resource: PlannedResource) -> dict[str, Any]:
    """The ``aws`` or ``google`` provider block of an environment's provider resource (whose
    inputs arrive JSON-encoded): its region and allowed account, or its project, are the
    directory's variables."""
    body: dict[str, Any] = {}
    for key, raw in resource.inputs.items():
        parsed = _decoded(raw)
        if key == "region":
            body["region"] = "${var.region}"
        elif key == "project":
            body["project"] = "${var.project}"
        elif key == "defaultLabels":
            body["default_labels"] = value(dict(parsed or {}), "provider", None, "defaultLabels")
        elif key == "allowedAccountIds":
            body["allowed_account_ids"] = ["${var.account_id}"]
        elif key == "defaultTags":
            body["default_tags"] = {
                "tags": value(dict(parsed.get("tags") or {}), "provider", None, "tags")
            }
        else:
            body[argument_name("provider", key, parsed)] = value(parsed, "provider", None, key)
    return body


def value(
    raw: Any,
    tf_type: str,
    env: EnvSpec | None = None,
    key: str = "",
    arns: Mapping[str, str] | None = None,
) -> Any:
    """An input value in Terraform JSON: names of nested blocks translated (map arguments
    kept as written), whole floats as integers, strings interpolated."""
    if isinstance(raw, str):
        return _arns(interpolate(raw, arns), env)
    if isinstance(raw, bool) or raw is None:
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, int | float):
        return raw
    if isinstance(raw, Mapping):
        if key in MAP_ARGUMENTS:
            return {str(k): value(v, tf_type, env, "", arns) for k, v in raw.items()}
        return {
            argument_name(tf_type, str(k), v): value(v, tf_type, env, str(k), arns)
            for k, v in raw.items()
            if v is not None
        }
    if isinstance(raw, list | tuple):
        whole = whole_list(raw)
        if whole is not None:
            return whole
        return [value(v, tf_type, env, key, arns) for v in raw]
    raise TerraformError(
        f"{tf_type}: input {key!r} holds a {type(raw).__name__}, which has no Terraform form."
    )


def _variable(tf_type: str, key: str, raw: Any, env: EnvSpec | None) -> str | None:
    """``${var.project}`` or ``${var.region}`` for a google resource's own project or region
    argument (see :data:`GOOGLE_VARIABLES`), else None."""
    if env is None or not tf_type.startswith("google_") or key not in GOOGLE_VARIABLES:
        return None
    variable = GOOGLE_VARIABLES[key]
    own = env.account_id if variable == "project" else env.region
    return f"${{var.{variable}}}" if raw == own else None


def _arns(text: str, env: EnvSpec | None) -> str:
    """The environment's own region and account inside ARNs as the directory's variables."""
    if env is None:
        return text

    def swap(m: re.Match[str]) -> str:
        region = "${var.region}" if m.group(3) and m.group(3) == env.region else m.group(3)
        account = m.group(4) or ""
        if account and account == env.account_id:
            account = "${var.account_id}"
        return f"arn:{m.group(1)}:{m.group(2)}:{region}:{account}:"

    return _ARN.sub(swap, text)


def _decoded(raw: Any) -> Any:
    """A provider input: Pulumi hands explicit providers their inputs JSON-encoded."""
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _is_asset(raw: Any) -> bool:
    return type(raw).__module__.startswith("pulumi.asset")


def _file_arguments(
    tf_type: str,
    name: str,
    raw: Any,
    names: tuple[str, str, str],
    artifacts: dict[str, Artifact],
    arns: Mapping[str, str] | None,
) -> dict[str, Any]:
    """The arguments naming an uploaded file: a string's text inline (``content``), anything
    else an artifact file and its hash."""
    file_arg, hash_arg, hash_fn = names
    kind = type(raw).__name__
    if kind == "StringAsset" and tf_type == "aws_s3_object":
        return {"content": interpolate(str(raw.text), arns)}
    if kind not in ("AssetArchive", "FileArchive", "FileAsset"):
        raise TerraformError(
            f"{tf_type} {name!r}: its code is a {kind}, which the Terraform target cannot "
            "refer to as a file yet (archives and files only)."
        )
    file = f"{ARTIFACTS}/{artifact_name(raw)}"
    artifacts.setdefault(file, Artifact(file, raw))
    return {file_arg: file, hash_arg: f'${{{hash_fn}("{file}")}}'}


def artifact_name(raw: Any) -> str:
    """A stable file name for an archive or file: by content for a set of files (the same
    code package in every function shares one file, and the name moves with the source code,
    not with where its files are cached), by name for a directory or a file."""
    kind = type(raw).__name__
    if kind == "AssetArchive":
        digest = hashlib.sha256()
        for member, asset in sorted(raw.assets.items()):
            if "__pycache__/" in member:
                continue  # compiled from the sources named here; marshal is not reproducible
            inner = getattr(asset, "path", None)
            content = (
                Path(str(inner)).read_bytes()
                if inner is not None
                else str(getattr(asset, "text", "")).encode()
            )
            digest.update(f"{member}\0{hashlib.sha256(content).hexdigest()}\n".encode())
        return f"code-{digest.hexdigest()[:16]}.zip"
    path = Path(str(raw.path))
    if kind == "FileArchive":
        return f"{path.name}.zip"
    return path.name

"""Offline plans: run a Pulumi program under Pulumi's own mock engine and record every resource.

No Pulumi CLI, no cloud credentials: :func:`run_with_mocks` configures
``pulumi.runtime.set_mocks`` in a fresh thread (Pulumi keeps its settings, root stack and
config in context variables, which a new thread starts without), runs the program, waits for
every registration, and returns what :class:`RecordingMocks` saw. Repeated plans in one
process therefore never see each other's state.

Outputs the cloud would compute (ARNs, ids, names) are filled in realistically from the
environment a resource's provider belongs to, so policies that reference them read like the
real ones and can be linted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glacier.extras import require
from glacier.infra.model import EnvSpec

#: Account and region for resources whose provider is not a Glacier environment's.
DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"

#: Inputs that hold IAM policy documents (JSON strings), by resource type.
POLICY_INPUTS: Mapping[str, tuple[str, ...]] = {
    "aws:iam/role:Role": ("assumeRolePolicy",),
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:iam/policy:Policy": ("policy",),
    "aws:s3/bucketPolicy:BucketPolicy": ("policy",),
}


@dataclass(frozen=True)
class PlannedResource:
    """One resource the program declares, as the engine received it.

    ``inputs`` use the engine's camelCase keys with Outputs resolved; ``provider`` is the
    logical name of the explicit provider it is bound to (``""`` for a default provider);
    ``environment``, ``account`` and ``region`` come from that provider's environment.
    """

    type: str
    name: str
    inputs: Mapping[str, Any]
    provider: str
    environment: str | None = None
    account: str | None = None
    region: str | None = None
    outputs: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_provider(self) -> bool:
        """Whether this is a provider resource."""
        return self.type.startswith("pulumi:providers:")

    def policy(self, key: str | None = None) -> dict[str, Any]:
        """A policy document input, parsed (``policy``/``assumeRolePolicy`` by type)."""
        keys = (key,) if key else POLICY_INPUTS.get(self.type, ("policy",))
        for k in keys:
            value = self.inputs.get(k)
            if isinstance(value, str):
                parsed: dict[str, Any] = json.loads(value)
                return parsed
        raise KeyError(f"{self.type} {self.name!r} has no policy input {keys}")

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-able) for this resource."""
        return {
            "type": self.type,
            "name": self.name,
            "provider": self.provider,
            "environment": self.environment,
            "account": self.account,
            "region": self.region,
            "inputs": _jsonable(dict(self.inputs)),
        }


@dataclass(frozen=True)
class Plan:
    """The resources a pipeline's infrastructure program declares, in a stable order.

    Example (offline; no cloud, no CLI)::

        plan = glacier.infra.plan(pipeline)
        print(plan.to_text())
        roles = plan.of_type("aws:iam/role:Role")
    """

    pipeline: str
    resources: tuple[PlannedResource, ...]
    environments: tuple[str, ...] = ()
    #: What the plan chose where the pipeline left it open (a Lambda task's package), and
    #: why: objects with ``text`` (one line) and ``to_dict()``.
    choices: tuple[Any, ...] = ()
    #: The container images its Lambda functions run (``LambdaImage``: repository, tag, what
    #: they are built from), which a deployment builds and pushes first.
    images: tuple[Any, ...] = ()

    def __iter__(self) -> Iterator[PlannedResource]:
        return iter(self.resources)

    def __len__(self) -> int:
        return len(self.resources)

    def __getitem__(self, index: int) -> PlannedResource:
        return self.resources[index]

    def of_type(self, type_: str) -> list[PlannedResource]:
        """Resources of a Pulumi type token, e.g. ``aws:s3/bucket:Bucket``."""
        return [r for r in self.resources if r.type == type_]

    def get(self, type_: str, name: str) -> PlannedResource:
        """The resource of type ``type_`` with logical name ``name``."""
        for r in self.resources:
            if r.type == type_ and r.name == name:
                return r
        raise KeyError(f"no {type_} named {name!r} in the plan")

    def in_environment(self, env: str) -> list[PlannedResource]:
        """Resources bound to environment ``env``'s provider (the provider included)."""
        return [r for r in self.resources if r.environment == env]

    def policies(self) -> list[tuple[PlannedResource, str, dict[str, Any]]]:
        """Every IAM policy document: ``(resource, input key, parsed document)``."""
        out = []
        for r in self.resources:
            for key in POLICY_INPUTS.get(r.type, ()):
                value = r.inputs.get(key)
                if isinstance(value, str):
                    out.append((r, key, json.loads(value)))
        return out

    def grants(self) -> dict[str, list[dict[str, Any]]]:
        """Role bindings by identity, for clouds that grant on the resource (GCP's IAM
        members, Azure's role assignments): ``{identity: [{"role", "on", "condition",
        "resource"}]}``. Read from the inputs every such binding has (``member`` and ``role``;
        ``principalId`` and ``roleDefinitionId``), never from one cloud's types; empty for
        AWS, whose grants are the policy documents of :meth:`policies`.
        """
        out: dict[str, list[dict[str, Any]]] = {}
        for r in self.resources:
            inputs = r.inputs
            who = inputs.get("member") or inputs.get("principalId")
            role = inputs.get("role") or inputs.get("roleDefinitionId")
            if not isinstance(who, str) or not isinstance(role, str):
                continue
            on = next(
                (
                    str(inputs[k])
                    for k in ("bucket", "secretId", "scope", "name", "project")
                    if inputs.get(k)
                ),
                "",
            )
            condition = inputs.get("condition")
            if isinstance(condition, Mapping):
                condition = condition.get("expression")
            out.setdefault(who, []).append(
                {"role": role, "on": on, "condition": condition, "resource": r.name}
            )
        return out

    def counts(self) -> dict[str, int]:
        """How many resources of each type."""
        out: dict[str, int] = {}
        for r in self.resources:
            out[r.type] = out.get(r.type, 0) + 1
        return out

    def to_json(self, indent: int | None = 2) -> str:
        """The plan as JSON: pipeline, environments and every resource with its inputs."""
        data: dict[str, Any] = {
            "pipeline": self.pipeline,
            "environments": list(self.environments),
            "choices": [c.to_dict() for c in self.choices],
            "resources": [r.to_dict() for r in self.resources],
        }
        grants = self.grants()
        if grants:  # clouds granting on the resource; AWS plans read as before
            data["grants"] = _jsonable(grants)
        return json.dumps(
            data,
            indent=indent,
            sort_keys=False,
        )

    def to_text(self) -> str:
        """A human summary: one line per resource, grouped by environment."""
        lines = [f"Plan for pipeline {self.pipeline!r}: {len(self.resources)} resources"]
        current: object = object()
        for r in self.resources:
            if r.environment != current:
                current = r.environment
                where = ", ".join(x for x in (r.account, r.region) if x)
                lines.append(
                    f"\n{r.environment or '(default provider)'}" + (f" ({where})" if where else "")
                )
            lines.append(f"  + {r.type:<55} {r.name}")
        if self.choices:
            lines.append("\nChosen by the plan:")
            lines.extend(f"  {c.text}" for c in self.choices)
        return "\n".join(lines)


class RecordingMocks:
    """``pulumi.runtime.Mocks`` that record each resource and answer with realistic outputs.

    ``environments`` maps provider logical names (Glacier names providers after their
    environment) to environments, for the account and region of computed ARNs.
    """

    def __init__(self, environments: Mapping[str, EnvSpec] | None = None) -> None:
        self.environments = dict(environments or {})
        self.resources: list[PlannedResource] = []
        self._lock = threading.Lock()

    # The two methods pulumi.runtime.Mocks declares (duck-typed: set_mocks only calls them).

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        provider = _provider_name(args.provider)
        env = self._environment_of(provider)
        if args.typ.startswith("pulumi:providers:"):
            env = self._environment_of(args.name)
        account = (env.account_id if env else None) or DEFAULT_ACCOUNT
        region = (env.region if env else None) or str(args.inputs.get("region") or DEFAULT_REGION)
        partition = _partition(env)
        rid, outputs = _outputs(args.typ, args.name, dict(args.inputs), partition, region, account)
        record = PlannedResource(
            type=args.typ,
            name=args.name,
            inputs=dict(args.inputs),
            provider=provider,
            environment=env.key if env else None,
            account=env.account_id if env else None,
            region=env.region if env else args.inputs.get("region"),
            outputs=outputs,
        )
        with self._lock:
            self.resources.append(record)
        return rid, outputs

    def _environment_of(self, provider: str) -> EnvSpec | None:
        """The environment of a provider: the one it is named after (a cloud's provider), or
        the one whose key begins its logical name, as every logical name of a builder does
        (``prod-databricks-<workspace>``, a Databricks workspace's provider in ``prod``)."""
        found = self.environments.get(provider)
        if found is not None or not provider:
            return found
        keys = [k for k in self.environments if provider.startswith(f"{k}-")]
        return self.environments[max(keys, key=len)] if keys else None

    def call(self, args: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token.startswith("azure-native:"):
            from glacier.infra.azure.mock_outputs import call

            env = self.environments.get(_provider_name(getattr(args, "provider", None) or ""))
            answer = call(args.token, dict(args.args), (env.account_id if env else None) or "")
            return answer or {}, []
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": DEFAULT_ACCOUNT, "arn": "", "userId": "", "id": ""}, []
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": DEFAULT_REGION, "region": DEFAULT_REGION, "id": DEFAULT_REGION}, []
        if args.token == "aws:ec2/getVpc:getVpc":
            return {"id": "vpc-default", "default": True, "cidrBlock": "172.31.0.0/16"}, []
        if args.token == "aws:ec2/getSubnets:getSubnets":
            vpc = next(
                (f["values"][0] for f in args.args.get("filters", []) if f["name"] == "vpc-id"),
                "vpc-default",
            )
            suffix = "default" if vpc == "vpc-default" else vpc.removeprefix("vpc-")
            return {"id": vpc, "ids": [f"subnet-{suffix}-a", f"subnet-{suffix}-b"]}, []
        if args.token == "aws:ec2/getSubnet:getSubnet":
            return {"id": args.args.get("id"), "vpcId": "vpc-of-" + str(args.args.get("id"))}, []
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            env = self.environments.get(_provider_name(getattr(args, "provider", None) or ""))
            region = (env.region if env else None) or DEFAULT_REGION
            return {"id": region, "names": [f"{region}{z}" for z in "abc"]}, []
        if args.token == "aws:secretsmanager/getSecretVersion:getSecretVersion":
            # A secret's value is read at deploy time only: the plan shows a stand-in.
            sid = str(args.args.get("secretId"))
            return {"id": sid, "secretId": sid, "secretString": f"<value of secret {sid}>"}, []
        if args.token == "aws:ec2/getSecurityGroup:getSecurityGroup":
            vpc = str(args.args.get("vpcId"))
            return {"id": f"sg-default-of-{vpc}", "name": "default", "vpcId": vpc}, []
        return {}, []


def run_with_mocks(
    program: Callable[[], Any],
    mocks: Any,
    *,
    project: str = "glacier",
    stack: str = "plan",
    config: Mapping[str, str] | None = None,
) -> Any:
    """Run ``program`` under ``mocks`` in a fresh thread and return what it returned.

    The thread gets its own event loop and an empty context, so the Pulumi runtime state of
    one run never leaks into the next; exceptions of the program are re-raised here.
    """
    box: dict[str, Any] = {}

    def work() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            box["value"] = _run(program, mocks, project, stack, config or {})
        except BaseException as exc:  # re-raised in the calling thread
            box["error"] = exc
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    thread = threading.Thread(target=work, name="glacier-plan")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _run(
    program: Callable[[], Any], mocks: Any, project: str, stack: str, config: Mapping[str, str]
) -> Any:
    pulumi = require("pulumi", "deploy", "Planning infrastructure")
    from pulumi.runtime import settings
    from pulumi.runtime.config import set_all_config
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    settings.reset_options(project=project, stack=stack)
    set_all_config(dict(config))
    # Mocks may bring their own monitor (the Terraform writer's records dependencies).
    make_monitor = getattr(mocks, "make_monitor", None)
    monitor = make_monitor() if callable(make_monitor) else None
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    box: dict[str, Any] = {}

    def body() -> None:
        box["value"] = program()

    _sync_await(run_pulumi_func(body))
    return box.get("value")


def plan_program(
    program: Callable[[], Any],
    environments: Mapping[str, EnvSpec],
    *,
    pipeline: str,
    project: str = "glacier",
    stack: str = "plan",
    config: Mapping[str, str] | None = None,
) -> Plan:
    """Run ``program`` under :class:`RecordingMocks` and return the :class:`Plan`."""
    mocks = RecordingMocks(environments)
    run_with_mocks(program, mocks, project=project, stack=stack, config=config)
    return make_plan(pipeline, mocks.resources, tuple(environments))


def make_plan(
    pipeline: str, resources: Sequence[PlannedResource], environments: Sequence[str] = ()
) -> Plan:
    """A :class:`Plan` with resources in a stable order: by environment (as listed), then
    providers first, then by type and name."""
    order = {k: i for i, k in enumerate(environments)}

    def key(r: PlannedResource) -> tuple[int, int, str, str]:
        where = order.get(r.environment or "", len(order))
        return (where, 0 if r.is_provider else 1, r.type, r.name)

    return Plan(pipeline, tuple(sorted(resources, key=key)), tuple(environments))


# -- outputs the mocks compute -----------------------------------------------------------------


def _provider_name(ref: str) -> str:
    """``urn:...::pulumi:providers:aws::dev::id`` -> ``dev``."""
    if not ref:
        return ""
    urn = ref.split("::")
    # urn:pulumi:<stack>::<project>::<type>::<name>::<id>
    return urn[-2] if len(urn) >= 2 else ref


def _outputs(
    typ: str, name: str, inputs: dict[str, Any], partition: str, region: str, account: str
) -> tuple[str, dict[str, Any]]:
    if typ.startswith("gcp:"):
        from glacier.infra.gcp.mock_outputs import outputs

        return outputs(typ, name, inputs, account, region)
    if typ.startswith("azure-native:"):
        from glacier.infra.azure.mock_outputs import outputs as azure_outputs

        return azure_outputs(typ, name, inputs, account, region)
    physical = str(inputs.get("name") or inputs.get("bucket") or inputs.get("family") or name)
    out = dict(inputs)
    rid = physical
    base = f"arn:{partition}"
    arn = _ARNS.get(typ)
    if arn is not None:
        out["arn"] = arn.format(
            base=base, region=region, account=account, name=physical, inputs=inputs
        )
    elif typ.startswith("aws:"):
        service = typ.split(":")[1].split("/")[0]
        out["arn"] = f"{base}:{service}:{region}:{account}:{physical}"
    if typ == "aws:s3/bucket:Bucket":
        out.setdefault("bucket", physical)
        out["bucketDomainName"] = f"{physical}.s3.amazonaws.com"
    elif typ == "aws:ecs/taskDefinition:TaskDefinition":
        out["revision"] = 1
    elif typ == "aws:ecr/repository:Repository":
        out["repositoryUrl"] = f"{account}.dkr.ecr.{region}.amazonaws.com/{physical}"
    elif typ == "aws:iam/rolePolicy:RolePolicy":
        rid = f"{inputs.get('role')}:{physical}"
    elif typ in _GENERATED_IDS:
        # Resources AWS names itself (fs-..., fsap-..., sg-..., db-...): a stable stand-in.
        rid = f"{_GENERATED_IDS[typ]}-{hashlib.sha1(name.encode()).hexdigest()[:12]}"
        out["arn"] = str(out["arn"]).replace("{id}", rid)
    if typ == "aws:ec2/vpcEndpoint:VpcEndpoint" and inputs.get("vpcEndpointType") == "Gateway":
        out["prefixListId"] = f"pl-{hashlib.sha1(name.encode()).hexdigest()[:8]}"
    if typ == "aws:rds/instance:Instance":
        ident = str(inputs.get("identifier") or physical)
        out["arn"] = f"{base}:rds:{region}:{account}:db:{ident}"
        out["resourceId"] = rid
        out["address"] = f"{ident}.abc123.{region}.rds.amazonaws.com"
        out["endpoint"] = f"{out['address']}:{inputs.get('port', 5432)}"
        out["masterUserSecrets"] = [
            {
                "secretArn": f"{base}:secretsmanager:{region}:{account}:secret:rds!{rid}-AbCdEf",
                "secretStatus": "active",
                "kmsKeyId": "",
            }
        ]
    out.setdefault("name", physical)
    out["id"] = rid
    return rid, out


_ARNS: dict[str, str] = {
    "aws:s3/bucket:Bucket": "{base}:s3:::{name}",
    "aws:s3/bucketV2:BucketV2": "{base}:s3:::{name}",
    "aws:iam/role:Role": "{base}:iam::{account}:role/{name}",
    "aws:iam/policy:Policy": "{base}:iam::{account}:policy/{name}",
    "aws:lambda/function:Function": "{base}:lambda:{region}:{account}:function:{name}",
    "aws:ecs/taskDefinition:TaskDefinition": (
        "{base}:ecs:{region}:{account}:task-definition/{name}:1"
    ),
    "aws:ecs/cluster:Cluster": "{base}:ecs:{region}:{account}:cluster/{name}",
    "aws:ecr/repository:Repository": "{base}:ecr:{region}:{account}:repository/{name}",
    "aws:sfn/stateMachine:StateMachine": "{base}:states:{region}:{account}:stateMachine:{name}",
    "aws:cloudwatch/logGroup:LogGroup": "{base}:logs:{region}:{account}:log-group:{name}",
    "aws:cloudwatch/eventRule:EventRule": "{base}:events:{region}:{account}:rule/{name}",
    "aws:glue/job:Job": "{base}:glue:{region}:{account}:job/{name}",
    "aws:dynamodb/table:Table": "{base}:dynamodb:{region}:{account}:table/{name}",
    "aws:secretsmanager/secret:Secret": (
        "{base}:secretsmanager:{region}:{account}:secret:{name}-AbCdEf"
    ),
    "aws:efs/fileSystem:FileSystem": (
        "{base}:elasticfilesystem:{region}:{account}:file-system/{{id}}"
    ),
    "aws:efs/accessPoint:AccessPoint": (
        "{base}:elasticfilesystem:{region}:{account}:access-point/{{id}}"
    ),
    "aws:ec2/securityGroup:SecurityGroup": "{base}:ec2:{region}:{account}:security-group/{{id}}",
    "aws:ec2/vpc:Vpc": "{base}:ec2:{region}:{account}:vpc/{{id}}",
    "aws:ec2/subnet:Subnet": "{base}:ec2:{region}:{account}:subnet/{{id}}",
}

#: Resource types whose id AWS generates, and the id's prefix.
_GENERATED_IDS: dict[str, str] = {
    "aws:efs/fileSystem:FileSystem": "fs",
    "aws:efs/accessPoint:AccessPoint": "fsap",
    "aws:efs/mountTarget:MountTarget": "fsmt",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:rds/instance:Instance": "db",
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/eip:Eip": "eipalloc",
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    assets = getattr(value, "assets", None)
    if isinstance(assets, Mapping):
        return {"archive": sorted(assets)}
    for attr in ("path", "text", "uri"):
        inner = getattr(value, attr, None)
        if isinstance(inner, str):
            return {type(value).__name__: inner if attr != "text" else f"<{len(inner)} chars>"}
    return repr(value)


# -- planning a pipeline -------------------------------------------------------------------------


def plan(
    pipeline: Any,
    env: Any = None,
    environments: Sequence[Any] | None = None,
    *,
    mocks: RecordingMocks | None = None,
) -> Plan:
    """Every resource ``pipeline``'s infrastructure program declares, computed offline.

    Runs the same program a generated project runs, under Pulumi's mock engine: no Pulumi
    CLI, no credentials, no network. Plans are independent: call it as often as you like.

    Args:
        pipeline: A :class:`~glacier.Pipeline`, an ``@env.pipeline()`` function, a target
            ``"pipelines.py:name"``, or a function returning a pipeline (needed when datasets
            use raw Pulumi resources defined next to the pipeline in a function).
        env: Only this environment's share (an Environment or its name), as its stack would
            deploy it; every environment the pipeline touches when omitted.
        environments: Environment objects the resources belong to (found when not listed).
        mocks: The mocks to run under (a fresh :class:`RecordingMocks` when omitted); the
            Terraform writer passes mocks answering with Terraform references.

    Example:
        >>> plan = glacier.infra.plan(dev_pipeline)                      # doctest: +SKIP
        >>> [r.name for r in plan.of_type("aws:iam/role:Role")]         # doctest: +SKIP
        ['dev-extract-role', 'dev-clean-role', 'dev-orchestrator']
    """
    from glacier.infra.model import build_model
    from glacier.infra.pulumi_program import ACTIVE_MOCKS, loader_for, program, select_environments

    known = list(environments or ())
    if env is not None and not isinstance(env, str):
        known.append(env)  # its network and tags, even when no resource names it
    load = loader_for(pipeline, known)
    mocks = mocks if mocks is not None else RecordingMocks()
    box: dict[str, Any] = {}

    def run() -> None:
        token = ACTIVE_MOCKS.set(mocks)
        try:
            pipe, envs = load()
            model = box["model"] = build_model(pipe, envs)
            box["declared"] = program(pipe, env, envs, model=model)
        finally:
            ACTIVE_MOCKS.reset(token)

    name = getattr(pipeline, "name", None) or "glacier"
    stack = env if isinstance(env, str) else str(getattr(env, "name", None) or "plan")
    run_with_mocks(run, mocks, project=_project_name(str(name)), stack=stack)
    model = box["model"]
    made = make_plan(model.pipeline, mocks.resources, select_environments(model, env))
    declared = list(box["declared"].values())
    choices = [c for out in declared for c in getattr(out, "choices", ())]
    images = [i for out in declared for i in getattr(out, "images", {}).values()]
    return dataclasses.replace(made, choices=tuple(choices), images=tuple(images))


def plan_project(project_dir: str | Path, stack: str) -> Plan:
    """Run a generated project's ``__main__.py`` for ``stack`` under the mock engine."""
    import runpy

    from glacier.infra.pulumi_program import ACTIVE_MOCKS

    root = Path(project_dir).resolve()
    mocks = RecordingMocks()

    def run() -> None:
        token = ACTIVE_MOCKS.set(mocks)
        sys.path.insert(0, str(root))
        # The program exports its environment's settings (GLACIER_ENV, GLACIER_SETTINGS) as
        # `pulumi up` would in a process of its own; here they must not outlive the plan.
        environ = dict(os.environ)
        try:
            runpy.run_path(str(root / "__main__.py"), run_name="__main__")
        finally:
            sys.path.remove(str(root))
            ACTIVE_MOCKS.reset(token)
            for key in set(os.environ) - set(environ):
                del os.environ[key]
            os.environ.update({k: v for k, v in environ.items() if os.environ.get(k) != v})

    config = {**stack_config(root / f"Pulumi.{stack}.yaml"), "glacier:environment": stack}
    run_with_mocks(run, mocks, project=root.name, stack=stack, config=config)
    return make_plan(root.name, mocks.resources, tuple(mocks.environments))


def stack_config(path: Path) -> dict[str, str]:
    """The ``glacier:*`` values of a generated stack file, as Pulumi hands them to a program.

    Glacier writes each of them on one line as a JSON scalar (valid YAML), so no YAML parser
    is needed; a stack file that does not exist has none.
    """
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.strip().partition(": ")
        if sep and key.startswith("glacier:"):
            out[key] = str(json.loads(value))
    return out


def _project_name(name: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "glacier"


def _partition(env: EnvSpec | None) -> str:
    """The partition ARNs of ``env``'s resources are computed in (``aws`` outside AWS)."""
    if env is None or env.cloud != "aws":
        return "aws"
    from glacier.infra.aws.naming import partition_of

    return partition_of(env)

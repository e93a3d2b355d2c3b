"""The stack record: one environment's provider and what has been declared under it so far.

Every builder module (``storage``, ``task_roles``, ``lambda_``, ...) is a set of plain
functions taking a :class:`Stack` first. The record itself is frozen: which model, which
environment, which provider never change during a declaration; the dicts it holds collect the
resources later steps refer to (a task's role for the state machine, a bucket for the Glue
code), so the order of the steps in :mod:`glacier.infra.aws.infrastructure` is the only
coupling between modules.

Pulumi and ``pulumi_aws`` are imported by :func:`open_stack`, not at module level, so that
``import glacier`` stays free of cloud SDKs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from glacier.infra.aws.naming import deployer_role
from glacier.infra.lambda_package import ContainerImage, PackageChoice, TimingChoice
from glacier.infra.model import EnvSpec, InfraModel

#: Tag every resource carries (through the provider's default tags).
MANAGED_BY = {"ManagedBy": "glacier"}


@dataclass
class AwsResources:
    """What :meth:`AwsInfrastructure.declare` created for one environment, by purpose."""

    provider: Any
    buckets: dict[str, Any] = field(default_factory=dict)
    roles: dict[str, Any] = field(default_factory=dict)
    functions: dict[str, Any] = field(default_factory=dict)
    task_definitions: dict[str, Any] = field(default_factory=dict)
    jobs: dict[str, Any] = field(default_factory=dict)
    databases: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    file_systems: dict[str, Any] = field(default_factory=dict)
    access_points: dict[str, Any] = field(default_factory=dict)
    state_machine: Any = None
    resources: list[Any] = field(default_factory=list)
    #: What the plan chose for tasks that left it open, and why (Lambda packages).
    choices: list[PackageChoice | TimingChoice] = field(default_factory=list)
    #: The container images its functions run, by tag (built and pushed before deploying).
    images: dict[str, ContainerImage] = field(default_factory=dict)


@dataclass(frozen=True)
class Stack:
    """One environment's declaration in progress (see the module docs).

    ``out`` is what the caller gets back; the other dicts are what later steps look up:
    ``store_arns`` by store key, ``log_groups``, ``task_roles`` and ``exec_roles`` by task,
    and ``shared`` for what is made once per environment on first use (the ECS cluster, the
    Lambda package, the Glue uploads, the default VPC's subnets).
    """

    pulumi: ModuleType
    aws: ModuleType
    model: InfraModel
    env: EnvSpec
    provider: Any
    #: Resource options binding a resource to ``provider`` (shared: most resources need no more).
    opts: Any
    out: AwsResources
    tags: dict[str, str]
    store_arns: dict[str, Any] = field(default_factory=dict)
    log_groups: dict[str, Any] = field(default_factory=dict)
    task_roles: dict[str, Any] = field(default_factory=dict)
    exec_roles: dict[str, Any] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)


def open_stack(model: InfraModel, env: EnvSpec) -> Stack:
    """A fresh stack for ``env``, with its ``aws.Provider`` declared; inside a Pulumi program."""
    import pulumi
    import pulumi_aws as aws

    provider = aws_provider(aws, env)
    return Stack(
        pulumi=pulumi,
        aws=aws,
        model=model,
        env=env,
        provider=provider,
        opts=pulumi.ResourceOptions(provider=provider),
        out=AwsResources(provider=provider),
        tags={"glacier:pipeline": model.pipeline},
    )


def aws_provider(aws: ModuleType, env: EnvSpec) -> Any:
    """The environment's ``aws.Provider``: region, profile, allowed account, default tags, and
    every service pointed at ``endpoint_url`` when an emulator stands in for AWS."""
    args: dict[str, Any] = {
        "region": env.region,
        "default_tags": aws.ProviderDefaultTagsArgs(tags={**env.tag_map, **MANAGED_BY}),
    }
    if env.profile:
        args["profile"] = env.profile
    if env.account_id:
        args["allowed_account_ids"] = [env.account_id]
    if deployer_role(env):
        args["assume_roles"] = [aws.ProviderAssumeRoleArgs(role_arn=deployer_role(env))]
    if env.endpoint_url:
        url = env.endpoint_url
        args["endpoints"] = [
            aws.ProviderEndpointArgs(
                s3=url,
                iam=url,
                sts=url,
                lambda_=url,
                ecr=url,
                sfn=url,
                ecs=url,
                logs=url,
                events=url,
                rds=url,
                dynamodb=url,
                efs=url,
                ec2=url,
                secretsmanager=url,
            )
        ]
        args["s3_use_path_style"] = True
        args["skip_credentials_validation"] = True
        args["skip_requesting_account_id"] = True
    return aws.Provider(env.key, **args)


def logical_name(stack: Stack, *parts: str) -> str:
    """A logical (Pulumi) name, unique in the stack: the environment's key first."""
    return "-".join((stack.env.key, *parts))


def add(
    stack: Stack, cls: Any, logical: str, /, *, depends_on: Sequence[Any] = (), **args: Any
) -> Any:
    """Declare resource ``cls(logical, **args)`` on the environment's provider and collect it."""
    opts = stack.opts
    if depends_on:
        opts = stack.pulumi.ResourceOptions(provider=stack.provider, depends_on=list(depends_on))
    resource = cls(logical, opts=opts, **args)
    stack.out.resources.append(resource)
    return resource


def invoke_options(stack: Stack) -> Any:
    """Options binding a data-source lookup (``get_..._output``) to the environment's provider."""
    return stack.pulumi.InvokeOutputOptions(provider=stack.provider)


def account_of(stack: Stack) -> Any:
    """The environment's account id; looked up once (an Output) when its settings do not
    name it."""
    if stack.env.account_id is not None:
        return stack.env.account_id
    found = stack.shared.get("account_id")
    if found is None:
        identity = stack.aws.get_caller_identity_output(opts=invoke_options(stack))
        found = stack.shared["account_id"] = identity.account_id
    return found


def json_input(stack: Stack, doc: Any) -> Any:
    """A JSON string input; an Output when the document holds Outputs."""
    if _has_output(doc, stack.pulumi.Output):
        return stack.pulumi.Output.json_dumps(doc)
    return json.dumps(doc)


def _has_output(value: Any, output_type: type) -> bool:
    if isinstance(value, output_type):
        return True
    if isinstance(value, Mapping):
        return any(_has_output(v, output_type) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_output(v, output_type) for v in value)
    return False

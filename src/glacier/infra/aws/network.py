"""An environment's network: the VPC, subnets and security groups its databases, file systems
and the tasks reaching them live in — named by the settings, or created by the plan.

``[network] subnet_ids`` (with ``vpc_id`` and ``security_group_ids``) name an existing VPC:
every Lambda function and Fargate task of the environment runs in those subnets, and
databases and file systems are placed there.

When the settings name no VPC and the environment holds something that lives in one (an RDS
instance, an EFS file system: :func:`needs_network`), :func:`declare_network` creates one for
the pipeline in that environment:

- a VPC (``10.0.0.0/16``, DNS on) and two private subnets in the region's first two
  availability zones, sharing one route table with no route out of the VPC;
- security groups: the tasks' own (egress: HTTPS to the endpoints, and the ports of the
  environment's databases and file systems inside the VPC; no ingress), the endpoints'
  (HTTPS from the tasks' group only), and per database or file system one admitting its
  port from the tasks' group only (:func:`port_from_compute`);
- a gateway endpoint for S3, and one for DynamoDB when a task in the VPC uses a table (both
  free);
- interface endpoints for what deployed tasks call besides: Secrets Manager, STS and
  CloudWatch Logs (:data:`TASK_SERVICES`), and ECR's API and registry where compute in the
  VPC pulls its image at start (:func:`pulls_image`), so the tasks need no NAT gateway.

With ``[network] nat = true`` a public subnet, an internet gateway and one NAT gateway take
the interface endpoints' place (the S3 gateway stays: it is free and spares the NAT's per-GB
charge). ``docs/deploy.md`` ("Networks") compares what the two cost.

Only the tasks that use an RDS database or a volume run in a created VPC (:func:`in_network`);
the others keep Lambda's own network, or the default VPC for Fargate, as without one.

Example:
    >>> interface_services(images=False, nat=False)
    ('secretsmanager', 'sts', 'logs')
    >>> interface_services(images=True, nat=False)  # a Fargate task pulls at each start
    ('secretsmanager', 'sts', 'logs', 'ecr.api', 'ecr.dkr')
    >>> interface_services(images=True, nat=True)  # the NAT gateway reaches them all
    ()
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from glacier.errors import InfraError
from glacier.infra import iam
from glacier.infra.aws.naming import partition_of
from glacier.infra.aws.stack import Stack, add, invoke_options, logical_name
from glacier.infra.model import InfraModel, TaskSpec

#: The address range of a created VPC, its two private subnets and (with NAT) public one.
VPC_CIDR = "10.0.0.0/16"
PRIVATE_CIDRS = ("10.0.0.0/19", "10.0.32.0/19")
PUBLIC_CIDR = "10.0.64.0/24"
HTTPS = 443
#: Interface endpoints of every created VPC without NAT: what a deployed task calls besides
#: S3 (the password of its database, role sessions across accounts, its container's logs).
TASK_SERVICES = ("secretsmanager", "sts", "logs")
#: ECR's endpoints: the API (tokens, manifests) and the registry (layers come from S3).
IMAGE_SERVICES = ("ecr.api", "ecr.dkr")
#: Whether a compute kind pulls an image through the task's own network at each start. A
#: Fargate task does; a Lambda function's image (zip or container) is fetched by the Lambda
#: service when the function is created or updated, not through the function's VPC.
PULLS_IMAGE_IN_VPC = {"ecs": True, "lambda": False, "glue": False}


@dataclass(frozen=True)
class Placement:
    """Where compute attached to the environment's network runs: the VPC (None when only
    subnets are named: :func:`vpc_id` looks it up), the subnets and the compute's security
    groups (empty: the VPC's ``default`` group); ``created`` when the plan made the VPC.
    Values are plain ids or resource outputs."""

    vpc_id: Any
    subnet_ids: tuple[Any, ...]
    security_group_ids: tuple[Any, ...]
    created: bool
    #: The subnets' ARNs (a Lambda function's role attaches interfaces in them).
    subnet_arns: tuple[Any, ...] = ()
    #: The compute group's ARN, when the plan created it.
    group_arn: Any = None


def needs_network(model: InfraModel, env: str) -> bool:
    """Whether environment ``env`` holds something that lives in a VPC: an RDS instance or
    an EFS file system."""
    relational = any(not db.is_dynamodb for db in model.databases_in(env))
    return relational or bool(model.volumes_in(env))


def uses_network(model: InfraModel, task: TaskSpec) -> bool:
    """Whether ``task`` reaches something in a VPC: an RDS database or a volume."""
    relational = any(not model.databases[key].is_dynamodb for key in task.databases)
    return relational or bool(task.volumes)


def pulls_image(task: TaskSpec) -> bool:
    """Whether ``task``'s compute pulls an image through its own network when it starts
    (see :data:`PULLS_IMAGE_IN_VPC`): the one rule deciding the ECR endpoints, over the
    tasks in the VPC. A compute kind (or a package type of one) that pulls in the VPC is a
    row there, or a condition here on ``task.config``."""
    return PULLS_IMAGE_IN_VPC.get(task.compute, False)


def interface_services(*, images: bool, nat: bool) -> tuple[str, ...]:
    """The interface endpoints a created VPC needs: what every deployed task calls, and ECR
    when a task in it pulls its image (``images``); none with a NAT gateway, which reaches
    every service."""
    if nat:
        return ()
    return TASK_SERVICES + (IMAGE_SERVICES if images else ())


def in_network(stack: Stack, task: TaskSpec) -> bool:
    """Whether ``task`` (of this stack's environment) runs attached to the environment's
    network: every Lambda and ECS task with ``[network] subnet_ids``; in a created VPC, the
    tasks that use an RDS database or a volume."""
    if task.compute not in ("lambda", "ecs"):
        return False
    if stack.env.network.configured:
        return True
    return "network" in stack.shared and uses_network(stack.model, task)


def placement(stack: Stack) -> Placement | None:
    """The environment's network: named by ``[network] subnet_ids``, created by
    :func:`declare_network`, or None."""
    network = stack.env.network
    if network.configured:
        account = stack.env.account_id or "*"
        base = f"arn:{partition_of(stack.env)}:ec2:{stack.env.region}:{account}"
        return Placement(
            vpc_id=network.vpc_id,  # or the subnets' VPC, looked up by vpc_id() when needed
            subnet_ids=network.subnet_ids,
            security_group_ids=network.security_group_ids,
            created=False,
            subnet_arns=tuple(f"{base}:subnet/{s}" for s in network.subnet_ids),
        )
    found: Placement | None = stack.shared.get("network")
    return found


def declare_network(stack: Stack) -> None:
    """Create the environment's VPC (see the module docs) when it needs one and the settings
    name none; refuse a task the created VPC could not start."""
    env = stack.env
    if env.network.named or not needs_network(stack.model, env.key):
        return
    tasks = [t for t in stack.model.tasks_in(env.key) if uses_network(stack.model, t)]
    nat = env.network.nat
    for task in tasks:
        check_image_reachable(task, nat)
    aws = stack.aws
    tags = {**stack.tags, "glacier:network": env.key}
    name = "-".join(x for x in (env.naming_prefix, stack.model.pipeline) if x)
    vpc = add(
        stack,
        aws.ec2.Vpc,
        logical_name(stack, "vpc"),
        cidr_block=VPC_CIDR,
        enable_dns_support=True,  # interface endpoints answer under the services' own names
        enable_dns_hostnames=True,
        tags={**tags, "Name": name},
    )
    zones = aws.get_availability_zones_output(state="available", opts=invoke_options(stack))
    private = [
        add(
            stack,
            aws.ec2.Subnet,
            logical_name(stack, f"private-{i + 1}"),
            vpc_id=vpc.id,
            cidr_block=cidr,
            availability_zone=zones.names.apply(lambda names, i=i: _zone(names, i, env.key)),
            map_public_ip_on_launch=False,
            tags={**tags, "Name": f"{name}-private-{i + 1}"},
        )
        for i, cidr in enumerate(PRIVATE_CIDRS)
    ]
    routes = add(
        stack,
        aws.ec2.RouteTable,
        logical_name(stack, "private-routes"),
        vpc_id=vpc.id,
        routes=_nat_route(stack, vpc, tags, name) if nat else [],
        tags={**tags, "Name": f"{name}-private"},
    )
    for i, subnet in enumerate(private):
        add(
            stack,
            aws.ec2.RouteTableAssociation,
            logical_name(stack, f"private-{i + 1}-routes"),
            subnet_id=subnet.id,
            route_table_id=routes.id,
        )
    region = _region(stack)
    gateways = ["s3"]
    if any(stack.model.databases[k].is_dynamodb for t in tasks for k in t.databases):
        gateways.append("dynamodb")
    prefix_lists = [
        add(
            stack,
            aws.ec2.VpcEndpoint,
            logical_name(stack, f"endpoint-{service}"),
            vpc_id=vpc.id,
            service_name=region.apply(lambda r, s=service: f"com.amazonaws.{r}.{s}"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[routes.id],
            tags={**tags, "Name": f"{name}-{service}"},
        ).prefix_list_id
        for service in gateways
    ]
    group = add(
        stack,
        aws.ec2.SecurityGroup,
        logical_name(stack, "tasks-security-group"),
        name=f"{name}-tasks",
        vpc_id=vpc.id,
        description=f"Glacier tasks of pipeline {stack.model.pipeline} that reach its databases",
        egress=_task_egress(stack, prefix_lists, nat),
        tags=tags,
    )
    stack.shared["network"] = Placement(
        vpc_id=vpc.id,
        subnet_ids=tuple(s.id for s in private),
        security_group_ids=(group.id,),
        created=True,
        subnet_arns=tuple(s.arn for s in private),
        group_arn=group.arn,
    )
    services = interface_services(images=any(pulls_image(t) for t in tasks), nat=nat)
    if not services:
        return
    endpoints_group = add(
        stack,
        aws.ec2.SecurityGroup,
        logical_name(stack, "endpoints-security-group"),
        name=f"{name}-endpoints",
        vpc_id=vpc.id,
        description=f"VPC endpoints of Glacier pipeline {stack.model.pipeline}, for its tasks",
        ingress=[
            aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp",
                from_port=HTTPS,
                to_port=HTTPS,
                security_groups=[group.id],
                description="the pipeline's tasks",
            )
        ],
        tags=tags,
    )
    for service in services:
        add(
            stack,
            aws.ec2.VpcEndpoint,
            logical_name(stack, f"endpoint-{service.replace('.', '-')}"),
            vpc_id=vpc.id,
            service_name=region.apply(lambda r, s=service: f"com.amazonaws.{r}.{s}"),
            vpc_endpoint_type="Interface",
            private_dns_enabled=True,
            subnet_ids=[s.id for s in private],
            security_group_ids=[endpoints_group.id],
            tags={**tags, "Name": f"{name}-{service}"},
        )


#: An image in an ECR repository: ``<account>.dkr.ecr.<region>.amazonaws.com/<repository>``.
_ECR_IMAGE = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([^:@]+)")
#: The port each database engine listens on, and NFS's (EFS): what the network opens.
ENGINE_PORTS = {"postgres": 5432, "mysql": 3306, "mariadb": 3306}
NFS_PORT = 2049


def ecr_image(image: str) -> bool:
    """Whether ``image`` is in an ECR repository (``<account>.dkr.ecr.<region>...``)."""
    return _ECR_IMAGE.match(image) is not None


def check_image_reachable(task: TaskSpec, nat: bool) -> None:
    """Refuse a task that pulls its image in a created VPC without NAT from a registry other
    than ECR: only ECR has an endpoint there."""
    if nat or not pulls_image(task):
        return
    image = str(getattr(task.config, "image", None) or "")
    if image and not ecr_image(image):
        raise InfraError(
            f"Task {task.name!r} ({task.location}) runs on ECS in the VPC Glacier creates for "
            f"its database or volume, which reaches ECR but not the internet, and its image "
            f"{image!r} is not in ECR. Push the image to ECR, or set nat = true under "
            "[network] (a NAT gateway), or name your own VPC there (vpc_id, subnet_ids)."
        )


def require_subnets(stack: Stack, what: str, minimum: int = 1) -> tuple[Any, ...]:
    """The environment's subnets; refused, naming ``what`` needs them, when there are fewer
    than ``minimum``."""
    found = placement(stack)
    subnets = found.subnet_ids if found is not None else ()
    if len(subnets) < minimum:
        raise InfraError(
            f"{what} in environment {stack.env.key!r} needs at least {minimum} subnet(s) of "
            f"the environment's network, which has {len(subnets)}. Add them to its settings "
            'file: [network] vpc_id = "vpc-..." and subnet_ids = ["subnet-...", "subnet-..."] '
            "(in different availability zones), or leave [network] out and the plan creates "
            "a VPC."
        )
    return subnets


def vpc_id(stack: Stack) -> Any:
    """The environment's VPC: created, ``[network] vpc_id``, else the VPC of its first
    subnet."""
    created: Placement | None = stack.shared.get("network")
    if created is not None:
        return created.vpc_id
    network = stack.env.network
    if network.vpc_id is not None:
        return network.vpc_id
    found = stack.shared.get("vpc_id")
    if found is None:
        subnet = network.subnet_ids[0]
        found = stack.aws.ec2.get_subnet_output(id=subnet, opts=invoke_options(stack)).vpc_id
        stack.shared["vpc_id"] = found
    return found


def compute_groups(stack: Stack) -> list[Any]:
    """The security groups the environment's compute runs in: the created VPC's tasks'
    group, ``[network] security_group_ids``, else the VPC's default group (what Lambda and
    Fargate then get)."""
    found = placement(stack)
    groups = list(found.security_group_ids) if found is not None else []
    return groups or [default_security_group(stack)]


def default_security_group(stack: Stack) -> Any:
    """The ``default`` security group of the VPC the environment's subnets are in."""
    aws, opts = stack.aws, invoke_options(stack)
    return aws.ec2.get_security_group_output(name="default", vpc_id=vpc_id(stack), opts=opts).id


def lambda_vpc_config(stack: Stack, task: TaskSpec) -> Any:
    """The ``vpc_config`` of ``task``'s function: its subnets and groups when it runs in the
    environment's network (:func:`in_network`), else None."""
    found = placement(stack)
    if found is None or not in_network(stack, task):
        return None
    return stack.aws.lambda_.FunctionVpcConfigArgs(
        subnet_ids=list(found.subnet_ids),
        security_group_ids=list(found.security_group_ids) or [default_security_group(stack)],
    )


def fargate_placement(stack: Stack, task: TaskSpec) -> dict[str, Any] | None:
    """A Fargate task's ``AwsvpcConfiguration`` in the created VPC's private subnets (no
    public IP), or None when it does not run there."""
    found = placement(stack)
    if found is None or not found.created or not in_network(stack, task):
        return None
    return {"Subnets": list(found.subnet_ids), "SecurityGroups": list(found.security_group_ids)}


def vpc_statements(stack: Stack) -> list[dict[str, Any]]:
    """What a Lambda function in the environment's subnets needs to attach its interfaces."""
    env = stack.env
    found = placement(stack)
    account = env.account_id or "*"
    base = f"arn:{partition_of(env)}:ec2:{env.region}:{account}"
    if found is not None and found.group_arn is not None:
        groups: Sequence[Any] = [found.group_arn]
    else:
        # Without groups of its own, a function gets the VPC's default group, whose id is
        # known only at deploy time.
        groups = [f"{base}:security-group/{g}" for g in env.network.security_group_ids or ("*",)]
    return [
        iam.statement("DescribeNetworkInterfaces", iam.VPC_DESCRIBE_ACTIONS, ["*"]),
        iam.statement(
            "ManageNetworkInterfaces",
            iam.VPC_ENI_ACTIONS,
            [
                f"{base}:network-interface/*",
                *(found.subnet_arns if found is not None else ()),
                *groups,
            ],
        ),
    ]


def port_from_compute(
    stack: Stack, logical: str, name: str, port: int, description: str, tags: dict[str, str]
) -> Any:
    """A security group in the environment's VPC admitting ``port`` (TCP) from the
    environment's compute only: what a database or a file system lets its tasks reach."""
    aws = stack.aws
    return add(
        stack,
        aws.ec2.SecurityGroup,
        logical,
        name=name,
        vpc_id=vpc_id(stack),
        description=description,
        ingress=[
            aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp",
                from_port=port,
                to_port=port,
                security_groups=compute_groups(stack),
                description="the environment's compute",
            )
        ],
        tags=tags,
    )


def _task_egress(stack: Stack, prefix_lists: list[Any], nat: bool) -> list[Any]:
    """Where the tasks' group may connect: HTTPS (to the endpoints and S3, or anywhere
    through the NAT gateway) and the environment's database and NFS ports inside the VPC."""
    aws = stack.aws
    rules = [
        aws.ec2.SecurityGroupEgressArgs(
            protocol="tcp",
            from_port=HTTPS,
            to_port=HTTPS,
            cidr_blocks=["0.0.0.0/0"] if nat else [VPC_CIDR],
            prefix_list_ids=[] if nat else prefix_lists,
            description="AWS services" + (" and the internet" if nat else ", through endpoints"),
        )
    ]
    for port in _service_ports(stack):
        rules.append(
            aws.ec2.SecurityGroupEgressArgs(
                protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_blocks=[VPC_CIDR],
                description="the environment's databases and file systems",
            )
        )
    return rules


def _service_ports(stack: Stack) -> list[int]:
    """The ports of the environment's RDS databases and EFS file systems."""
    model, key = stack.model, stack.env.key
    relational = (db for db in model.databases_in(key) if not db.is_dynamodb)
    # A database's RdsConfig names its engine; without one, the spec's engine is the default.
    ports = {ENGINE_PORTS[getattr(db.config, "engine", None) or db.engine] for db in relational}
    if model.volumes_in(key):
        ports.add(NFS_PORT)
    return sorted(ports)


def _nat_route(stack: Stack, vpc: Any, tags: dict[str, str], name: str) -> list[Any]:
    """A public subnet with an internet gateway and a NAT gateway; the private subnets'
    default route through it."""
    aws = stack.aws
    gateway = add(
        stack,
        aws.ec2.InternetGateway,
        logical_name(stack, "internet-gateway"),
        vpc_id=vpc.id,
        tags={**tags, "Name": name},
    )
    public = add(
        stack,
        aws.ec2.Subnet,
        logical_name(stack, "public"),
        vpc_id=vpc.id,
        cidr_block=PUBLIC_CIDR,
        map_public_ip_on_launch=False,  # only the NAT gateway has a public address
        tags={**tags, "Name": f"{name}-public"},
    )
    public_routes = add(
        stack,
        aws.ec2.RouteTable,
        logical_name(stack, "public-routes"),
        vpc_id=vpc.id,
        routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)],
        tags={**tags, "Name": f"{name}-public"},
    )
    add(
        stack,
        aws.ec2.RouteTableAssociation,
        logical_name(stack, "public-routes-association"),
        subnet_id=public.id,
        route_table_id=public_routes.id,
    )
    address = add(stack, aws.ec2.Eip, logical_name(stack, "nat-address"), domain="vpc", tags=tags)
    nat = add(
        stack,
        aws.ec2.NatGateway,
        logical_name(stack, "nat-gateway"),
        depends_on=[gateway],
        allocation_id=address.id,
        subnet_id=public.id,
        tags={**tags, "Name": name},
    )
    return [aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)]


def _region(stack: Stack) -> Any:
    """The environment's region, as an Output (looked up when the settings name none)."""
    if stack.env.region:
        return stack.pulumi.Output.from_input(stack.env.region)
    return stack.aws.get_region_output(opts=invoke_options(stack)).region


def _zone(names: Sequence[str], index: int, env: str) -> str:
    if len(names) <= index:
        raise InfraError(
            f"Environment {env!r}: the region has {len(names)} availability zone(s) available, "
            "and the VPC Glacier creates needs two. Name a VPC of yours under [network] "
            "(vpc_id, subnet_ids)."
        )
    return names[index]

"""What databases and file systems need of an environment's network: its VPC, its subnets,
and the security groups its compute runs in (which a database's group admits).

A database or file system lives in the environment's ``[network]`` subnets; without them
Glacier refuses to guess (an RDS instance in the default VPC's public subnets is not a
default anyone wants).
"""

from __future__ import annotations

from typing import Any

from glacier.errors import InfraError
from glacier.infra.aws.stack import Stack, add, invoke_options


def require_subnets(stack: Stack, what: str, minimum: int = 1) -> tuple[str, ...]:
    """The environment's subnets; refused, naming ``what`` needs them, when there are fewer
    than ``minimum``."""
    subnets = stack.env.network.subnet_ids
    if len(subnets) < minimum:
        raise InfraError(
            f"{what} in environment {stack.env.key!r} needs at least {minimum} subnet(s) of "
            f"the environment's network, which has {len(subnets)}. Add them to its settings "
            'file: [network] vpc_id = "vpc-..." and subnet_ids = ["subnet-...", "subnet-..."] '
            "(in different availability zones)."
        )
    return subnets


def vpc_id(stack: Stack) -> Any:
    """The environment's VPC: ``[network] vpc_id``, else the VPC of its first subnet."""
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
    """The security groups the environment's compute runs in: ``[network]
    security_group_ids``, else the VPC's default group (what Lambda and Fargate then get)."""
    groups = list(stack.env.network.security_group_ids)
    return groups or [default_security_group(stack)]


def default_security_group(stack: Stack) -> Any:
    """The ``default`` security group of the VPC the environment's subnets are in."""
    aws, opts = stack.aws, invoke_options(stack)
    network = stack.env.network
    vpc_id = network.vpc_id
    if vpc_id is None:
        vpc_id = aws.ec2.get_subnet_output(id=network.subnet_ids[0], opts=opts).vpc_id
    return aws.ec2.get_security_group_output(name="default", vpc_id=vpc_id, opts=opts).id


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

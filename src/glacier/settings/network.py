"""Where an environment's compute runs: its VPC, subnets and security groups."""

from __future__ import annotations

import re
from typing import Annotated, Self

from pydantic import AfterValidator, model_validator

from glacier.settings.base import GlacierModel

__all__ = ["Network"]

#: AWS allows a Lambda function 16 subnets and 5 security groups; an ECS service the same.
MAX_SUBNETS = 16
MAX_SECURITY_GROUPS = 5


def _id_of(kind: str, prefix: str, example: str) -> AfterValidator:
    pattern = re.compile(rf"{prefix}-[A-Za-z0-9]+")

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(
                f"a {kind} id is '{prefix}-' then letters and digits (e.g. '{example}')"
            )
        return value

    return AfterValidator(check)


VpcId = Annotated[str, _id_of("VPC", "vpc", "vpc-0a1b2c3d")]
SubnetId = Annotated[str, _id_of("subnet", "subnet", "subnet-0a1b2c3d")]
SecurityGroupId = Annotated[str, _id_of("security group", "sg", "sg-0a1b2c3d")]


def _distinct(most: int, what: str) -> AfterValidator:
    def check(values: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(values)) != len(values):
            raise ValueError(f"each {what} is listed once")
        if len(values) > most:
            raise ValueError(f"AWS allows at most {most} {what}s here, got {len(values)}")
        return values

    return AfterValidator(check)


class Network(GlacierModel):
    """The VPC an environment's compute runs in (all optional).

    - with ``subnet_ids``, Lambda functions and Fargate tasks run in those subnets, in
      ``security_group_ids`` (the VPC's ``default`` group, looked up, when none are given);
    - with only ``vpc_id``, Fargate tasks run in that VPC's subnets and Lambda functions
      outside any VPC;
    - with nothing, Fargate tasks run in the account's default VPC; and when the pipeline has
      an RDS database or an EFS volume in the environment, the plan creates a VPC for it
      (two private subnets in two availability zones, reached through VPC endpoints;
      :mod:`glacier.infra.aws.network`), which the tasks using them run in. ``nat = true``
      gives that VPC a NAT gateway (and a public subnet) instead of the interface
      endpoints: cheaper per hour, charged per GB, and the tasks reach the internet.

    In a settings file::

        [network]
        vpc_id = "vpc-0a1b2c3d"
        subnet_ids = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]
        security_group_ids = ["sg-0a1b2c3d"]

    or, for the network the plan creates::

        [network]
        nat = true

    Example:
        >>> Network(vpc_id="vpc-123", subnet_ids=["subnet-a"]).configured
        True
        >>> Network(vpc_id="vpc-123").configured
        False
        >>> Network(nat=True).named
        False
    """

    vpc_id: VpcId | None = None
    subnet_ids: Annotated[tuple[SubnetId, ...], _distinct(MAX_SUBNETS, "subnet")] = ()
    security_group_ids: Annotated[
        tuple[SecurityGroupId, ...], _distinct(MAX_SECURITY_GROUPS, "security group")
    ] = ()
    #: The VPC the plan creates reaches AWS services through a NAT gateway, not endpoints.
    nat: bool = False

    @model_validator(mode="after")
    def _groups_need_subnets(self) -> Self:
        if self.security_group_ids and not self.subnet_ids:
            raise ValueError(
                "security_group_ids without subnet_ids: security groups apply to the network "
                "interfaces compute gets in its subnets; give subnet_ids too"
            )
        return self

    @model_validator(mode="after")
    def _nat_is_for_the_created_network(self) -> Self:
        if self.nat and (self.vpc_id or self.subnet_ids):
            raise ValueError(
                "nat = true applies to the VPC the plan creates, but vpc_id or subnet_ids name "
                "an existing one, whose own route tables decide how it reaches the internet; "
                "remove nat, or remove vpc_id and subnet_ids"
            )
        return self

    @property
    def configured(self) -> bool:
        """Whether compute is attached to the VPC's subnets."""
        return bool(self.subnet_ids)

    @property
    def named(self) -> bool:
        """Whether the settings name an existing VPC (else the plan may create one)."""
        return bool(self.vpc_id or self.subnet_ids)

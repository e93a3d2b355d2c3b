"""settings/network.py: VPC, subnet and security group ids, alone and in a settings file."""

from __future__ import annotations

from pathlib import Path

import pytest

from glacier.settings import GlacierSettings, Network

from .conftest import config_error, write_settings


@pytest.mark.parametrize(
    ("values", "fragments"),
    [
        ({"vpc_id": "vpc 1"}, ["vpc_id='vpc 1' is invalid", "'vpc-' then letters and digits"]),
        ({"subnet_ids": ["sub-1"]}, ["subnet_ids[0]='sub-1' is invalid", "'subnet-'"]),
        (
            {"subnet_ids": ["subnet-1"], "security_group_ids": ["group-1"]},
            ["security_group_ids[0]='group-1' is invalid", "'sg-'"],
        ),
        ({"subnet_ids": ["subnet-1", "subnet-1"]}, ["each subnet is listed once"]),
        (
            {"subnet_ids": ["subnet-1"], "security_group_ids": [f"sg-{i}" for i in range(6)]},
            ["at most 5 security groups"],
        ),
        ({"security_group_ids": ["sg-1"]}, ["security_group_ids without subnet_ids"]),
        ({"nat": True, "vpc_id": "vpc-1"}, ["nat = true applies to the VPC the plan creates"]),
        ({"nat": True, "subnet_ids": ["subnet-1"]}, ["remove nat, or remove vpc_id"]),
    ],
)
def test_network_ids_are_checked(values: dict[str, object], fragments: list[str]) -> None:
    config_error(lambda: Network(**values), "Network", *fragments)  # type: ignore[arg-type]


def test_the_network_section_of_a_settings_file(project: Path) -> None:
    write_settings(
        project / "containers",
        "vpc",
        """
        [provider]
        kind = "aws"
        region = "us-east-1"
        [network]
        vpc_id = "vpc-123"
        subnet_ids = ["subnet-a", "subnet-b"]
        """,
    )
    settings = GlacierSettings.load("vpc", project / "containers")
    assert settings.network == Network(vpc_id="vpc-123", subnet_ids=("subnet-a", "subnet-b"))
    assert settings.network.configured
    assert GlacierSettings.load("prod", project / "containers").network == Network()

    bad = write_settings(
        project / "containers", "badvpc", '[network]\nsecurity_group_ids = ["sg-1"]\n'
    )
    config_error(
        lambda: GlacierSettings.load("badvpc", project / "containers"),
        str(bad),
        "security_group_ids without subnet_ids",
    )

"""An environment's VPC network on GCP: where Cloud SQL has its private IP and the Cloud Run
jobs reaching it send their traffic — named by the settings, or created by the plan.

``[provider] network`` and ``subnetwork`` (:class:`~glacier.settings.GcpConfig`) name an
existing VPC: Cloud SQL instances take their private IP from its private services access
(which its owner has set up: a ``VPC_PEERING`` range and the ``servicenetworking``
connection), and the jobs that use a database leave through that subnetwork. Nothing of the
network is created.

When the settings name none and the environment holds something that lives in one (a Cloud
SQL instance: :func:`needs_network`), :func:`declare_network` creates, for the pipeline:

- a VPC network without automatic subnetworks (regional routing);
- one subnetwork in the environment's region (:data:`SUBNET_CIDR`) with Private Google
  Access on (the jobs reach Google's APIs — GCS, Secret Manager, the token endpoint —
  without external addresses) and flow logs sampled at half;
- a firewall rule denying all ingress (what GCP's implied rules do, written down so that
  the network's firewall is explicit; the jobs only connect out);
- private services access for Cloud SQL: a global ``VPC_PEERING`` address range
  (:data:`PEERING_PREFIX`) and the ``servicenetworking.googleapis.com`` connection using it.

Only the jobs of tasks that use a database (:func:`uses_network`) get Direct VPC egress into
the subnetwork, sending private ranges only (``PRIVATE_RANGES_ONLY``: the database's address)
through it; the others keep Cloud Run's own network, as without one.

Example:
    >>> network_path("acme-prod", "lake")
    'projects/acme-prod/global/networks/lake'
    >>> network_path("acme-prod", "projects/hub/global/networks/shared")
    'projects/hub/global/networks/shared'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from glacier.infra.gcp.stack import GcpStack, add, logical_name
from glacier.infra.model import InfraModel, TaskSpec, physical_name

__all__ = [
    "EGRESS",
    "PEERING_PREFIX",
    "SUBNET_CIDR",
    "Placement",
    "declare_network",
    "needs_network",
    "network_path",
    "placement",
    "uses_network",
    "vpc_access",
]

#: The created subnetwork's range (Direct VPC egress takes jobs' addresses from it).
SUBNET_CIDR = "10.8.0.0/20"
#: The size of the range reserved for Google's services (Cloud SQL's private IPs).
PEERING_PREFIX = 20
#: What a job sends through the VPC: private ranges only (the database), the rest direct.
EGRESS = "PRIVATE_RANGES_ONLY"
SERVICE_NETWORKING = "servicenetworking.googleapis.com"


@dataclass(frozen=True)
class Placement:
    """Where the environment's databases and the jobs reaching them are: the network (as
    ``projects/<p>/global/networks/<n>``), the subnetwork (a name or path) and the private
    services connection the instances wait for (None when the settings named the network);
    values are plain strings or resource outputs."""

    network: Any
    subnetwork: Any
    connection: Any = None

    @property
    def created(self) -> bool:
        """Whether the plan created the network."""
        return self.connection is not None


def needs_network(model: InfraModel, env: str) -> bool:
    """Whether environment ``env`` holds something that lives in a VPC: a SQL database."""
    return any(not db.is_dynamodb for db in model.databases_in(env))


def uses_network(model: InfraModel, task: TaskSpec) -> bool:
    """Whether ``task`` reaches something in the VPC: a SQL database."""
    return any(not model.databases[key].is_dynamodb for key in task.databases)


def network_path(project: str, network: str) -> str:
    """``projects/<p>/global/networks/<n>`` of a network named by name (in ``project``) or
    by path (a Shared VPC's host project, say): what Cloud SQL's ``private_network`` takes."""
    if network.startswith("projects/"):
        return network
    return f"projects/{project}/global/networks/{network}"


def placement(stack: GcpStack) -> Placement | None:
    """The environment's network: named by the settings, created by :func:`declare_network`,
    or None."""
    config = stack.env.config
    named = getattr(config, "network", None)
    if named is not None:
        return Placement(network_path(stack.project, named), getattr(config, "subnetwork", None))
    found: Placement | None = stack.shared.get("network")
    return found


def declare_network(stack: GcpStack) -> None:
    """Create the environment's network (see the module docs) when it needs one and the
    settings name none."""
    if getattr(stack.env.config, "network", None) is not None:
        return
    if not needs_network(stack.model, stack.env.key):
        return
    gcp = stack.gcp
    name = physical_name(
        stack.env.naming_prefix, stack.model.pipeline, limit=55, allowed="a-z0-9-", lower=True
    )
    name = name if name[:1].isalpha() else f"g-{name}"
    network = add(
        stack,
        gcp.compute.Network,
        logical_name(stack, "network"),
        name=name,
        auto_create_subnetworks=False,
        routing_mode="REGIONAL",
        description=f"Glacier pipeline {stack.model.pipeline}: its databases, the jobs using them",
    )
    subnetwork = add(
        stack,
        gcp.compute.Subnetwork,
        logical_name(stack, "subnetwork"),
        name=f"{name}-{stack.region}"[:63].rstrip("-"),
        network=network.id,
        region=stack.region,
        ip_cidr_range=SUBNET_CIDR,
        private_ip_google_access=True,
        log_config=gcp.compute.SubnetworkLogConfigArgs(
            aggregation_interval="INTERVAL_10_MIN",
            flow_sampling=0.5,
            metadata="INCLUDE_ALL_METADATA",
        ),
    )
    add(
        stack,
        gcp.compute.Firewall,
        logical_name(stack, "deny-ingress"),
        name=f"{name}-deny-ingress",
        network=network.id,
        direction="INGRESS",
        priority=65534,
        source_ranges=["0.0.0.0/0"],
        denies=[gcp.compute.FirewallDenyArgs(protocol="all")],
        description="Nothing listens in this network: the jobs only connect out",
    )
    peering = add(
        stack,
        gcp.compute.GlobalAddress,
        logical_name(stack, "services-range"),
        name=f"{name}-services",
        network=network.id,
        purpose="VPC_PEERING",
        address_type="INTERNAL",
        prefix_length=PEERING_PREFIX,
        description="Private services access: Cloud SQL's private addresses",
    )
    connection = add(
        stack,
        gcp.servicenetworking.Connection,
        logical_name(stack, "services-connection"),
        network=network.id,
        service=SERVICE_NETWORKING,
        reserved_peering_ranges=[peering.name],
        # Removing the peering fails for days after a Cloud SQL instance in it is deleted
        # (the producer network keeps it): a destroy abandons it (docs/gcp.md).
        deletion_policy="ABANDON",
    )
    stack.shared["network"] = Placement(network.id, subnetwork.id, connection)


def vpc_access(stack: GcpStack, task: TaskSpec) -> Any:
    """The Direct VPC egress of ``task``'s job, or None when it uses no database (or the
    environment has no network)."""
    found = placement(stack)
    if found is None or not uses_network(stack.model, task):
        return None
    run = stack.gcp.cloudrunv2
    return run.JobTemplateTemplateVpcAccessArgs(
        egress=EGRESS,
        network_interfaces=[
            run.JobTemplateTemplateVpcAccessNetworkInterfaceArgs(
                network=found.network, subnetwork=found.subnetwork
            )
        ],
    )

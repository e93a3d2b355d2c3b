"""GCP infrastructure of a pipeline, declared with ``pulumi_gcp``: one module per thing built.

:class:`GcpInfrastructure` is the ``gcp`` choice of the cloud container's ``infrastructure``
provider; it declares one environment's (one project's) share of an
:class:`~glacier.infra.model.InfraModel`. Where to look:

=====================  ===========================================================
``infrastructure``     the builder, the order an environment is declared in, refusals
``stack``              the stack record, the ``gcp.Provider``, declaring a resource
``naming``             physical names and the paths computed from them
``labels``             GCP labels from Glacier's tags (sanitized or refused)
``storage``            buckets: uniform access, public access prevention, lifecycle, CMEK
``conditions``         the IAM Conditions' expressions (object prefix, the bucket itself)
``data_access``        a task's bucket bindings: roles by access, the writer custom role
``service_accounts``   one service account per task
``secrets``            Secret Manager secrets and their per-task accessor bindings
``network``            the VPC, subnetwork and private services access a database needs
``cloud_sql``          Cloud SQL instances, their IAM users and conditioned roles
``registry``           the Artifact Registry repository and the image a job runs
``task_environment``   the variables a deployed task is started with
``cloud_run``          a task as a Cloud Run job
``definition``         the Workflows definition of the DAG (pure data)
``orchestration``      the workflow, its account and job bindings, Cloud Scheduler
``mock_outputs``       what GCP answers under Pulumi's mock engine (plans)
=====================  ===========================================================

References to another project (a task of project A reading a bucket of project B) use
names and emails computed from deterministic ids, so each environment is its own stack.
Nothing here imports Pulumi at module level.
"""

from __future__ import annotations

from glacier.infra.gcp.data_access import ROLES, VIEWER, WRITER, WRITER_PERMISSIONS
from glacier.infra.gcp.definition import CONNECTOR, definition, source_contents
from glacier.infra.gcp.infrastructure import COMPUTE_KINDS, GcpInfrastructure, declare
from glacier.infra.gcp.stack import MANAGED_BY, GcpResources, GcpStack

__all__ = [
    "COMPUTE_KINDS",
    "CONNECTOR",
    "MANAGED_BY",
    "ROLES",
    "VIEWER",
    "WRITER",
    "WRITER_PERMISSIONS",
    "GcpInfrastructure",
    "GcpResources",
    "GcpStack",
    "declare",
    "definition",
    "source_contents",
]

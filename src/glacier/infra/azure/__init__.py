"""Azure infrastructure of a pipeline, declared with ``pulumi-azure-native``: one module per
thing built, on the cloud-neutral model (:mod:`glacier.infra.model`), as
:mod:`glacier.infra.aws` is for AWS.

:class:`AzureInfrastructure` is the ``azure`` choice of the cloud container's
``infrastructure`` provider. Where to look:

====================  ============================================================
``infrastructure``    the builder, and the order an environment is declared in
``stack``             the stack record, the ``azure-native`` provider, declaring
``naming``            physical names and the resource ids computed from them
``storage``           resource group, storage account, blob containers
``conditions``        the ABAC conditions on blob paths of a task's grants
``identities``        one user-assigned managed identity per task
``data_access``       role assignments on containers (Reader / Contributor)
``network``           the virtual network of databases and jobs, when one is needed
``postgres``          PostgreSQL flexible servers, and what a task using one is told
``registry``          the container registry and each task's AcrPull
``task_environment``  the variables a deployed task is started with
``container_apps``    a task as a Container Apps job
``schedule``          a pipeline's schedule as a Logic Apps Recurrence
``orchestration``     the Logic App running the DAG, and its right to start jobs
``secrets``           Key Vault (RBAC mode) and each task's secret reads
``mock_outputs``      what Azure answers, for offline plans
``policies``          the per-task view of a plan's role assignments
====================  ============================================================

Nothing here imports Pulumi at module level.
"""

from __future__ import annotations

from glacier.infra.azure.infrastructure import AzureInfrastructure, declare
from glacier.infra.azure.stack import MANAGED_BY, AzureResources, Stack

__all__ = ["MANAGED_BY", "AzureInfrastructure", "AzureResources", "Stack", "declare"]

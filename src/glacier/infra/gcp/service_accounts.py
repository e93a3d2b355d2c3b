"""A task's identity on GCP: one service account per task, bound at project level to nothing
but the Cloud SQL roles of the instances it uses, each conditioned on its instance.

What the account may do is granted on the resources themselves: bucket bindings
(:mod:`~glacier.infra.gcp.data_access`), secret bindings (:mod:`~glacier.infra.gcp.secrets`);
Cloud SQL has no instance policy, so its roles are project bindings with an IAM Condition
naming the instance (:mod:`~glacier.infra.gcp.cloud_sql`).
Its id and email are computed from the environment and the task
(:func:`~glacier.infra.gcp.naming.service_account_id`), so another project's stack can bind it.
"""

from __future__ import annotations

from typing import Any

from glacier.infra.gcp.naming import service_account_id
from glacier.infra.gcp.stack import GcpStack, add, logical_name
from glacier.infra.model import TaskSpec

__all__ = ["member_of", "service_account"]


def service_account(stack: GcpStack, task: TaskSpec) -> Any:
    """Declare ``task``'s service account."""
    made = add(
        stack,
        stack.gcp.serviceaccount.Account,
        logical_name(stack, task.name, "sa"),
        account_id=service_account_id(stack.model.pipeline, stack.env, task.name),
        display_name=f"Glacier task {task.name}"[:100],
        description=f"Runs task {task.name!r} of Glacier pipeline {stack.model.pipeline!r}",
    )
    stack.accounts[task.name] = made
    stack.out.service_accounts[task.name] = made
    return made


def member_of(account: Any) -> Any:
    """``serviceAccount:<email>`` of a declared account (an Output)."""
    return account.email.apply(lambda email: f"serviceAccount:{email}")

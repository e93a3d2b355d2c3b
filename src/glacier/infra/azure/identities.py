"""One user-assigned managed identity per task: what its job runs as and what every role
assignment of the task names.

A task of another subscription is found by name (``getUserAssignedIdentity`` through a
provider of that subscription), because a principal id is chosen by Azure when the identity
is created: the stack of the task's own environment is deployed first.
"""

from __future__ import annotations

from typing import Any

from glacier.infra.azure.naming import identity_name, resource_group_name
from glacier.infra.azure.stack import Stack, add, logical_name, native
from glacier.infra.model import TaskSpec


def task_identity(stack: Stack, task: TaskSpec) -> Any:
    """Declare ``task``'s identity in its own environment's resource group."""
    msi = native("managedidentity")
    made = add(
        stack,
        msi.UserAssignedIdentity,
        logical_name(stack, task.name, "identity"),
        depends_on=[stack.out.resource_group],
        resource_name_=identity_name(stack.model, stack.env, task.name),
        resource_group_name=stack.group,
        location=stack.location,
        tags={**stack.tags, "glacier-task": task.name},
    )
    stack.out.identities[task.name] = made
    return made


def principal_of(stack: Stack, task: TaskSpec) -> Any:
    """The principal id (an Output) of ``task``'s identity: declared here, or looked up in
    the task's own subscription."""
    if task.env == stack.env.key:
        return stack.out.identities[task.name].principal_id
    key = f"principal:{task.env}:{task.name}"
    found = stack.shared.get(key)
    if found is None:
        home = stack.model.envs[task.env]
        msi = native("managedidentity")
        found = msi.get_user_assigned_identity_output(
            resource_group_name=resource_group_name(stack.model, home),
            resource_name=identity_name(stack.model, home, task.name),
            opts=stack.pulumi.InvokeOutputOptions(provider=lookup_provider(stack, task.env)),
        ).principal_id
        stack.shared[key] = found
    return found


def lookup_provider(stack: Stack, env_key: str) -> Any:
    """A provider of environment ``env_key``'s subscription, for lookups from this stack."""
    key = f"provider:{env_key}"
    found = stack.shared.get(key)
    if found is None:
        from pulumi_azure_native.provider import Provider

        home = stack.model.envs[env_key]
        found = Provider(
            f"{stack.env.key}-reads-{env_key}",
            subscription_id=home.account_id,
            location=home.region,
        )
        stack.shared[key] = found
    return found

"""A plan's Azure role assignments per identity: what ``glacier plan --policies`` and
``--json`` show for an Azure environment (the AWS view shows IAM policy documents instead).

Read from the plan's resources only (``RoleAssignment`` inputs, the identities' and the
workflow's principal ids, the custom roles' names), so what is shown is what would be
deployed.
"""

from __future__ import annotations

from typing import Any

from glacier.infra.azure.naming import BUILT_IN_ROLES

ASSIGNMENT = "azure-native:authorization:RoleAssignment"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
WORKFLOW = "azure-native:logic:Workflow"
ROLE = "azure-native:authorization:RoleDefinition"


def _identities(resources: list[Any]) -> dict[str, str]:
    """principal id -> who: a task's identity name, or ``<workflow> (orchestrator)``."""
    out: dict[str, str] = {}
    for r in resources:
        outputs = getattr(r, "outputs", None) or {}
        if r.type == IDENTITY and outputs.get("principalId"):
            out[str(outputs["principalId"])] = str(r.inputs.get("resourceName") or r.name)
        elif r.type == WORKFLOW:
            principal = (outputs.get("identity") or {}).get("principalId")
            if principal:
                out[str(principal)] = f"{r.inputs.get('workflowName', r.name)} (orchestrator)"
    return out


def role_assignments(planned: Any) -> list[dict[str, Any]]:
    """Every role assignment of the plan as plain data: environment, identity, role (by
    name), scope, condition; in plan order. Empty for a plan without Azure resources."""
    resources = list(getattr(planned, "resources", ()) or ())
    found = [r for r in resources if r.type == ASSIGNMENT]
    if not found:
        return []
    who = _identities(resources)
    names = {guid: name for name, guid in BUILT_IN_ROLES.items()}
    for r in resources:
        if r.type == ROLE:
            names[str(r.inputs.get("roleDefinitionId"))] = str(r.inputs.get("roleName"))
    out = []
    for r in found:
        principal = str(r.inputs.get("principalId"))
        guid = str(r.inputs.get("roleDefinitionId", "")).rsplit("/", 1)[-1]
        out.append(
            {
                "environment": r.environment,
                "name": r.name,
                "identity": who.get(principal, principal),
                "role": names.get(guid, guid),
                "scope": r.inputs.get("scope"),
                "condition": r.inputs.get("condition"),
            }
        )
    return out


def assignment_lines(planned: Any) -> list[str]:
    """:func:`role_assignments` as lines of text, grouped by identity."""
    found = role_assignments(planned)
    if not found:
        return []
    lines = ["Role assignments (one managed identity per task):"]
    by_identity: dict[str, list[dict[str, Any]]] = {}
    for a in found:
        by_identity.setdefault(str(a["identity"]), []).append(a)
    for identity, assignments in by_identity.items():
        lines.append(f"  {identity}")
        for a in assignments:
            lines.append(f"    {a['role']}")
            lines.append(f"      on {a['scope']}")
            if a["condition"]:
                lines.extend(f"      if {c}" for c in str(a["condition"]).split("\nAND\n"))
    return lines

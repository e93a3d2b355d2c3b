"""The per-identity view of an Azure plan's role assignments (``glacier plan --policies``)."""

from __future__ import annotations

from glacier.infra import Plan
from glacier.infra.azure.policies import assignment_lines, role_assignments


def test_assignments_are_shown_by_identity_and_role_name(lake_plan: Plan) -> None:
    found = role_assignments(lake_plan)
    assert len(found) == 17
    by = {(a["identity"], a["role"]) for a in found}
    assert ("dev-etl-sweep", "Storage Blob Data Reader") in by
    assert ("dev-etl-sweep", "Storage Blob Data Contributor") in by
    assert ("dev-etl-sweep", "AcrPull") in by
    assert ("dev-etl-orchestrator (orchestrator)", "Glacier job starter (dev-etl/etl)") in by
    lines = assignment_lines(lake_plan)
    assert lines[0] == "Role assignments (one managed identity per task):"
    assert "  dev-etl-extract" in lines
    assert any(line.startswith("      if (!(ActionMatches") for line in lines)


def test_a_plan_without_azure_shows_nothing() -> None:
    from glacier.infra.mocks import Plan as EmptyPlan

    assert role_assignments(EmptyPlan("p", ())) == []
    assert assignment_lines(EmptyPlan("p", ())) == []

"""Check results where a run is read besides its record: JUnit test cases and OpenLineage's
data-quality assertions.

Both read the records a run keeps (:meth:`glacier.checks.evaluate.CheckResult.as_dict`, one
list per task in :attr:`glacier.result.TaskRun.checks`), so a stored run reports as a live one.

Example:
    >>> rec = {"dataset": "orders", "check": "unique(order_id)", "severity": "error",
    ...        "status": "failed", "failing_rows": 2, "message": "2 failing row(s)",
    ...        "columns": ["order_id"]}
    >>> assertion(rec)["assertion"], assertion(rec)["success"], assertion(rec)["column"]
    ('unique', False, 'order_id')
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["KINDS", "add_junit_cases", "assertion", "by_dataset", "kind_of"]

#: The built-in checks, by the name their results start with.
KINDS = frozenset(
    {
        "unique",
        "not_null",
        "accepted_values",
        "relationships",
        "row_count",
        "expect",
        "schema",
        "freshness",
    }
)


def kind_of(check: str) -> str:
    """The kind of check a result's name shows (``custom`` for a user's own name)."""
    kind = check.partition("(")[0]
    return kind if kind in KINDS else "custom"


def assertion(record: Mapping[str, Any]) -> dict[str, Any]:
    """One check's record as an OpenLineage ``dataQualityAssertions`` assertion."""
    columns = record.get("columns") or []
    out: dict[str, Any] = {
        "assertion": kind_of(record["check"]),
        "success": record["status"] == "passed",
        "severity": record["severity"],
        "name": record["check"],
    }
    if len(columns) == 1:
        out["column"] = columns[0]
    if record.get("failing_rows") is not None:
        out["actual"] = str(record["failing_rows"])
    if record.get("message"):
        out["description"] = record["message"]
    return out


def by_dataset(records: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Assertions grouped by the dataset they were made on, in the records' order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        out.setdefault(record["dataset"], []).append(assertion(record))
    return out


def add_junit_cases(
    suite: ET.Element, classname: str, records: Iterable[Mapping[str, Any]]
) -> None:
    """A JUnit test case per check in ``suite`` (named ``dataset: check``): a failed check of
    severity ``error`` is a failure; a warned one passes with its message in ``system-out``.
    The suite's ``tests`` and ``failures`` counts include them."""
    tests = failures = 0
    for record in records:
        tests += 1
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{classname}.checks",
            name=f"{record['dataset']}: {record['check']}",
            time=f"{(record.get('duration_ns') or 0) / 1e9:.6f}",
        )
        status = record["status"]
        if status == "failed":
            failures += 1
            failure = ET.SubElement(
                case, "failure", message=record.get("message") or "failed", type="CheckFailed"
            )
            failure.text = _sample_text(record)
        elif status == "warned":
            ET.SubElement(
                case, "system-out"
            ).text = f"warning: {record.get('message', '')}\n{_sample_text(record)}"
    if tests:
        suite.set("tests", str(int(suite.get("tests", "0")) + tests))
        suite.set("failures", str(int(suite.get("failures", "0")) + failures))


def _sample_text(record: Mapping[str, Any]) -> str:
    sample = record.get("sample") or []
    if not sample:
        return ""
    lines = [f"first {len(sample)} failing row(s):"]
    lines.extend(f"  {row}" for row in sample)
    return "\n".join(lines)

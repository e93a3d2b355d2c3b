"""checkov passes on the Terraform JSON Glacier writes: 0 failed checks, every deliberate
exception a skip in the ``.checkov.yaml`` written beside the files (with its reason, also in
docs/deploying.md).

checkov pins packaging and boto3 versions the project's lock cannot take, so it runs from a
virtualenv of its own, ``.venv-checkov``, which ``python3 dev.py test`` installs (pinned in
``dev.py``'s TOOLS).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

import infra_pipelines as seeds
from glacier.infra.terraform import generate
from infra import pipelines as more

from .plans import ROOT

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"

PIPELINES = {
    "dev": lambda: seeds.dev_pipeline,
    "prod": lambda: seeds.prod_pipeline,
    "cross-account": lambda: seeds.cross_account_pipeline,
    "diamond": more.diamond_pipeline,
    "ecs": more.ecs_pipeline,
    "glue": more.glue_pipeline,
    "config_cascade": lambda: str(ROOT / "examples" / "config_cascade.py"),
}


def checkov(directory: Path) -> dict[str, Any]:
    """checkov's summary of ``directory`` (its ``.checkov.yaml`` sets the framework)."""
    assert CHECKOV.exists(), (
        f"{CHECKOV} is missing: python3 dev.py test installs checkov into .venv-checkov"
    )
    done = subprocess.run(
        [str(CHECKOV), "-d", str(directory), "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    reports = json.loads(done.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert [r["check_type"] for r in reports] == ["terraform_json"], done.stderr[-2000:]
    failed = [
        f"{c['check_id']} {c['resource']}"
        for r in reports
        for c in r.get("results", {}).get("failed_checks", [])
    ]
    summary: dict[str, Any] = reports[0]["summary"]
    summary["failed_checks"] = failed
    return summary


@pytest.mark.parametrize("case", sorted(PIPELINES))
def test_checkov_passes_on_the_generated_terraform(case: str, tmp_path: Path) -> None:
    written = generate(PIPELINES[case](), tmp_path)
    directories = sorted({Path(f).parent for f in written["files"]})
    assert directories
    for directory in directories:
        summary = checkov(directory)
        assert summary["failed_checks"] == [] and summary["failed"] == 0, directory.name
        assert summary["passed"] > 0  # it scanned the resources (not an empty "pass")


def test_without_its_skips_checkov_fails_what_the_skips_name(tmp_path: Path) -> None:
    # The skips are what keeps it at 0: without the config, checkov fails those checks.
    from glacier.infra.terraform.checkov import SKIPPED_CHECKS

    written = generate(seeds.prod_pipeline, tmp_path)
    directory = Path(written["files"][0]).parent
    (directory / ".checkov.yaml").unlink()
    done = subprocess.run(
        [str(CHECKOV), "-d", str(directory), "--framework", "terraform_json", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(done.stdout)
    failed = {c["check_id"] for c in report["results"]["failed_checks"]}
    assert failed and failed <= set(SKIPPED_CHECKS)

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


def checkov(directories: list[Path]) -> dict[str, Any]:
    """checkov's checks on ``directories`` (``failed``: how many failed; ``results``: the
    passed and failed checks, each with its file), scanned in one run (checkov takes seconds to
    start: one run per directory cost a minute of the suite). Each directory's
    ``.checkov.yaml`` sets the framework and the skips; checkov reads every one it is given,
    so they must say the same."""
    assert CHECKOV.exists(), (
        f"{CHECKOV} is missing: python3 dev.py test installs checkov into .venv-checkov"
    )
    configs = {(d / ".checkov.yaml").read_text() for d in directories}
    assert len(configs) == 1, "the generated .checkov.yaml files differ: scan them apart"
    done = subprocess.run(
        [str(CHECKOV), *(a for d in directories for a in ("-d", str(d))), "-o", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # One JSON document per directory, one after the other.
    reports: list[dict[str, Any]] = []
    decoder, text, at = json.JSONDecoder(), done.stdout, 0
    while text[at:].strip():
        at += len(text[at:]) - len(text[at:].lstrip())
        report, at = decoder.raw_decode(text, at)
        reports += report if isinstance(report, list) else [report]
    assert {r["check_type"] for r in reports} == {"terraform_json"}, done.stderr[-2000:]
    assert len(reports) == len(directories), done.stderr[-2000:]
    return {
        "failed": sum(r["summary"]["failed"] for r in reports),
        "results": {
            f"{outcome}_checks": [
                c for r in reports for c in r.get("results", {}).get(f"{outcome}_checks", [])
            ]
            for outcome in ("passed", "failed")
        },
    }


def of_directory(report: dict[str, Any], directory: Path, outcome: str) -> list[str]:
    """The ``outcome`` (``"passed"`` or ``"failed"``) checks of ``report`` on the files of
    ``directory``."""
    return [
        f"{c['check_id']} {c['resource']}"
        for c in report["results"][f"{outcome}_checks"]
        if Path(c["file_abs_path"]).parent == directory
    ]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """Each case's generated Terraform directories."""
    cases = {}
    for case, pipeline in sorted(PIPELINES.items()):
        written = generate(pipeline(), tmp_path_factory.mktemp(case))
        cases[case] = sorted({Path(f).parent for f in written["files"]})
    return cases


@pytest.fixture(scope="module")
def report(generated: dict[str, list[Path]]) -> dict[str, Any]:
    """checkov's report on every case's directories, in one run."""
    return checkov([d for directories in generated.values() for d in directories])


@pytest.mark.parametrize("case", sorted(PIPELINES))
def test_checkov_passes_on_the_generated_terraform(
    case: str, generated: dict[str, list[Path]], report: dict[str, Any]
) -> None:
    assert generated[case]
    failed = report["results"]["failed_checks"]
    assert report["failed"] == 0, [f"{c['check_id']} {c['file_abs_path']}" for c in failed]
    for directory in generated[case]:
        assert of_directory(report, directory, "failed") == [], directory.name
        # it scanned the resources (not an empty "pass")
        assert of_directory(report, directory, "passed"), directory.name


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

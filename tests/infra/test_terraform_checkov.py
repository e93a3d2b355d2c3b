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
from infra.gcp import pipelines as gcp_pipelines

from .plans import ROOT
from .test_terraform import EXAMPLE_PIPELINES, SEEDS

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"

#: Every seed pattern, GCP test pipeline and example pipeline the equality test covers
#: (test_terraform.py): AWS and GCP directories in the one checkov run.
PIPELINES = {**SEEDS, **{f"example-{k}": v for k, v in EXAMPLE_PIPELINES.items()}}

#: The checks that fail on purpose, by case: the every-option pipeline's settings turn
#: defaults off (versioning, public-access block, point-in-time recovery, volume
#: encryption...), a raw Pulumi bucket is used as the user declared it, and seed 004's hot
#: storage config turns versioning off.
EXPECTED_FAILURES: dict[str, set[str]] = {
    # versioning and public-access block off, DynamoDB without point-in-time recovery and
    # provisioned without auto scaling, an unencrypted EFS volume
    "every-option": {"CKV_AWS_21", "CKV2_AWS_6", "CKV_AWS_28", "CKV2_AWS_16", "CKV_AWS_42"},
    "raw-bucket": {"CKV_AWS_21", "CKV2_AWS_6"},  # the user's bucket: no versioning, no block
    "seed-pattern-storage_pipeline": {"CKV_AWS_21"},  # seed 004's hot zone: versioning=False
}


def checkov(directory: Path, config: Path) -> dict[str, Any]:
    """checkov's report of every configuration under ``directory``, run once with
    ``config`` (the ``.checkov.yaml`` each generated directory holds: framework and skips)."""
    assert CHECKOV.exists(), (
        f"{CHECKOV} is missing: python3 dev.py test installs checkov into .venv-checkov"
    )
    done = subprocess.run(
        [str(CHECKOV), "-d", str(directory), "--config-file", str(config), "-o", "json"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    reports = json.loads(done.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert [r["check_type"] for r in reports] == ["terraform_json"], done.stderr[-2000:]
    report: dict[str, Any] = reports[0]
    return report


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, list[Path]], Any]:
    """Every case generated under one directory (``<case>/<environment>/``) and scanned by
    one checkov run (one run per directory took ~20 s each on this machine)."""
    root = tmp_path_factory.mktemp("checkov")
    directories: dict[str, list[Path]] = {}
    for case, pipeline in PIPELINES.items():
        written = generate(pipeline(), root / case)
        directories[case] = sorted({Path(f).parent for f in written["files"]})
    configs = {d / ".checkov.yaml" for ds in directories.values() for d in ds}
    assert len({c.read_text() for c in configs}) == 1  # the same skips everywhere
    return directories, checkov(root, min(configs))


@pytest.mark.parametrize("case", sorted(PIPELINES))
def test_checkov_passes_on_the_generated_terraform(
    case: str, scanned: tuple[dict[str, list[Path]], Any]
) -> None:
    directories, report = scanned
    assert directories[case]
    for directory in directories[case]:
        where = "/" + directory.relative_to(directory.parents[1]).as_posix() + "/"
        failed = {
            c["check_id"]
            for c in report["results"]["failed_checks"]
            if c["file_path"].startswith(where)
        }
        passed = [c for c in report["results"]["passed_checks"] if c["file_path"].startswith(where)]
        assert failed == EXPECTED_FAILURES.get(case, set()), directory.name
        assert passed  # it scanned the resources (not an empty "pass")


def test_without_its_skips_checkov_fails_what_the_skips_name(tmp_path: Path) -> None:
    # The skips are what keeps it at 0: without the config, checkov fails those checks.
    from glacier.infra.terraform.checkov import SKIPPED_CHECKS

    # An AWS and a GCP directory, in one run.
    generate(seeds.prod_pipeline, tmp_path / "aws")
    generate(gcp_pipelines.daily(), tmp_path / "gcp")
    generate(gcp_pipelines.shop(), tmp_path / "gcp-database")
    for config in tmp_path.rglob(".checkov.yaml"):
        config.unlink()
    done = subprocess.run(
        [str(CHECKOV), "-d", str(tmp_path), "--framework", "terraform_json", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(done.stdout)
    failed = {c["check_id"] for c in report["results"]["failed_checks"]}
    assert failed and failed <= set(SKIPPED_CHECKS)
    assert {"CKV_GCP_62", "CKV_GCP_84", "CKV_GCP_6"} <= failed  # the google skips are needed too


def test_the_gcp_directories_are_scanned_by_checkovs_google_checks(
    scanned: tuple[dict[str, list[Path]], Any],
) -> None:
    # A google directory checkov did not recognise would "pass" with nothing checked.
    directories, report = scanned
    gcp = [c for c in PIPELINES if "gcp" in c]
    assert gcp
    for case in gcp:
        for directory in directories[case]:
            where = "/" + directory.relative_to(directory.parents[1]).as_posix() + "/"
            passed = {
                c["check_id"]
                for c in report["results"]["passed_checks"]
                if c["file_path"].startswith(where)
            }
            # uniform bucket-level access, public access prevention: on every bucket
            assert {"CKV_GCP_29", "CKV_GCP_114"} <= passed, directory


def test_cloud_sql_and_its_network_meet_checkovs_checks_but_the_one_skipped(
    scanned: tuple[dict[str, list[Path]], Any],
) -> None:
    directories, report = scanned
    for directory in directories["gcp-database"]:
        where = "/" + directory.relative_to(directory.parents[1]).as_posix() + "/"
        passed = {
            c["check_id"]
            for c in report["results"]["passed_checks"]
            if c["file_path"].startswith(where)
        }
        # private IP only, not open to the world, backups, the latest major version
        assert {"CKV_GCP_60", "CKV_GCP_11", "CKV_GCP_14", "CKV_GCP_79"} <= passed
        # the logging flags, pgAudit, and the statistics flags left off
        assert {f"CKV_GCP_{n}" for n in (51, 52, 53, 55, 56, 108, 109, 110, 111)} <= passed
        assert {f"CKV2_GCP_{n}" for n in (13, 14, 15, 16, 17)} <= passed
        # the created subnetwork's flow logs and private Google access, the firewall
        assert {"CKV_GCP_26", "CKV_GCP_74", "CKV2_GCP_18"} <= passed

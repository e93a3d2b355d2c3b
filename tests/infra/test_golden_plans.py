"""The AWS plans of the example pipelines and the seed patterns, byte for byte.

Each case plans one pipeline under Pulumi's mock engine and compares a stable JSON digest of
the plan (every resource's type, logical name, provider, environment and inputs, policy
documents parsed) with ``tests/infra/golden/<case>.json``. A refactoring that must not change
what is deployed (the storage resolution, the infrastructure model) keeps these green; a
change that means to alter a plan regenerates the files and shows the difference in review.

Regenerate every golden file (after a deliberate change, or after merging branches that add
resources) with one command::

    GLACIER_UPDATE_GOLDEN=1 .venv/bin/pytest -q -p no:cacheprovider tests/infra/test_golden_plans.py

and read ``git diff tests/infra/golden/`` before committing.
"""

from __future__ import annotations

import json
import os
import re
import runpy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import infra_pipelines as seeds
from glacier import Environment
from glacier.infra import Plan, plan

from . import pipelines as patterns
from .plans import ROOT

GOLDEN = Path(__file__).resolve().parent / "golden"
EXAMPLES = ROOT / "examples"
CONTAINERS = ROOT / "containers"
UPDATE = os.environ.get("GLACIER_UPDATE_GOLDEN") == "1"


def _example(name: str) -> dict[str, Any]:
    return runpy.run_path(str(EXAMPLES / name), run_name=f"golden_{name[:-3]}")


def _medallion(stage: str) -> Any:
    build = _example("medallion.py")["build"]
    return build(Environment.from_env(stage, settings_dir=CONTAINERS))


def _models(which: str) -> Any:
    module = _example("models.py")
    return module[which](module["aws_environment"]())


#: case name -> a function returning the pipeline to plan. ``examples/environments.py`` is
#: not among them: its Lambda tasks write Delta tables, which Lambda refuses today (a plan
#: raises InfraError); add it when Lambda container images land.
CASES: dict[str, Callable[[], Any]] = {
    "example-config-cascade": lambda: _example("config_cascade.py")["advanced_pipeline"],
    "example-medallion-staging": lambda: _medallion("staging"),
    "example-medallion-prod": lambda: _medallion("prod"),
    "example-models-training": lambda: _models("training_pipeline"),
    "example-models-prediction": lambda: _models("prediction_pipeline"),
    "example-multi-environment-staging": lambda: _example("multi_environment.py")[
        "staging_pipeline"
    ],
    "example-multi-environment-prod": lambda: _example("multi_environment.py")["prod_pipeline"],
    "seed-dev": lambda: seeds.dev_pipeline,
    "seed-prod": lambda: seeds.prod_pipeline,
    "seed-cross-account": lambda: seeds.cross_account_pipeline,
    "seed-regional-us": lambda: seeds.us_pipeline,
    "seed-regional-eu": lambda: seeds.eu_pipeline,
    "seed-data-lake": lambda: seeds.data_lake_pipeline,
    "seed-flow-sales": lambda: seeds.sales,
    "pattern-raw-bucket": lambda: patterns.raw_bucket_pipeline,
    "pattern-diamond": patterns.diamond_pipeline,
    "pattern-ecs": patterns.ecs_pipeline,
    "pattern-glue": patterns.glue_pipeline,
    "pattern-attached": patterns.attached_pipeline,
    "pattern-every-option": patterns.every_option_pipeline,
}


def digest(planned: Plan) -> str:
    """The plan as stable JSON: JSON-encoded inputs (policies, definitions) parsed, this
    checkout's path replaced by ``<root>`` so that any clone compares equal, and the file
    lists of code archives left out (they list the source tree and its ``__pycache__``,
    which every commit changes; the infrastructure is the rest), the package sizes the
    plan's choices quote (``233 MB``: Glacier's own code is part of them) as ``<n> MB``, and
    the layer's version pins and requirements key as ``==<v>`` and ``<key>``."""

    def expand(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: "<files>" if k == "archive" and isinstance(v, list) else expand(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [expand(v) for v in value]
        if isinstance(value, str):
            text = re.sub(r"\b\d+ MB\b", "<n> MB", value.replace(str(ROOT), "<root>"))
            # The layer's pinned requirements and the key derived from them are what the
            # installed versions make (`dev.py test --newest` installs others): not the
            # infrastructure.
            text = re.sub(r"==[0-9][0-9A-Za-z.+!]*", "==<v>", text)
            text = re.sub(r"\b[0-9a-f]{16}\b", "<key>", text)
            if text[:1] in "{[":
                try:
                    return expand(json.loads(text))
                except ValueError:
                    return text
            return text
        return value

    data = json.loads(planned.to_json())
    return json.dumps(expand(data), indent=1, sort_keys=True) + "\n"


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_plan_is_the_golden_one(
    case: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The medallion example builds its module-level pipeline from GLACIER_ENV at import.
    monkeypatch.setenv("GLACIER_ENV", "dev")
    # A Lambda layer built on this machine would be planned by its cache path: plan from an
    # empty cache, as a fresh clone does (the layer is then named by its requirements' key).
    monkeypatch.setenv("GLACIER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GLACIER_SETTINGS_DIR", str(CONTAINERS))
    got = digest(plan(CASES[case]()))
    path = GOLDEN / f"{case}.json"
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(got)
    assert path.exists(), f"no golden plan {path.name}: run with GLACIER_UPDATE_GOLDEN=1"
    assert got == path.read_text(), (
        f"the plan of {case} differs from {path.name}; if the change is meant, regenerate "
        "with GLACIER_UPDATE_GOLDEN=1 and review git diff tests/infra/golden/"
    )

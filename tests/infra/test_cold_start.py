"""A deployed task's cold start (docs/performance.md): it starts from the settings the plan
baked, builds them without validating them again, imports only what running needs, and
computes what the local run computes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from glacier.infra.task_settings import baked_variables
from glacier.settings import GlacierSettings
from infra.pipelines import without_glacier_vars

ROOT = Path(__file__).resolve().parents[2]

JOB = """\
import polars as pl

from glacier import Dataset, Environment, Pipeline

env = Environment.from_env()
pipeline = Pipeline("job", env=env)
raw = Dataset("raw", storage=env.get("raw"))
out = Dataset("out", storage=env.get("out"))


@pipeline.task()
def make() -> raw:
    return pl.DataFrame({"x": [3, 1, 2], "g": ["a", "b", "a"]})


@pipeline.task(retries=1)
def total(df: raw) -> out:
    return df.group_by("g").agg(pl.col("x").sum()).sort("g")
"""

SETTINGS = """\
[provider]
kind = "local"
base_path = "data"

[task]
retries = 2

[buckets.raw]
bucket_name = "lake"
path = "raw.parquet"

[buckets.out]
bucket_name = "lake"
path = "out.parquet"
"""


def _python(code: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, *code],
        cwd=cwd,
        env={**without_glacier_vars(), **env},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _deployed(settings: GlacierSettings) -> dict[str, str]:
    return {**baked_variables(settings), "GLACIER_DEPLOYED": "1", "GLACIER_RUN_ID": "run-1"}


def test_a_deployed_task_computes_what_the_local_run_computes(tmp_path: Path) -> None:
    (tmp_path / "containers").mkdir()
    (tmp_path / "containers" / "prod.toml").write_text(SETTINGS)
    (tmp_path / "job.py").write_text(JOB)
    lake = tmp_path / "data" / "lake"
    local = {"GLACIER_ENV": "prod", "GLACIER_SETTINGS_DIR": str(tmp_path / "containers")}
    _python(
        ["-c", "from glacier.targets import load_target\nload_target('job.py:pipeline').run()"],
        tmp_path,
        local,
    )
    expected = {name: pl.read_parquet(lake / f"{name}.parquet") for name in ("raw", "out")}
    assert expected["out"]["x"].to_list() == [5, 1]
    shutil.rmtree(tmp_path / "data")

    deployed = _deployed(GlacierSettings.load("prod", settings_dir=tmp_path / "containers"))
    assert "GLACIER_SETTINGS_DIGEST" in deployed
    shutil.move(tmp_path / "containers", tmp_path / "elsewhere")  # no file travels
    results = [
        json.loads(
            _python(["-m", "glacier.infra.runtime", "job.py:pipeline", task], tmp_path, deployed)
        )
        for task in ("make", "total")
    ]
    assert [r["written"] for r in results] == [["raw"], ["out"]]
    for name, frame in expected.items():
        assert_frame_equal(pl.read_parquet(lake / f"{name}.parquet"), frame)


COLD_START = """\
import gc
import sys

import glacier.infra.runtime

paused = not gc.isenabled()
from glacier.infra.runtime import load_pipeline

pipeline = load_pipeline("examples/medallion.py:pipeline")
from glacier.settings import GlacierSettings
from glacier.settings.base import GlacierModel


def models(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from models(sub)


env = pipeline.environment()
print(json.dumps({
    "paused": paused,
    "resumed": gc.isenabled(),
    "provider": env.provider.kind,
    "loaded_from_file": env.settings.settings_file is not None,
    "validators": sorted(m.__name__ for m in models(GlacierModel) if m.__pydantic_complete__),
    "settings_validator": GlacierSettings.__pydantic_complete__,
    "modules": sorted(m for m in sys.modules if m.split(".")[0] in TOPS or m in MODULES),
}))
"""


def test_a_deployed_task_cold_start_imports_and_builds_only_what_running_needs() -> None:
    """Pins what docs/performance.md measured away: the settings are not validated again
    (no settings validator is built: only those of the configs the pipeline's own code
    builds), no settings file is parsed (tomllib), no infrastructure builder, model or
    Pulumi module is imported, and the garbage collector is paused for the start only.
    (pydantic-settings is still imported: dependency-injector imports it whenever present.)"""
    prod = GlacierSettings.load("prod", settings_dir=ROOT / "containers")
    prelude = (
        "import json\n"
        "TOPS = {'pulumi', 'pulumi_aws', 'boto3', 's3fs', 'deltalake', 'dask', 'tomllib'}\n"
        "MODULES = {'glacier.infra.model', 'glacier.infra.aws', 'glacier.infra.task_settings',"
        " 'glacier.infra.layer', 'glacier.infra.rehearse'}\n"
    )
    found = json.loads(_python(["-c", prelude + COLD_START], ROOT, _deployed(prod)))
    assert found == {
        "paused": True,
        "resumed": True,
        "provider": "aws",
        "loaded_from_file": False,
        # What the pipeline's own code builds: env.compute.ecs(...), .lambda_(...), retries=2.
        "validators": ["EcsConfig", "LambdaConfig", "TaskConfig"],
        "settings_validator": False,
        "modules": [],
    }


def test_the_collector_is_paused_only_in_a_deployed_task() -> None:
    code = (
        "import gc\nimport glacier.infra.runtime\n"
        "from glacier.infra.cold_start import paused\nprint(gc.isenabled(), paused())\n"
    )
    assert _python(["-c", code], ROOT, {}).split() == ["True", "False"]
    assert _python(["-c", code], ROOT, {"GLACIER_DEPLOYED": "1"}).split() == ["False", "True"]

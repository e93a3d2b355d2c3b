"""Rehearsing GCP and Azure deployments: the plan's jobs run from the code package in clean
processes, on the GCS emulator and on Azurite, in the orchestration's order, every storage
request checked against the plan's grants by Glacier's evaluator.

Most cases use plans built by hand in the shapes the GCP and Azure builders produce
(``tests/infra/rehearse_clouds/plans.py``), to pin the evaluator's reading of each shape; the
``builders_own`` cases rehearse the plans the builders themselves write.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from glacier.errors import ConfigError
from glacier.infra import rehearse
from glacier.infra.rehearse.report import Rehearsal
from infra.rehearse_clouds.plans import TaskPlan, azure_plan, gcp_plan

PIPELINE = """
import polars as pl
from glacier import Dataset, Environment, Pipeline, Provider
from glacier.settings import {config}

env = Environment(Provider(config={make}), name={env!r})
pipeline = Pipeline("sales")
raw = Dataset("raw", storage=env.provider.bucket({bucket!r}, path="raw/orders.parquet"))
totals = Dataset("totals", storage=env.provider.bucket({bucket!r}, path="sales/totals.parquet"))


@pipeline.task()
def extract() -> raw:
    return pl.DataFrame({{"k": ["a", "b", "a"], "v": [1, 2, 3]}})


published = Dataset("published", storage=env.provider.bucket({bucket!r}, path="pub/t.parquet"))


@pipeline.task()
def summarize(data: raw) -> totals:
    out = data.group_by("k").agg(pl.col("v").sum()).sort("k")
    if {sneaky}:  # writes a dataset it did not declare: its grants must not allow it
        env.provider.bucket({bucket!r}, path="sales2/pins.parquet").write(out)
    return out


@pipeline.task()
def publish(data: totals) -> published:
    return data


counted = Dataset("counted", storage=env.provider.bucket({bucket!r}, path="counts/n.parquet"))


@pipeline.task()
def count(data: raw) -> counted:
    return data.select(pl.len())
"""

CLOUDS: dict[str, dict[str, Any]] = {
    "gcp": {
        "config": "GcpConfig",
        # no endpoint in the code: the job finds the emulator in STORAGE_EMULATOR_HOST
        "make": 'GcpConfig(project="acme-rehearse")',
        "env": "gcpdev",
        "plan": gcp_plan,
    },
    "azure": {
        "config": "AzureConfig",
        "make": (
            'AzureConfig(storage_account="acmerehearse", '
            'subscription_id="00000000-1111-2222-3333-444444444444")'
        ),
        "env": "azdev",
        "plan": azure_plan,
    },
}

TASKS = (
    ("extract", (), ("raw/orders.parquet",)),
    ("summarize", ("raw/orders.parquet",), ("sales/totals.parquet",)),
    ("publish", ("sales/totals.parquet",), ("pub/t.parquet",)),
)


def _pipeline(tmp_path: Path, cloud: str, bucket: str, sneaky: bool = False) -> str:
    spec = CLOUDS[cloud]
    source = PIPELINE.format(
        config=spec["config"], make=spec["make"], env=spec["env"], bucket=bucket, sneaky=sneaky
    )
    (tmp_path / "pipeline.py").write_text(source)
    return f"{tmp_path / 'pipeline.py'}:pipeline"


def _plan(cloud: str, bucket: str, levels: int) -> Any:
    tasks = [
        TaskPlan(
            name,
            reads=tuple((bucket, p) for p in reads),
            writes=tuple((bucket, p) for p in writes),
        )
        for name, reads, writes in TASKS
    ]
    order = [["extract"], ["summarize"], ["publish"]][:levels]
    return CLOUDS[cloud]["plan"](tasks[:levels], order, env=CLOUDS[cloud]["env"])


@pytest.fixture
def emulators(request: pytest.FixtureRequest) -> dict[str, str]:
    """The suite's emulators: the GCS emulator's URL, Azurite's blob endpoint."""
    gcs = request.getfixturevalue("gcs_endpoint")
    azurite = request.getfixturevalue("azurite_server")
    return {"gcp": gcs, "azure": f"http://127.0.0.1:{azurite.port}"}


def _rehearse(
    cloud: str,
    tmp_path: Path,
    emulators: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    sneaky: bool = False,
) -> Rehearsal:
    """``rehearse(target, env)`` as a user calls it, the plan being the hand-built one."""
    bucket = f"rehearse-{uuid.uuid4().hex[:10]}"
    target = _pipeline(tmp_path, cloud, bucket, sneaky)
    planned = _plan(cloud, bucket, 3 if sneaky else 2)  # the passing case runs two tasks
    monkeypatch.setattr("glacier.infra.mocks.plan", lambda pipeline, env=None: planned)
    return rehearse(target, CLOUDS[cloud]["env"], emulator=emulators[cloud])


@pytest.mark.parametrize("cloud", ["gcp", "azure"])
def test_a_two_task_pipeline_rehearses_in_the_orchestration_order(
    cloud: str, tmp_path: Path, emulators: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    report = _rehearse(cloud, tmp_path, emulators, monkeypatch)
    assert report.ok, report.to_text()
    compute = "cloudrun" if cloud == "gcp" else "containerapp"
    assert [(t.task, t.compute, t.status, t.written) for t in report.tasks] == [
        ("extract", compute, "succeeded", ("raw",)),
        ("summarize", compute, "succeeded", ("totals",)),
    ]
    assert report.environment == CLOUDS[cloud]["env"]
    assert report.state_machine == f"{CLOUDS[cloud]['env']}-sales"
    assert any("evaluator checked every storage request" in n for n in report.notes)
    checked = report.notes[0]  # every request of every task went through the evaluator
    assert checked.startswith("storage requests checked against the grants: extract ")
    assert all(int(n.rsplit(" ", 1)[1]) > 0 for n in checked.split(": ", 1)[1].split(", "))


@pytest.mark.parametrize("cloud", ["gcp", "azure"])
def test_a_task_writing_an_undeclared_dataset_fails_the_rehearsal(
    cloud: str, tmp_path: Path, emulators: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    report = _rehearse(cloud, tmp_path, emulators, monkeypatch, sneaky=True)
    assert not report.ok
    assert report.task("extract").ok
    summarize = report.task("summarize")
    assert summarize.status == "failed", report.to_text()
    assert summarize.denied, report.to_text()
    denied = str(summarize.denied[0])
    # the request, and the grant it lacked (the condition that did not hold)
    assert "sales2/pins.parquet denied" in denied
    if cloud == "gcp":
        assert "no grant allows storage.objects.create on gs://" in denied
    else:
        assert "no role assignment allows" in denied and "blobs/write" in denied
    # the store's client read the 403 as a permission error (Glacier's StoragePermissionError)
    assert "credentials in use (profile, role, identity) may write" in summarize.error
    assert "(condition false)" in denied
    # the orchestration stops there: what depends on it is not run
    assert report.task("publish").status == "not run"
    text = report.to_text()
    assert "summarize" in text and "denied" in text and "FAILED" in text
    # nothing the grants refused reached the store
    assert all("sales2/" not in w for w in summarize.written)


def test_keep_server_is_refused_for_a_gcp_environment(
    tmp_path: Path, emulators: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _pipeline(tmp_path, "gcp", "rehearse-keep")
    with pytest.raises(ConfigError, match="keep_server applies to a rehearsal on moto"):
        rehearse(target, "gcpdev", keep_server=True)


def test_gcs_reads_follow_storage_emulator_host(monkeypatch: pytest.MonkeyPatch) -> None:
    # gcsfs follows STORAGE_EMULATOR_HOST, polars' own GCS client does not: with it set,
    # Glacier reads through gcsfs too, so reads and writes reach the same store.
    from glacier.adapters.filesystems import STORES
    from glacier.settings import GcpConfig

    config = GcpConfig(project="acme-rehearse")
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    assert STORES["gcs"].native(config) is not None
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:9")
    assert STORES["gcs"].native(config) is None
    assert STORES["gcs"].delta(config) is None


def test_glacier_rehearse_starts_its_own_gcs_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli.commands import invoke

    bucket = f"rehearse-{uuid.uuid4().hex[:10]}"
    _pipeline(tmp_path, "gcp", bucket, sneaky=True)
    planned = _plan("gcp", bucket, 2)
    monkeypatch.setattr("glacier.infra.mocks.plan", lambda pipeline, env=None: planned)
    monkeypatch.chdir(tmp_path)
    code, out, err = invoke("rehearse", "pipeline.py")  # the orchestrating environment
    assert code == 1, out + err  # a request was denied
    assert "Rehearsal of pipeline 'sales', environment 'gcpdev'" in out
    assert "FAILED" in out and "      denied POST /upload/storage/v1/b/" in out
    assert "sales2/pins.parquet denied: no grant allows storage.objects.create" in out
    assert "extract" in out and "cloudrun" in out


def test_an_azure_rehearsal_starts_azurite_from_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import azurite_executable

    monkeypatch.setenv("PATH", f"{azurite_executable().parent}:{os.environ.get('PATH', '')}")
    bucket = f"rehearse-{uuid.uuid4().hex[:10]}"
    target = _pipeline(tmp_path, "azure", bucket)
    planned = _plan("azure", bucket, 2)
    monkeypatch.setattr("glacier.infra.mocks.plan", lambda pipeline, env=None: planned)
    report = rehearse(target, "azdev")
    assert report.ok, report.to_text()
    assert [t.status for t in report.tasks] == ["succeeded", "succeeded"]


def test_a_workflow_with_parallel_branches_rehearses(
    tmp_path: Path, emulators: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = f"rehearse-{uuid.uuid4().hex[:10]}"
    target = _pipeline(tmp_path, "gcp", bucket)
    raw = ((bucket, "raw/orders.parquet"),)
    tasks = [
        TaskPlan("extract", writes=raw),
        TaskPlan("summarize", reads=raw, writes=((bucket, "sales/totals.parquet"),)),
        TaskPlan("count", reads=raw, writes=((bucket, "counts/n.parquet"),)),
    ]
    planned = gcp_plan(tasks, [["extract"], ["summarize", "count"]])
    monkeypatch.setattr("glacier.infra.mocks.plan", lambda pipeline, env=None: planned)
    report = rehearse(target, "gcpdev", emulator=emulators["gcp"])
    assert report.ok, report.to_text()
    assert [(t.task, t.written) for t in report.tasks] == [
        ("extract", ("raw",)),
        ("summarize", ("totals",)),
        ("count", ("counted",)),
    ]


@pytest.mark.parametrize("cloud", ["gcp", "azure"])
def test_the_builders_own_plan_rehearses(
    cloud: str, tmp_path: Path, emulators: dict[str, str]
) -> None:
    """The plan the GCP and Azure builders write (no hand-built stand-in): its jobs, its
    orchestration and its conditional grants run and hold on the emulator."""
    bucket = f"rehearse-{uuid.uuid4().hex[:10]}"
    target = _pipeline(tmp_path, cloud, bucket)
    report = rehearse(target, CLOUDS[cloud]["env"], emulator=emulators[cloud])
    assert report.ok, report.to_text()
    assert {t.task: t.status for t in report.tasks} == {
        "extract": "succeeded",
        "summarize": "succeeded",
        "publish": "succeeded",
        "count": "succeeded",
    }
    assert report.task("summarize").written == ("totals",)


@pytest.mark.parametrize("cloud", ["gcp", "azure"])
def test_the_builders_own_grants_deny_an_undeclared_dataset(
    cloud: str, tmp_path: Path, emulators: dict[str, str]
) -> None:
    bucket = f"rehearse-{uuid.uuid4().hex[:10]}"
    target = _pipeline(tmp_path, cloud, bucket, sneaky=True)
    report = rehearse(target, CLOUDS[cloud]["env"], emulator=emulators[cloud])
    assert not report.ok
    summarize = report.task("summarize")
    assert summarize.status == "failed", report.to_text()
    assert "sales2/pins.parquet denied" in str(summarize.denied[0])
    assert report.task("publish").status == "not run"
    assert report.task("count").status == "succeeded"  # another branch of the DAG


SECRET_PIPELINE = """
import polars as pl
from pydantic import SecretStr
from glacier import Dataset, Environment, Pipeline
from glacier.settings import GlacierSettings, {config}

settings = GlacierSettings(
    env={env!r}, provider={make}, secrets={{"api_key": {{{store!r}: "fmp-api-key"}}}}
)
env = Environment.from_settings(settings)
pipeline = Pipeline("quotes", env=env)
quotes = Dataset("quotes", storage=env.provider.bucket({bucket!r}, path="q/quotes.parquet"))


@pipeline.task()
def fetch(api_key: SecretStr) -> quotes:
    key = api_key.get_secret_value()  # the value the platform put in the job's variable
    return pl.DataFrame({{"key_length": [len(key)]}})
"""


@pytest.mark.parametrize("cloud", ["gcp", "azure"])
def test_the_builders_own_plan_of_a_task_reading_a_secret_rehearses(
    cloud: str, tmp_path: Path, emulators: dict[str, str]
) -> None:
    """The job's variable Cloud Run (Secret Manager) or Container Apps (Key Vault) fills is
    given a generated test value, which the task reads through ``SecretStr``; the report
    says so."""
    spec = CLOUDS[cloud]
    bucket = f"rehearse-{uuid.uuid4().hex[:10]}"
    source = SECRET_PIPELINE.format(
        config=spec["config"], make=spec["make"], env=spec["env"], store=cloud, bucket=bucket
    )
    (tmp_path / "pipeline.py").write_text(source)
    report = rehearse(
        f"{tmp_path / 'pipeline.py'}:pipeline", spec["env"], emulator=emulators[cloud]
    )
    assert report.ok, report.to_text()
    assert report.task("fetch").status == "succeeded"
    assert report.task("fetch").written == ("quotes",)
    text = report.to_text()
    assert "generated test value" in text and "fetch: GLACIER_SECRET_API_KEY" in text, text

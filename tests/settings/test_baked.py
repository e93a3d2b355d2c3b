"""Baked settings (glacier.settings.baked): a deployed task builds the settings the plan
validated without validating them again, and gets objects equal to validation's; a baked
variable changed after the plan is refused, naming it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from glacier.errors import ConfigError
from glacier.infra.task_settings import baked_variables
from glacier.settings import GlacierSettings
from glacier.settings.baked import DIGEST_VARIABLE, construct, settings_digest
from glacier.settings.environment import SETTINGS_VARIABLE, bake_settings
from infra.pipelines import attached_settings, every_option_pipeline

CONTAINERS = Path(__file__).resolve().parents[2] / "containers"


def _every_option() -> GlacierSettings:
    env = every_option_pipeline().env
    assert env is not None
    return env.settings


def _gcp() -> GlacierSettings:
    return GlacierSettings(
        env="gprod",
        naming_prefix="acme-gprod",
        tags={"team": "data"},
        provider={"kind": "gcp", "project": "acme-data-1", "region": "europe-west1"},
        buckets={
            "raw": {
                "bucket_name": "acme-gprod-raw",
                "path": "raw/",
                "format": "csv",
                "partition_by": ["day"],
                "read_options": {"separator": ";"},
                "gcs": {"storage_class": "NEARLINE", "labels": {"tier": "raw"}},
            }
        },
        secrets={"api_key": {"gcp": "fmp-api-key"}},
        lineage={"transport": "file", "path": "/tmp/lineage.ndjson", "namespace": "acme"},
        checks={"severity": "warn", "datasets": {"raw": {"not_null_id": "error"}}},
    )


def _azure() -> GlacierSettings:
    return GlacierSettings(
        env="aprod",
        provider={
            "kind": "azure",
            "subscription_id": "00000000-0000-0000-0000-000000000000",
            "resource_group": "rg-data",
            "location": "westeurope",
            "storage_account": "acmedata",
        },
        buckets={"raw": {"bucket_name": "raw", "blob": {"tier": "Cool", "replication": "ZRS"}}},
        executor={"kind": "dask", "address": "tcp://scheduler:8786", "n_workers": 2},
    )


def _local() -> GlacierSettings:
    return GlacierSettings(
        env="ci",
        provider={"kind": "local", "base_path": "/srv/data"},
        task={"retries": 3, "timeout": 60, "retry_delay": 1, "tags": ["nightly"]},
        network={
            "vpc_id": "vpc-0a1b2c3d",
            "subnet_ids": ["subnet-0a1b2c3d", "subnet-4e5f6a7b"],
            "security_group_ids": ["sg-0a1b2c3d"],
        },
        databases={"warehouse": {"host": "db.internal", "dbname": "dw", "user": "etl"}},
        volumes={"scratch": {"file_system_name": "scratch"}},
    )


def _from_file(env: str) -> Callable[[], GlacierSettings]:
    return lambda: GlacierSettings.load(env, settings_dir=CONTAINERS)


CASES: dict[str, Callable[[], GlacierSettings]] = {
    **{f"containers/{path.stem}": _from_file(path.stem) for path in CONTAINERS.glob("*.toml")},
    "aws-attached": attached_settings,
    "aws-every-option": _every_option,
    "gcp": _gcp,
    "azure": _azure,
    "local": _local,
}


def _deploy(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def _unvalidated(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, building GlacierSettings by validation fails the test."""

    def validated(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the baked settings were validated again")

    monkeypatch.setattr(GlacierSettings, "__init__", validated)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_deployed_task_builds_the_settings_validation_gives(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = CASES[case]()
    variables = baked_variables(settings)
    baked = variables[SETTINGS_VARIABLE]
    assert variables[DIGEST_VARIABLE] == settings_digest(baked)
    validated = GlacierSettings.model_validate(json.loads(baked))  # the local path
    _deploy(monkeypatch, variables)
    _unvalidated(monkeypatch)
    loaded = GlacierSettings.load(settings_dir="/nonexistent")
    assert loaded == validated
    assert type(loaded.provider) is type(validated.provider)
    assert loaded.model_fields_set == validated.model_fields_set
    assert loaded.settings_file is None
    assert hash(loaded) == hash(validated)
    # What the task would bake again (a remote run, `glacier envs show`) is the same text.
    assert bake_settings(loaded, deployed=True) == baked
    for name, bucket in validated.buckets.items():
        assert loaded.buckets[name].model_fields_set == bucket.model_fields_set


def test_settings_the_deployed_task_validates_again_for_want_of_a_digest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    variables = baked_variables(attached_settings())
    del variables[DIGEST_VARIABLE]  # set by hand, or baked by an older Glacier
    _deploy(monkeypatch, variables)
    assert GlacierSettings.load(settings_dir="/nonexistent") == attached_settings()
    # So an edit without a digest is validated: the invalid value is refused, named.
    edited = json.loads(variables[SETTINGS_VARIABLE])
    edited["provider"]["region"] = "mars-central-1"
    monkeypatch.setenv(SETTINGS_VARIABLE, json.dumps(edited))
    with pytest.raises(ConfigError, match=r"provider\.region.*mars-central-1"):
        GlacierSettings.load(settings_dir="/nonexistent")


def test_a_baked_variable_edited_after_the_plan_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    variables = baked_variables(attached_settings())
    _deploy(monkeypatch, variables)
    edited = variables[SETTINGS_VARIABLE].replace('"ca-central-1"', '"mars-central-1"')
    assert edited != variables[SETTINGS_VARIABLE]
    monkeypatch.setenv(SETTINGS_VARIABLE, edited)
    with pytest.raises(ConfigError) as caught:
        GlacierSettings.load(settings_dir="/nonexistent")
    message = str(caught.value)
    assert "GLACIER_SETTINGS does not match GLACIER_SETTINGS_DIGEST" in message
    assert "regenerate and redeploy" in message
    # Arguments that refine the settings do not get an edited variable past the digest.
    with pytest.raises(ConfigError, match="does not match GLACIER_SETTINGS_DIGEST"):
        GlacierSettings.load(settings_dir="/nonexistent", executor={"max_workers": 2})
    # A digest edited alone is refused the same way.
    monkeypatch.setenv(SETTINGS_VARIABLE, variables[SETTINGS_VARIABLE])
    monkeypatch.setenv(DIGEST_VARIABLE, "0" * 64)
    with pytest.raises(ConfigError, match="does not match GLACIER_SETTINGS_DIGEST"):
        GlacierSettings.load(settings_dir="/nonexistent")


def test_variables_and_arguments_still_refine_baked_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    variables = baked_variables(attached_settings())
    _deploy(monkeypatch, variables)
    monkeypatch.setenv("GLACIER_EXECUTOR__MAX_WORKERS", "8")
    assert GlacierSettings.load(settings_dir="/nonexistent").executor.max_workers == 8
    monkeypatch.delenv("GLACIER_EXECUTOR__MAX_WORKERS")
    loaded = GlacierSettings.load(settings_dir="/nonexistent", task={"retries": 4})
    assert loaded.task.retries == 4
    assert loaded.provider == attached_settings().provider


def test_construct_refuses_what_it_cannot_build_without_validation() -> None:
    from glacier.settings import TaskConfig
    from glacier.settings.baked import Unconstructible

    with pytest.raises(Unconstructible):
        construct(TaskConfig, {"retry_on": ["builtins.ValueError"]})
    with pytest.raises(Unconstructible):
        construct(GlacierSettings, {"env": "prod", "provider": {"kind": "ibm"}})
    with pytest.raises(Unconstructible):
        construct(GlacierSettings, {"env": "prod", "nope": 1})


def test_the_module_examples_run() -> None:
    import doctest

    import glacier.settings.baked

    result = doctest.testmod(glacier.settings.baked, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0

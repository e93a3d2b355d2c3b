"""``glacier envs``: list, show (secrets masked) and validate the environments of the
settings directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glacier.cli import mask_secrets

from .commands import invoke
from .projects import AWS_ENV, envs_project, write


def test_envs_lists_the_environments(project: Path) -> None:
    envs_project(project)
    for args in (("envs",), ("envs", "list")):
        code, out, err = invoke(*args)
        assert code == 0, err
        assert "dev *" in out and "prod" in out and "test" in out
        assert "123456789012" in out and "eu-west-1" in out


def test_envs_show_masks_secrets(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    envs_project(project)
    monkeypatch.setenv("GLACIER_TAGS", '{"api_token": "t0ps3cret", "team": "data"}')
    code, out, err = invoke("envs", "show", "prod")
    assert code == 0, err
    assert "provider.account_id" in out and "123456789012" in out
    assert "tags.team" in out and "t0ps3cret" not in out and "********" in out
    code, out, _ = invoke("envs", "show", "prod", "--json")
    data = json.loads(out)
    assert data["provider"]["region"] == "eu-west-1"
    assert data["tags"] == {"api_token": "********", "team": "data"}


def test_mask_secrets() -> None:
    data = {
        "kms_key_id": "arn",
        "nested": [{"password": "p", "Secret_Name": 3, "user": "u"}],
        "bucket_key_enabled": True,
        "access_token": None,
    }
    assert mask_secrets(data) == {
        "kms_key_id": "********",
        "nested": [{"password": "********", "Secret_Name": "********", "user": "u"}],
        "bucket_key_enabled": True,
        "access_token": None,
    }


def test_envs_show_unknown_environment(project: Path) -> None:
    envs_project(project)
    code, _, err = invoke("envs", "show", "qa")
    assert code == 2 and "dev, prod, test" in err


def test_envs_validate_reports_every_problem(project: Path) -> None:
    envs_project(project)
    assert invoke("envs", "validate")[0] == 0
    write(
        project,
        {
            "containers/bad_region.toml": AWS_ENV.format(name="x").replace("eu-west-1", "mars-1"),
            "containers/bad_toml.toml": "name = [",
            "containers/creds.toml": 'secret_access_key = "abc"\n',
        },
    )
    code, out, err = invoke("envs", "validate")
    assert code == 2
    assert "✓ dev" in out and "✓ prod" in out
    assert "✗ bad_region" in out and "mars-1" in out
    assert "✗ bad_toml" in out and "not valid TOML" in out
    assert "✗ creds" in out and "secret_access_key" in out
    assert "3 of 6 environments invalid: bad_region, bad_toml, creds" in err


def test_envs_without_a_settings_directory(project: Path) -> None:
    code, _, err = invoke("envs", "--settings-dir", "nowhere")
    assert code == 2 and "does not exist" in err
    code, _, err = invoke("envs", "validate", "--settings-dir", "nowhere")
    assert code == 2 and "does not exist" in err


def test_envs_show_diff_puts_the_seed_sizing_side_by_side(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    containers = Path(__file__).resolve().parents[2] / "containers"
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = invoke(
        "envs", "show", "--diff", "dev", "prod", "--settings-dir", str(containers)
    )
    assert code == 0, err
    row = next(line for line in out.splitlines() if "rds.instance_class" in line)
    assert "db.t3.micro" in row and "db.t3.medium" in row
    code, out, err = invoke(
        "envs", "show", "--diff", "staging", "prod", "--json", "--settings-dir", str(containers)
    )
    assert code == 0, err
    rows = json.loads(out)
    assert rows["databases.warehouse.rds.instance_class"] == {
        "staging": "db.t3.small",
        "prod": "db.t3.medium",
    }
    assert rows["databases.warehouse.rds.multi_az"] == {"staging": False, "prod": True}
    assert rows["secrets.fmp_api_key.aws"] == {
        "staging": "/staging/fmp/api_key",
        "prod": "/prod/fmp/api_key",
    }
    assert "databases.prices.dynamodb.hash_key" not in rows  # the same in both: not listed


def test_envs_show_takes_a_second_environment_only_with_diff(project: Path) -> None:
    envs_project(project)
    code, _, err = invoke("envs", "show", "dev", "prod")
    assert code != 0
    assert "--diff dev prod" in err

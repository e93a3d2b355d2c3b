"""``glacier rehearse``, ``glacier deploy`` and ``glacier run --remote``."""

from __future__ import annotations

import shutil
from pathlib import Path

import boto3
import pytest

from .commands import invoke
from .projects import envs_project


def test_rehearse_runs_the_deployment_on_emulators(project: Path) -> None:
    envs_project(project)
    code, out, err = invoke("rehearse", "by_env.py", "--env", "prod")
    assert code == 0, out + err
    assert "Rehearsal of pipeline 'by-env-prod', environment 'prod'" in out
    assert "passed" in out
    assert "make" in out and "lambda" in out and "succeeded" in out


def test_deploy_without_the_pulumi_cli_says_how_to_install_it(project: Path) -> None:
    assert shutil.which("pulumi") is None  # this machine has no Pulumi CLI
    envs_project(project)
    code, _, err = invoke("deploy", "by_env.py", "--env", "prod", "--preview")
    assert code == 1
    assert "Deploying needs the Pulumi CLI" in err
    assert "https://get.pulumi.com" in err and "glacier.infra.plan" in err


def test_run_remote_starts_the_deployed_state_machine(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glacier.infra.rehearse import rehearse, stop_server

    envs_project(project)
    code, out, err = invoke("plan", "by_env.py", "--env", "prod")  # loads prod's pipeline
    assert code == 0, err
    from glacier.cli import load_pipeline, selected_environment

    with selected_environment("prod", None):
        report = rehearse(load_pipeline("by_env.py"), "prod", keep_server=True)
    try:
        assert report.ok, report.to_text()
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            monkeypatch.setenv(name, "emulator")
        code, out, err = invoke(
            "run", "by_env.py", "--env", "prod", "--remote",
            "--endpoint", report.endpoint, "--follow", "0",
        )  # fmt: skip
        assert code == 0, err
        assert report.state_machine is not None and report.state_machine in out
        sfn = boto3.client("stepfunctions", endpoint_url=report.endpoint, region_name="eu-west-1")
        executions = sfn.list_executions(stateMachineArn=report.state_machine)["executions"]
        assert len(executions) == 1
        assert f"execution {executions[0]['executionArn']}" in out
    finally:
        stop_server(report.endpoint)


def test_a_local_run_against_cloud_storage_says_so(project: Path) -> None:
    envs_project(project)
    code, out, err = invoke("run", "by_env.py", "--env", "prod")
    assert "runs on this machine, reading and writing aws storage of 'prod'" in out
    assert "--remote starts the deployed pipeline" in out
    code, out, err = invoke("run", "by_env.py", "--env", "dev")
    assert code == 0, err
    assert "runs on this machine" not in out  # local files: nothing to confuse

"""A task with Databricks compute plans (issue 27): per task a job on a job cluster pinned by a
cluster policy to its DatabricksConfig, run as an instance profile of the task's role, with
permissions for the run group; the code uploaded to the workspace; the state machine starting
the job through the Jobs API (HTTP tasks on an EventBridge connection holding the token)."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest

from glacier.errors import InfraError, TerraformError
from glacier.infra import Plan, plan
from glacier.infra.databricks import CODE, RUN_PERMISSION, code_zip, runner_source

from .plans import ROLE, ROLE_POLICY, STATE_MACHINE, definition, statement

HOST = "https://dbc-1234abcd-5678.cloud.databricks.com"
JOB = "databricks:index/job:Job"
POLICY = "databricks:index/clusterPolicy:ClusterPolicy"
PERMISSIONS = "databricks:index/permissions:Permissions"
FILE = "databricks:index/workspaceFile:WorkspaceFile"
PROFILE = "databricks:index/instanceProfile:InstanceProfile"
CONNECTION = "aws:cloudwatch/eventConnection:EventConnection"

PIPELINE = """
import polars as pl
from glacier import AWSEnvironment, Dataset, Pipeline

env = AWSEnvironment(account_id="123456789012", region="us-east-1", environment="prod")
pipeline = Pipeline("lakehouse", env=env)
raw = Dataset("raw", storage=env.storage.s3(bucket="prod-raw", path="raw.parquet"))
out = Dataset("out", storage=env.storage.s3(bucket="prod-out", path="out.parquet"))


@pipeline.task(compute=env.compute.lambda_())
def land() -> raw:
    return pl.DataFrame({{"x": [1]}})


@pipeline.task(compute=env.compute.databricks("spark", {settings}), timeout=3600)
def transform(data: raw) -> out:
    return data
"""
SETTINGS = (
    'instance_type="m5.large", num_workers=4, '
    f'workspace_host="{HOST}", token_secret="prod/databricks/token", run_group="data-engineers"'
)


def planned(tmp_path: Path, settings: str = SETTINGS) -> Plan:
    (tmp_path / "lakehouse.py").write_text(PIPELINE.format(settings=settings))
    return plan(str(tmp_path / "lakehouse.py"))


@pytest.fixture(scope="module")
def lakehouse(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    return planned(tmp_path_factory.mktemp("lakehouse"))


def test_a_databricks_task_plans_its_job_on_a_cluster_sized_by_its_config(
    lakehouse: Plan,
) -> None:
    (job,) = lakehouse.of_type(JOB)
    (spec,) = job.inputs["tasks"]
    cluster = spec["newCluster"]
    assert (cluster["nodeTypeId"], cluster["numWorkers"]) == ("m5.large", 4)
    assert cluster["sparkVersion"] == "15.4.x-scala2.12"
    (policy,) = lakehouse.of_type(POLICY)
    assert cluster["policyId"] == policy.outputs["id"]
    variables = cluster["sparkEnvVars"]
    assert variables["GLACIER_TASK_NAME"] == "transform"
    assert variables["GLACIER_TARGET"] == "lakehouse:lakehouse"  # module:pipeline name
    (profile,) = lakehouse.of_type("aws:iam/instanceProfile:InstanceProfile")
    assert cluster["awsAttributes"]["instanceProfileArn"] == profile.outputs["arn"]
    assert spec["sparkPythonTask"]["pythonFile"] == (
        "/Workspace/Shared/glacier/lakehouse/prod/glacier_databricks_job.py"
    )
    packages = [lib["pypi"]["package"] for lib in spec["libraries"]]
    assert any(p.startswith("polars==") for p in packages)
    assert job.inputs["timeoutSeconds"] == 3600
    assert job.inputs["tags"]["glacier:task"] == "transform"


def test_the_cluster_policy_allows_nothing_larger_than_the_config(lakehouse: Plan) -> None:
    (policy,) = lakehouse.of_type(POLICY)
    rules = json.loads(policy.inputs["definition"])
    assert rules["node_type_id"] == {"type": "fixed", "value": "m5.large"}
    assert rules["driver_node_type_id"] == {"type": "fixed", "value": "m5.large"}
    assert rules["num_workers"]["maxValue"] == 4
    assert rules["cluster_type"] == {"type": "fixed", "value": "job"}
    (profile,) = lakehouse.of_type("aws:iam/instanceProfile:InstanceProfile")
    assert rules["aws_attributes.instance_profile_arn"]["value"] == profile.outputs["arn"]


def test_the_job_is_runnable_by_the_run_group_only(lakehouse: Plan) -> None:
    (permissions,) = lakehouse.of_type(PERMISSIONS)
    (job,) = lakehouse.of_type(JOB)
    assert permissions.inputs["jobId"] == job.outputs["id"]
    assert permissions.inputs["accessControls"] == [
        {"groupName": "data-engineers", "permissionLevel": RUN_PERMISSION}
    ]


def test_the_cluster_runs_as_the_tasks_least_privilege_role(lakehouse: Plan) -> None:
    role = lakehouse.get(ROLE, "prod-transform-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    (profile,) = lakehouse.of_type("aws:iam/instanceProfile:InstanceProfile")
    assert profile.inputs["role"] == role.outputs["name"]
    (registered,) = lakehouse.of_type(PROFILE)
    assert registered.inputs["instanceProfileArn"] == profile.outputs["arn"]
    policy = lakehouse.get(ROLE_POLICY, "prod-transform-policy").policy()
    resources = {r for s in policy["Statement"] for r in s["Resource"]}
    assert "arn:aws:s3:::prod-raw/raw.parquet*" in resources  # reads what it consumes


def test_the_workspace_provider_and_connection_take_the_token_from_the_secret(
    lakehouse: Plan,
) -> None:
    (provider,) = [r for r in lakehouse if r.type == "pulumi:providers:databricks"]
    assert provider.inputs["host"] == HOST
    stand_in = "<value of secret prod/databricks/token>"  # read at deploy time
    assert stand_in in json.dumps(provider.inputs["token"])
    (connection,) = lakehouse.of_type(CONNECTION)
    api_key = json.dumps(connection.inputs["authParameters"])
    assert f"Bearer {stand_in}" in api_key
    for resource in lakehouse.of_type(JOB) + lakehouse.of_type(POLICY) + lakehouse.of_type(FILE):
        assert resource.provider == provider.name


def test_the_code_and_runner_are_uploaded_to_the_workspace(lakehouse: Plan) -> None:
    files = {r.inputs["path"]: r.inputs["contentBase64"] for r in lakehouse.of_type(FILE)}
    base = "/Shared/glacier/lakehouse/prod"
    assert sorted(files) == [f"{base}/{CODE}", f"{base}/glacier_databricks_job.py"]
    runner = base64.b64decode(files[f"{base}/glacier_databricks_job.py"]).decode()
    assert runner == runner_source(f"/Workspace{base}")
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(files[f"{base}/{CODE}"]))) as code:
        names = code.namelist()
    assert "lakehouse.py" in names and "glacier/infra/runtime.py" in names


def test_the_state_machine_starts_the_job_through_the_jobs_api(lakehouse: Plan) -> None:
    states = definition(lakehouse)["States"]
    assert states["land"]["Type"] == "Task"
    wrapper = states["transform"]
    assert wrapper["Type"] == "Parallel" and wrapper["ResultPath"] is None
    (branch,) = wrapper["Branches"]
    run_now, runs_get = branch["States"]["run-now"], branch["States"]["runs-get"]
    (connection,) = lakehouse.of_type(CONNECTION)
    (job,) = lakehouse.of_type(JOB)
    assert run_now["Resource"] == "arn:aws:states:::http:invoke"
    assert run_now["Parameters"]["ApiEndpoint"] == f"{HOST}/api/2.1/jobs/run-now"
    assert run_now["Parameters"]["Authentication"] == {"ConnectionArn": connection.outputs["arn"]}
    body = run_now["Parameters"]["RequestBody"]
    assert body["job_id.$"] == f"States.StringToJson('{job.outputs['id']}')"
    assert "$$.Execution.Name" in body["python_params.$"]
    assert runs_get["Parameters"]["ApiEndpoint"] == f"{HOST}/api/2.1/jobs/runs/get"
    choice = branch["States"]["ended"]
    assert choice["Default"] == "wait"
    assert {c["Next"] for c in choice["Choices"]} == {"succeeded", "failed"}
    assert branch["States"]["failed"]["Type"] == "Fail"


def test_the_orchestrator_may_call_only_the_workspaces_jobs_api(lakehouse: Plan) -> None:
    policy = lakehouse.get(ROLE_POLICY, "prod-orchestrator-policy").policy()
    start = statement(policy, "StartDatabricksJobs")
    assert start["Action"] == ["states:InvokeHTTPEndpoint"]
    assert start["Condition"] == {"StringLike": {"states:HTTPEndpoint": [f"{HOST}/api/2.1/jobs/*"]}}
    machine = lakehouse.of_type(STATE_MACHINE)[0]
    assert start["Resource"] == [machine.outputs["arn"]]
    (connection,) = lakehouse.of_type(CONNECTION)
    assert statement(policy, "UseDatabricksConnections")["Resource"] == [connection.outputs["arn"]]


def test_the_plan_table_shows_the_databricks_resources(tmp_path: Path) -> None:
    (tmp_path / "lakehouse.py").write_text(PIPELINE.format(settings=SETTINGS))
    done = subprocess.run(
        [sys.executable, "-m", "glacier", "plan", str(tmp_path / "lakehouse.py")],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for kind in ("databricks:index:Job", "databricks:index:ClusterPolicy", "Permissions"):
        assert kind in done.stdout


def test_without_a_workspace_the_plan_is_refused_naming_the_settings(tmp_path: Path) -> None:
    with pytest.raises(InfraError) as refused:
        planned(tmp_path, 'instance_type="m5.large"')
    assert "set workspace_host and token_secret on its DatabricksConfig" in str(refused.value)


def test_without_a_run_group_the_job_keeps_databricks_default_permissions(tmp_path: Path) -> None:
    settings = f'workspace_host="{HOST}", token_secret="prod/databricks/token"'
    assert planned(tmp_path, settings).of_type(PERMISSIONS) == []


def test_the_terraform_target_refuses_databricks_resources_by_name(tmp_path: Path) -> None:
    from glacier.infra.terraform import generate

    (tmp_path / "lakehouse.py").write_text(PIPELINE.format(settings=SETTINGS))
    with pytest.raises(TerraformError) as refused:
        generate(str(tmp_path / "lakehouse.py"), tmp_path / "tf")
    assert "resource type 'databricks:index/job:Job'" in str(refused.value)
    assert "resource type 'databricks:index/clusterPolicy:ClusterPolicy'" in str(refused.value)
    assert not (tmp_path / "tf").exists()


def test_the_runner_runs_the_named_task_from_the_uploaded_code_zip(tmp_path: Path) -> None:
    """The job's script, as the cluster runs it: the code zip on the import path, the task
    named by the cluster's variables, the run id by the orchestrator's parameters."""
    from glacier.infra.aws.packaging import glacier_files

    code = tmp_path / "code"
    code.mkdir()
    (code / "local_job.py").write_text(
        textwrap.dedent(
            f"""
            import polars as pl
            from glacier import Dataset, Pipeline, Provider
            from glacier.config import LocalConfig

            provider = Provider(config=LocalConfig(base_path={str(tmp_path / "lake")!r}))
            pipeline = Pipeline("local-job")
            out = Dataset("out", storage=provider.bucket("out", path="out.parquet"))


            @pipeline.task()
            def make() -> out:
                return pl.DataFrame({{"x": [1, 2]}})
            """
        )
    )
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    files: dict[str, Any] = {**glacier_files(), "local_job.py": code / "local_job.py"}
    (workspace / CODE).write_bytes(code_zip(files))
    (workspace / "runner.py").write_text(runner_source(str(workspace)))
    variables = {k: v for k, v in os.environ.items() if not k.startswith("GLACIER_")}
    variables.update(GLACIER_TARGET="local_job:pipeline", GLACIER_TASK_NAME="make")
    done = subprocess.run(
        [sys.executable, str(workspace / "runner.py"), "--GLACIER_RUN_ID", "run-1"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env=variables,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "lake" / "out" / "out.parquet").exists()
    assert "run-1" in done.stdout


def test_the_generated_project_installs_the_databricks_extra(tmp_path: Path) -> None:
    from glacier.infra import generate
    from glacier.targets import load_target

    (tmp_path / "lakehouse.py").write_text(PIPELINE.format(settings=SETTINGS))
    generate(load_target(str(tmp_path / "lakehouse.py")), tmp_path / "project")
    requirements = (tmp_path / "project" / "requirements.txt").read_text()
    assert "[s3,deploy,databricks]" in requirements


def test_the_examples_in_the_databricks_module_run() -> None:
    import doctest

    from glacier.infra import databricks

    result = doctest.testmod(databricks)
    assert result.failed == 0 and result.attempted > 0


def test_a_rehearsal_refuses_a_databricks_task_before_it_starts(tmp_path: Path) -> None:
    from glacier.infra.rehearse import rehearse

    (tmp_path / "lakehouse.py").write_text(PIPELINE.format(settings=SETTINGS))
    with pytest.raises(InfraError, match="no emulator of a Databricks workspace"):
        rehearse(str(tmp_path / "lakehouse.py"))

"""Tasks as Glue jobs: the job, its uploaded script and code, its rights; the generated script
runs its task."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier.errors import InfraError
from glacier.infra import plan
from infra.pipelines import glue_pipeline, job_module_head, without_glacier_vars
from infra.plans import (
    GLUE_JOB,
    OBJECT,
    ROLE,
    ROLE_POLICY,
    TESTS,
    definition,
    lint,
    statement,
    task_policy,
)


def test_glue_tasks_get_a_job_with_the_code_and_exact_rights() -> None:
    p = plan(glue_pipeline(additional_python_modules=("pyarrow==17.0.0",)))
    code = "s3://spark-lake-artifacts-111111111111/_glacier/code/lake/"
    (job,) = p.of_type(GLUE_JOB)
    inputs = job.inputs
    assert inputs["name"] == "spark-lake-crunch"
    assert inputs["roleArn"] == "arn:aws:iam::111111111111:role/spark-lake-crunch"
    assert (inputs["workerType"], inputs["numberOfWorkers"]) == ("G.2X", 4)
    assert inputs["glueVersion"] == "5.0"
    assert inputs["command"] == {
        "name": "glueetl",
        "scriptLocation": f"{code}glacier_glue_job.py",
        "pythonVersion": "3",
    }
    args = inputs["defaultArguments"]
    assert args["--GLACIER_TASK_NAME"] == "crunch" and args["--GLACIER_ENVIRONMENT"] == "spark"
    assert args["--GLACIER_TARGET"].endswith(":lake")  # module:pipeline, code on sys.path
    assert args["--extra-py-files"] == f"{code}code.zip"
    assert json.loads(args["--GLACIER_ARTIFACTS"]) == {
        "mid": "s3://spark-lake-artifacts-111111111111/mid/"
    }
    modules = args["--additional-python-modules"].split(",")
    assert modules[0].startswith("polars==") and modules[-1] == "pyarrow==17.0.0"
    # crunch reads a Delta table (the bucket's root): its job installs deltalake too.
    from importlib.metadata import version

    assert f"deltalake=={version('deltalake')}" in modules
    assert args["--continuous-log-logGroup"] == "/glacier/lake/crunch"
    # the script and the code (with Glacier itself) are uploaded next to the artifacts
    script = p.get(OBJECT, "spark-glue-script").inputs
    assert script["key"] == "_glacier/code/lake/glacier_glue_job.py"
    compile(script["content"], "glacier_glue_job.py", "exec")
    archive = p.get(OBJECT, "spark-glue-code").inputs["source"].assets
    assert "glacier/infra/runtime.py" in archive
    # the package defining the pipeline, file by file
    assert archive["infra/pipelines.py"].path == str(TESTS / "infra" / "pipelines.py")
    trust = p.get(ROLE, "spark-crunch-role").policy()["Statement"][0]
    assert trust["Principal"] == {"Service": "glue.amazonaws.com"}
    policy = task_policy(p, "spark", "crunch")
    base = "arn:aws:s3:::spark-lake-artifacts-111111111111"
    assert f"{base}/_glacier/code/lake/*" in statement(policy, "Read")["Resource"]
    assert f"{base}/_glacier/code/lake/*" not in statement(policy, "Write")["Resource"]
    glue_logs = statement(policy, "GlueLogs")["Resource"]
    assert "arn:aws:logs:us-west-2:111111111111:log-group:/aws-glue/jobs/error:*" in glue_logs
    # the orchestrator runs exactly this job and waits for it
    state = definition(p)["States"]["crunch"]
    assert state["Resource"] == "arn:aws:states:::glue:startJobRun.sync"
    assert state["Parameters"] == {
        "JobName": "spark-lake-crunch",
        "Arguments": {"--GLACIER_RUN_ID.$": "$$.Execution.Name"},
    }
    orchestrator = p.get(ROLE_POLICY, "spark-orchestrator-policy").policy()
    assert statement(orchestrator, "RunTaskJobs")["Resource"] == [
        "arn:aws:glue:us-west-2:111111111111:job/spark-lake-crunch"
    ]
    findings = [f for r, key, doc in p.policies() for f in lint(r, key, doc)]
    assert findings == []
    # what runs leave behind expires, the jobs' code does not
    lifecycle = p.get(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "spark-spark-lake-artifacts-111111111111-lifecycle",
    ).inputs["rules"]
    expiring = sorted(r["filter"]["prefix"] for r in lifecycle if "expiration" in r)
    assert expiring == ["_glacier/tmp/", "mid/"]
    (abort,) = [r for r in lifecycle if "abortIncompleteMultipartUpload" in r]
    assert abort["filter"] == {"prefix": ""} and "expiration" not in abort


@pytest.mark.parametrize(
    ("glue", "message"),
    [
        ({"glue_version": "4.0"}, r"Glue 4\.0, whose Python is older than 3\.11"),
        ({"worker_type": "Z.2X"}, r"workers of type 'Z\.2X'.*G\.1X"),
    ],
)
def test_glue_jobs_glacier_cannot_run_on_are_refused(glue: dict[str, Any], message: str) -> None:
    with pytest.raises(InfraError, match=message):
        plan(glue_pipeline(**glue))


def test_the_generated_glue_script_runs_the_task_its_arguments_name(tmp_path: Path) -> None:
    from glacier.infra.aws import GLUE_JOB_SOURCE, GLUE_SCRIPT

    (tmp_path / "gluejob.py").write_text(
        "import os\n" + job_module_head(tmp_path) + "@pipeline.task()\n"
        "def make() -> mid:\n"
        "    return pl.DataFrame({'task': [os.environ['GLACIER_TASK_NAME']]})\n"
    )
    script = tmp_path / GLUE_SCRIPT
    script.write_text(GLUE_JOB_SOURCE)
    artifacts = json.dumps({"mid": str(tmp_path / "artifacts" / "mid") + "/"})
    # As Glue runs it: its own arguments among the job's, the code zip on PYTHONPATH.
    argv = [
        "--JOB_ID", "j_1", "--GLACIER_TARGET", "gluejob:pipeline", "--GLACIER_TASK_NAME", "make",
        "--GLACIER_RUN_ID", "jr_7", "--GLACIER_ARTIFACTS", artifacts, "--job-bookmark-option",
        "job-bookmark-disable",
    ]  # fmt: skip
    env = {**without_glacier_vars(), "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, str(script), *argv], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["written"] == ["mid"] and result["run_id"] == "jr_7"
    written = pl.read_parquet(tmp_path / "artifacts" / "mid" / "jr_7.parquet")
    assert written["task"].to_list() == ["make"]  # the job's arguments are also env vars

    bare = subprocess.run(
        [sys.executable, str(script), "--JOB_ID", "j_1"], env=env, capture_output=True, text=True
    )
    assert bare.returncode != 0
    assert "without --GLACIER_TARGET and --GLACIER_TASK_NAME" in bare.stderr


def test_a_glue_job_and_its_task_do_not_both_retry() -> None:
    # crunch has retries=1; a job rerunning failed runs too would multiply the attempts.
    with pytest.raises(InfraError) as caught:
        plan(glue_pipeline(max_retries=2))
    message = str(caught.value)
    assert "Task 'crunch'" in message and "up to 6 times" in message
    assert "Keep one: the task's retries=" in message and "GlueConfig(max_retries=" in message

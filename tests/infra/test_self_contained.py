"""A deployment is self-contained: settings, environment name and credentials come with the
task, not from the shell or the profiles of the machine that generated it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

import infra_pipelines as seeds
from glacier.errors import InfraError
from glacier.infra import generate, plan
from glacier.settings import GlacierSettings
from infra.pipelines import without_glacier_vars
from infra.plans import FUNCTION, ROOT, TESTS

MEDALLION = ROOT / "examples" / "medallion.py"


def _python(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _clean_env(**extra: str) -> dict[str, str]:
    """PATH and the interpreter's path only: no AWS or Glacier variables, an empty home."""
    keep = {k: v for k, v in without_glacier_vars().items() if not k.startswith("AWS_")}
    paths = os.pathsep.join([str(ROOT / "src"), str(TESTS)])
    return {"PATH": keep.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": paths, **extra}


def test_a_deployed_task_signs_with_its_role_not_the_deployers_profile(
    moto_endpoint: str, tmp_path: Path
) -> None:
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(
        Bucket="dev-raw-data"
    )
    variables = plan(seeds.dev_pipeline).get(FUNCTION, "dev-extract-function").inputs
    given = dict(variables["environment"]["variables"])
    assert given["GLACIER_DEPLOYED"] == "1"
    role = {  # what the function's role gives it, standing in: the emulator's keys
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": moto_endpoint,
        "HOME": str(tmp_path),
    }
    code = (
        "from glacier.infra.runtime import run_task\n"
        "print(run_task('infra_pipelines.py:dev_pipeline', 'extract', run_id='r1')['written'])\n"
    )
    done = _python(code, _clean_env(**given, **role), TESTS)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['raw_data']"
    # The same process outside a deployment looks for the deployer's profile, and fails.
    del given["GLACIER_DEPLOYED"]
    failed = _python(code, _clean_env(**given, **role), TESTS)
    assert failed.returncode != 0 and "ProfileNotFound" in failed.stderr


def test_the_medallion_settings_travel_with_its_functions(tmp_path: Path) -> None:
    given = _medallion_prod_variables(tmp_path)
    assert given["GLACIER_ENV"] == "prod"
    baked = json.loads(given["GLACIER_SETTINGS"])
    assert baked["provider"] == {
        "kind": "aws",
        "region": "ca-central-1",
        "account_id": "999999999999",
    }  # no profile: the task runs as its role
    assert baked["buckets"]["gold_customers"]["bucket_name"] == "finks-prod-gold-zone"
    # Imported where no containers/ exists, as in a function, the module finds prod.
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('medallion', {str(MEDALLION)!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "print(module.pipeline.env.name, module.pipeline.env.provider.config.profile)\n"
    )
    done = _python(code, _clean_env(**given, HOME=str(tmp_path)), tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "prod None"


def _medallion_prod_variables(tmp_path: Path) -> dict[str, str]:
    code = (
        "import json, runpy\n"
        "from glacier.infra import plan\n"
        f"pipeline = runpy.run_path({str(MEDALLION)!r})['pipeline']\n"
        "p = plan(pipeline)\n"
        "f = p.get('aws:lambda/function:Function', 'prod-revenue-function')\n"
        "print(json.dumps(dict(f.inputs['environment']['variables'])))\n"
    )
    env = _clean_env(GLACIER_ENV="prod", GLACIER_SETTINGS_DIR=str(ROOT / "containers"))
    done = _python(code, env, tmp_path)
    assert done.returncode == 0, done.stderr
    given: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return given


def test_the_generated_project_selects_its_settings_without_glacier_env(tmp_path: Path) -> None:
    out = tmp_path / "infra"
    code = (
        "import runpy\n"
        "from glacier.infra import generate\n"
        f"pipeline = runpy.run_path({str(MEDALLION)!r}, run_name='medallion')['pipeline']\n"
        f"generate(pipeline, {str(out)!r})\n"
    )
    env = _clean_env(GLACIER_ENV="prod", GLACIER_SETTINGS_DIR=str(ROOT / "containers"))
    done = _python(code, env, tmp_path)
    assert done.returncode == 0, done.stderr
    stack = (out / "Pulumi.prod.yaml").read_text()
    assert "glacier:settings:" in stack and "finks-prod-gold-zone" in stack
    # `cd infra && pulumi preview --stack prod`, with nothing exported:
    preview = (
        "import sys\n"
        "from glacier.infra.mocks import plan_project\n"
        "p = plan_project(sys.argv[1], 'prod')\n"
        "print(sorted({r.inputs.get('bucket') for r in p.of_type('aws:s3/bucket:Bucket')}))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", preview, str(out)],
        env=_clean_env(HOME=str(tmp_path)),
        cwd=out,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert "finks-prod-gold-zone" in ran.stdout.strip().splitlines()[-1]


def test_requirements_name_an_installable_distribution(tmp_path: Path) -> None:
    import glacier

    generate(seeds.dev_pipeline, tmp_path, [seeds.aws_dev])
    text = (tmp_path / "requirements.txt").read_text()
    requirements = [line for line in text.splitlines() if not line.startswith("#")]
    assert requirements[0] == f"glacier-pipelines[s3,deploy]=={glacier.__version__}"
    assert "file:" not in text and " @ " not in text
    assert "pip wheel" in text  # this checkout is not what the index has: say how to ship it


def _pipeline_with(**compute: object) -> object:
    from glacier import Dataset, Pipeline

    env = seeds.aws_dev
    pipeline = Pipeline("self-contained")
    out = Dataset("out", storage=env.storage.s3(bucket="dev-self-contained", path="out.parquet"))

    @pipeline.task(compute=env.compute.lambda_(**compute))
    def make() -> out:
        return out

    return pipeline


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"AWS_PROFILE": "dev"}, "sets AWS_PROFILE in its environment_vars"),
        ({"LOOKUP": str(Path.home() / "lookup.csv")}, "a path on this machine"),
        # 4,070 bytes of its own: under the config's 4 KB check, over it with Glacier's variables
        ({f"V{i}": "x" * 405 for i in range(10)}, "more than Lambda's 4096"),
    ],
)
def test_a_task_that_needs_this_machine_is_refused_at_plan_time(
    variables: dict[str, str], message: str
) -> None:
    with pytest.raises(InfraError, match="Task 'make'") as caught:
        plan(_pipeline_with(environment_vars=variables))
    assert message in str(caught.value)


def test_settings_that_need_their_file_are_refused_at_plan_time() -> None:
    from glacier import Dataset, Environment, Pipeline

    # model_copy does not validate: settings changed that way load here, but the deployed
    # task validates what it is given, and would fail on its first run.
    settings = GlacierSettings.model_validate(
        {"env": "qa", "provider": {"kind": "aws", "region": "us-east-1"}}
    )
    env = Environment(settings=settings.model_copy(update={"naming_prefix": "Not Valid!"}))
    pipeline = Pipeline("needs-file", env=env)
    out = Dataset("out", storage=env.storage.s3(bucket="qa-needs-file", path="out.parquet"))

    @pipeline.task()
    def make() -> out:
        return out

    with pytest.raises(InfraError, match="do not load without their file"):
        plan(pipeline)


def test_a_package_too_big_for_a_lambda_zip_is_an_image_or_refused_as_a_zip(
    tmp_path: Path,
) -> None:
    package = tmp_path / "bigjob"
    package.mkdir()
    (package / "__init__.py").write_text("")
    source = (
        "import polars as pl\n"
        "from glacier import AWSEnvironment, Dataset, Pipeline\n"
        "env = AWSEnvironment(account_id='111111111111', region='us-east-1', environment='qa')\n"
        "pipeline = Pipeline('bigjob')\n"
        "out = Dataset('out', storage=env.storage.s3(bucket='qa-bigjob', path='o.parquet'))\n"
        "@pipeline.task(compute=env.compute.lambda_({package}))\n"
        "def make() -> out:\n"
        "    return pl.DataFrame({{'x': [1]}})\n"
    )
    (package / "pipeline.py").write_text(source.format(package=""))
    (package / "zipped.py").write_text(source.format(package="package_type='Zip'"))
    with (package / "reference.bin").open("wb") as f:
        f.truncate(300 * 2**20)  # sparse: its size counts, no disk is used
    # Left to the plan, the function is a container image (up to 10 GB), and the plan says why.
    planned = plan(f"{package / 'pipeline.py'}:pipeline")
    (choice,) = planned.choices
    assert choice.package == "Image"
    assert re.fullmatch(
        r"make: Lambda container image — its code and dependencies are \d+ MB, over the "
        r"zip's 250 MB",
        choice.text,
    )
    # Asked for as a zip, it is refused, naming the sizes.
    pattern = r"Task 'make' .* Lambda function of \d+ MB unzipped \(its pipeline's code and "
    pattern += r"Glacier 30\d MB"
    with pytest.raises(InfraError, match=pattern) as caught:
        plan(f"{package / 'zipped.py'}:pipeline")
    assert "Run it on ECS" in str(caught.value)


def test_generated_files_carry_no_path_of_the_generating_machine(tmp_path: Path) -> None:
    out = tmp_path / "infra"
    code = (
        "import runpy\n"
        "from glacier.infra import generate\n"
        f"pipeline = runpy.run_path({str(MEDALLION)!r}, run_name='medallion')['pipeline']\n"
        f"generate(pipeline, {str(out)!r})\n"
    )
    env = _clean_env(GLACIER_ENV="prod", GLACIER_SETTINGS_DIR=str(ROOT / "containers"))
    done = _python(code, env, tmp_path)
    assert done.returncode == 0, done.stderr
    # An absolute path of this machine; a relative one (the Dockerfile's build context,
    # "../<code root>") is the truth wherever the two directories travel together.
    machine = [re.compile(r"(?<!\.\.)" + re.escape(p)) for p in (str(ROOT), str(tmp_path))]
    for file in out.rglob("*"):
        if file.is_file():
            text = file.read_text()
            assert not [p.pattern for p in machine if p.search(text)], file.name
    assert "state_dir" not in (out / "Pulumi.prod.yaml").read_text()


@pytest.mark.parametrize(
    ("direct_url", "expected_first", "says"),
    [
        (None, "glacier-pipelines[s3,deploy]==", None),
        (
            {
                "url": "file:///home/me/dist/glacier_pipelines-0.1.0-py3-none-any.whl",
                "archive_info": {},
            },
            "./wheels/glacier_pipelines-0.1.0-py3-none-any.whl[s3,deploy]",
            "installed here from the file glacier_pipelines-0.1.0-py3-none-any.whl",
        ),
        (
            {"url": "file:///home/me/glacier", "dir_info": {"editable": True}},
            "glacier-pipelines[s3,deploy]==",
            "installed here from a checkout",
        ),
    ],
    ids=["index", "wheel", "checkout"],
)
def test_requirements_say_truthfully_where_glacier_comes_from(
    monkeypatch: pytest.MonkeyPatch,
    direct_url: dict[str, object] | None,
    expected_first: str,
    says: str | None,
) -> None:
    from glacier.infra import project

    class Dist:
        def read_text(self, name: str) -> str | None:
            assert name == "direct_url.json"
            return None if direct_url is None else json.dumps(direct_url)

    site = "/opt/venv/lib/python3.11/site-packages/glacier/infra/project.py"
    monkeypatch.setattr(project, "__file__", site)
    monkeypatch.setattr(project, "distribution", lambda name: Dist())
    text = project._requirements()
    first = next(line for line in text.splitlines() if not line.startswith("#"))
    assert first.startswith(expected_first)
    if says is None:
        assert not text.startswith("#")
    else:
        assert says in text
    assert "/home/me" not in text


@pytest.mark.parametrize(
    ("origin", "says"),
    [
        ("checkout", "installed here from a checkout"),
        (
            "glacier_pipelines-0.1.0-py3-none-any.whl",
            "installed here from the file glacier_pipelines-0.1.0-py3-none-any.whl",
        ),
    ],
)
def test_the_dockerfiles_say_truthfully_where_glacier_comes_from(origin: str, says: str) -> None:
    """A wheel install's Dockerfiles said "from a checkout" (found from a fresh venv with the
    built wheel); they name the file, and how to put it in the image, as requirements.txt does."""
    from glacier.infra.image import dockerfile_source, lambda_dockerfile_source

    container = dockerfile_source(
        "etl", "..", from_index=False, requirements=["polars==2"], origin=origin
    )
    function = lambda_dockerfile_source(
        "etl", "..", python="3.11", requirements=["polars==2"], from_index=False, origin=origin
    )
    for text in (container, function):
        assert says in text
        other = "from a checkout" if origin != "checkout" else "from the file"
        assert other not in text
    published = dockerfile_source("etl", "..", from_index=True, requirements=["polars==2"])
    assert "installed here" not in published

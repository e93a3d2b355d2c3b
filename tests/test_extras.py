"""Installing: the distribution's extras, and one line naming the extra when one is missing.

Absent packages are simulated in a subprocess by a meta-path finder that refuses them, the way
Python reports a package that is not installed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from glacier.errors import GlacierError, MissingExtraError
from glacier.extras import install_command, require, satisfies

ROOT = Path(__file__).resolve().parents[1]


def run_without(absent: set[str], code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter in which the top-level packages ``absent`` are not
    installed."""
    blocker = textwrap.dedent(
        f"""
        import sys

        class _Absent:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {sorted(absent)!r}:
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
                return None

        sys.meta_path.insert(0, _Absent())
        """
    )
    return subprocess.run(
        [sys.executable, "-c", blocker + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_glacier_plan_without_pulumi_names_the_deploy_extra() -> None:
    done = run_without(
        {"pulumi", "pulumi_aws"},
        """
        from glacier.cli import main
        sys.argv = ["glacier", "plan", "examples/medallion.py", "--env", "prod"]
        main()
        """,
    )
    assert done.returncode == 1
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert lines == [
        "error: Planning infrastructure needs pulumi, which is not installed: "
        "pip install 'glacier-pipelines[deploy]'"
    ]


def test_glacier_rehearse_without_moto_names_the_rehearse_extra() -> None:
    done = run_without(
        {"moto"},
        """
        from glacier.cli import main
        sys.argv = ["glacier", "rehearse", "examples/medallion.py", "--env", "prod"]
        main()
        """,
    )
    assert done.returncode == 1
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert lines == [
        "error: glacier rehearse needs moto.server, which is not installed: "
        "pip install 'glacier-pipelines[rehearse]'"
    ]


@pytest.mark.parametrize(
    ("absent", "config", "extra"),
    [
        ("s3fs", "AwsConfig(region='us-east-1')", "s3"),
        ("gcsfs", "GcpConfig(project='glacier-test', anonymous=True)", "gcs"),
        ("adlfs", "AzureConfig(storage_account='devstoreaccount1')", "azure"),
    ],
)
def test_a_cloud_bucket_without_its_storage_extra_names_it(
    absent: str, config: str, extra: str
) -> None:
    done = run_without(
        {absent},
        f"""
        from glacier import Provider
        from glacier.errors import MissingExtraError
        from glacier.settings import AwsConfig, AzureConfig, GcpConfig
        try:
            Provider(config={config}).bucket("lake", path="a.parquet").exists()
        except MissingExtraError as exc:
            print(exc)
        """,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f"pip install 'glacier-pipelines[{extra}]'")


def test_glacier_testing_without_pytest_names_the_testing_extra() -> None:
    done = run_without({"pytest", "_pytest"}, "import glacier.testing\n")
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last == (
        "glacier.errors.MissingExtraError: glacier.testing needs pytest, which is not "
        "installed: pip install 'glacier-pipelines[testing]'"
    )


def test_png_graph_without_graphviz_names_the_graph_extra() -> None:
    done = run_without(
        {"graphviz"},
        """
        from glacier.cli import main
        sys.argv = ["glacier", "graph", "examples/medallion.py", "-o", "/nonexistent/dag.png"]
        main()
        """,
    )
    assert done.returncode == 1
    assert "pip install 'glacier-pipelines[graph]'" in done.stdout + done.stderr
    assert "ModuleNotFoundError" not in done.stdout + done.stderr


def test_the_pytest_plugin_imports_only_pytest_and_the_standard_library() -> None:
    # pytest loads the plugin in every session of the environment; what it costs is what it
    # imports (measured: ~1 ms and 2 modules, against ~0.5 s and 464 modules when it imported
    # Glacier's runtime).
    code = """
        import sys
        import pytest
        before = set(sys.modules)
        import glacier.testing
        print(sorted(m for m in set(sys.modules) - before))
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    # glacier.dispatch: where the package says how to load the runner; glacier.lazy_exports:
    # how it loads its public names on first use (both standard library only).
    assert done.stdout.strip() == (
        "['glacier', 'glacier.dispatch', 'glacier.lazy_exports', 'glacier.testing', "
        "'glacier.version']"
    )


def test_public_names_load_on_first_use_and_task_stays_the_decorator() -> None:
    code = """
        import sys
        import glacier
        assert "polars" not in sys.modules
        import glacier.task                     # the submodule must not replace the decorator
        assert callable(glacier.task) and glacier.task.__module__ == "glacier.task"
        assert glacier.task is sys.modules["glacier.task"].task
        assert set(glacier.__all__) <= set(dir(glacier))
        from glacier import infra               # submodules still import by name
        print(infra.__name__)
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "glacier.infra"


def test_a_missing_dependency_of_an_extra_is_named_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "half_installed.py").write_text("import not_installed_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(MissingExtraError) as caught:
        require("half_installed", "deploy", "Deploying")
    assert str(caught.value) == (
        "Deploying needs half_installed (its dependency not_installed_dependency is missing), "
        "which is not installed: pip install 'glacier-pipelines[deploy]'"
    )
    assert isinstance(caught.value, GlacierError)
    assert isinstance(caught.value, ImportError)  # code that guarded the import still works


def test_require_returns_the_module() -> None:
    assert require("json", "testing").dumps([1]) == "[1]"
    assert install_command("s3") == "pip install 'glacier-pipelines[s3]'"


def test_distribution_name_extras_and_no_unexplained_caps() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    project = tomllib.loads(text)["project"]
    assert project["name"] == "glacier-pipelines"
    extras = project["optional-dependencies"]
    wanted = {"s3", "gcs", "azure", "deploy", "rehearse", "dask", "graph", "lineage", "testing"}
    wanted |= {"all", "dev"}
    assert wanted <= set(extras)
    assert not any("pulumi" in r for r in extras["s3"])  # reading S3 does not pull in Pulumi
    # Storage per cloud, infrastructure (and the remote start's client) per cloud apart.
    assert {"gcp", "azure-deploy"} <= set(extras)
    assert not any("pulumi" in r for r in extras["gcs"] + extras["azure"])
    assert any(r.startswith("google-cloud-workflows") for r in extras["gcp"])
    deploy_azure = extras["azure-deploy"]
    for needed in ("pulumi-azure-native", "azure-mgmt-logic", "azure-identity"):
        assert any(r.startswith(needed) for r in deploy_azure), needed
    assert all(e in extras["all"][0] for e in ("gcp", "azure-deploy"))
    # An upper cap needs a comment naming the release that breaks, on the line above it.
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line.strip().startswith('"') and ("<" in line or "==" in line):
            assert lines[number - 1].strip().startswith("#"), line
    assert not any("<" in r for r in project["dependencies"])


@pytest.mark.parametrize(
    ("absent", "path", "extra"),
    [
        ({"joblib"}, "models/clf.joblib", "models"),
        ({"fastexcel"}, "report.xlsx", "excel"),
        ({"xlsxwriter"}, "report.xlsx", "excel"),
    ],
)
def test_a_format_whose_extra_is_missing_is_refused_where_the_dataset_is_declared(
    absent: set[str], path: str, extra: str
) -> None:
    # The need is known at declaration: no task should run only to fail at its write.
    done = run_without(
        absent,
        f"""
        from glacier import Dataset
        from glacier.errors import MissingExtraError
        try:
            Dataset("d", storage={path!r})
        except MissingExtraError as exc:
            print(exc)
        """,
    )
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line.startswith("Dataset 'd' is stored as")
    assert sorted(absent)[0] in line
    assert line.endswith(install_command(extra))
    assert "glacier-pipelines[" in line


@pytest.mark.parametrize(
    ("fake", "says"),
    [
        ({"s3fs": "0.4.2"}, "s3fs 0.4.2 is installed, but Glacier needs s3fs>="),
        ({"botocore": "99.0.0"}, "needs botocore<"),
    ],
    ids=["s3fs-before-aiobotocore", "botocore-aiobotocore-mismatch"],
)
def test_a_broken_cloud_library_combination_is_named_at_first_use(
    monkeypatch: pytest.MonkeyPatch, fake: dict[str, str], says: str
) -> None:
    # As after `pip install -U boto3 s3fs ...` walked s3fs back to 0.4.2, or botocore past
    # the one aiobotocore accepts: both import, then fail at the first call.
    from glacier import extras
    from glacier.adapters.filesystems import s3_filesystem
    from glacier.errors import ConfigError
    from glacier.settings import AwsConfig

    real = extras._installed
    monkeypatch.setattr(extras, "_installed", lambda name: fake.get(name) or real(name))
    extras.check_combination.cache_clear()
    try:
        with pytest.raises(ConfigError) as caught:
            s3_filesystem(AwsConfig(region="us-east-1"))
    finally:
        extras.check_combination.cache_clear()
    message = str(caught.value)
    assert says in message and "\n" not in message
    assert message.endswith("pip install --force-reinstall 'glacier-pipelines[s3]'")


def test_the_s3_extra_s_boto3_band_is_aiobotocore_s_botocore_band() -> None:
    # pip resolves [s3] without backtracking only when boto3's band (boto3 X needs
    # botocore>=X) is the band aiobotocore pins botocore to, and the floors match: with boto3
    # open it tried 25 boto3 and 33 aiobotocore versions (issue 30). Raise them together.
    from importlib.metadata import requires, version

    from glacier.extras import _wanted

    s3 = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    boto3 = _wanted(s3["s3"], "boto3")
    botocore = _wanted(requires("aiobotocore"), "botocore")
    assert boto3 and botocore
    assert sorted(boto3.split(",")) == sorted(botocore.split(","))
    assert (
        _wanted(s3["s3"], "aiobotocore") == f">={'.'.join(version('aiobotocore').split('.')[:2])}"
    )
    assert satisfies(version("boto3"), boto3) and satisfies(
        version("s3fs"), _wanted(s3["s3"], "s3fs") or ""
    )


def test_glacier_s_own_ceilings_guide_the_resolver_and_are_not_refused_at_run_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A newer boto3 than the [s3] band is fine as long as the libraries' own pins hold (the
    # ones between s3fs, aiobotocore and botocore are checked); only Glacier's floors are its.
    from glacier import extras

    real = extras._installed
    newer = {"boto3": "1.43.200"}
    monkeypatch.setattr(extras, "_installed", lambda name: newer.get(name) or real(name))
    extras.check_combination.cache_clear()
    try:
        extras.check_combination("s3", ("s3fs", "aiobotocore", "botocore", "boto3", "fsspec"))
    finally:
        extras.check_combination.cache_clear()


def test_the_installed_cloud_libraries_pass_the_combination_check() -> None:
    from glacier import extras
    from glacier.adapters.filesystems import S3_LIBRARIES

    extras.check_combination.cache_clear()
    extras.check_combination("s3", S3_LIBRARIES)
    extras.check_combination("gcs", ("gcsfs", "fsspec"))
    extras.check_combination("azure", ("adlfs", "fsspec"))


def test_the_dask_executor_without_its_extra_fails_before_any_task_in_one_line(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "ran"
    pipeline = tmp_path / "p.py"
    pipeline.write_text(
        textwrap.dedent(
            f"""
            from pathlib import Path
            from glacier import Dataset, Pipeline
            pipeline = Pipeline("p")
            out = Dataset("out")

            @pipeline.task()
            def make() -> out:
                Path({str(marker)!r}).write_text("ran")
                return 1
            """
        )
    )
    done = run_without(
        {"cloudpickle"},
        f"""
        from glacier.cli import main
        sys.argv = ["glacier", "run", {str(pipeline)!r}, "--executor", "dask"]
        main()
        """,
    )
    assert done.returncode != 0
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert lines[-1] == (
        "error: The Dask executor needs cloudpickle, not installed: "
        "pip install 'glacier-pipelines[dask]'"
    )
    assert "Traceback" not in done.stdout + done.stderr
    assert not marker.exists()


@pytest.mark.parametrize(
    ("absent", "pipelines", "extra"),
    [
        ("pulumi_gcp", "from infra.gcp.pipelines import daily as make", "gcp"),
        (
            "pulumi_azure_native",
            "from infra.azure.pipelines import lake_pipeline as make",
            "azure-deploy",
        ),
    ],
)
def test_planning_a_gcp_or_azure_environment_without_its_extra_names_it(
    absent: str, pipelines: str, extra: str
) -> None:
    done = run_without(
        {absent},
        f"""
        sys.path.insert(0, "tests")
        {pipelines}
        from glacier.errors import MissingExtraError
        from glacier.infra import plan
        made = make()
        try:
            plan(made[0] if isinstance(made, tuple) else made)
        except MissingExtraError as exc:
            print(exc)
        """,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f"pip install 'glacier-pipelines[{extra}]'")

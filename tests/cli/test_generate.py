"""``glacier generate``: the Pulumi project written to a directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glacier.cli.generate import check_output_directory
from glacier.errors import GlacierError, OutputPathError

from .commands import invoke
from .projects import envs_project


def test_generate_writes_the_pulumi_project(project: Path) -> None:
    envs_project(project)
    code, out, err = invoke("generate", "by_env.py", "--env", "prod", "-o", "infra/prod")
    assert code == 0, err
    files = [p for p in (project / "infra" / "prod").rglob("*") if p.is_file()]
    assert any(p.name == "Pulumi.yaml" for p in files)
    for f in files:
        assert str(f.relative_to(project)) in out
    assert f"{len(files)} files" in out


def test_plan_and_generate_report_usage_errors(project: Path) -> None:
    envs_project(project)
    for command in ("plan", "generate"):
        code, _, err = invoke(command, "by_env.py", "--env", "qa")
        assert code == 2 and "dev, prod, test" in err
        code, _, err = invoke(command, "nope.py")
        assert code == 2 and "does not exist" in err


@pytest.mark.parametrize("output", ["taken.txt", "taken.txt/infra"])
def test_generate_into_a_file_is_one_usage_error_line(project: Path, output: str) -> None:
    envs_project(project)
    (project / "taken.txt").write_text("mine")
    for env in ("prod", "dev"):  # an AWS stack to write, and a local one with nothing to write
        code, out, err = invoke("generate", "by_env.py", "--env", env, "-o", output)
        assert code == 2, err
        assert err.count("\n") == 1 and err.startswith("error: "), err
        assert f"--output {output!r}: 'taken.txt'" in err and "is a file, not a directory" in err
        assert "pass a directory" in err and "Traceback" not in err and out == ""
    assert (project / "taken.txt").read_text() == "mine"
    code, _, err = invoke("generate", "by_env.py", "--env", "prod", "-o", output, "--traceback")
    assert code == 2 and "Traceback (most recent call last)" in err and "OutputPathError" in err


def test_output_path_error_is_a_glacier_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    check_output_directory(tmp_path / "new" / "dir")  # nothing in the way
    check_output_directory(tmp_path)
    with pytest.raises(GlacierError, match="is a file, not a directory") as caught:
        check_output_directory(tmp_path / "file" / "sub")
    assert isinstance(caught.value, OutputPathError)


def test_generate_target_terraform_writes_one_directory_per_environment(project: Path) -> None:
    envs_project(project)
    code, out, err = invoke(
        "generate", "by_env.py", "--env", "prod", "--target", "terraform", "-o", "tf"
    )
    assert code == 0, err
    main = json.loads((project / "tf" / "prod" / "main.tf.json").read_text())
    assert main["terraform"]["required_providers"]["aws"]["version"] == "~> 6.0"
    assert main["provider"]["aws"]["region"] == "${var.region}"
    assert main["resource"]["aws_iam_role"]
    assert not (project / "tf" / "Pulumi.yaml").exists()
    assert "Terraform configuration" in out and "glacier package by_env.py --env prod" in out


def test_an_unknown_target_lists_the_targets_and_writes_nothing(project: Path) -> None:
    envs_project(project)
    code, out, err = invoke("generate", "by_env.py", "--env", "prod", "--target", "cdk")
    assert code == 2, err
    assert "Unknown target 'cdk'; use one of pulumi, terraform" in err
    assert not (project / "infra").exists() and out == ""


def test_package_writes_the_artifacts_the_terraform_configuration_names(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glacier.infra.layer import MARKER, LayerSpec

    envs_project(project)
    code, _, err = invoke("generate", "by_env.py", "--env", "prod", "-t", "terraform", "-o", "tf")
    assert code == 0, err
    main = json.loads((project / "tf" / "prod" / "main.tf.json").read_text())
    (layer_version,) = main["resource"]["aws_lambda_layer_version"].values()
    # The layer already built into Glacier's cache (building one needs the package index).
    monkeypatch.setenv("GLACIER_CACHE_DIR", str(project / "cache"))
    spec = LayerSpec.for_function(
        layer_version["compatible_runtimes"][0], layer_version["compatible_architectures"][0]
    )
    built = project / "cache" / "layers" / spec.key
    (built / "python").mkdir(parents=True)
    (built / "python" / "dependency.py").write_text("VALUE = 1\n")
    (built / MARKER).write_text(json.dumps({"size": 10}))
    code, out, err = invoke("package", "by_env.py", "--env", "prod", "-o", "tf")
    assert code == 0, err
    named = {layer_version["filename"]} | {
        f["filename"] for f in main["resource"]["aws_lambda_function"].values()
    }
    for file in named:
        assert (project / "tf" / "prod" / file).is_file(), file
        assert f"tf/prod/{file}" in out
    assert f"wrote {len(named)} artifact(s)" in out

"""The Lambda layer of Glacier's runtime dependencies: built with pip for Lambda's platform,
cached by its requirement set, declared once and attached to every function, within
Lambda's 250 MB. The builds here install small wheels made by the test, offline."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

from glacier import AWSEnvironment, Dataset, Pipeline
from glacier.errors import InfraError
from glacier.infra import plan
from glacier.infra.aws.packaging import bytecode
from glacier.infra.layer import (
    LAMBDA_UNZIPPED_LIMIT,
    MARKER,
    LayerSpec,
    build_layer,
    built,
    directory_size,
)
from infra.plans import FUNCTION

LAYER = "aws:lambda/layerVersion:LayerVersion"


def make_wheel(directory: Path, name: str, version: str, source: str) -> Path:
    """A pure-Python wheel ``name`` holding one package whose ``__init__`` is ``source``
    (and, as compiled wheels do, its Cython source and a type stub)."""
    directory.mkdir(parents=True, exist_ok=True)
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": source,
        f"{name}/_speedups.pyx": "def f(): pass\n",
        f"{name}/__init__.pyi": "VALUE: int\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = "\n".join(record) + "\n"
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel


def test_a_layer_is_pip_installed_for_lambdas_platform_into_python(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    make_wheel(wheels, "tinydep", "1.0", "VALUE = 42\n")
    spec = LayerSpec(("tinydep==1.0",), python_version="3.11")
    layer = build_layer(spec, tmp_path / "cache", find_links=[wheels])
    # Lambda puts a layer's python/ directory on the path.
    assert layer.path == tmp_path / "cache" / spec.key
    assert (layer.path / "python" / "tinydep" / "__init__.py").read_text() == "VALUE = 42\n"
    assert (layer.path / "python" / "tinydep-1.0.dist-info").is_dir()
    # What nothing imports is left out: Lambda counts every byte.
    assert sorted(p.name for p in (layer.path / "python" / "tinydep").iterdir()) == [
        "__init__.py",
        "__pycache__",
    ]
    recorded = json.loads((layer.path / MARKER).read_text())
    assert recorded["requirements"] == ["tinydep==1.0"]
    assert recorded["platform"] == "manylinux2014_x86_64"
    assert layer.size == recorded["size"] == directory_size(layer.path / "python")
    assert layer.size > 0
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.endswith(".partial")]


def test_a_built_layer_is_reused_and_another_set_gets_another_layer(tmp_path: Path) -> None:
    wheels, cache = tmp_path / "wheels", tmp_path / "cache"
    make_wheel(wheels, "tinydep", "1.0", "VALUE = 1\n")
    make_wheel(wheels, "tinydep", "2.0", "VALUE = 2\n")
    first = LayerSpec(("tinydep==1.0",))
    assert built(first, cache) is None
    layer = build_layer(first, cache, find_links=[wheels])
    assert built(first, cache) == layer
    for wheel in wheels.iterdir():  # reused: pip is not run again (it would fail now)
        wheel.unlink()
    assert build_layer(first, cache, find_links=[wheels]) == layer
    make_wheel(wheels, "tinydep", "2.0", "VALUE = 2\n")
    second = build_layer(LayerSpec(("tinydep==2.0",)), cache, find_links=[wheels])
    assert second.path != layer.path
    assert "VALUE = 2" in (second.path / "python" / "tinydep" / "__init__.py").read_text()
    arm = LayerSpec(("tinydep==1.0",), platform="manylinux2014_aarch64")
    assert arm.key != first.key and LayerSpec(("tinydep==1.0",)).key == first.key


def test_a_requirement_without_a_wheel_for_the_platform_is_refused(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    make_wheel(wheels, "tinydep", "1.0", "")
    spec = LayerSpec(("tinydep==1.0", "nowheel==3.1"))
    with pytest.raises(InfraError, match="Could not build the Lambda layer") as caught:
        build_layer(spec, tmp_path / "cache", find_links=[wheels])
    message = str(caught.value)
    assert "nowheel" in message and "manylinux2014_x86_64" in message and "ECS" in message
    assert built(spec, tmp_path / "cache") is None
    assert not list((tmp_path / "cache").iterdir())  # nothing half-built is left


def test_the_layer_pins_what_is_installed_here_for_the_functions_platform() -> None:
    spec = LayerSpec.for_function("python3.11", "x86_64")
    assert f"polars=={version('polars')}" in spec.requirements
    assert f"dependency-injector=={version('dependency-injector')}" in spec.requirements
    assert f"s3fs=={version('s3fs')}" in spec.requirements
    # The command line's libraries stay out; deltalake only for tasks with Delta tables.
    assert not [r for r in spec.requirements if r.startswith(("typer", "rich", "deltalake"))]
    tables = LayerSpec.for_function("python3.11", "x86_64", tables=True)
    assert f"deltalake=={version('deltalake')}" in tables.requirements
    command = LayerSpec.for_function("python3.12", "arm64").pip_command(Path("/l/python"))
    joined = " ".join(command)
    assert "--platform manylinux2014_aarch64 --only-binary=:all: --python-version 3.12" in joined
    assert "--target /l/python" in joined and "--no-index" not in command


def layer_pipeline(path: str = "out.parquet", package_type: str | None = None) -> Pipeline:
    env = AWSEnvironment(account_id="111111111111", region="us-east-1", environment="lay")
    pipeline = Pipeline("layered", env=env)
    raw = Dataset("raw", storage=env.storage.s3(bucket="lay-raw", path="raw.parquet"))
    out = Dataset("out", storage=env.storage.s3(bucket="lay-out", path=path))

    @pipeline.task(compute=env.compute.lambda_(memory=512, package_type=package_type))
    def extract() -> raw:
        return None

    @pipeline.task(
        compute=env.compute.lambda_(
            layers=["arn:aws:lambda:us-east-1:123456789012:layer:x:1"], package_type=package_type
        )
    )
    def publish(data: raw) -> out:
        return data

    return pipeline


def fake_built(cache: Path, size: int) -> Path:
    """Record the base layer as built, of ``size`` bytes (the plan measures the built one)."""
    spec = LayerSpec.for_function("python3.11", "x86_64")
    path = cache / "layers" / spec.key
    (path / "python").mkdir(parents=True)
    (path / MARKER).write_text(json.dumps({"size": size}))
    return path


def test_every_function_gets_the_layer_declared_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GLACIER_CACHE_DIR", str(tmp_path))
    path = fake_built(tmp_path, 200 * 2**20)
    planned = plan(layer_pipeline())
    layers = planned.of_type(LAYER)
    assert len(layers) == 1
    layer = layers[0].inputs
    assert layer["compatibleRuntimes"] == ["python3.11"]
    assert layer["compatibleArchitectures"] == ["x86_64"]
    assert layer["layerName"] == "lay-layered-deps-py311-x86_64"
    assert Path(layer["code"].path) == path  # the built layer's directory is archived
    assert f"polars=={version('polars')}" in layer["description"]
    arn = layers[0].outputs["arn"]
    functions = {
        f.inputs["environment"]["variables"]["GLACIER_TASK_NAME"]: f.inputs["layers"]
        for f in planned.of_type(FUNCTION)
    }
    assert functions["extract"] == [arn]
    # The task's own layers come after Glacier's.
    assert functions["publish"] == [arn, "arn:aws:lambda:us-east-1:123456789012:layer:x:1"]


def test_a_function_whose_layer_cannot_fit_is_refused_suggesting_ecs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GLACIER_CACHE_DIR", str(tmp_path))
    fake_built(tmp_path, LAMBDA_UNZIPPED_LIMIT - 2**10)  # the code tips it over
    with pytest.raises(InfraError, match=r"Task 'extract' .* Lambda function of 25\d MB") as e:
        plan(layer_pipeline(package_type="Zip"))
    assert "the dependencies layer 250 MB" in str(e.value) and "ECS" in str(e.value)
    # Left to the plan, the package is an image, and the plan says why.
    planned = plan(layer_pipeline())
    assert {f.inputs["packageType"] for f in planned.of_type(FUNCTION)} == {"Image"}
    assert planned.choices[0].text.startswith("extract: Lambda container image — its code and")
    assert planned.choices[0].text.endswith(" MB, over the zip's 250 MB")


def test_a_zip_lambda_task_with_delta_tables_is_refused_at_plan_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GLACIER_CACHE_DIR", str(tmp_path))
    fake_built(tmp_path, 200 * 2**20)
    # A directory of parquet is a Delta table: its task needs deltalake beside polars, which
    # a zip package asked for explicitly cannot hold.
    with pytest.raises(InfraError) as caught:
        plan(layer_pipeline(path="out/", package_type="Zip"))
    message = str(caught.value)
    assert "Task 'publish'" in message and "Delta table(s) 'out'" in message
    assert "Run it on ECS" in message and "250 MB limit" in message


def test_packaged_bytecode_is_used_without_checking_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GLACIER_CACHE_DIR", str(tmp_path / "cache"))
    module = tmp_path / "src" / "shipped.py"
    module.parent.mkdir()
    module.write_text("ANSWER = 42\n")
    compiled = bytecode({"pkg/shipped.py": module})
    name = f"pkg/__pycache__/shipped.{sys.implementation.cache_tag}.pyc"
    assert list(compiled) == [name]
    code = tmp_path / "code"
    (code / "pkg" / "__pycache__").mkdir(parents=True)
    (code / name).write_bytes(compiled[name].read_bytes())
    # A zip keeps no timestamps and Lambda's directory is read-only: the bytecode is
    # "unchecked-hash", used as is (the source beside it is not even read).
    (code / "pkg" / "shipped.py").write_text("ANSWER = 'not compiled from this'\n")
    done = subprocess.run(
        [sys.executable, "-c", "import pkg.shipped as m; print(m.ANSWER)"],
        cwd=code,
        env={**os.environ, "PYTHONPATH": str(code), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "42"
    assert bytecode({"pkg/shipped.py": module}) == compiled  # made once per content

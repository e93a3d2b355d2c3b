"""The user projects the command is tried on: pipeline files and settings directories.

Each test writes one into its ``tmp_path`` and runs the command there, as a user would.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

ETL = """
import json
from pathlib import Path

import polars as pl

from glacier import Dataset, Pipeline

pipeline = Pipeline("etl")
raw = Dataset("raw")
clean = Dataset("clean")
total = Dataset("total")
sample = Dataset("sample")


@pipeline.task()
def extract(rows: int = 10, label: str = "x") -> raw:
    return pl.LazyFrame({"x": list(range(rows)), "label": [label] * rows})


@pipeline.task(retries=1, retry_delay=0)
def transform(data: raw, fail: bool = False) -> clean:
    if fail:
        raise ValueError("boom: negative amounts")
    return data.filter(pl.col("x") > 2)


@pipeline.task()
def summarize(data: clean, out: str = "", extra: list = []) -> total:
    frame = data.select(pl.col("x").sum(), pl.col("label").first()).collect()
    if out:
        Path(out).write_text(json.dumps({"sum": frame["x"][0], "label": frame["label"][0],
                                         "extra": extra}))
    return frame


@pipeline.task()
def peek(data: raw) -> sample:
    return data.head(1)
"""

CACHED = """
import polars as pl

from glacier import Dataset, Pipeline

pipeline = Pipeline("cachy")
raw = Dataset("raw")
out = Dataset("out")


@pipeline.task(cache=True)
def extract(rows: int = 3) -> raw:
    return pl.DataFrame({"x": list(range(rows))})


@pipeline.task()
def total(data: raw) -> out:
    return data.select(pl.col("x").sum())
"""

FLOW = """
from typing import Any

import polars as pl

from glacier import Environment

env = Environment.local(base_path="data", name="flowdev")


@env.task()
def extract(n: int) -> pl.DataFrame:
    return pl.DataFrame({"x": list(range(n))})


@env.task()
def double(df: pl.DataFrame, factor: int = 2) -> pl.DataFrame:
    if factor < 0:
        raise RuntimeError("negative factor")
    return df.with_columns(pl.col("x") * factor)


@env.pipeline(name="flowy")
def flowy() -> Any:
    return double(extract(5))
"""

# A module-level pipeline built from GLACIER_ENV, like examples/medallion.py.
BY_ENV = """
import polars as pl

from glacier import Dataset, Environment, Pipeline

env = Environment.from_env()
pipeline = Pipeline(f"by-env-{env.name}", env=env)
out = Dataset("out")


@pipeline.task(compute=env.compute.lambda_(memory=256))
def make() -> out:
    return pl.DataFrame({"env": [env.name]})
"""

LOCAL_ENV = """
name = "{name}"
[provider]
kind = "local"
base_path = "data/{name}"
"""

AWS_ENV = """
name = "{name}"
[provider]
kind = "aws"
region = "eu-west-1"
account_id = "123456789012"
profile = "{name}"
"""


def write(root: Path, files: dict[str, str]) -> Path:
    """``files`` (relative path -> text, dedented) written under ``root``."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


def envs_project(root: Path) -> Path:
    """A project whose pipeline picks its environment (dev, test: local; prod: AWS)."""
    return write(
        root,
        {
            "by_env.py": BY_ENV,
            "containers/dev.toml": LOCAL_ENV.format(name="dev"),
            "containers/test.toml": LOCAL_ENV.format(name="test"),
            "containers/prod.toml": AWS_ENV.format(name="prod"),
        },
    )


def medallion_project(root: Path) -> Path:
    """examples/medallion.py with the reference containers/, in a fresh directory."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "examples" / "medallion.py", root / "medallion.py")
    shutil.copytree(REPO / "containers", root / "containers", ignore=_only_toml)
    return root


def _only_toml(directory: str, names: list[str]) -> list[str]:
    return [n for n in names if not n.endswith(".toml")]

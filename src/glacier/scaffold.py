"""``glacier init``: a new Glacier project that runs, plans and passes its tests out of the box.

::

    from glacier.scaffold import scaffold
    scaffold("sales-pipeline")      # -> the files written

writes::

    sales-pipeline/
        pipeline.py            # an annotation-style pipeline built from Environment.from_env()
        containers/dev.toml    # local files under data/dev
        containers/prod.toml   # AWS (placeholder account 123456789012; edit before deploying)
        tests/test_pipeline.py # runs the pipeline in memory with glacier's pytest fixture
        pyproject.toml  README.md  .gitignore

The templates are plain strings here (no package data to ship); ``$name`` and friends are
substituted with :class:`string.Template`, which leaves the Python braces alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from glacier.errors import GlacierError

#: Placeholder AWS account of the generated prod environment (valid, obviously not yours).
PLACEHOLDER_ACCOUNT = "123456789012"


class ScaffoldError(GlacierError):
    """``glacier init`` cannot write the project (directory not empty, bad name, ...)."""


@dataclass(frozen=True, slots=True)
class Project:
    """The names a new project is generated with."""

    name: str  # the pipeline's name: lowercase letters, digits and hyphens
    module: str  # a Python identifier form of the name

    @classmethod
    def from_directory(cls, directory: Path, name: str | None = None) -> Project:
        """Names derived from ``name`` or the directory's name (``Sales_Pipeline`` ->
        ``sales-pipeline``)."""
        raw = name or directory.resolve().name
        # 27 characters leave room for "-prod" in the 32-character naming prefix.
        slug = re.sub(r"[^a-z0-9]+", "-", raw.lower()).strip("-")[:27].strip("-")
        if not slug or not slug[0].isalpha():
            slug = f"p-{slug}".strip("-")[:27].strip("-")
        return cls(name=slug, module=slug.replace("-", "_"))


def scaffold(directory: str | Path, *, name: str | None = None, force: bool = False) -> list[Path]:
    """Write a new project into ``directory`` and return the files written.

    Args:
        directory: Where to create the project (created if missing).
        name: The pipeline's name; the directory's name when omitted.
        force: Write into a non-empty directory, overwriting files of the same names.

    Raises:
        ScaffoldError: ``directory`` is a file, or is not empty and ``force`` is false.
    """
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise ScaffoldError(f"Cannot create a project in {root}: it is a file.")
    blocking = next((p for p in root.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise ScaffoldError(
            f"Cannot create a project in {root}: {blocking} is a file, not a directory. "
            "Choose a directory path whose parents are directories."
        )
    if name is not None:
        check_project_name(name)
    if root.is_dir() and any(root.iterdir()) and not force:
        existing = sorted(p.name for p in root.iterdir())
        shown = ", ".join(existing[:5]) + (", ..." if len(existing) > 5 else "")
        raise ScaffoldError(
            f"{root} is not empty ({shown}). Choose a new directory, or pass --force to write "
            "the project's files into it (files with the same names are overwritten)."
        )
    project = Project.from_directory(root, name)
    values = {
        "name": project.name,
        "module": project.module,
        "account": PLACEHOLDER_ACCOUNT,
    }
    written = []
    for relative, template in TEMPLATES.items():
        path = root / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(Template(template).substitute(values), encoding="utf-8")
        except OSError as exc:
            raise ScaffoldError(
                f"Cannot write {path}: {exc.strerror or exc}. Choose a directory you can write to."
            ) from None
        written.append(path)
    return written


#: A pipeline name given with ``--name``: it becomes resource names, so no path or space.
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,26}")


def check_project_name(name: str) -> str:
    """``name`` if it can name a project's pipeline (letters, digits, ``-`` and ``_``,
    starting with a letter, at most 27: room for ``-prod`` in a 32-character prefix).

    >>> check_project_name("sales-pipeline")
    'sales-pipeline'
    """
    if not _NAME.fullmatch(name):
        shown = repr(name) if len(name) <= 60 else repr(name[:57] + "...")
        raise ScaffoldError(
            f"--name {shown} is not a pipeline name: use letters, digits, '-' and '_', "
            "starting with a letter, at most 27 characters (e.g. --name sales-pipeline)."
        )
    return name


# -- templates -------------------------------------------------------------------------------

PIPELINE = '''\
"""The $name pipeline: raw orders -> clean orders -> revenue per customer.

GLACIER_ENV picks the environment from containers/ (dev: local files; prod: AWS)::

    glacier run pipeline.py                   # run on dev, on local files under data/dev
    glacier graph pipeline.py -o dag.png      # the DAG
    glacier plan pipeline.py --env prod       # the AWS resources prod would get, offline
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from glacier import Dataset, Environment, Pipeline

# The settings files live next to this file, so the pipeline loads the same environments
# whatever the current directory; GLACIER_SETTINGS_DIR still overrides.
SETTINGS_DIR = os.environ.get("GLACIER_SETTINGS_DIR") or Path(__file__).parent / "containers"


def build(env: Environment) -> Pipeline:
    """The pipeline for one environment: the same tasks, that environment's storage."""
    pipeline = Pipeline("$name", env=env, description="orders -> clean -> revenue")
    raw_orders = Dataset("raw_orders", storage=env.get("raw_orders"))
    orders = Dataset("orders", storage=env.get("orders"))
    revenue = Dataset("revenue", storage=env.get("revenue"))

    @pipeline.task(compute=env.compute.lambda_(memory=512, timeout=60))
    def extract(rows: int = 1_000) -> raw_orders:
        """Land raw orders (generated here; read your source instead)."""
        return pl.DataFrame(
            {
                "order_id": list(range(rows)),
                "customer": [f"c{i % 25:02d}" for i in range(rows)],
                "amount": [round((i * 37 % 500) / 10 - 5, 2) for i in range(rows)],
            }
        )

    @pipeline.task(compute=env.compute.lambda_(memory=1024), retries=2)
    def clean(raw: raw_orders, min_amount: float = 0.0) -> orders:
        """Drop refunds and zero amounts."""
        return raw.filter(pl.col("amount") > min_amount)

    @pipeline.task(compute=env.compute.lambda_(memory=1024))
    def customer_revenue(clean_orders: orders) -> revenue:
        """Revenue and order count per customer."""
        return (
            clean_orders.group_by("customer")
            .agg(orders=pl.len(), revenue=pl.col("amount").sum().round(2))
            .sort("revenue", descending=True)
        )

    return pipeline


pipeline = build(Environment.from_env(settings_dir=SETTINGS_DIR))


if __name__ == "__main__":
    result = pipeline.run()
    print(result["revenue"].collect().head())
    print(result.summary())
'''

DEV_TOML = """\
# The dev environment: local files under data/dev, tasks in this process.
name = "dev"
naming_prefix = "$name-dev"
tags = { Environment = "dev", Project = "$name" }

[provider]
kind = "local"
base_path = "data/dev"

[buckets.raw_orders]
bucket_name = "raw"
path = "orders.parquet"

[buckets.orders]
bucket_name = "clean"
path = "orders.parquet"

[buckets.revenue]
bucket_name = "gold"
path = "revenue.parquet"
"""

PROD_TOML = """\
# The prod environment: an AWS account. $account is a placeholder: put your account id
# here before deploying. Credentials come from the AWS profile (never from this file).
name = "prod"
naming_prefix = "$name-prod"
tags = { Environment = "prod", Project = "$name" }

[provider]
kind = "aws"
region = "us-east-1"
account_id = "$account"
profile = "prod"

[task]
retries = 2
retry_delay = 5

# One file per dataset: a directory of parquet ("orders/") would be a Delta table, whose
# library (deltalake) does not fit in a Lambda zip beside polars; its tasks would run as
# Lambda container images, which `glacier deploy` builds with Docker (docs/deploy.md).
[buckets.raw_orders]
bucket_name = "$name-prod-raw"
path = "orders.parquet"
s3 = { versioning = true }

[buckets.orders]
bucket_name = "$name-prod-clean"
path = "orders.parquet"
s3 = { versioning = true }

[buckets.revenue]
bucket_name = "$name-prod-gold"
path = "revenue.parquet"
s3 = { versioning = true }
"""

TEST_PIPELINE = '''\
"""The pipeline runs end to end in memory: glacier's pytest plugin provides the environment."""

from __future__ import annotations

from pipeline import build, pipeline

from glacier import Environment


def test_dev_pipeline_has_its_tasks() -> None:
    assert list(pipeline.tasks) == ["extract", "clean", "customer_revenue"]


def test_pipeline_runs_in_memory(glacier_memory_env: Environment) -> None:
    env = glacier_memory_env  # local, with an in-memory filesystem: nothing touches the disk
    for name in ("raw_orders", "orders", "revenue"):
        env.register(name, env.provider.bucket(name, path=f"{name}.parquet"))

    result = build(env).run(env=env, params={"extract.rows": 100})

    assert result.ok, result.summary()
    revenue = result["revenue"].collect()
    assert revenue["orders"].sum() == result["orders"].collect().height
    assert (result["orders"].collect()["amount"] > 0).all()


def test_min_amount_is_a_run_parameter(glacier_memory_env: Environment) -> None:
    env = glacier_memory_env
    for name in ("raw_orders", "orders", "revenue"):
        env.register(name, env.provider.bucket(name, path=f"{name}.parquet"))

    result = build(env).run(env=env, params={"extract.rows": 100, "clean.min_amount": 40.0})

    assert (result["orders"].collect()["amount"] > 40.0).all()
'''

PYPROJECT = """\
[project]
name = "$name"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["glacier-pipelines"]

[project.optional-dependencies]
# `pip install -e ".[dev]"`: the pytest fixtures, `glacier plan` and `glacier rehearse`.
dev = ["glacier-pipelines[testing,deploy,rehearse]"]

[tool.pytest.ini_options]
# pipeline.py sits at the project root; let the tests import it.
pythonpath = ["."]
testpaths = ["tests"]
"""

README = """\
# $name

A data pipeline built with Glacier: tasks are plain functions over
polars frames; the same code runs on local files (dev) and on AWS (prod).

| file | what |
| --- | --- |
| `pipeline.py` | the pipeline: `extract -> clean -> customer_revenue` |
| `containers/dev.toml` | the dev environment: local files under `data/dev` |
| `containers/prod.toml` | the prod environment: AWS (edit the placeholder account id `$account`) |
| `tests/test_pipeline.py` | the pipeline run in memory with Glacier's pytest fixtures |

```bash
pip install -e '.[dev]'                        # glacier, its pytest fixtures, glacier plan
glacier run pipeline.py                        # run on dev (GLACIER_ENV=dev, the default)
glacier run pipeline.py --param extract.rows=5000 --param clean.min_amount=10
glacier graph pipeline.py -o dag.png           # the DAG (Mermaid on stdout without -o)
glacier envs                                   # the environments in containers/
glacier plan pipeline.py --env prod            # the AWS resources prod would get (offline)
glacier generate pipeline.py --env prod -o infra/   # the Pulumi project
pytest                                         # the tests
```
"""

GITIGNORE = """\
data/
.glacier/
infra/
__pycache__/
"""

#: Relative path -> template, in the order ``glacier init`` lists them.
TEMPLATES: dict[str, str] = {
    "pipeline.py": PIPELINE,
    "containers/dev.toml": DEV_TOML,
    "containers/prod.toml": PROD_TOML,
    "tests/test_pipeline.py": TEST_PIPELINE,
    "pyproject.toml": PYPROJECT,
    "README.md": README,
    ".gitignore": GITIGNORE,
}

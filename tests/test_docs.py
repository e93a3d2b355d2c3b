"""Every example in the docs and the README runs, as the complete program a reader would paste.

Sybil finds the fenced blocks (it understands Markdown: fences, their language, and the
``<!-- skip: next -->`` comment that marks a block that must not run); we run each Python block
ourselves, in a fresh interpreter in an empty directory, because that is what "complete
program" means: no names from an earlier block, no state from the test process. We chose Sybil
over pytest-markdown-docs for exactly that split: it hands us the parsed blocks, so the runner
lives here beside the emulator fixtures of ``conftest.py``, and a block can be a pytest module.

- A block that defines ``test_*`` functions is a test module: it runs under pytest, with the
  ``glacier.testing`` fixtures, and must collect and pass at least one test.
- A block that calls ``AwsConfig.from_env()``, ``GcpConfig.from_env()`` or
  ``AzureConfig.from_env()`` runs against the suite's moto, GCS emulator or Azurite, through
  the variables a real deployment would set (``AWS_ENDPOINT_URL``, ``STORAGE_EMULATOR_HOST``,
  ``AZURE_STORAGE_CONNECTION_STRING``), with the bucket ``lake`` created.
- A block that uses ``env.database.postgres(...)`` or ``DatabaseConnection`` runs against the
  suite's PostgreSQL server, named by libpq's variables (``PGHOST``, ``PGPORT``, ``PGUSER``,
  ``PGDATABASE``, ``PGPASSWORD``).
- TOML blocks must parse.
- Blocks marked not to run are counted: fewer than 5% of the Python blocks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sybil import Example, Sybil
from sybil.parsers.markdown import CodeBlockParser, SkipParser

from conftest import GCP_PROJECT

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
#: The bucket (container) the cloud examples use, created on each emulator they need.
BUCKET = "lake"
#: Skipped Python blocks allowed, as a share of all Python blocks.
MAX_SKIPPED = 0.05


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, its source, and whether it is marked
    not to run."""

    page: Path
    line: int
    language: str
    source: str
    skipped: bool

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def is_test_module(self) -> bool:
        return any(line.startswith("def test_") for line in self.source.splitlines())


def _unused(example: Example) -> None:  # evaluation is ours: see run_block
    pass


def blocks(language: str) -> list[Block]:
    parser = Sybil(
        parsers=[CodeBlockParser("python", _unused), CodeBlockParser("toml", _unused), SkipParser()]
    )
    found: list[Block] = []
    for page in PAGES:
        skip_next = False
        for example in parser.parse(page):
            if isinstance(example.parsed, tuple):  # a skip directive: (action, reason)
                action, _ = example.parsed
                assert action == "next", f"{page}:{example.line}: use '<!-- skip: next -->'"
                skip_next = True
                continue
            lang = str(example.region.lexemes.get("arguments", "")).split()[0]
            if lang == language:
                found.append(Block(page, example.line, lang, str(example.parsed), skip_next))
            skip_next = False
    return found


PYTHON = blocks("python")
TOML = blocks("toml")


def test_few_blocks_are_marked_not_to_run() -> None:
    skipped = [b.id for b in PYTHON if b.skipped]
    assert len(PYTHON) >= 20  # the docs have examples, and this test finds them
    assert len(skipped) / len(PYTHON) < MAX_SKIPPED, skipped


@pytest.mark.parametrize("block", TOML, ids=lambda b: b.id)
def test_toml_block_parses(block: Block) -> None:
    assert isinstance(tomllib.loads(block.source), dict)


RUNNABLE = [b for b in PYTHON if not b.skipped]


@pytest.fixture(scope="module")
def runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every runnable block's run, three at a time: each waits mostly on its interpreter's
    imports, and one after the other they took 100 s of the suite."""

    def run(block: Block, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        here = tmp_path_factory.mktemp("example")
        program = here / ("test_example.py" if block.is_test_module else "example.py")
        # Blank lines first, so a traceback's line numbers are the page's.
        program.write_text("\n" * block.line + block.source)
        command = [sys.executable, str(program)]
        if block.is_test_module:
            command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(program)]
        return subprocess.run(
            command, cwd=here, env=env, capture_output=True, text=True, timeout=300
        )

    # Emulators start here, in the test process, before any example needs them.
    envs = {b.id: example_environment(b.source, request) for b in RUNNABLE}
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {b.id: pool.submit(run, b, envs[b.id]) for b in RUNNABLE}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("block", RUNNABLE, ids=lambda b: b.id)
def test_python_block_runs(block: Block, runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    done = runs[block.id]
    assert done.returncode == 0, f"{block.id} failed:\n{done.stdout}\n{done.stderr}"
    if block.is_test_module:
        assert " passed" in done.stdout and "skipped" not in done.stdout, done.stdout


def example_environment(source: str, request: pytest.FixtureRequest) -> dict[str, str]:
    """The variables the example runs with: this process's, minus Glacier's and the clouds'
    own, plus an emulator's for each cloud the example reads from the environment."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GLACIER_", "AWS_", "GOOGLE_", "AZURE_", "STORAGE_EMULATOR", "PG"))
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    env["GLACIER_SETTINGS_DIR"] = str(ROOT / "containers")
    if "AwsConfig.from_env" in source:
        endpoint = request.getfixturevalue("moto_endpoint")
        env |= {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
        _create_bucket("s3", endpoint)
    if "database.postgres(" in source or "DatabaseConnection(" in source:
        env |= request.getfixturevalue("postgres_server").libpq_env()
    if "GcpConfig.from_env" in source:
        endpoint = request.getfixturevalue("gcs_endpoint")
        env |= {
            "STORAGE_EMULATOR_HOST": endpoint,
            "GOOGLE_CLOUD_PROJECT": GCP_PROJECT,
            "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
        }
        _create_bucket("gcs", endpoint)
    if "AzureConfig.from_env" in source:
        connection = request.getfixturevalue("azurite_connection_string")
        env |= {
            "AZURE_STORAGE_CONNECTION_STRING": connection,
            "AZURE_STORAGE_ACCOUNT": "devstoreaccount1",
        }
        _create_bucket("azure", connection)
    return env


def _create_bucket(store: str, where: str) -> None:
    client: Any
    if store == "s3":
        import boto3

        client = boto3.client("s3", endpoint_url=where, region_name="us-east-1")
        if BUCKET not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
            client.create_bucket(Bucket=BUCKET)
    elif store == "gcs":
        from gcsfs.core import GCSFileSystem

        fs = GCSFileSystem(endpoint_url=where, token="anon", project=GCP_PROJECT)
        if not fs.exists(BUCKET):
            fs.mkdir(BUCKET)
    else:
        from azure.storage.blob import BlobServiceClient

        with BlobServiceClient.from_connection_string(where) as service:
            if not service.get_container_client(BUCKET).exists():
                service.create_container(BUCKET)

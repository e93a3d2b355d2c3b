"""Off the cloud, nothing that only *describes* a pipeline touches the network.

Naming a GCS or Azure bucket (``get_uri()``), drawing a graph (``glacier graph``) and
planning the infrastructure under Pulumi's mocks (``glacier plan``) must never contact a
metadata server or any endpoint; credentials are resolved when bytes move. Each test runs
with the network blocked: every connection attempt and name lookup is recorded and refused,
and the test fails if anything tried.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import clear_cloud_variables

ROOT = Path(__file__).resolve().parents[1]

# A pipeline that follows --env, with two stored datasets from the settings' buckets.
LAKE = """
import polars as pl

from glacier import Dataset, Environment, Pipeline

env = Environment.from_env()
pipeline = Pipeline("lake", env=env)
raw = Dataset("raw", storage=env.get("raw"))
clean = Dataset("clean", storage=env.get("clean"))


@pipeline.task()
def extract() -> raw:
    return pl.DataFrame({"x": [1, 2, 3]})


@pipeline.task()
def tidy(data: raw) -> clean:
    return data.filter(pl.col("x") > 1)
"""

BUCKETS = """
[buckets.raw]
bucket_name = "acme-prod-raw"
path = "orders/"

[buckets.clean]
bucket_name = "acme-prod-clean"
path = "orders.parquet"
"""

GCP = """
name = "gcp"
[provider]
kind = "gcp"
project_id = "acme-data-prod"
region = "europe-west1"
"""

AZURE = """
name = "azure"
[provider]
kind = "azure"
storage_account = "acmedata"
location = "westeurope"
"""


def invoke(*args: str) -> tuple[int, str, str]:
    """``glacier ARGS`` in this process (where the guard is): exit code, stdout, stderr."""
    from glacier.cli import app

    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


class NetworkBlocked:
    """Records and refuses every connection and name lookup made through Python's socket
    module (urllib3, requests, aiohttp and google-auth all go through it)."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def refuse(self, what: str) -> OSError:
        self.attempts.append(what)
        return OSError(f"network blocked by the test: {what}")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkBlocked]:
    clear_cloud_variables(monkeypatch)
    monkeypatch.delenv("NO_GCE_CHECK", raising=False)  # gcsfs' own switch: not used here
    blocked = NetworkBlocked()
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        if self.family == socket.AF_UNIX:  # an event loop's own pipe is not the network
            return real_connect(self, address)
        raise blocked.refuse(f"connect {address}")

    def connect_ex(self: socket.socket, address: Any) -> int:
        raise blocked.refuse(f"connect {address}")

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        raise blocked.refuse(f"lookup {host}")

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
        raise blocked.refuse(f"connect {address}")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    yield blocked


def test_the_guard_sees_a_connection(no_network: NetworkBlocked) -> None:
    with pytest.raises(OSError, match="blocked"):
        socket.create_connection(("169.254.169.254", 80), timeout=1)
    with pytest.raises(OSError, match="blocked"):
        socket.getaddrinfo("metadata.google.internal", 80)
    assert no_network.attempts == [
        "connect ('169.254.169.254', 80)",
        "lookup metadata.google.internal",
    ]


@pytest.mark.parametrize(
    ("config", "uri"),
    [
        ("GcpConfig(project='acme-data-prod')", "gs://lake/sales/2024.parquet"),
        ("AzureConfig(storage_account='acmedata')", "abfs://lake/sales/2024.parquet"),
        ("AwsConfig(region='eu-west-1', profile='prod')", "s3://lake/sales/2024.parquet"),
    ],
)
def test_a_cloud_bucket_is_named_without_the_network(
    no_network: NetworkBlocked, config: str, uri: str
) -> None:
    from glacier import Provider
    from glacier.settings import AwsConfig, AzureConfig, GcpConfig

    made = eval(
        config, {"AwsConfig": AwsConfig, "AzureConfig": AzureConfig, "GcpConfig": GcpConfig}
    )
    bucket = Provider(config=made).bucket("lake", path="sales/2024.parquet")
    assert bucket.get_uri() == uri
    # The filesystem is made (credentials included), and still nothing was asked.
    assert bucket.adapter.fs is not None
    assert no_network.attempts == []


@pytest.mark.parametrize(
    ("env", "settings", "scheme"), [("gcp", GCP, "gs"), ("azure", AZURE, "abfs")]
)
def test_glacier_graph_of_a_cloud_pipeline_without_the_network(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_network: NetworkBlocked,
    env: str,
    settings: str,
    scheme: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "containers").mkdir()
    (tmp_path / "lake.py").write_text(LAKE)
    (tmp_path / "containers" / f"{env}.toml").write_text(settings + BUCKETS)
    code, out, err = invoke("graph", "lake.py", "--env", env)
    assert code == 0, err
    assert "flowchart LR" in out and "extract" in out and "tidy" in out
    assert no_network.attempts == []
    code, out, err = invoke("graph", "lake.py", "--env", env, "-o", "dag.mmd")
    assert code == 0, err
    assert f"{scheme}://" in (tmp_path / "dag.mmd").read_text() + out
    assert no_network.attempts == []


def test_glacier_plan_under_mocks_without_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: NetworkBlocked
) -> None:
    shutil.copy(ROOT / "examples" / "medallion.py", tmp_path / "medallion.py")
    shutil.copytree(ROOT / "containers", tmp_path / "containers")
    monkeypatch.chdir(tmp_path)
    code, out, err = invoke("plan", "medallion.py", "--env", "prod")
    assert code == 0, err
    assert "aws:s3/bucket:Bucket" in out or "Bucket" in out
    assert no_network.attempts == []


def test_glacier_plan_of_a_gcp_environment_without_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: NetworkBlocked
) -> None:
    """Issue 24: a ``[provider] kind = "gcp"`` environment plans offline, and ``--policies``
    and ``--json`` show each task's bindings and their conditions."""


def test_glacier_plan_of_an_azure_environment_without_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: NetworkBlocked
) -> None:
    import json

    monkeypatch.chdir(tmp_path)
    (tmp_path / "containers").mkdir()
    (tmp_path / "lake.py").write_text(LAKE)
    (tmp_path / "containers" / "gcp.toml").write_text(GCP + BUCKETS)
    code, out, err = invoke("plan", "lake.py", "--env", "gcp", "--policies")
    assert code == 0, err
    assert "gcp:cloudrunv2:Job" in out and "gcp:workflows:Workflow" in out
    assert "Grants (per identity, bound on the resource):" in out
    assert "serviceAccount:gcp-lake-tidy@acme-data-prod.iam.gserviceaccount.com" in out
    assert 'resource.name.startsWith("projects/_/buckets/acme-prod-raw/objects/orders/")' in out
    code, out, err = invoke("plan", "lake.py", "--env", "gcp", "--json")
    assert code == 0, err
    grants = json.loads(out)["grants"]
    tidy = grants["serviceAccount:gcp-lake-tidy@acme-data-prod.iam.gserviceaccount.com"]
    assert sorted((g["on"], g["role"]) for g in tidy) == [
        ("acme-prod-clean", "projects/acme-data-prod/roles/glacier_lake_objectWriter"),
        ("acme-prod-clean", "roles/storage.objectViewer"),
        ("acme-prod-raw", "roles/storage.objectViewer"),
    ]
    subscription = 'subscription_id = "00000000-1111-2222-3333-444444444444"\n'
    (tmp_path / "containers" / "azure.toml").write_text(AZURE + subscription + BUCKETS)
    code, out, err = invoke("plan", "lake.py", "--env", "azure", "--policies")
    assert code == 0, err
    assert "azure-native:app:Job" in out and "Role assignments" in out
    assert "Storage Blob Data Contributor" in out and "StringStartsWith 'orders/'" in out
    code, out, err = invoke("plan", "lake.py", "--env", "azure", "--json")
    assert code == 0, err
    planned = json.loads(out)
    roles = {(a["identity"], a["role"]) for a in planned["role_assignments"]}
    assert ("azure-lake-extract", "Storage Blob Data Contributor") in roles
    assert ("azure-lake-tidy", "Storage Blob Data Reader") in roles
    assert no_network.attempts == []


def test_gcs_credentials_are_resolved_when_bytes_move(
    monkeypatch: pytest.MonkeyPatch, gcs_endpoint: str, bucket_name: str
) -> None:
    import google.auth
    import polars as pl
    from gcsfs.core import GCSFileSystem
    from google.oauth2.credentials import Credentials

    from conftest import GCP_PROJECT
    from glacier import Provider
    from glacier.settings import GcpConfig

    GCSFileSystem(endpoint_url=gcs_endpoint, token="anon", project=GCP_PROJECT).mkdir(bucket_name)
    lookups: list[list[str]] = []

    def default(scopes: list[str], request: Any = None) -> tuple[Credentials, str]:
        lookups.append(scopes)
        return Credentials(token="adc-token"), GCP_PROJECT

    monkeypatch.setattr(google.auth, "default", default)
    config = GcpConfig(project=GCP_PROJECT, endpoint_url=gcs_endpoint)  # not anonymous
    bucket = Provider(config=config).bucket(bucket_name, path="n.parquet")
    assert bucket.get_uri() == f"gs://{bucket_name}/n.parquet"
    headers: dict[str, str] = {}
    bucket.adapter.fs.credentials.apply(headers)  # what the first request does
    assert lookups and lookups[0][0].endswith("devstorage.full_control")
    assert headers["authorization"] == "Bearer adc-token"
    bucket.write(pl.DataFrame({"n": [1, 2]}))
    assert bucket.read()["n"].to_list() == [1, 2]
    assert len(lookups) == 1  # looked up once, then reused
    # Sent elsewhere (a Dask worker), the filesystem carries no token: it is looked up there.
    import pickle

    sent = pickle.loads(pickle.dumps(bucket.adapter.fs))
    assert "adc-token" not in repr(vars(sent.credentials.credentials))
    assert not sent.credentials.credentials.valid


def test_gcs_without_any_credentials_falls_back_to_anonymous(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    from glacier.adapters.filesystems import deferred_google_credentials

    def default(scopes: list[str], request: Any = None) -> Any:
        raise DefaultCredentialsError("no credentials here")

    monkeypatch.setattr(google.auth, "default", default)
    credentials = deferred_google_credentials()
    assert not credentials.valid  # nothing looked up yet
    credentials.refresh(request=None)
    headers: dict[str, str] = {}
    credentials.apply(headers)
    assert credentials.valid and headers == {}  # anonymous: no authorization header


AZURE_WAREHOUSE = """
import polars as pl

from glacier import Database, Dataset, Environment, Pipeline

env = Environment.from_env()
pipeline = Pipeline("shop", env=env)
clean = Dataset("clean", storage=env.get("clean"))


@pipeline.task()
def load(warehouse: Database) -> clean:
    return pl.DataFrame({"x": [1]})
"""


def test_glacier_plan_of_an_azure_database_without_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: NetworkBlocked
) -> None:
    """A PostgreSQL flexible server, its network and the SQL its administrator runs plan
    offline too."""
    import json

    monkeypatch.chdir(tmp_path)
    (tmp_path / "containers").mkdir()
    (tmp_path / "shop.py").write_text(AZURE_WAREHOUSE)
    subscription = 'subscription_id = "00000000-1111-2222-3333-444444444444"\n'
    database = (
        '[databases.warehouse]\nidentifier = "acme-shop-wh"\ndbname = "analytics"\n'
        "[databases.warehouse.azure_postgres]\n"
        'entra_admin = { name = "data-admins", '
        'object_id = "11111111-2222-3333-4444-555555555555" }\n'
    )
    (tmp_path / "containers" / "azure.toml").write_text(AZURE + subscription + BUCKETS + database)
    code, out, err = invoke("plan", "shop.py", "--env", "azure")
    assert code == 0, err
    for kind in ("dbforpostgresql:Server", "network:VirtualNetwork", "privatedns:PrivateZone"):
        assert kind in out
    assert "pgaadauth_create_principal('azure-shop-load', false, false)" in out
    code, out, err = invoke("plan", "shop.py", "--env", "azure", "--json")
    assert code == 0, err
    planned = json.loads(out)
    (server,) = [r for r in planned["resources"] if r["type"].endswith("dbforpostgresql:Server")]
    assert server["inputs"]["network"]["publicNetworkAccess"] == "Disabled"
    (note,) = [c for c in planned["choices"] if "sql" in c]
    assert note["user"] == "azure-shop-load" and '"analytics"' in note["sql"]
    assert no_network.attempts == []

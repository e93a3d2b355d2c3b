"""No secret in any output (issue 31.6): database URLs holding a password anywhere are refused
without being echoed, and every artifact of a run (run store, lineage file, JUnit XML,
``--json`` outputs, logs, error lines) is searched for a known password, as the trials did."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.commands import invoke
from glacier.errors import ConfigError, CredentialsInCodeError
from glacier.redaction import MASK, credential_in_url, mask_url, redact
from glacier.settings import DatabaseConnection, GlacierSettings
from postgres import PostgresServer

#: The password the trials looked for, and one the tests put where it does not belong.
SECRET = "Tr1al-s3cret-9f2"

URLS_WITH_A_PASSWORD = {
    "user info": f"postgresql://etl:{SECRET}@db:5432/analytics",
    "query": f"postgresql://etl@db:5432/analytics?password={SECRET}",
    "query after another": f"postgresql://etl@db/analytics?sslmode=require&password={SECRET}",
    "ssl key password": f"postgresql://etl@db/analytics?sslpassword={SECRET}",
    "dsn keyword": f"host=db dbname=analytics user=etl password={SECRET}",
    "quoted dsn keyword": f"host=db password='{SECRET} x' dbname=analytics",
}


@pytest.mark.parametrize("url", URLS_WITH_A_PASSWORD.values(), ids=URLS_WITH_A_PASSWORD.keys())
def test_a_database_url_holding_a_password_anywhere_is_refused_unechoed(url: str) -> None:
    with pytest.raises(CredentialsInCodeError) as caught:
        DatabaseConnection(url=url)
    message = str(caught.value)
    assert SECRET not in message and SECRET[:4] not in message
    assert "password_env" in message


def test_a_dsn_without_a_password_is_refused_without_being_echoed() -> None:
    # The trials' DSN was cut at 80 characters, which still showed the password's start.
    dsn = "host=dsn-host.internal port=5432 dbname=analytics user=etl sslmode=require app=x" * 2
    with pytest.raises(ConfigError) as caught:
        DatabaseConnection(url=dsn)
    assert "dsn-host" not in str(caught.value)
    assert "not a URL" in str(caught.value)


@pytest.mark.parametrize("value", [SECRET, "Hunter2", "hunter 2!"])
def test_a_password_put_in_password_env_is_never_echoed(value: str) -> None:
    # A valid variable name (Hunter2) passes the model; its lookup fails without naming it.
    with pytest.raises(ConfigError) as caught:
        DatabaseConnection(host="db", password_env=value).password(environ={})
    assert value not in str(caught.value)


def test_a_password_variable_named_as_one_is_named_in_the_error() -> None:
    with pytest.raises(ConfigError, match="WAREHOUSE_PASSWORD"):
        DatabaseConnection(host="db", password_env="WAREHOUSE_PASSWORD").password(environ={})


def test_a_secret_put_where_a_secrets_variable_name_belongs_is_not_echoed(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError) as caught:
        GlacierSettings(secrets={"api_key": {"env": f"{SECRET}!"}})
    assert SECRET not in str(caught.value)


def test_one_masking_function_masks_urls_and_keywords() -> None:
    assert mask_url(f"postgresql://etl@db/x?a=1&password={SECRET}&b=2") == (
        f"postgresql://etl@db/x?a=1&password={MASK}&b=2"
    )
    text = redact(f"failed: postgresql://etl:{SECRET}@db/x and password={SECRET}")
    assert SECRET not in text and text.count(MASK) == 2
    # names of where a secret is are kept, so messages still say what to fix
    assert redact("set password_env=WAREHOUSE_PASSWORD") == "set password_env=WAREHOUSE_PASSWORD"
    assert credential_in_url("postgresql://etl@db/x?sslmode=require") is None


PIPELINE = """
import logging

import polars as pl

from glacier import Dataset, Environment, Pipeline

env = Environment.from_env("dev")
warehouse = env.database.postgres("warehouse")
pipeline = Pipeline("leaky")
orders = Dataset("orders", storage=warehouse.table("leak_orders"))
report = Dataset("report")


@pipeline.task()
def load() -> orders:
    return pl.DataFrame({"id": [1, 2], "amount": [1.5, 2.5]})


@pipeline.task()
def publish(rows: orders, target: str = "") -> report:
    # The user's own log line and error carry a URL with the password (as a driver's might).
    logging.getLogger("leaky").warning("connecting to %s", target)
    raise RuntimeError(f"cannot reach {target}")
"""


def test_no_artifact_of_a_run_holds_the_password(
    tmp_path: Path,
    postgres_server: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "GLACIER_ENV"):
        monkeypatch.delenv(name, raising=False)
    password = postgres_server.password
    monkeypatch.setenv("WAREHOUSE_PASSWORD", password)
    monkeypatch.setenv("GLACIER_SETTINGS_DIR", str(tmp_path / "containers"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "containers").mkdir()
    (tmp_path / "containers" / "dev.toml").write_text(
        '[provider]\nkind = "local"\nbase_path = "data"\n\n[databases.warehouse]\n'
        f'host = "{postgres_server.host}"\nport = {postgres_server.port}\n'
        f'dbname = "{postgres_server.database}"\nuser = "{postgres_server.user}"\n'
        'password_env = "WAREHOUSE_PASSWORD"\n'
    )
    (tmp_path / "leaky.py").write_text(PIPELINE)
    target = f"postgresql://{postgres_server.user}:{password}@{postgres_server.host}/x"
    outputs: dict[str, str] = {}
    code, out, err = invoke(
        "run",
        "leaky.py",
        "--env",
        "dev",
        "--json",
        "--junit-xml",
        "report.xml",
        "--lineage",
        "lineage.ndjson",
        "--log-format",
        "json",
        "-p",
        f"publish.target={target}",
    )
    assert code == 1, err
    outputs["run --json"], outputs["run stderr"] = out, err
    run_id = __import__("json").loads(out)["run_id"]
    for args in (
        ("runs", "show", run_id),
        ("runs", "show", run_id, "--json"),
        ("runs", "show", run_id, "--html", "run.html"),
        ("runs", "list", "--json"),
        ("envs", "show", "dev", "--json"),
        ("envs", "show", "dev"),
        ("envs", "validate"),
        ("run", "leaky.py", "--env", "dev", "--traceback", "-p", f"publish.target={target}"),
    ):
        _, out, err = invoke(*args)
        outputs[" ".join(args[:4])] = out + err
    # the task failed with the user's message, the password masked in it and in its log
    assert "cannot reach" in outputs["run stderr"] and MASK in outputs["run stderr"]
    assert "connecting to" in outputs["runs show " + run_id]
    assert run_id in outputs["runs show " + run_id]
    found = [name for name, text in outputs.items() if password in text]
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".py"]
    assert {"report.xml", "lineage.ndjson", "runs.sqlite", "run.html"} <= {p.name for p in files}
    found += [str(p) for p in files if password.encode() in p.read_bytes()]
    assert found == [], f"the password is in: {found}"


@pytest.mark.parametrize("where", ["query", "dsn keyword", "user info"])
def test_a_settings_file_url_with_a_password_is_refused_by_every_command_unechoed(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GLACIER_ENV", raising=False)
    monkeypatch.setenv("GLACIER_SETTINGS_DIR", str(tmp_path / "containers"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "containers").mkdir()
    (tmp_path / "containers" / "dev.toml").write_text(
        '[provider]\nkind = "local"\n\n[databases.warehouse]\n'
        f'url = "{URLS_WITH_A_PASSWORD[where]}"\n'
    )
    (tmp_path / "etl.py").write_text(PIPELINE)
    for args in (
        ("run", "etl.py", "--env", "dev", "--json"),
        ("envs", "show", "dev", "--json"),
        ("envs", "show", "dev"),
        ("envs", "validate"),
        ("runs", "list", "--json"),
    ):
        code, out, err = invoke(*args)
        assert SECRET not in out + err, args
        if args[0] != "runs":
            assert code == 2 and "databases.warehouse.url" in " ".join((out + err).split()), args

"""``glacier tables``: history, vacuum, optimize and convert of a pipeline's Delta table."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from cli.commands import invoke
from cli.projects import write

ORDERS = """
import polars as pl

from glacier import Dataset, Pipeline, Provider
from glacier.settings import LocalConfig

provider = Provider(config=LocalConfig(base_path="{root}/data"))
pipeline = Pipeline("shop")
orders = Dataset("orders", storage=provider.bucket("lake", "orders/"))


@pipeline.task()
def make() -> orders:
    return pl.DataFrame({{"order_id": [1, 2], "amount": [1.0, 2.0]}})
"""


def _project(tmp_path: Path) -> tuple[str, Path]:
    write(tmp_path, {"shop.py": ORDERS.format(root=tmp_path)})
    target = str(tmp_path / "shop.py")
    assert invoke("run", target)[0] == 0
    assert invoke("run", target)[0] == 0  # a second version
    return target, tmp_path / "data" / "lake" / "orders"


def test_history_lists_the_commits_newest_first(tmp_path: Path) -> None:
    target, _ = _project(tmp_path)

    code, out, _ = invoke("tables", "history", target, "orders")

    commits = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [c["version"] for c in commits] == [1, 0]
    assert {c["operation"] for c in commits} == {"WRITE"}


def test_vacuum_refuses_less_than_the_retention_without_force(tmp_path: Path) -> None:
    target, table = _project(tmp_path)

    code, _, err = invoke("tables", "vacuum", target, "orders", "--retention-hours", "0")
    assert code == 2 or code == 1
    assert "shorter than the configured 168" in err and "--force" in err

    code, out, _ = invoke("tables", "vacuum", target, "orders", "--retention-hours", "0", "--force")
    assert code == 0 and "removed 1 file(s)" in out
    assert pl.read_delta(str(table)).height == 2


def test_optimize_and_unknown_datasets(tmp_path: Path) -> None:
    target, _ = _project(tmp_path)

    assert invoke("tables", "optimize", target, "orders")[0] == 0
    code, _, err = invoke("tables", "history", target, "nope")
    assert code != 0 and "no stored dataset 'nope'" in err and "['orders']" in err


def test_tables_commands_take_the_target_first_and_say_so_when_reversed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every glacier command takes the target first; the old order gets a usage error.
    write(tmp_path, {"shop.py": ORDERS.format(root=tmp_path)})
    monkeypatch.chdir(tmp_path)
    code, _, err = invoke("tables", "history", "orders", "shop.py")
    assert code == 2
    said = " ".join(err.split())
    assert "the target comes first" in said and "glacier tables ... shop.py orders" in said

"""A run store that cannot keep the record is refused before any task runs (issue 31): the
trials found ``runs.sqlite`` replaced by a directory failing with sqlite's OperationalError
after the tasks had run, and ``.glacier/runs`` being a file with FileExistsError."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cli.commands import invoke
from cli.projects import ETL


def _database_is_a_directory(root: Path) -> None:
    (root / ".glacier" / "runs" / "runs.sqlite").mkdir(parents=True)


def _runs_is_a_file(root: Path) -> None:
    (root / ".glacier").mkdir()
    (root / ".glacier" / "runs").write_text("not a directory")


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (_database_is_a_directory, "is not a file"),
        (_runs_is_a_file, ".glacier/runs is a file"),
    ],
    ids=["runs.sqlite is a directory", ".glacier/runs is a file"],
)
def test_a_broken_run_store_stops_the_run_before_any_task(
    damage: Callable[[Path], None], words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("GLACIER_ENV", "GLACIER_SETTINGS_DIR"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "etl.py").write_text(ETL)
    damage(tmp_path)
    code, _, err = invoke("run", "etl.py", "-p", "summarize.out=out.json")
    assert code == 2, err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and words in " ".join(err.split()), err
    assert "Traceback" not in err and "OperationalError" not in err
    assert not (tmp_path / "out.json").exists()  # no task ran

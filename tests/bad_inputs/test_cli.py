"""Runs the command line's bad-input catalogue (``cli_cases.py``): one ``error:`` line, an
exit code of 2 (usage, configuration) or 1 (failure), and no traceback unless asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.commands import invoke

from .cli_cases import CLI_CASES, CliCase, project

#: The one line that may follow an error: where to find more.
HINT = "(run with --traceback for the full traceback)"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return project(tmp_path_factory.mktemp("bad-cli"))


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_a_bad_command_line_gets_one_error_line(
    case: CliCase, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workdir)
    for var in ("GLACIER_ENV", "GLACIER_SETTINGS_DIR", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)
    code, _, err = invoke(*case.args)
    assert code == case.code, err
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, err
    assert "Traceback" not in err
    if case.one_line:
        assert all(line.startswith("error: ") or line == HINT for line in lines), err
    message = " ".join(err.split())  # long lines of a narrow terminal wrap
    for word in case.words:
        assert word in message, f"{word!r} not in:\n{err}"


def test_traceback_shows_the_chain_when_asked(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workdir)
    code, _, err = invoke("run", "gexit.py", "--traceback")
    assert code == 1
    assert "Traceback (most recent call last)" in err and "GeneratorExit" in err

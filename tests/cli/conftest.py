"""Fixtures of the command's tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path`` as the current directory, with no environment selected from outside."""
    monkeypatch.chdir(tmp_path)
    for var in ("GLACIER_ENV", "GLACIER_SETTINGS_DIR", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path

"""Reports the catalogue's size at the end of a run that collected it."""

from __future__ import annotations

from typing import Any

from .catalogue import API_CASES
from .cli_cases import CLI_CASES


def catalogue_size() -> dict[str, int]:
    """Cases by kind: the Python API's and the command line's."""
    return {"api": len(API_CASES), "cli": len(CLI_CASES)}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    size = catalogue_size()
    terminalreporter.write_line(
        f"bad-input catalogue: {sum(size.values())} cases "
        f"({size['api']} through the API, {size['cli']} through the CLI)"
    )

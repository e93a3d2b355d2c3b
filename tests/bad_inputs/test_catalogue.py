"""Runs the bad-input catalogue (``catalogue.py`` for the API, ``cli_cases.py`` for the
command line): each bad input is refused with a GlacierError naming it and saying what to do."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from glacier.errors import GlacierError

from .catalogue import API_CASES, Case

#: A message says what to do: one of these words or phrases (or "e.g." and an example).
FIX = re.compile(
    r"\b(give|use|pass|set|add|remove|drop|write|fix|rename|declare|put|make|choose|save|"
    r"leave|install|read|keep|run|move|define|list|allowed|must|needs?|takes?|is one of|"
    r"at most|at least|exactly|only|between|such as|instead|see|example|valid values|"
    r"looks like|name the|annotate|break|say|hold|known|or nothing|select)\b|e\.g\.",
    re.IGNORECASE,
)


def check_message(message: str, words: tuple[str, ...]) -> None:
    for word in words:
        assert word in message, f"{word!r} not in the message:\n{message}"
    assert FIX.search(message), f"the message does not say what to do:\n{message}"


@pytest.mark.parametrize("case", API_CASES, ids=[c.id for c in API_CASES])
def test_a_bad_input_is_refused_by_name(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(GlacierError) as caught:
        case.call(tmp_path)
    assert isinstance(caught.value, case.error), (
        f"expected {case.error.__name__}, got {type(caught.value).__name__}: {caught.value}"
    )
    check_message(str(caught.value), case.words)
    # nothing was written outside the test's directory: relative paths stay in tmp_path
    assert not (tmp_path.parent / "x").exists()

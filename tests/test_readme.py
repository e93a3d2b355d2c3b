"""The README is the front door: the two commands first, what Glacier is, a short example,
the comparison with its neighbours, and links that lead somewhere.

(That its example runs is checked with every other block in ``tests/test_docs.py``.)
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_the_two_commands_come_first() -> None:
    first = FENCE.search(README)
    assert first is not None
    assert README[: first.start()].strip() == "# Glacier"  # nothing before them but the title
    language, body = first.groups()
    commands = [line.split("#")[0].strip() for line in body.strip().splitlines()]
    assert language == "bash" and commands == ["python3 dev.py demo", "python3 dev.py test"]


def test_one_paragraph_says_what_glacier_is_then_a_short_example() -> None:
    blocks = list(FENCE.finditer(README))
    between = README[blocks[0].end() : blocks[1].start()].strip()
    assert between.startswith("Glacier is a Python library")
    assert "\n\n" not in between  # one paragraph
    # The install that works today (no release yet), and the distribution's name.
    assert "glacier-pipelines" in between and "pip install '.[s3]'" in between
    language, example = blocks[1].groups()
    assert language == "python" and len(example.strip().splitlines()) <= 20


def test_the_comparison_table_names_the_neighbours_and_what_only_glacier_does() -> None:
    header = next(line for line in README.splitlines() if line.startswith("| | Glacier"))
    for neighbour in ("Kedro", "Dagster", "Hamilton", "Prefect"):
        assert neighbour in header
    table = README[README.index(header) :].split("\n\n")[0]
    for claim in ("infrastructure", "IAM", "offline"):
        assert claim in table


def test_every_relative_link_leads_to_a_file_or_a_heading() -> None:
    links = re.findall(r"\]\(([^)\s]+)\)", README)
    assert any(link.startswith("docs/") for link in links)
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in README.splitlines()
        if line.startswith("#")
    }
    for link in links:
        if link.startswith(("http://", "https://")):
            continue
        if link.startswith("#"):
            assert link[1:] in headings, link
        else:
            assert (ROOT / link.split("#")[0]).exists(), link

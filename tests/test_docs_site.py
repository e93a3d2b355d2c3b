"""The docs site as a reader meets it: built strictly, every page reachable from the home
page, the API reference free of unrendered markup, the extras table complete."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    mkdocs = Path(sys.executable).with_name("mkdocs")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    subprocess.run(
        [str(mkdocs), "build", "--strict", "--quiet", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return out


def _nav_pages(nav: list[object]) -> list[str]:
    pages: list[str] = []
    for item in nav:
        if isinstance(item, dict):
            for value in item.values():
                pages += _nav_pages(value) if isinstance(value, list) else [str(value)]
        else:
            pages.append(str(item))
    return pages


def test_the_api_reference_shows_no_sphinx_role_and_no_catch_all(site: Path) -> None:
    page = (site / "api" / "index.html").read_text()
    text = re.sub(r"<[^>]+>", "", page)
    assert not re.findall(r":(?:class|func|meth|attr|mod|data|exc):`?", text)
    assert "**unknown" not in text


def test_every_page_is_reachable_from_the_home_page() -> None:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)
    home = (ROOT / "docs" / "index.md").read_text()
    pages = [p for p in _nav_pages(config["nav"]) if p != "index.md"]
    missing = [p for p in pages if f"({p})" not in home and f"({p}#" not in home]
    assert not missing, f"docs/index.md links to none of {missing}"


def test_the_extras_table_lists_every_extra() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    # Earlier names kept for existing installs, and the project's own development extras.
    internal = {"aws", "gcp", "dev", "docs"}
    table = (ROOT / "docs" / "getting-started.md").read_text()
    missing = [e for e in extras if e not in internal and f"| `{e}` |" not in table]
    assert not missing, f"docs/getting-started.md's extras table misses {missing}"

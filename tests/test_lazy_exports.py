"""A package's public names load on first use (``glacier.lazy_exports``), and a submodule of
the same name never replaces one: ``glacier.infra.rehearse`` is the function whether or not
the subpackage ``glacier.infra.rehearse`` (or a module inside it) was imported first.

Found when ``tests/infra/test_rehearse_server.py`` (which imports
``glacier.infra.rehearse.identity``) was collected before a module doing ``from glacier.infra
import rehearse``: the test got the subpackage and failed with "'module' object is not
callable".
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.mark.parametrize(
    "first",
    [
        "import glacier.infra.rehearse.identity",
        "from glacier.infra.rehearse import stop_server",
        "import glacier.infra.rehearse",
        "pass",
    ],
)
def test_an_exported_function_is_not_replaced_by_its_subpackage(first: str) -> None:
    out = run(
        f"""
        {first}
        from glacier.infra import rehearse
        import glacier.infra
        from glacier.infra.rehearse import stop_server
        print(callable(rehearse), glacier.infra.rehearse is rehearse, callable(stop_server))
        """
    )
    assert out == "True True True"


def test_an_unknown_name_is_an_attribute_error_naming_the_package() -> None:
    out = run(
        """
        import glacier.infra, glacier.resources
        for package in (glacier.infra, glacier.resources):
            try:
                package.nothing_here
            except AttributeError as exc:
                print(exc)
        """
    )
    assert out.splitlines() == [
        "module 'glacier.infra' has no attribute 'nothing_here'",
        "module 'glacier.resources' has no attribute 'nothing_here'",
    ]

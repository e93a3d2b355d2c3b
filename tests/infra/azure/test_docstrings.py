"""The examples in the Azure builder's docstrings run and say what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "glacier.infra.azure.conditions",
        "glacier.infra.azure.naming",
        "glacier.infra.azure.schedule",
        "glacier.infra.azure.mock_outputs",
        "glacier.infra.azure.container_apps",
        "glacier.infra.azure.network",
        "glacier.infra.azure.postgres",
    ],
)
def test_docstring_examples_run(module: str) -> None:
    mod = importlib.import_module(module)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(mod, optionflags=flags)
    assert result.failed == 0
    assert result.attempted > 0

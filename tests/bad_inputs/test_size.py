"""The catalogue covers every public entry point with at least 250 cases."""

from __future__ import annotations

from .catalogue import API_CASES
from .cli_cases import CLI_CASES

#: Entry points every catalogue must try (a prefix of a case's ``entry``).
ENTRY_POINTS = (
    "Dataset(",
    "Pipeline(",
    "Pipeline.validate",
    "@pipeline.task",
    "task function",
    "TaskConfig",
    "provider.bucket(",
    "Bucket.write",
    "Dataset(storage=<Pulumi",
    "AwsConfig",
    "LambdaConfig",
    "Environment",
    "pipeline.run",
    "executors",
    "settings file",
    "GLACIER_* variables",
)


def test_the_catalogue_has_at_least_250_cases_over_every_entry_point() -> None:
    assert len(API_CASES) + len(CLI_CASES) >= 250
    entries = {case.entry for case in API_CASES}
    for prefix in ENTRY_POINTS:
        assert any(e.startswith(prefix) for e in entries), prefix
    commands = {case.args[0] for case in CLI_CASES if case.args}
    assert commands >= {"run", "graph", "generate", "plan", "runs", "tables", "envs", "init"}


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in API_CASES] + [c.id for c in CLI_CASES]
    assert len(ids) == len(set(ids))

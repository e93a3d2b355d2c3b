"""settings/execution.py: task options, their cascade over the environment's defaults, and
the executor."""

from __future__ import annotations

from typing import Any

import pytest

from glacier.settings import ExecutorSettings, TaskConfig

from .conftest import config_error


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"timeout": 0}, ("timeout=0 is invalid: must be greater than 0",)),
        ({"retries": -1}, ("retries=-1", "0 to 100")),
        ({"retries": 101}, ("retries=101", "0 to 100")),
        ({"retry_delay": -1}, ("retry_delay=-1", "greater than or equal to 0")),
        ({"backoff": 0.5}, ("backoff=0.5", "greater than or equal to 1")),
    ],
)
def test_task_config_limits(kwargs: dict[str, Any], fragments: tuple[str, ...]) -> None:
    config_error(lambda: TaskConfig(**kwargs), "TaskConfig: ", *fragments)


def test_task_config_refine_cascades_over_the_environment_defaults() -> None:
    defaults = TaskConfig(executor="local", retries=2, retry_delay=1, tags={"team": "data"})

    task = defaults.refine(
        timeout=300, retries=None, cache=True, tags={"team": "ml", "priority": "high"}
    )

    assert task == TaskConfig(
        executor="local",
        timeout=300,
        retries=2,
        retry_delay=1,
        cache=True,
        tags={"team": "ml", "priority": "high"},
    )
    assert defaults.tags == {"team": "data"}
    assert defaults.refine() == defaults


def test_task_config_refine_validates() -> None:
    config_error(lambda: TaskConfig().refine(retries=-1), "retries=-1")
    config_error(lambda: TaskConfig().refine(timeot=3), "unknown field 'timeot'", "'timeout'")


def test_executor_settings() -> None:
    assert ExecutorSettings(kind="dask", dask_address="tcp://scheduler:8786").kind == "dask"
    config_error(lambda: ExecutorSettings(kind="ray"), "kind='ray'", "'local' or 'dask'")
    config_error(lambda: ExecutorSettings(max_workers=0), "max_workers=0")

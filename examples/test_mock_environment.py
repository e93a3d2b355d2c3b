"""Scenario 5 of the UX design: testing tasks with a local or a fully mocked environment.

    pytest examples/test_mock_environment.py

Tasks are created by a factory for any environment; the tests bind them to a local test
environment (real files in a temporary directory) and to an environment around a mock
provider (no I/O at all).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from glacier import Bucket, GlacierEnv, Provider
from glacier.config import LocalConfig


def create_tasks(env: GlacierEnv) -> tuple[Any, Any, Any]:
    """Factory function to create tasks for any environment."""

    @env.task()
    def extract(source: Bucket) -> pl.LazyFrame:
        return source.scan()

    @env.task()
    def validate(df: pl.LazyFrame) -> bool:
        return bool(df.select(pl.len()).collect()[0, 0] > 0)

    @env.task()
    def transform(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("amount") > 100)

    return extract, validate, transform


def test_pipeline_with_mock_data(tmp_path: Path) -> None:
    """Test tasks against real files in a local test environment."""
    test_env = GlacierEnv(
        provider=Provider(config=LocalConfig(base_path=tmp_path / "test_data")), name="test"
    )
    extract, validate, transform = create_tasks(test_env)

    test_bucket = test_env.provider.bucket("test", path="test_input.parquet")
    test_bucket.write(
        pl.DataFrame(
            {
                "id": [1, 2, 3],
                "amount": [50, 150, 200],
                "date": ["2024-01-01", "2024-01-02", "2024-01-03"],
            }
        )
    )

    df = extract(test_bucket)
    assert validate(df), "Validation should pass"
    result_df = transform(df).collect()
    assert len(result_df) == 2, "Should filter to 2 rows"
    assert all(result_df["amount"] > 100), "All amounts should be > 100"


def test_pipeline_with_mock_provider() -> None:
    """Test the same tasks with a fully mocked provider."""

    class MockBucket:
        def scan(self) -> pl.LazyFrame:
            return pl.DataFrame({"id": [1, 2, 3], "amount": [50, 150, 200]}).lazy()

    class MockProvider:
        def __init__(self, config: Any) -> None:
            self.config = config

        def bucket(
            self, name: str, path: str, format: str = "parquet", config: Any = None
        ) -> MockBucket:
            return MockBucket()

        def env(self, name: str) -> GlacierEnv:
            return GlacierEnv(provider=self, name=name)

    mock_provider = MockProvider(config={})
    test_env = GlacierEnv(provider=mock_provider, name="test")
    extract, validate, transform = create_tasks(test_env)

    df = extract(mock_provider.bucket("test", path="test.parquet"))
    assert validate(df)
    result = transform(df).collect()
    assert len(result) == 2
    assert all(result["amount"] > 100)

"""Scenario 1 of the UX design: a simple ETL in a local environment (data-flow style).

    python examples/simple_etl.py [BASE_PATH]

Tasks receive buckets as arguments; the pipeline function wires them. The first run writes a
small CSV to read, so the example runs out of the box.
"""

from __future__ import annotations

import sys

import polars as pl

from glacier import Bucket, GlacierEnv, Provider
from glacier.config import LocalConfig

base_path = sys.argv[1] if len(sys.argv) > 1 else ".glacier/examples/simple_etl"
env = GlacierEnv(provider=Provider(config=LocalConfig(base_path=base_path)), name="development")


@env.task()
def extract(source: Bucket) -> pl.LazyFrame:
    """Extract data from source."""
    return source.scan()


@env.task()
def transform(df: pl.LazyFrame) -> pl.LazyFrame:
    """Apply transformations."""
    return df.filter(pl.col("amount") > 0).with_columns(pl.col("date").str.to_date())


@env.task()
def load(df: pl.LazyFrame, target: Bucket) -> None:
    """Load data to target."""
    target.write(df)


@env.pipeline(name="simple_etl")
def etl_pipeline() -> None:
    """Simple ETL pipeline."""
    source = env.provider.bucket("raw", path="data.csv", format="csv")
    target = env.provider.bucket("processed", path="data.parquet")

    df = extract(source)
    df = transform(df)
    load(df, target)


def seed_input() -> None:
    raw = env.provider.bucket("raw", path="data.csv", format="csv")
    if not raw.exists():
        raw.write(
            pl.DataFrame(
                {
                    "id": [1, 2, 3, 4],
                    "amount": [120.5, -4.0, 33.0, 0.0],
                    "date": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
                }
            )
        )


if __name__ == "__main__":
    seed_input()
    result = etl_pipeline.run(mode="local")
    print(result.summary())
    print(env.provider.bucket("processed", path="data.parquet").read())

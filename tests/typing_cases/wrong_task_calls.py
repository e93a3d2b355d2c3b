"""A user's file with deliberate mistakes in task calls: tests/test_typed_tasks.py runs mypy on it
and expects each line marked `# E<n>:` reported (and nothing else)."""

import polars as pl

from glacier import Bucket, Environment, Inject, task

env = Environment.local("/tmp/x", name="dev")


@env.task()
def scale(df: pl.DataFrame, factor: float = 1.0) -> pl.DataFrame:
    return df.with_columns(pl.col("a") * factor)


@task
def count(df: pl.DataFrame) -> int:
    return df.height


@task(env, retries=2)
def load(source: Bucket = Inject("raw")) -> pl.LazyFrame:
    return source.scan()


frame = pl.DataFrame({"a": [1]})
ok: pl.DataFrame = scale(frame, factor=2.0)
rows: int = count(frame)
lazy: pl.LazyFrame = load()
bound = env.bind(count)
bound_rows: int = bound(frame)

scale(frame, factor="two")  # E1: wrong argument type
scale(frame, facter=2.0)  # E2: unknown keyword
count()  # E3: missing argument
text: str = count(frame)  # E4: wrong result type
load(42)  # E5: wrong argument type
bound("frame")  # E6: wrong argument type on a bound task

"""Pipelines defined with postponed annotations (PEP 563), imported by the tests."""

from __future__ import annotations

import polars as pl

from glacier import Dataset, Pipeline


def build() -> Pipeline:
    # Datasets are locals of a factory: the annotations below are strings naming them.
    pipeline = Pipeline("future")
    raw = Dataset("raw")
    train = Dataset("train")
    test = Dataset("test")

    @pipeline.task()
    def extract(rows: int = 4) -> raw:
        return pl.DataFrame({"x": list(range(rows))})

    @pipeline.task()
    def split(data: raw) -> tuple[train, test]:
        return data.filter(pl.col("x") % 2 == 0), data.filter(pl.col("x") % 2 == 1)

    return pipeline

"""What a data team stores besides tables — Excel workbooks, models and Python objects, text
and JSON documents, raw bytes — on every store (local, memory, S3 on moto, GCS emulator,
Azurite), with per-dataset reader and writer options and the object itself as a file."""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from conftest import StoreCase
from glacier import Dataset, Environment, Pipeline, Provider
from glacier.errors import (
    ConfigError,
    GlacierError,
    InvalidDataError,
    ObjectNotFoundError,
    OutputTypeError,
    PickleNotAllowedError,
    PipelineRunError,
    ReadOnlyError,
    SheetNotFoundError,
    UnknownOptionError,
)
from glacier.formats import FORMATS, format_for_path
from glacier.settings import LocalConfig

SHUTTLES = pl.DataFrame(
    {"id": [1, 2, 3], "engines": [2.0, 4.0, None], "shuttle_type": ["A", "B", "A"]}
)


@dataclass
class Model:
    """A trained model as a data team stores one: parameters in numpy arrays."""

    coef: np.ndarray
    intercept: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        return x @ self.coef + self.intercept


MODEL = Model(np.array([1.5, -2.0]), 0.25)

#: One value per object format, and what it reads back as.
VALUES: dict[str, tuple[str, Any]] = {
    "pickle": ("objects/model.pkl", MODEL),
    "joblib": ("models/model.joblib", MODEL),
    "text": ("docs/notes.txt", "régression: ok\nline 2\n"),
    "json-document": ("metrics/eval.doc.json", {"r2": 0.93, "folds": [1, 2], "ok": True}),
    "bytes": ("images/pixel.png", b"\x89PNG\r\n\x1a\n\x00\x01binary"),
}


def same(a: Any, b: Any) -> bool:
    if isinstance(a, Model):
        return np.array_equal(a.coef, b.coef) and a.intercept == b.intercept
    return bool(a == b)


# -- every object format on every store ----------------------------------------------------


@pytest.mark.parametrize("name", list(VALUES))
def test_each_object_format_round_trips_on_every_store(store: StoreCase, name: str) -> None:
    path, value = VALUES[name]
    assert format_for_path(path) is FORMATS[name]
    bucket = store.bucket(path, format=name)

    bucket.write(value)

    assert same(bucket.read(), value)
    assert bucket.exists() and bucket.list() == [path]
    assert store.objects() == [path]  # one object, no temporary leftovers
    with bucket.open("rb") as f:
        raw = f.read()
    assert same(FORMATS[name].load(io.BytesIO(raw), {}), value)  # type: ignore[misc]


def test_excel_round_trips_with_options_on_every_store(store: StoreCase) -> None:
    bucket = store.bucket(
        "raw/shuttles.xlsx",
        format="xlsx",
        write_options={"worksheet": "shuttles"},
        # Excel keeps 2.0 as 2: without the override the column reads back as integers.
        read_options={"sheet_name": "shuttles", "schema_overrides": {"engines": pl.Float64}},
    )

    bucket.write(SHUTTLES)

    assert_frame_equal(bucket.read(), SHUTTLES)
    assert_frame_equal(bucket.scan().filter(pl.col("id") > 1).collect(), SHUTTLES[1:])
    with bucket.local_path() as local:
        raw = pl.read_excel(local, sheet_name="shuttles")
        assert_frame_equal(raw, SHUTTLES.with_columns(pl.col("engines").cast(pl.Int64)))


def test_an_excel_sheet_that_does_not_exist_is_named_with_the_sheets_there(
    store: StoreCase,
) -> None:
    store.bucket("raw/shuttles.xlsx", format="xlsx").write(SHUTTLES)
    wrong = store.bucket("raw/shuttles.xlsx", format="xlsx", read_options={"sheet_name": "x"})

    with pytest.raises(SheetNotFoundError, match=r"'x'.*sheets are \['Sheet1'\].*sheet_name="):
        wrong.read()


def test_a_value_of_the_wrong_kind_is_refused_before_anything_is_written(
    store: StoreCase,
) -> None:
    notes = store.bucket("docs/notes.txt", format="text")
    model = store.bucket("models/m.joblib", format="joblib")
    doc = store.bucket("metrics/eval.doc.json", format="json-document")

    with pytest.raises(InvalidDataError, match=r"got builtins\.bytes, but format 'text' holds"):
        notes.write(b"not text")
    with pytest.raises(InvalidDataError, match=r"Store tables with a table format: parquet"):
        model.write(SHUTTLES)
    with pytest.raises(TypeError, match="not JSON serializable"):
        doc.write({"model": MODEL})
    assert store.objects() == []


# -- the object itself: open() and local_path() ---------------------------------------------


def test_open_writes_atomically_on_every_store(store: StoreCase) -> None:
    bucket = store.bucket("docs/report.txt", format="text")
    with bucket.open("w") as f:
        f.write("version 1")
    assert bucket.read() == "version 1"

    with pytest.raises(RuntimeError, match="crashed"), bucket.open("wb") as raw:
        raw.write(b"half of version 2")
        raise RuntimeError("crashed while writing")

    assert bucket.read() == "version 1"  # the failed write left the previous version
    assert store.objects() == ["docs/report.txt"]
    with bucket.open("r") as text:
        assert text.read() == "version 1"


def test_open_hands_a_file_object_to_libraries_that_want_one(store: StoreCase) -> None:
    bucket = store.bucket("models/m.joblib", format="joblib")
    with bucket.open("wb") as f:
        joblib.dump(MODEL, f)
    with bucket.open("rb") as f:
        assert same(joblib.load(f), MODEL)
    assert same(bucket.read(), MODEL)


def test_local_path_downloads_and_uploads_and_cleans_up(store: StoreCase) -> None:
    bucket = store.bucket("models/m.pkl", format="pickle")
    with bucket.local_path("w") as path:
        path.write_bytes(pickle.dumps(MODEL))
    assert same(bucket.read(), MODEL)

    with bucket.local_path() as path:
        assert same(pickle.loads(path.read_bytes()), MODEL)
        seen = path
    if store.name != "local":  # a temporary copy, removed on exit
        assert not seen.exists()
    else:  # the object's own file
        assert seen.exists()


def test_open_refuses_what_an_object_cannot_do(store: StoreCase) -> None:
    missing = store.bucket("docs/none.txt", format="text")
    with pytest.raises(ObjectNotFoundError, match=r"none\.txt"):
        missing.open("rb")
    with pytest.raises(ConfigError, match=r"mode='a' is not one of rb, r, wb, w"):
        missing.open("a")
    with pytest.raises(ConfigError, match="dataset directory"):
        store.bucket("tables/").open("rb")
    assert store.objects() == []


# -- declared storage is checked when declared -----------------------------------------------


def test_object_formats_are_refused_where_they_cannot_hold_a_value(local: Any) -> None:
    with pytest.raises(ConfigError, match=r"names a dataset directory.*models/regressor\.joblib"):
        local.bucket("b", path="models/", format="joblib")
    with pytest.raises(ConfigError, match="partitionable format"):
        local.bucket("b", path="m.pkl", format="pickle", partition_by=["day"])
    with pytest.raises(ConfigError, match=r"declares a schema.*'joblib'"):
        Dataset("model", storage="models/m.joblib", schema={"a": pl.Int64})
    notes = local.bucket("b", path="n.txt", format="text")
    notes.write("x")
    with pytest.raises(InvalidDataError, match="holds a Python value, not a table; use read"):
        notes.scan()
    with pytest.raises(ConfigError, match="written whole; mode='append'"):
        notes.write("y", mode="append")


def test_a_misspelt_option_is_refused_where_it_is_written(local: Any) -> None:
    with pytest.raises(UnknownOptionError) as caught:
        Dataset("sales", storage="data/sales.csv", read_options={"seperator": ";"})
    message = str(caught.value)
    assert "Dataset 'sales'" in message and "'seperator'" in message
    assert "did you mean 'separator'" in message

    with pytest.raises(UnknownOptionError, match=r"write option 'compresion'.*'compression'"):
        local.bucket("b", path="x.parquet", write_options={"compresion": "zstd"})
    with pytest.raises(UnknownOptionError, match="Glacier sets it itself"):
        Dataset("x", storage="x.parquet", read_options={"storage_options": {}})
    with pytest.raises(UnknownOptionError, match=r"'sheet'.*did you mean 'sheet_id'"):
        Dataset("shuttles", storage="data/shuttles.xlsx", read_options={"sheet": "s"})
    with pytest.raises(ConfigError, match="has no storage"):
        Dataset("tmp", read_options={"separator": ";"})


def test_options_reach_the_reader_and_writer_on_every_store(store: StoreCase) -> None:
    written = store.bucket("raw/companies.csv", format="csv", write_options={"separator": ";"})
    written.write(pl.DataFrame({"id": ["007", "010"], "rating": [1.5, 2.0]}))
    with written.open("r") as f:
        assert f.readline().strip() == "id;rating"

    read = store.bucket(
        "raw/companies.csv",
        format="csv",
        read_options={"separator": ";", "schema_overrides": {"id": pl.String}},
    )
    assert read.read()["id"].to_list() == ["007", "010"]  # kept as text, not guessed as int
    assert read.scan().collect()["id"].to_list() == ["007", "010"]


def test_parquet_write_options_reach_the_file(local: Any) -> None:
    # Distinct values (no dictionary encoding) that compress well.
    frame = pl.DataFrame({"s": [f"row {i}: " + "lorem ipsum " * 8 for i in range(20_000)]})
    sizes = {}
    for codec in ("uncompressed", "zstd"):
        bucket = local.bucket("b", path=f"{codec}.parquet", write_options={"compression": codec})
        bucket.write(frame)
        with bucket.open("rb") as f:
            sizes[codec] = len(f.read())
        assert_frame_equal(bucket.read(), frame)
    assert sizes["uncompressed"] > 4 * sizes["zstd"]


# -- read-only datasets and the pickle setting ------------------------------------------------


def test_a_read_only_dataset_refuses_writes(glacier_env: Environment, tmp_path: Path) -> None:
    path = tmp_path / "vendor" / "prices.txt"
    path.parent.mkdir()
    path.write_text("12.5")
    prices = Dataset("prices", storage=str(path), read_only=True)
    bucket = glacier_env.bucket_for(prices)

    assert bucket.read() == "12.5"
    with pytest.raises(ReadOnlyError, match=r"'prices'.*read_only"):
        bucket.open("w")
    with pytest.raises(ReadOnlyError):
        bucket.write("13.0")
    with pytest.raises(ReadOnlyError):
        bucket.delete()
    assert path.read_text() == "12.5"


def test_pickle_formats_are_refused_where_allow_pickle_is_false(tmp_path: Path) -> None:
    strict = Provider(config=LocalConfig(base_path=tmp_path, allow_pickle=False))
    for name in ("pickle", "joblib"):
        with pytest.raises(PickleNotAllowedError, match=r"runs code.*allow_pickle=False"):
            strict.bucket("models", path=f"m{FORMATS[name].extension}", format=name)
    assert strict.bucket("docs", path="m.doc.json", format="json-document").format
    assert not list(tmp_path.iterdir())


def test_bucket_settings_carry_options(tmp_path: Path) -> None:
    (tmp_path / "test.toml").write_text(
        "[provider]\nkind = 'local'\n"
        f"base_path = '{tmp_path / 'data'}'\n"
        "[buckets.companies]\nbucket_name = 'raw'\npath = 'companies.csv'\nformat = 'csv'\n"
        "read_only = true\n"
        "[buckets.companies.read_options]\nseparator = ';'\n"
    )
    env = Environment.from_env("test", settings_dir=tmp_path)
    bucket = env.get("companies")
    assert bucket.read_options == {"separator": ";"} and bucket.read_only

    (tmp_path / "bad.toml").write_text(
        "[provider]\nkind = 'local'\n"
        "[buckets.companies]\nbucket_name = 'raw'\npath = 'c.csv'\nformat = 'csv'\n"
        "[buckets.companies.read_options]\nsep = ';'\n"
    )
    with pytest.raises(UnknownOptionError, match=r"\[buckets\.companies\].*'sep'"):
        Environment.from_env("bad", settings_dir=tmp_path).get("companies")


# -- type checks before work --------------------------------------------------------------------


def test_a_model_returned_for_a_table_fails_before_anything_is_written(
    glacier_env: Environment, tmp_path: Path
) -> None:
    pipeline = Pipeline("train", env=glacier_env)
    regressor = Dataset("regressor", storage=str(tmp_path / "out" / "regressor.parquet"))
    metrics = Dataset("metrics", storage=str(tmp_path / "out" / "metrics.parquet"))

    @pipeline.task()
    def train() -> tuple[metrics, regressor]:  # type: ignore[valid-type]
        return pl.DataFrame({"r2": [0.9]}), MODEL

    with pytest.raises(PipelineRunError) as caught:
        pipeline.run()
    error = caught.value.result.tasks["train"].error  # type: ignore[attr-defined]
    assert isinstance(error, OutputTypeError) and isinstance(error, GlacierError)
    message = str(error)
    for part in ("'train'", "'regressor'", "test_objects.Model", "format 'parquet'", "joblib"):
        assert part in message
    assert not (tmp_path / "out").exists()  # not even the valid first output


def test_a_model_stored_with_joblib_reaches_the_next_task_and_the_next_run(
    glacier_env: Environment, tmp_path: Path
) -> None:
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    stored = str(tmp_path / "models" / "regressor.joblib")
    pipeline = Pipeline("train", env=glacier_env)
    regressor = Dataset("regressor", storage=stored, write_options={"compress": 3})
    seen: list[np.ndarray] = []

    @pipeline.task()
    def train() -> regressor:
        return MODEL

    @pipeline.task()
    def evaluate(model: regressor) -> None:
        seen.append(model.predict(x))

    pipeline.run()
    assert np.allclose(seen[0], MODEL.predict(x))
    assert same(joblib.load(stored), MODEL)

    later = Pipeline("serve", env=glacier_env)
    saved = Dataset("regressor", storage=stored, read_only=True)

    @later.task()
    def predict(model: saved) -> None:
        seen.append(model.predict(x))

    later.run()
    assert np.allclose(seen[1], MODEL.predict(x))


def test_a_table_returned_for_a_model_fails_before_anything_is_written(
    glacier_env: Environment, tmp_path: Path
) -> None:
    pipeline = Pipeline("train", env=glacier_env)
    regressor = Dataset("regressor", storage=str(tmp_path / "out" / "regressor.joblib"))

    @pipeline.task()
    def train() -> regressor:
        return SHUTTLES

    with pytest.raises(PipelineRunError) as caught:
        pipeline.run()
    error = caught.value.result.tasks["train"].error  # type: ignore[attr-defined]
    assert isinstance(error, OutputTypeError)
    assert "polars.dataframe.frame.DataFrame, but format 'joblib'" in str(error)
    assert "Store tables with a table format: parquet" in str(error)
    assert not (tmp_path / "out").exists()

"""The format catalogue: one row per data format, found by name or by extension."""

from __future__ import annotations

import typing
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from glacier import Provider
from glacier.adapters.filesystems import NativeAccess
from glacier.errors import ConfigError, UnknownFormatError
from glacier.formats import DEFAULT_FORMAT, FORMATS, format_for_path, get_format, resolve_format
from glacier.settings import LocalConfig
from glacier.settings.storage import BucketSettings

FRAME = pl.DataFrame({"id": [1, 2, 3], "name": ["a", "b", None], "score": [0.5, 1.5, 2.5]})


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("x.parquet", "parquet"),
        ("dir/x.PQ", "parquet"),
        ("s3://b/k/x.csv", "csv"),
        ("x.ndjson", "ndjson"),
        ("x.jsonl", "ndjson"),
        ("x.json", "json"),
        ("archive.2024.csv", "csv"),
    ],
)
def test_an_extension_names_its_format(path: str, name: str) -> None:
    fmt = format_for_path(path)
    assert fmt is not None and fmt.name == name


@pytest.mark.parametrize("path", ["events/", "data/v1.2/", "plain", ""])
def test_a_directory_or_a_name_without_extension_names_no_format(path: str) -> None:
    assert format_for_path(path) is None


def test_an_unknown_extension_is_refused_with_the_known_ones() -> None:
    with pytest.raises(UnknownFormatError) as caught:
        format_for_path("report.docx")
    message = str(caught.value)
    for fmt in FORMATS.values():
        assert fmt.name in message
        assert all(ext in message for ext in fmt.extensions)


def test_every_extension_belongs_to_one_format_and_maps_back_to_it() -> None:
    # A table format's extensions are its data files' (delta: parquet): no path selects it.
    files = [f for f in FORMATS.values() if not f.table]
    extensions = [ext for fmt in files for ext in fmt.extensions]
    assert len(extensions) == len(set(extensions))
    for fmt in files:
        assert fmt.extension == fmt.extensions[0]
        for ext in fmt.extensions:
            assert format_for_path(f"x{ext}") is fmt
    assert format_for_path("x.parquet") is FORMATS["parquet"]


def test_parquet_is_the_default_and_the_streamable_formats_partition() -> None:
    assert DEFAULT_FORMAT == "parquet"
    assert [f.name for f in FORMATS.values() if f.partitions] == [
        "parquet",
        "csv",
        "ndjson",
        "delta",
    ]
    assert [f.name for f in FORMATS.values() if f.table] == ["delta"]


def test_get_format_ignores_case_and_names_the_supported_formats() -> None:
    assert get_format("NDJSON") is FORMATS["ndjson"]
    with pytest.raises(UnknownFormatError, match="parquet, csv, ndjson, json, xlsx"):
        get_format("xls")


def test_resolve_format_refuses_partitions_of_a_format_that_cannot_hold_them() -> None:
    assert resolve_format("parquet", ["day"]) is FORMATS["parquet"]
    assert resolve_format("csv", ["day"]) is FORMATS["csv"]
    with pytest.raises(
        ConfigError, match=r"partition_by=\['day'\].*\(parquet, csv, ndjson, delta\), not 'json'"
    ):
        resolve_format("json", ["day"])


def test_the_settings_offer_exactly_the_catalogue() -> None:
    # Settings sit below the catalogue in the layers, so they spell the names out once more.
    allowed = typing.get_args(BucketSettings.model_fields["format"].annotation)
    assert set(allowed) == set(FORMATS)


TABLES = [name for name, fmt in FORMATS.items() if fmt.frame]


@pytest.mark.parametrize("name", TABLES)
def test_each_format_round_trips_through_its_writer_and_readers(name: str, tmp_path: Path) -> None:
    fmt = FORMATS[name]
    target = tmp_path / f"x{fmt.extension}"
    fmt.sink(FRAME.lazy(), str(target), None)
    read = fmt.read(target.read_bytes(), ["id", "name"], {})
    assert_frame_equal(read, FRAME.select("id", "name"))
    if fmt.scan is not None:
        scanned = fmt.scan(str(target), NativeAccess(), None, {}).collect()
        assert_frame_equal(scanned, FRAME)


@pytest.mark.parametrize("name", TABLES)
def test_a_bucket_writes_and_reads_each_format_by_its_extension(name: str, tmp_path: Path) -> None:
    fmt = FORMATS[name]
    provider = Provider(config=LocalConfig(base_path=tmp_path))
    path = f"data{fmt.extensions[-1]}"
    bucket = provider.bucket("b", path=path, format=format_for_path(path).name)  # type: ignore[union-attr]
    bucket.write(FRAME)
    assert_frame_equal(bucket.read(), FRAME)
    assert (tmp_path / "b" / path).is_file()

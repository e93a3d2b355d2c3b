"""Storage strings: one parser from a path or URI to its cloud, bucket, key and format."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from glacier import Dataset, Environment, Pipeline
from glacier.adapters.filesystems import STORES
from glacier.errors import ConfigError, GlacierError, UnknownFormatError
from glacier.uris import SCHEMES, StorageURI, parse_uri, scheme_named, scheme_of_cloud


@pytest.mark.parametrize("name", ["x.jsonl", "x.ndjson"])
def test_a_jsonl_path_is_written_and_read_as_ndjson(
    glacier_env: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    pipeline = Pipeline("lines", env=glacier_env)
    events = Dataset("events", storage=f"data/{name}")
    seen: list[list[int]] = []

    @pipeline.task()
    def produce() -> events:
        return pl.DataFrame({"id": [1, 2], "kind": ["a", "b"]})

    @pipeline.task()
    def consume(data: events) -> None:
        seen.append(data.collect()["id"].to_list())

    pipeline.run()
    lines = (tmp_path / "data" / name).read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"id": 1, "kind": "a"},
        {"id": 2, "kind": "b"},
    ]
    assert seen == [[1, 2]]


def test_a_pq_path_is_written_as_parquet(
    glacier_env: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    pipeline = Pipeline("pq", env=glacier_env)
    table = Dataset("table", storage="data/t.pq")

    @pipeline.task()
    def produce() -> table:
        return pl.DataFrame({"v": [1.5, 2.5]})

    pipeline.run()
    assert pl.read_parquet(tmp_path / "data" / "t.pq")["v"].to_list() == [1.5, 2.5]


@pytest.mark.parametrize(
    ("text", "cloud", "bucket", "key", "fmt"),
    [
        ("s3://lake/sales/2024.parquet", "aws", "lake", "sales/2024.parquet", "parquet"),
        ("s3a://lake/sales.csv", "aws", "lake", "sales.csv", "csv"),
        ("gs://lake/events.jsonl", "gcp", "lake", "events.jsonl", "ndjson"),
        ("gcs://lake/events/", "gcp", "lake", "events/", "parquet"),
        ("abfs://box/a.json", "azure", "box", "a.json", "json"),
        ("az://box/a.NDJSON", "azure", "box", "a.NDJSON", "ndjson"),
        ("abfss://box/", "azure", "box", "", "parquet"),
        ("memory://b/x.pq", "memory", "b", "x.pq", "parquet"),
        ("file:///tmp/x.csv", "local", "", "/tmp/x.csv", "csv"),
        ("data/x.jsonl", "local", "", "data/x.jsonl", "ndjson"),
        ("data/v1.2/", "local", "", "data/v1.2/", "parquet"),
        ("data/plain", "local", "", "data/plain", "parquet"),
    ],
)
def test_parse_uri_gives_cloud_bucket_key_and_format(
    text: str, cloud: str, bucket: str, key: str, fmt: str
) -> None:
    uri = parse_uri(text)
    assert (uri.cloud, uri.bucket, uri.key, uri.format) == (cloud, bucket, key, fmt)
    assert uri.is_local == (cloud == "local")


def test_a_uri_prints_with_the_scheme_glacier_writes() -> None:
    assert str(parse_uri("gcs://lake/a.csv")) == "gs://lake/a.csv"
    assert str(parse_uri("az://box/k/")) == "abfs://box/k/"
    assert str(parse_uri("data/x.csv")) == "data/x.csv"
    assert parse_uri("~/x.csv").path == Path.home() / "x.csv"


def test_a_parsed_uri_is_a_frozen_record() -> None:
    uri = parse_uri("s3://lake/a.csv")
    assert uri == StorageURI(scheme_named("s3"), "lake", "a.csv", "csv")  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        uri.key = "b.csv"  # type: ignore[misc]


def test_an_unknown_scheme_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"'http'.*s3://.*gs://.*abfs://"):
        parse_uri("http://example.com/x.parquet")


def test_a_uri_without_a_bucket_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"names no bucket.*s3://<bucket>/<key>"):
        parse_uri("s3:///x.parquet")


def test_an_unknown_extension_is_refused_naming_the_known_formats() -> None:
    with pytest.raises(UnknownFormatError, match=r"'\.docx'.*parquet \(\.parquet \.pq\).*ndjson"):
        parse_uri("s3://lake/report.docx")


def test_a_dataset_with_an_unknown_extension_is_refused_when_declared() -> None:
    with pytest.raises(
        UnknownFormatError, match=r"Dataset 'x': 'data/x\.docx'.*'\.docx'.*csv"
    ) as caught:
        Dataset("x", storage="data/x.docx")
    assert isinstance(caught.value, GlacierError)


def test_a_dataset_with_an_unknown_scheme_is_refused_when_declared() -> None:
    with pytest.raises(ConfigError, match="'ftp'"):
        Dataset("x", storage="ftp://host/x.parquet")


def test_an_environment_refuses_a_uri_of_another_cloud(glacier_env: Environment) -> None:
    with pytest.raises(ConfigError, match=r"gs://lake/x\.parquet.*environment 'test' is on local"):
        glacier_env.bucket_for(Dataset("x", storage="gs://lake/x.parquet"))


def test_an_environment_resolves_a_path_with_its_format(glacier_env: Environment) -> None:
    bucket = glacier_env.bucket_for(Dataset("x", storage="data/x.jsonl"))
    assert bucket.format == "ndjson"
    assert bucket.get_uri().endswith("/data/x.jsonl")


def test_every_store_has_one_scheme_row_and_every_cloud_one_store() -> None:
    assert {row.protocol for row in SCHEMES} == set(STORES)
    names = [name for row in SCHEMES for name in row.names]
    assert len(names) == len(set(names))
    for protocol, store in STORES.items():
        row = scheme_named(protocol)
        assert row is not None and row.protocol == protocol
        assert store.scheme == row.name
    assert [scheme_of_cloud(c).name for c in ("aws", "gcp", "azure")] == ["s3", "gs", "abfs"]  # type: ignore[union-attr]
    assert scheme_of_cloud("databricks") is None

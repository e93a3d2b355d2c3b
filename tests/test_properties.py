"""Property-based bad inputs: whatever a user passes as a name, a path, a setting or a DAG,
Glacier answers with a value or a ``GlacierError`` — never another exception, never a hang,
and never a file outside its base path.

Examples are bounded so the module stays well under a minute on a slow two-core machine.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glacier import Dataset, Environment, Pipeline, Provider
from glacier.errors import GlacierError
from glacier.settings import AwsConfig, GlacierSettings, LambdaConfig, LocalConfig, TaskConfig
from glacier.task_options import TASK_OPTIONS

FAST = settings(max_examples=150, deadline=None)
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Text a user could type, with the characters that make paths and names go wrong.
TRICKY = st.sampled_from(
    ["", ".", "..", "/", "\\", "\x00", " ", "\n", "~", "*", ":", "%", "[", "]", "#", "?", "^", "|"]
)
TEXT = st.one_of(
    st.text(max_size=30),
    st.lists(st.one_of(TRICKY, st.text(max_size=4)), max_size=8).map("".join),
)
#: Any value a wrong argument might hold.
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.just(object()),
    st.just(ValueError),
)


def refused_or_accepted(call: Callable[[], object]) -> None:
    """``call`` returns or raises a GlacierError; anything else fails the property."""
    with suppress(GlacierError):
        call()


@contextmanager
def sandbox() -> Iterator[tuple[Path, Path]]:
    """A working directory inside a fresh root, and the base path inside it."""
    with tempfile.TemporaryDirectory() as root:
        cwd, base = Path(root) / "cwd", Path(root) / "cwd" / "base"
        cwd.mkdir()
        before = os.getcwd()
        os.chdir(cwd)
        try:
            yield Path(root), base
        finally:
            os.chdir(before)


def files_outside(root: Path, base: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and base not in p.parents and p != base]


# -- names ---------------------------------------------------------------------------------


@FAST
@given(name=st.one_of(TEXT, VALUES))
def test_any_dataset_or_pipeline_name_is_accepted_or_refused_by_name(name: Any) -> None:
    refused_or_accepted(lambda: Dataset(name))
    refused_or_accepted(lambda: Pipeline(name))


@FAST
@given(schedule=st.one_of(TEXT, VALUES, st.from_regex(r"rate\(-?\d{1,3} (day|days|hour)\)")))
def test_any_schedule_is_accepted_or_refused(schedule: Any) -> None:
    refused_or_accepted(lambda: Pipeline("p", schedule=schedule))


@FAST
@given(storage=st.one_of(TEXT, VALUES), schema=VALUES)
def test_any_dataset_storage_or_schema_is_accepted_or_refused(storage: Any, schema: Any) -> None:
    refused_or_accepted(lambda: Dataset("d", storage=storage))
    refused_or_accepted(lambda: Dataset("d", schema=schema))


# -- paths ---------------------------------------------------------------------------------


@SLOW
@given(name=TEXT, path=TEXT, suffix=st.sampled_from(["", ".parquet", ".csv", "/"]))
def test_no_bucket_name_or_path_writes_outside_the_base_path(
    name: str, path: str, suffix: str
) -> None:
    frame = pl.DataFrame({"x": [1]})
    with sandbox() as (root, base):
        provider = Provider(config=LocalConfig(base_path=base))
        try:
            bucket = provider.bucket(name, path=path + suffix)
            bucket.write(frame)
        except GlacierError:
            pass
        assert files_outside(root, base) == []


#: Links a user (or an attacker) might have left under the base path: a bucket directory, a
#: dataset directory, or a file, pointing outside it.
LINKS = st.sampled_from(["lake", "lake/t", "lake/a.parquet", "lake/_glacier", "lake/d"])


@SLOW
@given(link=LINKS, path=st.sampled_from(["t/", "a.parquet", "d/x.csv", "t/x/", "a.json"]))
def test_no_symlink_under_the_base_path_leads_a_write_outside_it(link: str, path: str) -> None:
    frame = pl.DataFrame({"x": [1]})
    with sandbox() as (root, base):
        outside = root / "outside"
        outside.mkdir()
        (base / link).parent.mkdir(parents=True, exist_ok=True)
        (base / link).symlink_to(outside, target_is_directory=True)
        provider = Provider(config=LocalConfig(base_path=base))
        try:
            provider.bucket("lake", path=path).write(frame)
        except GlacierError as refused:
            assert "outside the base path" in str(refused) or "lake" in str(refused)
        assert list(outside.rglob("*")) == []


@FAST
@given(
    name=st.one_of(TEXT, VALUES),
    path=st.one_of(TEXT, VALUES),
    fmt=st.one_of(TEXT, VALUES),
    partition_by=st.one_of(TEXT, VALUES),
)
def test_any_bucket_declaration_is_accepted_or_refused(
    name: Any, path: Any, fmt: Any, partition_by: Any
) -> None:
    provider = Provider(config=LocalConfig(base_path="/nonexistent/glacier-properties"))
    refused_or_accepted(
        lambda: provider.bucket(name, path=path, format=fmt, partition_by=partition_by)
    )


# -- settings values -----------------------------------------------------------------------


@FAST
@given(option=st.sampled_from(TASK_OPTIONS), value=VALUES)
def test_any_task_option_is_accepted_or_refused_where_written(option: str, value: Any) -> None:
    def declare() -> object:
        pipeline = Pipeline("p")
        return pipeline.task(**{option: value})(lambda: 1)

    refused_or_accepted(declare)
    refused_or_accepted(lambda: TaskConfig().refine(**{option: value}))


@FAST
@given(
    field=st.sampled_from(
        ["region", "account_id", "profile", "role_arn", "endpoint_url", "session_duration"]
    ),
    value=VALUES,
)
def test_any_aws_setting_is_accepted_or_refused(field: str, value: Any) -> None:
    values = {"region": "us-east-1", field: value}
    refused_or_accepted(lambda: AwsConfig(**values))


@FAST
@given(
    field=st.sampled_from(["memory", "timeout", "runtime", "environment_vars", "layers"]),
    value=st.one_of(VALUES, st.dictionaries(TEXT, TEXT, max_size=3)),
)
def test_any_lambda_setting_is_accepted_or_refused(field: str, value: Any) -> None:
    refused_or_accepted(lambda: LambdaConfig(**{field: value}))


@SLOW
@given(text=st.one_of(st.text(max_size=80), st.binary(max_size=80)))
def test_any_settings_file_is_loaded_or_refused(text: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "dev.toml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        refused_or_accepted(lambda: GlacierSettings.load("dev", directory))


@SLOW
@given(env=st.one_of(TEXT, st.sampled_from(["../dev", "/etc/passwd", "dev\x00", "DEV"])))
def test_any_environment_name_is_loaded_or_refused(env: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "dev.toml").write_text('[provider]\nkind = "local"\n')
        refused_or_accepted(lambda: GlacierSettings.load(env, directory))


# -- DAG shapes ----------------------------------------------------------------------------

#: A task: (the datasets it reads, the datasets it writes), by index into a pool of datasets.
TASK_SHAPES = st.tuples(
    st.lists(st.integers(0, 5), max_size=3), st.lists(st.integers(0, 5), max_size=2)
)


def build(shape: list[tuple[list[int], list[int]]], duplicates: bool) -> Pipeline:
    """A pipeline of tasks reading and writing datasets of a pool of six (two objects per
    name when ``duplicates``): cycles, missing inputs, two producers and self-loops arise."""
    pool = [Dataset(f"d{i % 3}" if duplicates else f"d{i}") for i in range(6)]
    pipeline = Pipeline("shapes")
    for k, (reads, writes) in enumerate(shape):
        params = ", ".join(f"x{j}: pool[{i}]" for j, i in enumerate(dict.fromkeys(reads)))
        outs = list(dict.fromkeys(writes))
        returns = (
            ""
            if not outs
            else f" -> pool[{outs[0]}]"
            if len(outs) == 1
            else f" -> tuple[{', '.join(f'pool[{i}]' for i in outs)}]"
        )
        value = "1" if len(outs) <= 1 else f"({', '.join('1' for _ in outs)})"
        namespace: dict[str, Any] = {"pool": pool}
        exec(f"def t{k}({params}){returns}:\n    return {value}\n", namespace)
        pipeline.task()(namespace[f"t{k}"])
    return pipeline


@SLOW
@given(shape=st.lists(TASK_SHAPES, max_size=6), duplicates=st.booleans())
def test_any_dag_shape_runs_or_is_refused_by_name(
    shape: list[tuple[list[int], list[int]]], duplicates: bool
) -> None:
    with sandbox() as (root, base):

        def run() -> object:
            env = Environment.local(base, state_dir=root / "state")
            return build(shape, duplicates).run(env=env, raise_on_failure=False)

        refused_or_accepted(run)
        assert files_outside(root, base) == [] or all(
            (root / "state") in p.parents for p in files_outside(root, base)
        )


def test_a_non_finite_timeout_never_reaches_a_run() -> None:
    pipeline = Pipeline("p")
    try:
        pipeline.task(timeout=math.inf)(lambda: 1)
    except GlacierError as exc:
        assert "finite" in str(exc)
    else:
        raise AssertionError("timeout=inf was accepted")

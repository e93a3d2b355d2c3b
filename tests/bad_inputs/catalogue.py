"""The bad-input catalogue: every public entry point, tried with what a user gets wrong.

Each row is data: a call, the :class:`~glacier.errors.GlacierError` subclass it must raise,
and words its message must contain (the offending value, the rule or the fix). A call takes
the test's temporary directory (the current directory while it runs). To add a case, add a
row to the table of its entry point; ``test_catalogue.py`` runs them all and counts them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from glacier import Dataset, Environment, Pipeline, Provider
from glacier.errors import (
    ColumnTypeError,
    ConfigError,
    CorruptDataError,
    CredentialsInCodeError,
    CycleError,
    DuplicateDatasetError,
    DuplicateProducerError,
    DuplicateTaskError,
    ForeignRunError,
    GlacierError,
    InvalidAnnotationError,
    InvalidDataError,
    InvalidTaskError,
    MergeKeyError,
    MissingInputError,
    ObjectNotFoundError,
    PipelineDefinitionError,
    ReadOnlyError,
    RetentionError,
    RunStoreError,
    TableKeyError,
    UnknownEnvironmentError,
    UnknownFormatError,
    UnknownOptionError,
    UnknownResourceError,
    UnknownRunError,
    UnknownTaskError,
    VersionNotFoundError,
)
from glacier.settings import (
    AwsConfig,
    AzureConfig,
    AzurePostgresConfig,
    ContainerAppConfig,
    EcsConfig,
    GcpConfig,
    GlacierSettings,
    LambdaConfig,
    LocalConfig,
    TaskConfig,
)

Call = Callable[[Path], object]


@dataclass(frozen=True)
class Case:
    """One bad input: ``call(tmp_path)`` raises ``error`` with each of ``words`` in its
    message."""

    entry: str  # the entry point, e.g. "Dataset(name=)"
    value: str  # what is wrong, as the test id shows it
    call: Call
    error: type[GlacierError]
    words: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.entry}:{self.value}"


def rows(
    entry: str,
    table: Sequence[tuple[str, Call, type[GlacierError], Sequence[str]]],
) -> list[Case]:
    return [Case(entry, value, call, error, tuple(words)) for value, call, error, words in table]


# -- helpers: a few lines of a user's code ---------------------------------------------------

FRAME = pl.DataFrame({"id": [1, 2], "day": ["a", "b"], "amount": [1.0, 2.0]})


def local(tmp: Path, **config: Any) -> Provider:
    return Provider(config=LocalConfig(base_path=tmp / "data", **config))


def bucket(tmp: Path, name: str = "raw", **kwargs: Any) -> Any:
    return local(tmp).bucket(name, **kwargs)


def one_task(**options: Any) -> Pipeline:
    """A pipeline whose one task is decorated with ``options``."""
    pipeline = Pipeline("p")
    out = Dataset("out")

    @pipeline.task(**options)
    def make() -> out:
        return FRAME

    return pipeline


def runnable(tmp: Path) -> Pipeline:
    pipeline = Pipeline("p")
    out = Dataset("out")

    @pipeline.task()
    def make() -> out:
        return FRAME

    return pipeline


def run_with(**arguments: Any) -> Call:
    def call(tmp: Path) -> object:
        env = Environment.local(tmp / "data", state_dir=tmp / "state")
        arguments.setdefault("env", env)
        return runnable(tmp).run(**arguments)

    return call


def resume_another_pipelines_run(tmp: Path) -> object:
    env = Environment.local(tmp / "data", state_dir=tmp / "state")
    other = Pipeline("other", env=env)
    other.task(name="make")(lambda: FRAME)
    foreign = other.run()
    return runnable(tmp).run(env=env, resume=foreign.run_id)


#: The Entra administrator of the Azure PostgreSQL cases.
ENTRA_ADMIN = {"name": "data-admins", "object_id": "11111111-2222-3333-4444-555555555555"}


def subnet_id(subnet: str, network: str = "net") -> str:
    """The resource id of an Azure subnet."""
    return (
        "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/"
        f"Microsoft.Network/virtualNetworks/{network}/subnets/{subnet}"
    )


def settings_file(text: str | bytes, env: str = "dev") -> Call:
    def call(tmp: Path) -> object:
        directory = tmp / "containers"
        directory.mkdir(exist_ok=True)
        path = directory / f"{env}.toml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return GlacierSettings.load(env, directory)

    return call


def task_function(fn: Any) -> Call:
    def call(tmp: Path) -> object:
        return Pipeline("p").task()(fn)

    return call


def gen() -> Any:
    yield FRAME


async def coro() -> Any:
    return FRAME


async def agen() -> Any:
    yield FRAME


# -- declarations: names ---------------------------------------------------------------------

BAD_NAMES: list[Any] = [
    "",
    " ",
    "1st",
    "two words",
    "a/b",
    "../up",
    "semi;colon",
    "-dash",
    ".hidden",
    "tab\tname",
    "nul\x00",
    "ünïcode",
    None,
    42,
    ["raw"],
]

NAMES = rows(
    "Dataset(name=)",
    [
        (repr(n), lambda t, n=n: Dataset(n), PipelineDefinitionError, [repr(n), "Dataset("])
        for n in BAD_NAMES
    ],
) + rows(
    "Pipeline(name=)",
    [
        (repr(n), lambda t, n=n: Pipeline(n), PipelineDefinitionError, [repr(n), "Pipeline("])
        for n in BAD_NAMES
    ],
)

# -- declarations: pipelines -----------------------------------------------------------------

BAD_SCHEDULES: list[Any] = [
    "daily",
    "rate(0 days)",
    "rate(00 minutes)",
    "rate(-1 days)",
    "rate(1 fortnight)",
    "rate(1.5 hours)",
    "rate(1day)",
    "cron(0 6 * * ?)",
    "0 6 * * *",
    "",
    5,
    ["rate(1 day)"],
]

PIPELINES = rows(
    "Pipeline(schedule=)",
    [
        (
            repr(s),
            lambda t, s=s: Pipeline("p", schedule=s),
            PipelineDefinitionError,
            [repr(s), "rate(1 day)"],
        )
        for s in BAD_SCHEDULES
    ],
)


def two_producers(tmp: Path) -> object:
    pipeline, shared = Pipeline("p"), Dataset("shared")

    @pipeline.task()
    def a() -> shared:
        return FRAME

    @pipeline.task()
    def b() -> shared:
        return FRAME

    return pipeline.validate()


def same_name(storage_a: Any, storage_b: Any) -> Call:
    def call(tmp: Path) -> object:
        pipeline = Pipeline("p")
        first, second = Dataset("same", storage=storage_a), Dataset("same", storage=storage_b)

        @pipeline.task()
        def a() -> first:
            return FRAME

        @pipeline.task()
        def b() -> second:
            return FRAME

        return pipeline.validate()

    return call


def same_name_read(tmp: Path) -> object:
    pipeline = Pipeline("p")
    made, other = Dataset("same"), Dataset("same", storage="other.parquet")

    @pipeline.task()
    def a() -> made:
        return FRAME

    @pipeline.task()
    def b(x: other) -> Dataset("done"):  # type: ignore[valid-type]
        return x

    return pipeline.validate()


def cycle(tmp: Path) -> object:
    pipeline, x, y = Pipeline("p"), Dataset("x"), Dataset("y")

    @pipeline.task()
    def a(v: y) -> x:
        return v

    @pipeline.task()
    def b(v: x) -> y:
        return v

    return pipeline.validate()


def missing_input(tmp: Path) -> object:
    pipeline, nowhere = Pipeline("p"), Dataset("nowhere")

    @pipeline.task()
    def a(v: nowhere) -> Dataset("out"):  # type: ignore[valid-type]
        return v

    return pipeline.validate()


def duplicate_task(tmp: Path) -> object:
    pipeline = Pipeline("p")

    @pipeline.task(name="same")
    def a() -> Dataset("x"):  # type: ignore[valid-type]
        return FRAME

    @pipeline.task(name="same")
    def b() -> Dataset("y"):  # type: ignore[valid-type]
        return FRAME

    return pipeline


def bad_return_annotation(tmp: Path) -> object:
    pipeline = Pipeline("p")

    @pipeline.task()
    def a() -> 42:  # type: ignore[valid-type]
        return FRAME

    return pipeline


def unresolvable_annotation(tmp: Path) -> object:
    pipeline = Pipeline("p")

    def a(x: no_such_dataset) -> Dataset("y"):  # type: ignore[name-defined,valid-type]  # noqa: F821
        return x

    return pipeline.task()(a)


DAGS = rows(
    "Pipeline.validate",
    [
        ("two producers", two_producers, DuplicateProducerError, ["'shared'", "one producer"]),
        (
            "same name, two storages",
            same_name("a.parquet", "b.parquet"),
            DuplicateDatasetError,
            ["'same'", "declared at", "declare the dataset once"],
        ),
        (
            "same name, both in memory",
            same_name(None, None),
            DuplicateDatasetError,
            ["'same'", "rename one"],
        ),
        (
            "same name, read and written",
            same_name_read,
            DuplicateDatasetError,
            ["'same'", "task 'a'", "task 'b'"],
        ),
        ("cycle", cycle, CycleError, ["a --x--> b --y--> a", "Break the cycle"]),
        ("missing input", missing_input, MissingInputError, ["'nowhere'", "storage"]),
        ("duplicate task name", duplicate_task, DuplicateTaskError, ["'same'", "name"]),
        ("return annotation 42", bad_return_annotation, InvalidAnnotationError, ["42"]),
        (
            "unresolvable annotation",
            unresolvable_annotation,
            InvalidAnnotationError,
            ["no_such_dataset"],
        ),
    ],
)

# -- declarations: tasks ---------------------------------------------------------------------

BAD_TASK_OPTIONS: list[tuple[str, Any, Sequence[str]]] = [
    ("retries", -1, ["retries=-1"]),
    ("retries", 101, ["retries=101"]),
    ("retries", True, ["retries=True", "boolean"]),
    ("retries", "many", ["retries='many'"]),
    ("retries", 1.5, ["retries=1.5"]),
    ("timeout", 0, ["timeout=0"]),
    ("timeout", -5, ["timeout=-5"]),
    ("timeout", math.inf, ["timeout=inf", "finite"]),
    ("timeout", math.nan, ["timeout=nan", "finite"]),
    ("timeout", True, ["timeout=True", "boolean"]),
    ("timeout", "soon", ["timeout='soon'"]),
    ("retry_delay", -1, ["retry_delay=-1"]),
    ("retry_delay", math.inf, ["retry_delay=inf"]),
    ("backoff", 0.5, ["backoff=0.5"]),
    ("backoff", False, ["backoff=False"]),
    ("max_delay", -1, ["max_delay=-1"]),
    ("jitter", -0.1, ["jitter=-0.1"]),
    ("jitter", math.nan, ["jitter=nan"]),
    ("executor", "spark", ["executor='spark'", "'local' or 'dask'"]),
    ("executor", 42, ["executor=42"]),
    ("retry_on", [42], ["retry_on=[42]", "exception types"]),
    ("retry_on", "ValueError", ["retry_on='ValueError'", "exception types"]),
    ("retry_on", int, ["retry_on", "exception types"]),
    ("cache", "maybe", ["cache='maybe'"]),
    ("cache_version", 3.5, ["cache_version=3.5"]),
    ("tags", 42, ["tags=42"]),
    ("tags", {"Team": 5}, ["tags.Team=5"]),
]

TASKS = (
    rows(
        "@pipeline.task(option=)",
        [
            (
                f"{option}={value!r}",
                lambda t, o=option, v=value: one_task(**{o: v}),
                ConfigError,
                [*words, "Task 'make'"],
            )
            for option, value, words in BAD_TASK_OPTIONS
        ],
    )
    + rows(
        "TaskConfig.refine",
        [
            (
                f"{option}={value!r}",
                lambda t, o=option, v=value: TaskConfig().refine(**{o: v}),
                ConfigError,
                words,
            )
            for option, value, words in BAD_TASK_OPTIONS
            if option != "tags"
        ],
    )
    + rows(
        "@pipeline.task(...)",
        [
            ("unknown option", lambda t: one_task(retry=3), ConfigError, ["retry", "allowed"]),
            ("two unknown options", lambda t: one_task(x=1, y=2), ConfigError, ["'x'", "'y'"]),
        ],
    )
    + rows(
        "task function",
        [
            ("generator", task_function(gen), InvalidTaskError, ["gen", "generator", "'def'"]),
            ("async", task_function(coro), InvalidTaskError, ["coro", "async", "asyncio.run"]),
            ("async generator", task_function(agen), InvalidTaskError, ["agen", "generator"]),
            ("not callable: 42", task_function(42), InvalidTaskError, ["42", "'def'"]),
            ("not callable: str", task_function("f"), InvalidTaskError, ["'f'", "'def'"]),
        ],
    )
)

# -- declarations: datasets ------------------------------------------------------------------

DATASETS = (
    rows(
        "Dataset(storage=)",
        [
            ("''", lambda t: Dataset("d", storage=""), PipelineDefinitionError, ["storage=''"]),
            ("'  '", lambda t: Dataset("d", storage="  "), PipelineDefinitionError, ["'  '"]),
            (
                "NUL",
                lambda t: Dataset("d", storage="a\x00.parquet"),
                PipelineDefinitionError,
                ["not a path"],
            ),
            (
                "42",
                lambda t: Dataset("d", storage=42),
                PipelineDefinitionError,
                ["int", "42", "Bucket"],
            ),
            (
                "dict",
                lambda t: Dataset("d", storage={"bucket": "x"}),
                PipelineDefinitionError,
                ["dict", "'bucket'"],
            ),
            (
                "list",
                lambda t: Dataset("d", storage=["x.csv"]),
                PipelineDefinitionError,
                ["list", "'x.csv'"],
            ),
            (
                "object()",
                lambda t: Dataset("d", storage=object()),
                PipelineDefinitionError,
                ["object", "path or URI"],
            ),
            (
                "a Pipeline",
                lambda t: Dataset("d", storage=Pipeline("q")),
                PipelineDefinitionError,
                ["Pipeline"],
            ),
            (
                "x.avro",
                lambda t: Dataset("d", storage="x.avro"),
                UnknownFormatError,
                ["'d'", "avro", "parquet"],
            ),
            ("x.parq", lambda t: Dataset("d", storage="data/x.parq"), UnknownFormatError, ["parq"]),
            (
                "ftp://",
                lambda t: Dataset("d", storage="ftp://host/x.parquet"),
                ConfigError,
                ["ftp"],
            ),
            (
                "s3:// no bucket",
                lambda t: Dataset("d", storage="s3:///x.parquet"),
                ConfigError,
                ["s3:///x.parquet"],
            ),
        ],
    )
    + rows(
        "Dataset(schema=)",
        [
            (
                "'amount'",
                lambda t: Dataset("d", schema="amount"),
                PipelineDefinitionError,
                ["'amount'", "pl.Float64"],
            ),
            (
                "['amount']",
                lambda t: Dataset("d", schema=["amount"]),
                PipelineDefinitionError,
                ["['amount']", "mapping"],
            ),
            (
                "{'a': 'int'}",
                lambda t: Dataset("d", schema={"a": "int"}),
                PipelineDefinitionError,
                ["'a'", "'int'", "polars"],
            ),
            (
                "{'a': int}",
                lambda t: Dataset("d", schema={"a": int}),
                PipelineDefinitionError,
                ["'a'", "int", "polars"],
            ),
            (
                "{1: Int64}",
                lambda t: Dataset("d", schema={1: pl.Int64}),
                PipelineDefinitionError,
                ["column names"],
            ),
            ("42", lambda t: Dataset("d", schema=42), PipelineDefinitionError, ["schema=42"]),
        ],
    )
    + rows(
        "Dataset(write=, options=)",
        [
            (
                "write on memory",
                lambda t: Dataset("d", write={"mode": "append"}),
                PipelineDefinitionError,
                ["'d'", "needs storage"],
            ),
            (
                "unknown write key",
                lambda t: Dataset("d", storage="x.parquet", write={"mod": "append"}),
                PipelineDefinitionError,
                ["'mod'", "Bucket.write"],
            ),
            (
                "merge without on",
                lambda t: Dataset("d", storage="x/", write={"mode": "merge"}),
                PipelineDefinitionError,
                ["merge", "'on'"],
            ),
            (
                "csv reader option",
                lambda t: Dataset("d", storage="x.csv", read_options={"sep": ";"}),
                UnknownOptionError,
                ["sep"],
            ),
            (
                "parquet writer option",
                lambda t: Dataset("d", storage="x.parquet", write_options={"compresion": "zstd"}),
                UnknownOptionError,
                ["compresion"],
            ),
            (
                "parquet reader option",
                lambda t: Dataset("d", storage="x.parquet", read_options={"separator": ";"}),
                UnknownOptionError,
                ["separator"],
            ),
        ],
    )
)

# -- Bucket: names, paths, formats, partitions, data, modes -----------------------------------

BAD_BUCKET_NAMES: list[Any] = [
    "../x",
    "..",
    ".",
    "/abs",
    "/tmp/elsewhere",
    "a/b",
    "a/../../b",
    "a\\b",
    "",
    "   ",
    " lead",
    "nul\x00",
    "new\nline",
    42,
    None,
]

BUCKETS = (
    rows(
        "provider.bucket(bucket_name=)",
        [
            (repr(n), lambda t, n=n: bucket(t, n), ConfigError, [repr(n), "path="])
            for n in BAD_BUCKET_NAMES
        ],
    )
    + rows(
        "provider.bucket(path=)",
        [
            (
                "'../x.parquet'",
                lambda t: bucket(t, path="../x.parquet"),
                ConfigError,
                ["'../x.parquet'", "leaves the bucket"],
            ),
            (
                "'a/../../b'",
                lambda t: bucket(t, path="a/../../b.parquet"),
                ConfigError,
                ["leaves the bucket"],
            ),
            (
                "'..\\\\x'",
                lambda t: bucket(t, path="..\\x.parquet"),
                ConfigError,
                ["leaves the bucket"],
            ),
            ("'a/..'", lambda t: bucket(t, path="a/.."), ConfigError, ["leaves the bucket"]),
            ("NUL", lambda t: bucket(t, path="a\x00.parquet"), ConfigError, ["control character"]),
            ("'x^y/' (a table)", lambda t: bucket(t, path="x^y/"), ConfigError, ["'x^y/'", "'^'"]),
            ("'x|y/' (a table)", lambda t: bucket(t, path="x|y/"), ConfigError, ["'x|y/'", "'|'"]),
            (
                "'[x]/' (a table)",
                lambda t: bucket(t, path="[x]/"),
                ConfigError,
                ["'[x]/'", "without brackets"],
            ),
            (
                "bucket 'a[b' (a table)",
                lambda t: bucket(t, "a[b"),
                ConfigError,
                ["'a[b'", "without brackets"],
            ),
            ("42", lambda t: bucket(t, path=42), ConfigError, ["path=42", "string"]),
            ("None", lambda t: bucket(t, path=None), ConfigError, ["path=None"]),
        ],
    )
    + rows(
        "provider.bucket(format=)",
        [
            (
                "None",
                lambda t: bucket(t, path="x.parquet", format=None),
                UnknownFormatError,
                ["None", "parquet"],
            ),
            ("42", lambda t: bucket(t, path="x.parquet", format=42), UnknownFormatError, ["42"]),
            (
                "'avro'",
                lambda t: bucket(t, path="x.avro", format="avro"),
                UnknownFormatError,
                ["'avro'", "format='parquet'"],
            ),
            (
                "'xls'",
                lambda t: bucket(t, path="x.xls", format="xls"),
                UnknownFormatError,
                ["'xls'"],
            ),
            (
                "'delta' on a file",
                lambda t: bucket(t, path="x.parquet", format="delta"),
                ConfigError,
                ["delta", "directory"],
            ),
            (
                "'pickle' on a directory",
                lambda t: bucket(t, path="models/", format="pickle"),
                ConfigError,
                ["pickle", "Name the object"],
            ),
            ("'text' without path", lambda t: bucket(t, format="text"), ConfigError, ["text"]),
            (
                "pickle refused",
                lambda t: local(t, allow_pickle=False).bucket("m", path="m.pkl", format="pickle"),
                ConfigError,
                ["pickle", "allow_pickle"],
            ),
        ],
    )
    + rows(
        "provider.bucket(partition_by=)",
        [
            (
                "'day'",
                lambda t: bucket(t, path="t/", partition_by="day"),
                ConfigError,
                ["'day'", "['day']"],
            ),
            ("[42]", lambda t: bucket(t, path="t/", partition_by=[42]), ConfigError, ["[42]"]),
            ("['']", lambda t: bucket(t, path="t/", partition_by=[""]), ConfigError, ["['']"]),
            ("42", lambda t: bucket(t, path="t/", partition_by=42), ConfigError, ["42"]),
            (
                "on json",
                lambda t: bucket(t, path="t/", format="json", partition_by=["day"]),
                ConfigError,
                ["partition_by=['day']", "'json'"],
            ),
        ],
    )
    + rows(
        "provider.bucket(options=)",
        [
            (
                "read option",
                lambda t: bucket(t, path="x.csv", format="csv", read_options={"sep": ";"}),
                UnknownOptionError,
                ["sep"],
            ),
            (
                "write option",
                lambda t: bucket(t, path="x.parquet", write_options={"level": 3}),
                UnknownOptionError,
                ["level"],
            ),
        ],
    )
)


def write(data: Any, path: str = "x.parquet", **kwargs: Any) -> Call:
    def call(tmp: Path) -> object:
        fmt = kwargs.pop("format", "parquet")
        return bucket(tmp, path=path, format=fmt).write(data, **kwargs)

    return call


def read_only(tmp: Path) -> object:
    return bucket(tmp, path="x.parquet", read_only=True).write(FRAME)


def delete_read_only(tmp: Path) -> object:
    return bucket(tmp, path="x.parquet", read_only=True).delete()


def read_missing(tmp: Path) -> object:
    return bucket(tmp, path="missing.parquet").read()


IO = (
    rows(
        "Bucket.write(data=)",
        [
            ("42", write(42), InvalidDataError, ["int"]),
            ("'text'", write("text"), InvalidDataError, ["str"]),
            ("None", write(None), InvalidDataError, ["None"]),
            ("dict of lists", write({"a": [1]}), InvalidDataError, ["dict"]),
            ("a list", write([1, 2]), InvalidDataError, ["list"]),
            (
                "frame to a text object",
                write(FRAME, "x.txt", format="text"),
                InvalidDataError,
                ["text"],
            ),
        ],
    )
    + rows(
        "Bucket.write(mode=)",
        [
            ("'upsert'", write(FRAME, mode="upsert"), ConfigError, ["'upsert'"]),
            ("merge on a file", write(FRAME, mode="merge", on=["id"]), ConfigError, ["merge"]),
            (
                "merge without on",
                write(FRAME, "t/", mode="merge"),
                MergeKeyError,
                ["merge", "on=["],
            ),
            (
                "merge on a missing key",
                write(FRAME, "t/", mode="merge", on=["nope"]),
                MergeKeyError,
                ["['nope']", "fix on="],
            ),
            ("schema='replace'", write(FRAME, "t/", schema="replace"), ConfigError, ["'replace'"]),
        ],
    )
    + rows(
        "Bucket (read_only, missing)",
        [
            ("write read_only", read_only, ReadOnlyError, ["read_only"]),
            ("delete read_only", delete_read_only, ReadOnlyError, ["read_only"]),
            ("read a missing object", read_missing, ObjectNotFoundError, ["missing.parquet"]),
        ],
    )
)

# -- raw Pulumi resources as storage ---------------------------------------------------------


def raw(factory: Callable[[], Any]) -> Call:
    def call(tmp: Path) -> object:
        return Dataset("d", storage=factory())

    return call


def _role() -> Any:
    import pulumi_aws as aws

    return aws.iam.Role.__new__(aws.iam.Role)


def _queue() -> Any:
    import pulumi_aws as aws

    return aws.sqs.Queue.__new__(aws.sqs.Queue)


def _policy() -> Any:
    import pulumi_aws as aws

    return aws.iam.Policy.__new__(aws.iam.Policy)


def _lambda() -> Any:
    import pulumi_aws as aws

    return aws.lambda_.Function.__new__(aws.lambda_.Function)


RAW = rows(
    "Dataset(storage=<Pulumi resource>)",
    [
        ("aws.iam.Role", raw(_role), PipelineDefinitionError, ["Role", "aws.s3.Bucket"]),
        ("aws.sqs.Queue", raw(_queue), PipelineDefinitionError, ["Queue", "aws.s3.Bucket"]),
        ("aws.iam.Policy", raw(_policy), PipelineDefinitionError, ["Policy"]),
        ("aws.lambda_.Function", raw(_lambda), PipelineDefinitionError, ["Function"]),
    ],
)

# -- provider and resource configs -----------------------------------------------------------


def aws_bucket(name: str) -> Call:
    def call(tmp: Path) -> object:
        return Provider(config=AwsConfig(region="us-east-1")).bucket(name)

    return call


def azure_container(name: str) -> Call:
    def call(tmp: Path) -> object:
        return Provider(config=AzureConfig(storage_account="acmedata")).bucket(name)

    return call


CONFIGS = (
    rows(
        "AwsConfig",
        [
            (
                "account_id='123'",
                lambda t: AwsConfig(region="us-east-1", account_id="123"),
                ConfigError,
                ["account_id='123'", "12 digits"],
            ),
            ("region='mars-1'", lambda t: AwsConfig(region="mars-1"), ConfigError, ["mars-1"]),
            (
                "access_key=",
                lambda t: AwsConfig(region="us-east-1", access_key="AKIA"),
                CredentialsInCodeError,
                ["access_key", "profile"],
            ),
            (
                "secret_key=",
                lambda t: AwsConfig(region="us-east-1", secret_key="x"),
                CredentialsInCodeError,
                ["secret_key"],
            ),
            (
                "session_token=",
                lambda t: AwsConfig(region="us-east-1", session_token="x"),
                CredentialsInCodeError,
                ["session_token"],
            ),
            (
                "endpoint with password",
                lambda t: AwsConfig(region="us-east-1", endpoint_url="http://u:p@localhost:9000"),
                CredentialsInCodeError,
                ["password"],
            ),
            (
                "endpoint not a URL",
                lambda t: AwsConfig(region="us-east-1", endpoint_url="localhost"),
                ConfigError,
                ["endpoint_url"],
            ),
            (
                "session_duration=60",
                lambda t: AwsConfig(region="us-east-1", session_duration=60),
                ConfigError,
                ["session_duration=60", "900"],
            ),
            (
                "unknown field",
                lambda t: AwsConfig(region="us-east-1", regoin="x"),
                ConfigError,
                ["regoin"],
            ),
            (
                "role_arn='admin'",
                lambda t: AwsConfig(region="us-east-1", role_arn="admin"),
                ConfigError,
                ["role_arn='admin'"],
            ),
        ],
    )
    + rows(
        "GcpConfig / AzureConfig / LocalConfig",
        [
            ("gcp project='X'", lambda t: GcpConfig(project="X"), ConfigError, ["project='X'"]),
            (
                "gcp credentials=",
                lambda t: GcpConfig(project="my-project", credentials="{}"),
                CredentialsInCodeError,
                ["credentials"],
            ),
            (
                "azure account_key=",
                lambda t: AzureConfig(account_key="x"),
                CredentialsInCodeError,
                ["account_key"],
            ),
            (
                "azure connection_string=",
                lambda t: AzureConfig(connection_string="x"),
                CredentialsInCodeError,
                ["connection_string"],
            ),
            (
                "azure storage_account='Bad_Name'",
                lambda t: AzureConfig(storage_account="Bad_Name"),
                ConfigError,
                ["'Bad_Name'"],
            ),
            ("local unknown field", lambda t: LocalConfig(basepath="x"), ConfigError, ["basepath"]),
        ],
    )
    + rows(
        "provider.bucket on AWS",
        [
            (repr(n), aws_bucket(n), ConfigError, [repr(n), "prod-sales-data"])
            for n in [
                "Sales_Data",
                "ab",
                "x" * 64,
                "xn--bucket",
                "bucket-s3alias",
                "192.168.1.1",
                "a..b",
                "-lead",
            ]
        ],
    )
    + rows(
        "AzureConfig / provider.bucket on Azure / ContainerAppConfig",
        [
            (
                "azure subscription_id='nope'",
                lambda t: AzureConfig(subscription_id="nope"),
                ConfigError,
                ["subscription_id='nope'", "GUID"],
            ),
            (
                "azure location='moon'",
                lambda t: AzureConfig(location="moon"),
                ConfigError,
                ["location='moon'", "westeurope"],
            ),
            (
                "azure resource_group='bad/rg'",
                lambda t: AzureConfig(resource_group="bad/rg"),
                ConfigError,
                ["resource_group='bad/rg'"],
            ),
            (
                "azure storage_account='ab'",
                lambda t: AzureConfig(storage_account="ab"),
                ConfigError,
                ["storage_account='ab'", "3 to 24"],
            ),
            (
                "[buckets] container 'Bad_Name' in azure settings",
                lambda t: GlacierSettings.model_validate(
                    {
                        "env": "dev",
                        "provider": {"kind": "azure", "storage_account": "acme"},
                        "buckets": {"raw": {"bucket_name": "Bad_Name"}},
                    }
                ),
                ConfigError,
                ["buckets.raw.bucket_name='Bad_Name'", "sales-data"],
            ),
            *[
                (repr(n), azure_container(n), ConfigError, [repr(n), "sales-data"])
                for n in ["Lake_Data", "ab", "a--b", "-lead", "x" * 64]
            ],
            (
                "container_app cpu=0.5 memory=4",
                lambda t: ContainerAppConfig(cpu=0.5, memory=4),
                ConfigError,
                ["memory=4.0", "cpu=0.5", "memory=1.0"],
            ),
            (
                "container_app cpu=5",
                lambda t: ContainerAppConfig(cpu=5, memory=10),
                ConfigError,
                ["cpu=5.0", "0.25 to 4.0"],
            ),
        ],
    )
    + rows(
        "AzurePostgresConfig / Azure network settings",
        [
            (
                "azure_postgres without entra_admin",
                lambda t: AzurePostgresConfig(),
                ConfigError,
                ["entra_admin is required", "object_id"],
            ),
            (
                "entra_admin object_id='admins'",
                lambda t: AzurePostgresConfig(entra_admin={"name": "a", "object_id": "admins"}),
                ConfigError,
                ["entra_admin.object_id='admins'", "GUID"],
            ),
            (
                "azure_postgres sku_name='B1ms'",
                lambda t: AzurePostgresConfig(entra_admin=ENTRA_ADMIN, sku_name="B1ms"),
                ConfigError,
                ["sku_name='B1ms'", "Standard_B1ms"],
            ),
            (
                "azure_postgres storage_size_gb=100",
                lambda t: AzurePostgresConfig(entra_admin=ENTRA_ADMIN, storage_size_gb=100),
                ConfigError,
                ["storage_size_gb=100", "128"],
            ),
            (
                "azure_postgres backup_retention_days=3",
                lambda t: AzurePostgresConfig(entra_admin=ENTRA_ADMIN, backup_retention_days=3),
                ConfigError,
                ["backup_retention_days=3", "7 to 35"],
            ),
            (
                "azure_postgres high availability on Burstable",
                lambda t: AzurePostgresConfig(
                    entra_admin=ENTRA_ADMIN, high_availability="ZoneRedundant"
                ),
                ConfigError,
                ["high_availability='ZoneRedundant'", "Burstable", "Standard_D2ds_v5"],
            ),
            (
                "[databases] azure_postgres with password_secret",
                settings_file(
                    '[provider]\nkind = "azure"\n[secrets]\npw = { env = "PW" }\n'
                    '[databases.wh]\nidentifier = "acme-wh"\npassword_secret = "pw"\n'
                    '[databases.wh.azure_postgres]\nentra_admin = { name = "admins", '
                    f'object_id = "{ENTRA_ADMIN["object_id"]}" }}\n'
                ),
                ConfigError,
                ["azure_postgres", "Entra", "remove password_secret"],
            ),
            (
                "azure database_subnet_id='db'",
                lambda t: AzureConfig(database_subnet_id="db", apps_subnet_id=subnet_id("apps")),
                ConfigError,
                ["database_subnet_id='db'", "virtualNetworks"],
            ),
            (
                "azure apps_subnet_id alone",
                lambda t: AzureConfig(apps_subnet_id=subnet_id("apps")),
                ConfigError,
                ["apps_subnet_id is set alone", "database_subnet_id"],
            ),
            (
                "azure subnets of two networks",
                lambda t: AzureConfig(
                    database_subnet_id=subnet_id("db"), apps_subnet_id=subnet_id("apps", "other")
                ),
                ConfigError,
                ["different virtual networks", "same network"],
            ),
            (
                "azure private_dns_zone_id of another zone",
                lambda t: AzureConfig(
                    database_subnet_id=subnet_id("db"),
                    apps_subnet_id=subnet_id("apps"),
                    private_dns_zone_id=subnet_id("db").split("/providers/")[0]
                    + "/providers/Microsoft.Network/privateDnsZones/example.com",
                ),
                ConfigError,
                ["private_dns_zone_id=", "postgres.database.azure.com"],
            ),
            (
                "azure private_dns_zone_id without subnets",
                lambda t: AzureConfig(
                    private_dns_zone_id=subnet_id("db").split("/providers/")[0]
                    + "/providers/Microsoft.Network/privateDnsZones/"
                    "privatelink.postgres.database.azure.com"
                ),
                ConfigError,
                ["private_dns_zone_id is set without", "name the subnets"],
            ),
            (
                "[databases] rds in azure settings",
                settings_file(
                    '[provider]\nkind = "azure"\n'
                    '[databases.wh]\nidentifier = "acme-wh"\nrds = { instance_class = '
                    '"db.t3.micro" }\n'
                ),
                ConfigError,
                ["databases.wh.rds", "'azure'", "azure_postgres"],
            ),
            (
                "[databases] azure_postgres in aws settings",
                settings_file(
                    '[provider]\nkind = "aws"\nregion = "us-east-1"\n'
                    '[databases.wh]\nidentifier = "acme-wh"\n'
                    '[databases.wh.azure_postgres]\nentra_admin = { name = "admins", '
                    f'object_id = "{ENTRA_ADMIN["object_id"]}" }}\n'
                ),
                ConfigError,
                ["databases.wh.azure_postgres", "'aws'", "use databases.wh.rds"],
            ),
            (
                "AzurePostgresConfig on an AWS provider",
                lambda t: Provider(config=AwsConfig(region="us-east-1")).database(
                    "wh", config=AzurePostgresConfig(entra_admin=ENTRA_ADMIN)
                ),
                ConfigError,
                ["AzurePostgresConfig", "aws provider", "Use RdsConfig"],
            ),
        ],
    )
    + rows(
        "LambdaConfig / EcsConfig",
        [
            ("memory=64", lambda t: LambdaConfig(memory=64), ConfigError, ["memory=64", "128"]),
            (
                "memory=20000",
                lambda t: LambdaConfig(memory=20000),
                ConfigError,
                ["memory=20000", "10240"],
            ),
            (
                "timeout=901",
                lambda t: LambdaConfig(timeout=901),
                ConfigError,
                ["timeout=901", "900"],
            ),
            (
                "runtime='python2.7'",
                lambda t: LambdaConfig(runtime="python2.7"),
                ConfigError,
                ["python2.7"],
            ),
            (
                "DB_PASSWORD",
                lambda t: LambdaConfig(environment_vars={"DB_PASSWORD": "x"}),
                CredentialsInCodeError,
                ["DB_PASSWORD", "Secrets Manager"],
            ),
            (
                "STRIPE_API_KEY",
                lambda t: LambdaConfig(environment_vars={"STRIPE_API_KEY": "x"}),
                CredentialsInCodeError,
                ["STRIPE_API_KEY"],
            ),
            (
                "github_token",
                lambda t: LambdaConfig(environment_vars={"github_token": "x"}),
                CredentialsInCodeError,
                ["github_token"],
            ),
            (
                "AWS_SECRET_ACCESS_KEY",
                lambda t: LambdaConfig(environment_vars={"AWS_SECRET_ACCESS_KEY": "x"}),
                CredentialsInCodeError,
                ["AWS_SECRET_ACCESS_KEY"],
            ),
            (
                "reserved AWS_REGION",
                lambda t: LambdaConfig(environment_vars={"AWS_REGION": "x"}),
                ConfigError,
                ["AWS_REGION", "Lambda runtime"],
            ),
            (
                "six layers",
                lambda t: LambdaConfig(
                    layers=[f"arn:aws:lambda:us-east-1:123456789012:layer:l{i}:1" for i in range(6)]
                ),
                ConfigError,
                ["5 layers"],
            ),
            (
                "ecs SECRET_TOKEN",
                lambda t: EcsConfig(environment_vars={"SECRET_TOKEN": "x"}),
                CredentialsInCodeError,
                ["SECRET_TOKEN"],
            ),
            ("ecs cpu=0", lambda t: EcsConfig(cpu=0), ConfigError, ["cpu=0"]),
            (
                "ecs image with space",
                lambda t: EcsConfig(image="acme etl"),
                ConfigError,
                ["'acme etl'"],
            ),
        ],
    )
)

# -- environments ----------------------------------------------------------------------------


def aws_environment(**kwargs: Any) -> Call:
    def call(tmp: Path) -> object:
        from glacier import AWSEnvironment

        return AWSEnvironment(region="us-east-1", **kwargs)

    return call


ENVIRONMENTS = rows(
    "Environment / AWSEnvironment",
    [
        (
            "provider='x'",
            lambda t: Environment(provider="x"),
            ConfigError,
            ["'x'", "Provider(config="],
        ),
        (
            "provider=42",
            lambda t: Environment(provider=42),
            ConfigError,
            ["42", "Provider(config="],
        ),
        (
            "provider=AwsConfig",
            lambda t: Environment(provider={"kind": "aws"}),
            ConfigError,
            ["dict", "Provider(config="],
        ),
        (
            "access_key=",
            aws_environment(access_key="AKIA"),
            CredentialsInCodeError,
            ["access_key", "profile"],
        ),
        ("secret_key=", aws_environment(secret_key="x"), CredentialsInCodeError, ["secret_key"]),
        ("password=", aws_environment(password="x"), CredentialsInCodeError, ["password"]),
        ("account_id='12'", aws_environment(account_id="12"), ConfigError, ["account_id='12'"]),
        (
            "env.get('nope')",
            lambda t: Environment.local(t / "d").get("nope"),
            UnknownResourceError,
            ["'nope'"],
        ),
        (
            "executor('spark')",
            lambda t: Environment.local(t / "d").executor("spark"),
            ConfigError,
            ["'spark'", "'local'"],
        ),
    ],
)

# -- run arguments ---------------------------------------------------------------------------


def local_executor(workers: Any) -> Call:
    def call(tmp: Path) -> object:
        from glacier import LocalExecutor

        return LocalExecutor(max_workers=workers)

    return call


def dask_executor(**kwargs: Any) -> Call:
    def call(tmp: Path) -> object:
        from glacier.executors.dask import DaskExecutor

        return DaskExecutor(**kwargs)

    return call


RUNS = rows(
    "pipeline.run(...)",
    [
        ("targets=[42]", run_with(targets=[42]), UnknownTaskError, ["42", "task name"]),
        ("targets=['nope']", run_with(targets=["nope"]), UnknownTaskError, ["'nope'", "make"]),
        ("targets=[None]", run_with(targets=[None]), UnknownTaskError, ["None"]),
        ("env='dev'", run_with(env="dev"), ConfigError, ["env='dev'", "GLACIER_ENV=dev"]),
        ("env=42", run_with(env=42), ConfigError, ["env=42", "Environment"]),
        ("executor=42", run_with(executor=42), ConfigError, ["executor=42", "LocalExecutor"]),
        ("executor='spark'", run_with(executor="spark"), ConfigError, ["'spark'"]),
        (
            "executor=object()",
            run_with(executor=object()),
            ConfigError,
            ["object", "LocalExecutor"],
        ),
        ("hooks=[42]", run_with(hooks=[42]), ConfigError, ["42", "on_task_end"]),
        ("hooks=['x']", run_with(hooks=["x"]), ConfigError, ["'x'", "RunHooks"]),
        ("mode='deploy'", run_with(mode="deploy"), ConfigError, ["'deploy'"]),
        ("params unknown task", run_with(params={"nope.x": 1}), UnknownTaskError, ["nope"]),
        ("params unknown parameter", run_with(params={"make.x": 1}), UnknownTaskError, ["'x'"]),
        (
            "select and targets",
            run_with(select=["make"], targets=["make"]),
            ConfigError,
            ["targets=", "select="],
        ),
        ("select='tag:'", run_with(select=["tag:"]), UnknownTaskError, ["''"]),
        ("select='+'", run_with(select=["+"]), UnknownTaskError, ["'+'"]),
        ("exclude='nope'", run_with(exclude=["nope"]), UnknownTaskError, ["'nope'"]),
        ("resume='r-1'", run_with(resume="r-1"), UnknownRunError, ["'r-1'"]),
        (
            "resume='last' with no run",
            run_with(resume="last"),
            UnknownRunError,
            ["No recorded run", "without resume="],
        ),
        (
            "resume= a run of another pipeline",
            resume_another_pipelines_run,
            ForeignRunError,
            ["pipeline 'other', not of 'p'", "--resume"],
        ),
    ],
) + rows(
    "executors",
    [
        ("LocalExecutor('4')", local_executor("4"), ConfigError, ["max_workers='4'"]),
        ("LocalExecutor(0)", local_executor(0), ConfigError, ["max_workers=0"]),
        ("LocalExecutor(True)", local_executor(True), ConfigError, ["max_workers=True"]),
        ("LocalExecutor(2.5)", local_executor(2.5), ConfigError, ["max_workers=2.5"]),
        (
            "DaskExecutor(address='nonsense')",
            dask_executor(address="nonsense"),
            ConfigError,
            ["'nonsense'", "tcp://scheduler:8786"],
        ),
        ("DaskExecutor(address=42)", dask_executor(address=42), ConfigError, ["address=42"]),
        ("DaskExecutor(n_workers=0)", dask_executor(n_workers=0), ConfigError, ["n_workers=0"]),
    ],
)

# -- settings files and environment variables ------------------------------------------------

NOT_UTF8 = b'naming_prefix = "caf\xe9"\n'

SETTINGS = rows(
    "settings file",
    [
        ("not UTF-8", settings_file(NOT_UTF8), ConfigError, ["dev.toml", "UTF-8"]),
        ("UTF-16", settings_file("x = 1\n".encode("utf-16")), ConfigError, ["UTF-8"]),
        ("not TOML", settings_file("[provider\n"), ConfigError, ["not valid TOML"]),
        ("unknown key", settings_file('naming_prefx = "x"\n'), ConfigError, ["naming_prefx"]),
        (
            "unknown provider kind",
            settings_file('[provider]\nkind = "ibm"\n'),
            ConfigError,
            ["ibm"],
        ),
        (
            "credentials in file",
            settings_file('[provider]\nkind = "aws"\nregion = "us-east-1"\naccess_key = "AKIA"\n'),
            CredentialsInCodeError,
            ["access_key"],
        ),
        (
            "account id",
            settings_file('[provider]\nkind = "aws"\nregion = "us-east-1"\naccount_id = "12"\n'),
            ConfigError,
            ["account_id", "'12'"],
        ),
        (
            "region",
            settings_file('[provider]\nkind = "aws"\nregion = "moon-1"\n'),
            ConfigError,
            ["moon-1"],
        ),
        (
            "max_workers = 0",
            settings_file("[executor]\nmax_workers = 0\n"),
            ConfigError,
            ["max_workers"],
        ),
        ("executor kind", settings_file('[executor]\nkind = "spark"\n'), ConfigError, ["'spark'"]),
        (
            "dask address",
            settings_file('[executor]\nkind = "dask"\naddress = "nonsense"\n'),
            ConfigError,
            ["'nonsense'", "host:port"],
        ),
        ("task retries", settings_file("[task]\nretries = -1\n"), ConfigError, ["retries"]),
        (
            "task timeout",
            settings_file("[task]\ntimeout = inf\n"),
            ConfigError,
            ["timeout", "finite"],
        ),
        ("tags not a table", settings_file('tags = "team"\n'), ConfigError, ["tags"]),
        (
            "a gcp secret that is no Secret Manager id",
            settings_file('[secrets]\napi_key = { gcp = "Trial-s3cret!" }\n'),
            ConfigError,
            ["secrets.api_key.gcp", "Secret Manager", "e.g. 'fmp-api-key'"],
        ),
        (
            "an azure secret that is no Key Vault name",
            settings_file('[secrets]\napi_key = { azure = "Trial_s3cret" }\n'),
            ConfigError,
            ["secrets.api_key.azure", "Key Vault", "e.g. 'fmp-api-key'"],
        ),
        (
            "a declared azure secret",
            settings_file('[secrets]\napi_key = { azure = "fmp-api-key", declare = true }\n'),
            ConfigError,
            ["secrets.api_key", "declare = true cannot create a Key Vault secret", "Drop"],
        ),
        (
            "env name '../x'",
            lambda t: GlacierSettings.load("../x", t),
            ConfigError,
            ["'../x'", "<name>.toml"],
        ),
        ("env name ''", lambda t: GlacierSettings.load("a b", t), ConfigError, ["'a b'"]),
        (
            "no such environment",
            lambda t: GlacierSettings.load("nope", t),
            UnknownEnvironmentError,
            ["'nope'"],
        ),
    ],
)


def variables(**values: str) -> Call:
    def call(tmp: Path) -> object:
        import os

        (tmp / "containers").mkdir(exist_ok=True)
        (tmp / "containers" / "dev.toml").write_text('[provider]\nkind = "local"\n')
        saved = {k: os.environ.get(k) for k in values}
        os.environ.update(values)
        try:
            return GlacierSettings.load("dev", tmp / "containers")
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    return call


VARIABLES = rows(
    "GLACIER_* variables",
    [
        (
            "GLACIER_EXECUTOR__MAX_WORKERS=many",
            variables(GLACIER_EXECUTOR__MAX_WORKERS="many"),
            ConfigError,
            ["GLACIER_EXECUTOR__MAX_WORKERS", "'many'"],
        ),
        (
            "GLACIER_EXECUTOR__KIND=spark",
            variables(GLACIER_EXECUTOR__KIND="spark"),
            ConfigError,
            ["GLACIER_EXECUTOR__KIND"],
        ),
        ("GLACIER_TAGS=notjson", variables(GLACIER_TAGS="notjson"), ConfigError, ["GLACIER_TAGS"]),
        (
            "GLACIER_TASK__RETRIES=-2",
            variables(GLACIER_TASK__RETRIES="-2"),
            ConfigError,
            ["retries"],
        ),
        (
            "GLACIER_PROVIDER__KIND=ibm",
            variables(GLACIER_PROVIDER__KIND="ibm"),
            ConfigError,
            ["ibm"],
        ),
    ],
)


#: Every API case, by entry point.
def through_symlink(link: str, path: str, action: str = "write") -> Call:
    """A bucket under a base path where ``link`` is a symbolic link pointing out of it."""

    def call(tmp: Path) -> object:
        outside = tmp / "outside"
        outside.mkdir(exist_ok=True)
        (tmp / "data" / link).parent.mkdir(parents=True, exist_ok=True)
        (tmp / "data" / link).symlink_to(outside, target_is_directory=True)
        target = local(tmp).bucket("lake", path)
        return target.write(FRAME) if action == "write" else getattr(target, action)()

    return call


def scan_truncated(path: str) -> Call:
    """scan() of a dataset whose (last) data file lost its second half."""

    def call(tmp: Path) -> object:
        target = local(tmp).bucket("lake", path)
        target.write(FRAME)
        victim = tmp / "data" / "lake" / target.list()[-1]
        victim.write_bytes(victim.read_bytes()[:100])
        return target.scan()

    return call


def store_config(model: type, fields: dict[str, Any]) -> Call:
    return lambda t: model(**fields)


STORE_SETTINGS = (
    rows(
        "store timeouts and attempts",
        [
            (
                f"{model.__name__}({field}={value!r})",
                store_config(model, {**required, field: value}),
                ConfigError,
                [f"{field}={value!r}" if not isinstance(value, str) else field, words],
            )
            for model, required in (
                (AwsConfig, {"region": "us-east-1"}),
                (GcpConfig, {"project": "acme-data"}),
                (AzureConfig, {"storage_account": "acmedata"}),
            )
            for field, value, words in (
                ("max_attempts", 0, "1 to 10"),
                ("max_attempts", 11, "1 to 10"),
                ("max_attempts", "many", "max_attempts"),
                ("read_timeout", 0, "0.1 to 600"),
                ("connect_timeout", 601, "0.1 to 600"),
            )
        ],
    )
    + rows(
        "LocalConfig(base_path=) with a symbolic link out of it",
        [
            (
                f"{link} -> outside, {action} {path}",
                through_symlink(link, path, action),
                ConfigError,
                ["outside the base path", link.split("/")[-1]],
            )
            for link, path, action in (
                ("lake", "a.parquet", "write"),
                ("lake", "t/", "write"),
                ("lake/t", "t/", "write"),
                ("lake/d", "d/a.csv", "write"),
                ("lake/_glacier", "a.parquet", "write"),
                ("lake", "a.parquet", "read"),
                ("lake", "t/", "delete"),
                ("lake/t", "t/", "list"),
            )
        ],
    )
    + rows(
        "Bucket.scan of a truncated data file",
        [
            (path, scan_truncated(path), CorruptDataError, ["is corrupt", "mode='overwrite'"])
            for path in ("a.parquet", "t/")
        ],
    )
)


# -- databases, secrets and the run store (issue 31) ----------------------------------------

#: Put where a password does not belong: no message may show it.
SECRET = "Trial-s3cret"


def connection(**fields: Any) -> Call:
    def call(tmp: Path) -> object:
        from glacier.settings import DatabaseConnection

        made = DatabaseConnection(**fields)
        return made.password(environ={})

    return call


def sqlite_write(frame: pl.DataFrame, **options: Any) -> Call:
    """Write ``frame`` into a SQLite table that holds FRAME, keyed by id."""

    def call(tmp: Path) -> object:
        settings = GlacierSettings(
            state_dir=tmp / "state", databases={"notes": {"url": f"sqlite:///{tmp}/n.db"}}
        )
        db = Environment.from_settings(settings).get("notes")
        db.table("t").write(FRAME, mode="upsert", on=["id"])
        db.table("t").write(frame, **options)
        return db

    return call


def run_store(make: Callable[[Path], Path], action: str = "list") -> Call:
    def call(tmp: Path) -> object:
        from glacier.runstore import RunStore

        store = RunStore(make(tmp))
        return store.list() if action == "list" else store.load("r1")

    return call


def _file_as_dir(tmp: Path) -> Path:
    (tmp / "runs").write_text("a file")
    return tmp / "runs"


def _dir_as_db(tmp: Path) -> Path:
    (tmp / "runs" / "runs.sqlite").mkdir(parents=True)
    return tmp / "runs"


DATABASES = (
    rows(
        "DatabaseConnection(url=)",
        [
            (
                f"{where} password",
                connection(url=url),
                CredentialsInCodeError,
                ["password_env", where],
            )
            for where, url in (
                ("user info", f"postgresql://etl:{SECRET}@db/x"),
                ("query parameter 'password'", f"postgresql://etl@db/x?password={SECRET}"),
                ("query parameter 'sslpassword'", f"postgresql://etl@db/x?sslpassword={SECRET}"),
                ("keyword 'password'", f"host=db password={SECRET}"),
            )
        ]
        + [
            ("a key=value DSN", connection(url="host=db dbname=x"), ConfigError, ["not a URL"]),
            ("mysql://", connection(url="mysql://etl@db/x"), ConfigError, ["'mysql'"]),
            (
                "a port that is no number",
                connection(url="postgresql://e@db:x/d"),
                ConfigError,
                ["port"],
            ),
        ],
    )
    + rows(
        "DatabaseConnection(password_env=)",
        [
            (
                "a password",
                connection(password_env=f"{SECRET}!"),
                ConfigError,
                ["not the password"],
            ),
            (
                "a name of an unset variable",
                connection(password_env="Hunter2x"),
                ConfigError,
                ["not set"],
            ),
        ],
    )
    + rows(
        "DatabaseTable.write (SQLite)",
        [
            (
                "a string into a REAL column",
                sqlite_write(FRAME.with_columns(pl.col("amount").cast(pl.String)), mode="append"),
                ColumnTypeError,
                ["'amount'", "String", "Nothing was written"],
            ),
            (
                "a column the table lacks",
                sqlite_write(FRAME.with_columns(x=pl.lit(1)), mode="append"),
                ColumnTypeError,
                ["['x']"],
            ),
            ("on=[]", sqlite_write(FRAME, mode="upsert", on=[]), TableKeyError, ["on=[]"]),
            ("on='id'", sqlite_write(FRAME, mode="upsert", on="id"), TableKeyError, ["on=['id']"]),
            (
                "on=['id', 'id']",
                sqlite_write(FRAME, mode="upsert", on=["id", "id"]),
                TableKeyError,
                ["more than once"],
            ),
            (
                "on with append",
                sqlite_write(FRAME, mode="append", on=["id"]),
                TableKeyError,
                ["'append'"],
            ),
            (
                "null keys",
                sqlite_write(FRAME.with_columns(id=pl.lit(None, pl.Int64)), mode="upsert"),
                TableKeyError,
                ["null key values", "['id']"],
            ),
            (
                "a key twice",
                sqlite_write(FRAME.with_columns(id=pl.lit(1)), mode="upsert"),
                TableKeyError,
                ["[1]", "duplicates='last'"],
            ),
            (
                "duplicates='first'",
                sqlite_write(FRAME, mode="upsert", duplicates="first"),
                ConfigError,
                ["'first'", "'last'"],
            ),
        ],
    )
    + rows(
        "RunStore",
        [
            ("a file as its directory", run_store(_file_as_dir), RunStoreError, ["is a file"]),
            ("a directory as its database", run_store(_dir_as_db), RunStoreError, ["not a file"]),
            (
                "a directory as its database, load",
                run_store(_dir_as_db, "load"),
                RunStoreError,
                ["Move it aside"],
            ),
        ],
    )
)


# -- Delta tables: options, versions, maintenance and a damaged log -------------------------


def table(tmp: Path, versions: int = 2) -> Any:
    """A local table ``t/`` with ``versions`` versions."""
    written = bucket(tmp, path="t/")
    for _ in range(versions):
        written.write(FRAME, mode="append")
    return written


def vacuumed(tmp: Path) -> object:
    written = table(tmp)
    written.write(FRAME)  # an overwrite: versions 0 and 1 need files vacuum may delete
    written.vacuum(timedelta(0), force=True)
    return written.scan(version=1).collect()


def damaged(harm: Callable[[Path], None]) -> Call:
    def call(tmp: Path) -> object:
        written = table(tmp, versions=3)
        harm(tmp / "data" / "raw" / "t" / "_delta_log")
        return written.read()

    return call


def _commit(version: int) -> str:
    return f"{version:020d}.json"


TABLES = (
    rows(
        "Dataset(read_options=, write_options=, write=)",
        [
            (
                "read_options=True",
                lambda t: Dataset("d", read_options=True),  # type: ignore[arg-type]
                PipelineDefinitionError,
                ["read_options=", "bool", "mapping"],
            ),
            (
                "write_options=['x']",
                lambda t: Dataset("d", write_options=["x"]),  # type: ignore[arg-type]
                PipelineDefinitionError,
                ["write_options=", "list", "mapping"],
            ),
            (
                "write='append'",
                lambda t: Dataset("d", storage="d.parquet", write="append"),  # type: ignore[arg-type]
                PipelineDefinitionError,
                ["write=", "str", "mapping"],
            ),
        ],
    )
    + rows(
        "Bucket.scan/read(**options)",
        [
            (
                "scan(sepparator=';')",
                lambda t: bucket(t, path="x.csv", format="csv").scan(sepparator=";"),
                UnknownOptionError,
                ["'sepparator'", "'separator'", "It takes:"],
            ),
            (
                "read(sepparator=';')",
                lambda t: bucket(t, path="x.csv", format="csv").read(sepparator=";"),
                UnknownOptionError,
                ["'sepparator'", "'separator'"],
            ),
        ],
    )
    + rows(
        "Bucket tables (versions, history, vacuum)",
        [
            (
                "read(version=datetime(2000, 1, 1))",
                lambda t: table(t).read(version=datetime(2000, 1, 1)),
                VersionNotFoundError,
                ["no version at 2000-01-01", "oldest version (0)"],
            ),
            (
                "scan(version=1) after vacuum",
                vacuumed,
                VersionNotFoundError,
                ["version 1", "vacuum"],
            ),
            (
                "history(limit=-1)",
                lambda t: table(t).history(-1),
                ConfigError,
                ["limit=-1", "at least 1"],
            ),
            (
                "vacuum(retention=-5 h)",
                lambda t: table(t).vacuum(timedelta(hours=-5)),
                RetentionError,
                ["retention=", "0 or more"],
            ),
        ],
    )
    + rows(
        "Bucket.read of a damaged table log",
        [
            (
                "empty newest commit",
                damaged(lambda log: (log / _commit(2)).write_bytes(b"")),
                CorruptDataError,
                [_commit(2), "is empty", "Repair:"],
            ),
            (
                "gap in the log",
                damaged(lambda log: (log / _commit(1)).unlink()),
                CorruptDataError,
                [_commit(1), "is missing", "gap", "Repair:"],
            ),
        ],
    )
)


# -- GCP (issue 24): settings refused at load, compute and labels refused at plan time -------


def _gcp_plan(tmp: Path, *, compute: str = "", tags: dict[str, str] | None = None) -> object:
    from glacier.infra import plan

    env = Provider(config=GcpConfig(project="acme-data-prod")).env(name="prod", tags=tags or {})
    hint = {
        "ecs": env.compute.ecs(),
        "glue": env.compute.glue(),
        "handler": env.provider.serverless("fn", handler="main"),
    }.get(compute)
    pipe = Pipeline("gcp_bad", env=env)
    out = Dataset("out", storage=env.storage.gcs("acme-gcp-bad", "out.parquet"))

    @pipe.task(compute=hint)
    def make() -> out:
        return FRAME

    return plan(pipe)


def _cloud_run(**values: Any) -> Call:
    from glacier.settings import CloudRunConfig

    return lambda t: CloudRunConfig(**values)


def _gcs(**values: Any) -> Call:
    from glacier.settings import GcsConfig

    return lambda t: GcsConfig(**values)


GCP_SETTINGS = """
name = "dev"
[provider]
kind = "gcp"
project_id = "acme-data-prod"
"""

GCP = rows(
    "GCP settings and plans",
    [
        (
            "gcp settings bucket_name='goog-lake'",
            settings_file(GCP_SETTINGS + '[buckets.raw]\nbucket_name = "goog-lake"\n'),
            ConfigError,
            ["bucket_name", "goog-lake"],
        ),
        (
            "gcp settings bucket_name='Lake'",
            settings_file(GCP_SETTINGS + '[buckets.raw]\nbucket_name = "Lake"\n'),
            ConfigError,
            ["bucket_name", "Lake"],
        ),
        (
            "gcp settings project_id='Acme'",
            settings_file(GCP_SETTINGS.replace("acme-data-prod", "Acme")),
            ConfigError,
            ["project", "Acme"],
        ),
        (
            "gcp settings region='europe-west99'",
            settings_file(GCP_SETTINGS + 'region = "europe-west99"\n'),
            ConfigError,
            ["region", "europe-west99"],
        ),
        (
            "gcp region='mars-1'",
            lambda t: GcpConfig(project="acme-data-prod", region="mars-1"),
            ConfigError,
            ["region", "'mars-1'"],
        ),
        (
            "gcp labels={'Team': 'x'}",
            lambda t: GcpConfig(project="acme-data-prod", labels={"Team": "x"}),
            ConfigError,
            ["labels", "Team"],
        ),
        (
            "gcs kms_key_name='key'",
            _gcs(kms_key_name="key"),
            ConfigError,
            ["kms_key_name", "cryptoKeys"],
        ),
        (
            "cloud_run cpu=1 memory=8192",
            _cloud_run(cpu=1, memory=8192),
            ConfigError,
            ["memory=8192", "cpu=1", "512 to 4096"],
        ),
        ("cloud_run cpu=3", _cloud_run(cpu=3), ConfigError, ["cpu"]),
        ("cloud_run timeout=0", _cloud_run(timeout=0), ConfigError, ["timeout"]),
        (
            "cloud_run environment_vars={'PORT': '1'}",
            _cloud_run(environment_vars={"PORT": "1"}),
            ConfigError,
            ["PORT", "Cloud Run"],
        ),
        (
            # env.compute.lambda_(...) runs as a Cloud Run job of its size (switching clouds
            # by settings); ECS and a function a task invokes are refused.
            "gcp task compute=ecs",
            lambda t: _gcp_plan(t, compute="ecs"),
            GlacierError,
            ["make", "env.compute.cloud_run(...)"],
        ),
        (
            "gcp task compute=serverless(handler=)",
            lambda t: _gcp_plan(t, compute="handler"),
            GlacierError,
            ["make", "handler=", "env.compute.cloud_run(...)"],
        ),
        (
            "gcp task compute=glue",
            lambda t: _gcp_plan(t, compute="glue"),
            GlacierError,
            ["make", "env.compute.cloud_run(...)"],
        ),
        (
            "gcp tag '1team'",
            lambda t: _gcp_plan(t, tags={"1team": "x"}),
            GlacierError,
            ["'1team'", "label key"],
        ),
        (
            "gcp tags 'Team' and 'team'",
            lambda t: _gcp_plan(t, tags={"Team": "a", "team": "b"}),
            GlacierError,
            ["'Team'", "'team'", "Rename one"],
        ),
    ],
)


API_CASES: list[Case] = [
    *NAMES,
    *PIPELINES,
    *DAGS,
    *TASKS,
    *DATASETS,
    *BUCKETS,
    *IO,
    *RAW,
    *CONFIGS,
    *STORE_SETTINGS,
    *ENVIRONMENTS,
    *RUNS,
    *SETTINGS,
    *VARIABLES,
    *DATABASES,
    *TABLES,
    *GCP,
]

from .check_cases import CHECKS  # noqa: E402  # its rows use the helpers above

API_CASES += CHECKS

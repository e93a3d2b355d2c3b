"""Checks of a dataset against its storage format, made before any work is lost.

Three moments matter. Where a :class:`~glacier.Dataset` is declared, its reader and writer
options and its schema must suit the format (:func:`check_dataset_storage`), so a misspelt
option fails on the line that wrote it, not deep inside polars at run time. Right after a
task returns, each stored output must be a value its format holds (:func:`check_outputs`):
a model returned for a parquet dataset is refused *before* anything is written, naming the
task, the dataset, the value's type and the format, so the fix (``format="joblib"``) is one
edit and no output is half-written. And where a Bucket of a format that runs code when
loaded is declared, the provider config's ``allow_pickle`` is asked
(:func:`check_pickle_allowed`).

This module sits beside the format catalogue: it imports :mod:`glacier.formats`,
:mod:`glacier.uris` and :mod:`glacier.errors` only (tasks, datasets and buckets are duck-typed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from glacier.errors import ConfigError, InvalidDataError, OutputTypeError, PickleNotAllowedError
from glacier.formats import (
    DEFAULT_FORMAT,
    Format,
    check_extra,
    check_options,
    check_value,
    get_format,
)
from glacier.uris import parse_uri

__all__ = ["check_dataset_storage", "check_outputs", "check_pickle_allowed", "storage_format"]


def storage_format(storage: Any) -> Format | None:
    """The format of a dataset's storage: a path's extension, a Bucket's ``format``, parquet
    for a raw Pulumi bucket (Glacier writes ``<dataset>.parquet`` there), ``None`` without
    storage."""
    if storage is None:
        return None
    if isinstance(storage, str):
        return get_format(parse_uri(storage).format)
    name = getattr(storage, "format", None)
    return get_format(name if isinstance(name, str) else DEFAULT_FORMAT)


def check_dataset_storage(dataset: Any) -> None:
    """Refuse, where the dataset is declared, options and a schema its format cannot use.

    Raises:
        UnknownOptionError: an option the format's reader or writer does not take.
        ConfigError: options or ``read_only`` without storage; a schema on a format that
            holds a Python value rather than a table.
    """
    where = f"Dataset {dataset.name!r}"
    fmt = storage_format(dataset.storage)
    if fmt is None:
        if dataset.read_options or dataset.write_options or dataset.read_only:
            raise ConfigError(
                f"{where} has no storage, so it is never read or written: read_options, "
                "write_options and read_only need storage=... (a path, URI or Bucket)."
            )
        return
    check_extra(fmt, where)
    check_options(fmt, "read", dataset.read_options, where)
    check_options(fmt, "write", dataset.write_options, where)
    if dataset.schema is not None and not fmt.frame:
        raise ConfigError(
            f"{where} declares a schema, but its format {fmt.name!r} holds {fmt.holds}, not a "
            "table. Drop schema=, or store the data in a table format (parquet, csv, ...)."
        )


def check_pickle_allowed(fmt: Format, config: Any, where: str) -> None:
    """Refuse a format that runs code when loaded if the provider config forbids it."""
    if fmt.executes_code and not getattr(config, "allow_pickle", True):
        raise PickleNotAllowedError(
            f"{where}: format {fmt.name!r} runs code from the data when it is loaded, and "
            "this environment's provider config sets allow_pickle=False. Store tables as "
            "parquet and documents as json-document, or set allow_pickle=True where the "
            "bucket is writable only by code you trust."
        )


def check_outputs(task: Any, outputs: Sequence[Any], storage: Mapping[Any, Any]) -> None:
    """Refuse, right after ``task`` returned and before anything is written, an output value
    its stored dataset's format does not hold. ``storage`` maps datasets to their Buckets.

    Raises:
        OutputTypeError: naming the task, the dataset, the value's type and the format.
    """
    for dataset, value in zip(task.outputs, outputs, strict=False):
        bucket = storage.get(dataset)
        if bucket is None:
            continue
        fmt = get_format(bucket.format)
        where = f"Task {task.name!r} ({task.location}), stored dataset {dataset.name!r}"
        try:
            check_value(fmt, value, where)
        except InvalidDataError as exc:
            keep = ""
            if fmt.frame and not _is_frame(value):
                keep = (
                    " To keep a value that is not a table (a trained model, ...), store it "
                    "with format='joblib' or 'pickle' (e.g. storage='models/x.joblib')."
                )
            raise OutputTypeError(f"{exc} Nothing was written.{keep}") from None


def _is_frame(value: Any) -> bool:
    import polars as pl

    return isinstance(value, pl.DataFrame | pl.LazyFrame)

"""One error hierarchy for everything a user can get wrong.

Every failure a user can cause is a :class:`GlacierError` subclass whose message says what was
wrong, where, and how to fix it. Catch ``GlacierError`` to catch them all.
"""

from __future__ import annotations


class GlacierError(Exception):
    """Base class of every error Glacier raises on purpose."""


# -- pipeline definition -------------------------------------------------------------------


class PipelineDefinitionError(GlacierError):
    """The pipeline's tasks or datasets do not form a valid DAG."""


class DuplicateProducerError(PipelineDefinitionError):
    """Two tasks declare the same output dataset."""


class CycleError(PipelineDefinitionError):
    """The tasks depend on each other in a cycle."""


class MissingInputError(PipelineDefinitionError):
    """A task consumes a dataset that no task produces and that has no storage."""


class InvalidAnnotationError(PipelineDefinitionError):
    """A task's parameter or return annotation cannot be understood."""


class DuplicateTaskError(PipelineDefinitionError):
    """A task name is registered twice in one pipeline."""


class DuplicateDatasetError(PipelineDefinitionError):
    """Two different ``Dataset`` objects of one pipeline share a name (they would share
    storage paths, run records and generated resources)."""


class InvalidTaskError(PipelineDefinitionError):
    """A function cannot be a task: a generator or ``async`` function, or not callable."""


class UnknownTaskError(PipelineDefinitionError, KeyError):
    """A run names a task (target, parameter, ``--only``) the pipeline does not have."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class UnknownRunError(GlacierError, KeyError):
    """A run id (``--resume-from``, ``glacier runs show``) names no recorded run."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ForeignRunError(UnknownRunError):
    """A run to resume (``--resume-from``) is a run of another pipeline."""


class TracingError(PipelineDefinitionError):
    """A data-flow pipeline did something a traced pipeline cannot (e.g. branch on a result)."""


class CheckDefinitionError(PipelineDefinitionError):
    """A data check declared wrongly: a column the dataset's schema lacks, a ``relationships``
    check to a dataset outside the pipeline, two checks of one name (see :mod:`glacier.checks`)."""


# -- execution -----------------------------------------------------------------------------


class ExecutionError(GlacierError):
    """A task failed while running."""


class OutputTypeError(ExecutionError, TypeError):
    """A task returned a value of the wrong kind for the format that stores its output."""


class TaskTimeoutError(ExecutionError, TimeoutError):
    """A task ran longer than its ``timeout``."""


class UpstreamQueryError(ExecutionError):
    """A task failed while executing lazy queries it received from upstream tasks."""


class CheckFailedError(ExecutionError):
    """A data check of severity ``error`` failed on a task's output: the output was written,
    its consumers are skipped (see :mod:`glacier.checks`)."""


class PipelineRunError(ExecutionError):
    """One or more tasks failed; ``.result`` holds the full :class:`RunResult`."""

    def __init__(self, message: str, result: object) -> None:
        super().__init__(message)
        self.result = result


class OutputsPartlyWrittenError(ExecutionError):
    """A task's output could not be written after others had been (stores that cannot commit
    together, e.g. a database and an object store): ``written`` names the outputs left
    written, ``failed`` the one that was not; the cause is the store's error."""

    def __init__(self, message: str, written: tuple[str, ...] = (), failed: str = "") -> None:
        super().__init__(message)
        self.written = written
        self.failed = failed


class CacheError(ExecutionError):
    """The task cache could not store or load a value."""


class NotSerializableError(ExecutionError, TypeError):
    """Something a run sends to other processes (a task's function or closure, a parameter,
    a resource) cannot be pickled; the message names it and how to fix it."""


class WorkerLostError(ExecutionError):
    """The worker process running a task died (killed, out of memory) more often than the
    cluster allows; the message names the workers."""


class NotRetriedError(ExecutionError):
    """A deployed task, started once per attempt, failed in a way no retry can mend (a
    configuration error, a missing object, denied access): its orchestrator's retry rule for
    this error type allows none. The message is the task's own error; its cause is chained."""


# -- configuration -------------------------------------------------------------------------


class ConfigError(GlacierError, ValueError):
    """A setting, config object or settings file is invalid."""


class RunStoreError(ConfigError):
    """The run store cannot be used: its directory is a file, ``runs.sqlite`` is a
    directory, or a parent of them is a file (found before a run starts)."""


class CredentialsInCodeError(ConfigError):
    """Credentials were passed as code arguments instead of coming from a profile or role."""


class RenamedError(ConfigError, ImportError):
    """A spelling from the design notes (seeds) that the current API spells differently; the
    message gives the current spelling (see docs/seeds.md)."""


class UnboundEnvironmentError(ConfigError):
    """``--env`` was given for a pipeline that does not follow the selected environment."""


class UnknownEnvironmentError(ConfigError, KeyError):
    """``GLACIER_ENV`` (or ``--env``) names an environment that has no settings file."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


# -- resources and the registry -----------------------------------------------------------


class ResourceError(GlacierError):
    """A resource was misused or is not available on this provider."""


class UnknownResourceError(ResourceError, KeyError):
    """``env.get(name)`` names a resource that was never registered."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class NotSupportedError(ResourceError):
    """The operation is not available for this provider's cloud (yet)."""


class InjectionError(ResourceError):
    """A task parameter asks for a resource the environment cannot provide."""


# -- storage -------------------------------------------------------------------------------


class StorageError(GlacierError):
    """Reading or writing a Bucket failed."""


class ObjectNotFoundError(StorageError, FileNotFoundError):
    """The object or dataset at a URI does not exist."""


class BucketNotFoundError(StorageError):
    """The bucket or container itself does not exist."""


class StoragePermissionError(StorageError, PermissionError):
    """The credentials in use may not read or write the URI."""


class UnknownFormatError(StorageError, ValueError):
    """The data format is not one Glacier reads and writes."""


class SchemaMismatchError(StorageError):
    """Data does not match the dataset's declared schema or the stored data's schema."""


class InvalidDataError(StorageError, TypeError):
    """What was given to write is not a polars frame, or has columns its format cannot hold."""


class EndpointUnreachableError(StorageError, ConnectionError):
    """The store's endpoint did not answer."""


class StorageTimeoutError(EndpointUnreachableError, TimeoutError):
    """The store's endpoint accepted the connection but did not answer within the configured
    read timeout (or did not accept it within the connect timeout)."""


class CorruptDataError(StorageError):
    """Stored data or metadata (a data file, a manifest, a table's log entry) cannot be
    parsed: truncated or overwritten by something else. The message names it and the repair."""


class ReadOnlyError(StorageError, PermissionError):
    """A write, ``open("w")`` or delete of a Bucket or Dataset declared ``read_only``."""


class SheetNotFoundError(StorageError, LookupError):
    """The Excel sheet named by ``sheet_name``/``sheet_id`` is not in the workbook."""


class UnknownOptionError(ConfigError):
    """A read or write option is not one the format's reader or writer takes."""


class PickleNotAllowedError(ConfigError):
    """A format that runs code when loaded (pickle, joblib) where ``allow_pickle=False``."""


# -- tables (multi-file datasets are Delta Lake tables) -------------------------------------


class ConcurrentWriteError(StorageError):
    """Another writer committed to the table first in a way this write conflicts with;
    nothing of this write was committed, so it can be retried."""


class TableCreatedConcurrentlyError(ConcurrentWriteError):
    """Another writer created the table while this write was creating it: nothing of this
    write was committed; a write retried against the table that now exists applies on top
    of it (``Bucket.write`` does so itself)."""


class VersionNotFoundError(StorageError, LookupError):
    """A read asked for a table version (or timestamp) the table does not have."""


class MergeKeyError(StorageError, ValueError):
    """A merge was asked for without key columns, or with keys the data does not have."""


class SchemaEvolutionError(SchemaMismatchError):
    """A write would change the table's schema in a way its evolution policy forbids."""


class RetentionError(StorageError, ValueError):
    """A vacuum was asked to keep less history than the configured retention."""


class LegacyLayoutError(StorageError):
    """A dataset is in Glacier's old ``_glacier/`` manifest layout and must be converted."""


# -- infrastructure ------------------------------------------------------------------------


class InfraError(GlacierError):
    """Infrastructure could not be derived, planned or deployed."""


class TerraformError(InfraError):
    """The Terraform target cannot express a pipeline's infrastructure, or was asked wrongly."""


class CrossEnvironmentAccessError(InfraError):
    """A task in one environment touches another environment's data without opting in."""


class PulumiNotInstalledError(InfraError):
    """Deploying needs the Pulumi CLI, which is not on PATH."""


# -- installation --------------------------------------------------------------------------


class MissingExtraError(GlacierError, ImportError):
    """A feature needs an optional dependency that is not installed; the message names the
    extra that brings it (``pip install 'glacier-pipelines[deploy]'``).

    Also an ``ImportError``, so code that guarded the import keeps working."""


# -- command line --------------------------------------------------------------------------


class TargetNotFoundError(GlacierError):
    """A CLI target (``file.py[:name]`` or ``module:name``) does not name a pipeline."""


class TargetImportError(GlacierError):
    """Importing a CLI target's module stopped with a ``BaseException`` that is not an
    ``Exception`` (a module-level ``raise`` of such a class, or a library doing it)."""


class OutputPathError(GlacierError):
    """A command's output path cannot be written, e.g. a file where a directory is needed."""


# -- secrets -------------------------------------------------------------------------------


class SecretError(ConfigError):
    """A secret is declared wrongly, missing from the environment, or could not be read."""


class SecretNotFoundError(SecretError, KeyError):
    """A task or ``env.secret()`` asked for a secret the environment's ``[secrets]`` lacks,
    or its store holds no value for it."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


# -- databases (PostgreSQL tables, DynamoDB) ------------------------------------------------


class DatabaseError(StorageError):
    """A database read, query or write failed; for a write, nothing of it was committed."""


class TableNotFoundError(DatabaseError, LookupError):
    """A query or read names a table the database does not have."""


class TableKeyError(DatabaseError, ValueError):
    """An upsert or a DynamoDB write without the key it needs: the table has no key on those
    columns, or the frame lacks key columns."""


class ColumnTypeError(DatabaseError, TypeError):
    """A frame written into a table whose columns do not take it: a column the table lacks,
    or of a type the column would not read back as (checked before anything is written)."""


class InvalidTableNameError(ConfigError):
    """A table name that is not an identifier (``orders``, ``sales.orders``)."""

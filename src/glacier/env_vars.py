"""The environment variables Glacier reads and sets, named once.

Settings fields are read as ``GLACIER_<field>`` by pydantic-settings
(:class:`~glacier.settings.GlacierSettings`); the names below are the others: those that
select the settings, and those the generated infrastructure gives a deployed task. Code
uses these constants; messages and docs spell the names out.

>>> GLACIER_TASK_NAME in TASK_VARIABLES
True
>>> sorted({GLACIER_ENV, GLACIER_SETTINGS} - set(TASK_VARIABLES))
[]
"""

from __future__ import annotations

__all__ = [
    "GLACIER_ARTIFACTS",
    "GLACIER_BASE_PATH",
    "GLACIER_CACHE_DIR",
    "GLACIER_DATABASE_ENDPOINTS",
    "GLACIER_DATA_ROLES",
    "GLACIER_DEPLOYED",
    "GLACIER_ENV",
    "GLACIER_ENVIRONMENT",
    "GLACIER_LOG_LEVEL",
    "GLACIER_PIPELINE",
    "GLACIER_RUN_ID",
    "GLACIER_SECRET_PREFIX",
    "GLACIER_SETTINGS",
    "GLACIER_SETTINGS_DIGEST",
    "GLACIER_SETTINGS_DIR",
    "GLACIER_TARGET",
    "GLACIER_TASK_NAME",
    "TASK_VARIABLES",
    "secret_variable",
]

# -- choosing the settings (a laptop, CI, a deployed task) ----------------------------------

#: The environment to load (``dev``, ``prod``): ``containers/<env>.toml``.
GLACIER_ENV = "GLACIER_ENV"
#: Where the settings files are (default ``./containers``).
GLACIER_SETTINGS_DIR = "GLACIER_SETTINGS_DIR"
#: The environment's settings as JSON, baked into a deployment (no file travels).
GLACIER_SETTINGS = "GLACIER_SETTINGS"
#: The digest of GLACIER_SETTINGS as the plan validated it (glacier.settings.baked).
GLACIER_SETTINGS_DIGEST = "GLACIER_SETTINGS_DIGEST"
#: A local provider's ``base_path`` (``LocalConfig.from_env``).
GLACIER_BASE_PATH = "GLACIER_BASE_PATH"
#: Where built Lambda layers and images are cached (default ``~/.cache/glacier``).
GLACIER_CACHE_DIR = "GLACIER_CACHE_DIR"

# -- what the generated infrastructure gives a deployed task --------------------------------

#: The pipeline's name.
GLACIER_PIPELINE = "GLACIER_PIPELINE"
#: The task to run.
GLACIER_TASK_NAME = "GLACIER_TASK_NAME"
#: The environment's key (its stack).
GLACIER_ENVIRONMENT = "GLACIER_ENVIRONMENT"
#: Set in deployed tasks: credentials come from the task's role, never a profile.
GLACIER_DEPLOYED = "GLACIER_DEPLOYED"
#: ``{"dataset": "s3://bucket/prefix/"}``: where in-memory datasets travel between tasks.
GLACIER_ARTIFACTS = "GLACIER_ARTIFACTS"
#: Where the plan's databases answer, and the secrets of their passwords.
GLACIER_DATABASE_ENDPOINTS = "GLACIER_DATABASE_ENDPOINTS"
#: The roles a task assumes to reach data in other accounts.
GLACIER_DATA_ROLES = "GLACIER_DATA_ROLES"
#: The orchestrator's run (its execution name), shared by every task of one run.
GLACIER_RUN_ID = "GLACIER_RUN_ID"
#: ``file.py:name`` of the pipeline, for an ECS container's command.
GLACIER_TARGET = "GLACIER_TARGET"
#: The level of a deployed task's JSON log lines (default ``INFO``).
GLACIER_LOG_LEVEL = "GLACIER_LOG_LEVEL"
#: ``1``: run one attempt per start; the orchestrator retries (a Lambda task whose attempts
#: do not fit one invocation, see glacier.infra.aws.lambda_.retried_by_state).
GLACIER_ONE_ATTEMPT = "GLACIER_ONE_ATTEMPT"

#: The prefix of the variables a GCP or Azure job is given its secrets in (see
#: :func:`secret_variable`).
GLACIER_SECRET_PREFIX = "GLACIER_SECRET_"


def secret_variable(name: str) -> str:
    """The variable a deployed GCP or Azure task finds secret ``name`` in: the platform
    (Cloud Run from Secret Manager, Container Apps from Key Vault) resolves it with the task's
    own identity when the job starts, so no secret client runs in the task.

    >>> secret_variable("api_key")
    'GLACIER_SECRET_API_KEY'
    """
    return f"{GLACIER_SECRET_PREFIX}{name.upper()}"


#: The variables the generated infrastructure sets for a task, besides the cloud's. Only
#: GLACIER_ENV is the name of a GlacierSettings field (GLACIER_<field> configures settings):
#: it selects the environment, whose settings travel in GLACIER_SETTINGS.
TASK_VARIABLES = (
    GLACIER_PIPELINE,
    GLACIER_TASK_NAME,
    GLACIER_ENVIRONMENT,
    GLACIER_ENV,
    GLACIER_SETTINGS,
    GLACIER_SETTINGS_DIGEST,
    GLACIER_DEPLOYED,
    GLACIER_ARTIFACTS,
    GLACIER_DATABASE_ENDPOINTS,
    GLACIER_RUN_ID,
    GLACIER_TARGET,
    GLACIER_ONE_ATTEMPT,
)

"""What a deployed task is told at run time: its pipeline, its name, its environment and that
environment's settings, and where its in-memory inputs and outputs travel between tasks.

Lambda and ECS pass these as environment variables, Glue as job arguments; the runtime
(:mod:`glacier.infra.runtime`) reads them. A deployment is self-contained: the settings the
environment was built from travel as ``GLACIER_SETTINGS`` with ``GLACIER_ENV`` naming it, so
nothing has to be exported by hand, and ``GLACIER_DEPLOYED`` tells Glacier to sign with the
task's role (:mod:`glacier.adapters.credentials`); ``GLACIER_DATA_ROLES`` names the roles it
assumes for data in other accounts. Profiles and credentials never travel.
A task using RDS databases the plan creates is told where they are
(``GLACIER_DATABASE_ENDPOINTS``: each instance's address, port, database, user and the ARN of
its password's secret, from the instance's outputs; :func:`glacier.infra.aws.rds.
connection_facts`), never a password.

What a task could only do on the machine that generated it is refused here, at plan time:
a variable naming a profile or a credentials file, a path of this machine, settings that do
not load without their file, more variables than Lambda's 4 KB.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from glacier import env_vars
from glacier.adapters.credentials import DATA_ROLES_VARIABLE, DEPLOYED_VARIABLE
from glacier.errors import InfraError
from glacier.infra.aws import rds
from glacier.infra.aws.cross_account import data_roles
from glacier.infra.aws.stack import Stack
from glacier.infra.model import TaskSpec
from glacier.infra.task_settings import settings_variables
from glacier.settings.database_connection import DEPLOYED_DATABASES_VARIABLE

#: What Lambda allows for a function's variables, names and values together (AWS quotas).
LAMBDA_VARIABLES_LIMIT = 4096
#: What an output-valued variable (a database's endpoint and secret ARN) is counted as against
#: Lambda's limit before its value is known: an RDS endpoint and a secret ARN are ~200 bytes.
OUTPUT_VARIABLE_ALLOWANCE = 512
#: Variables that point an SDK at a profile: meaningful on the deploying machine only.
PROFILE_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)


def task_variables(stack: Stack, task: TaskSpec) -> dict[str, Any]:
    """The task's own variables, then Glacier's (which win); refused when the task could
    not run anywhere but here (see the module docs)."""
    check_own_variables(task)
    variables = {
        **own_variables(task),
        env_vars.GLACIER_PIPELINE: stack.model.pipeline,
        env_vars.GLACIER_TASK_NAME: task.name,
        env_vars.GLACIER_ENVIRONMENT: stack.env.key,
        DEPLOYED_VARIABLE: "1",
        **settings_variables(stack.env, task),
    }
    roles = data_roles(stack, task)
    if roles:
        variables[DATA_ROLES_VARIABLE] = json.dumps(roles, sort_keys=True)
    variables.update(database_variables(stack, task))
    artifacts = artifact_uris(stack, task)
    if artifacts:
        variables[env_vars.GLACIER_ARTIFACTS] = json.dumps(artifacts, sort_keys=True)
    if task.compute == "lambda":
        check_lambda_size(task, variables)
    return variables


def database_variables(stack: Stack, task: TaskSpec) -> dict[str, Any]:
    """``GLACIER_DATABASE_ENDPOINTS``: where the RDS instances ``task`` uses are, by
    identifier (an output: JSON of the instances' outputs), when it uses any."""
    facts = {
        db.identifier: rds.connection_facts(db, stack.out.databases[db.key], stack.env.region)
        for db in (stack.model.databases[key] for key in task.databases)
        if not db.is_dynamodb
    }
    if not facts:
        return {}
    return {DEPLOYED_DATABASES_VARIABLE: stack.pulumi.Output.json_dumps(facts)}


def check_own_variables(task: TaskSpec) -> None:
    """Refuse task variables that name a profile or a path of this machine."""
    home = str(Path.home())
    for name, value in own_variables(task).items():
        if name in PROFILE_VARIABLES:
            raise InfraError(
                f"Task {task.name!r} ({task.location}) sets {name} in its environment_vars, "
                "but a deployed task has no profiles: it runs with its own role's "
                f"credentials. Remove {name}; profiles belong to the deploying side "
                "(AWSEnvironment(profile=...) or provider.profile in the settings file)."
            )
        if Path(value).is_absolute() and (value == home or value.startswith(home + "/")):
            raise InfraError(
                f"Task {task.name!r} ({task.location}) sets {name}={value!r}, a path on this "
                "machine, which the deployed task cannot reach. Put the file in a bucket (a "
                "Dataset or env.storage.s3(...)) or in the pipeline's package."
            )


def own_variables(task: TaskSpec) -> dict[str, str]:
    """The variables the task's compute settings give it (Glue jobs have none)."""
    return dict(getattr(task.config, "environment_vars", None) or {})


def check_lambda_size(task: TaskSpec, variables: dict[str, Any]) -> None:
    """Refuse a function whose variables exceed Lambda's limit (an output's value counted as
    :data:`OUTPUT_VARIABLE_ALLOWANCE`)."""
    size = sum(
        len(k) + (len(v) if isinstance(v, str) else OUTPUT_VARIABLE_ALLOWANCE)
        for k, v in variables.items()
    )
    if size > LAMBDA_VARIABLES_LIMIT:
        raise InfraError(
            f"Task {task.name!r} ({task.location}) would start with {size} bytes of "
            f"environment variables (its own and the environment's settings), more than "
            f"Lambda's {LAMBDA_VARIABLES_LIMIT}. Run it on ECS (env.compute.ecs(...)), or "
            "shorten its environment_vars or the environment's settings file."
        )


def artifact_uris(stack: Stack, task: TaskSpec) -> dict[str, str]:
    """Where the task's in-memory inputs and outputs travel: ``{dataset: s3://...}``."""
    out = {}
    for g in task.grants:
        store = stack.model.stores[g.location.store]
        if store.kind == "artifacts" and g.location.is_artifact:
            out[g.location.dataset] = f"s3://{store.bucket_name}/{g.location.prefix}"
    return out

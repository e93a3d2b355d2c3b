"""Physical names of an environment's AWS resources, and the ARNs computed from them (in
the partition of the environment's provider config).

Names are pure functions of the model and the environment, so an environment can compute the
ARN of a role, function or job of *another* environment (another account, another stack)
without reading its outputs.

Example:
    >>> from types import SimpleNamespace
    >>> model, env = SimpleNamespace(pipeline="etl"), SimpleNamespace(naming_prefix="dev")
    >>> task_role_name(model, env, "extract")
    'dev-etl-extract'
    >>> state_machine_role_name(model, env)
    'dev-etl-orchestrator'
"""

from __future__ import annotations

import re

from glacier.errors import InfraError
from glacier.infra.model import EnvSpec, InfraModel, TaskSpec, physical_name

#: Characters Lambda, ECS, Glue and Step Functions allow in a name.
NAME_CHARS = "A-Za-z0-9_-"
#: Characters an EventBridge rule allows in a name.
RULE_NAME_CHARS = r"A-Za-z0-9_.-"


def task_role_name(model: InfraModel, env: EnvSpec, task: str) -> str:
    """IAM role a task runs as."""
    return physical_name(env.naming_prefix, model.pipeline, task)


def exec_role_name(model: InfraModel, env: EnvSpec, task: str) -> str:
    """IAM role ECS pulls a task's image and writes its logs with."""
    return physical_name(env.naming_prefix, model.pipeline, task, "exec")


def function_name(model: InfraModel, env: EnvSpec, task: TaskSpec) -> str:
    """Lambda function of a task (``LambdaConfig.function_name`` when set)."""
    given = getattr(task.config, "function_name", None)
    if given:
        return str(given)
    return physical_name(env.naming_prefix, model.pipeline, task.name, allowed=NAME_CHARS)


def repository_name(model: InfraModel, env: EnvSpec) -> str:
    """ECR repository of the environment's Lambda container images: lower case, one
    separator between letters and digits (ECR's rule).

    >>> from types import SimpleNamespace
    >>> repository_name(SimpleNamespace(pipeline="My_ETL"), SimpleNamespace(naming_prefix="dev-"))
    'dev-my_etl'
    """
    name = physical_name(
        env.naming_prefix, model.pipeline, limit=200, allowed="a-z0-9._-", lower=True
    )
    return re.sub(r"[._-]{2,}", "-", name).strip("._-") or "glacier"


def family_name(model: InfraModel, env: EnvSpec, task: str) -> str:
    """ECS task definition family of a task."""
    return physical_name(env.naming_prefix, model.pipeline, task, limit=255, allowed=NAME_CHARS)


def job_name(model: InfraModel, env: EnvSpec, task: str) -> str:
    """Glue job of a task."""
    return physical_name(env.naming_prefix, model.pipeline, task, limit=255, allowed=NAME_CHARS)


def cluster_name(model: InfraModel, env: EnvSpec) -> str:
    """ECS cluster the pipeline's container tasks run on."""
    return physical_name(env.naming_prefix, model.pipeline, limit=255, allowed=NAME_CHARS)


def state_machine_name(model: InfraModel, env: EnvSpec) -> str:
    """Step Functions state machine of the pipeline."""
    return physical_name(env.naming_prefix, model.pipeline, limit=80, allowed=NAME_CHARS)


def state_machine_role_name(model: InfraModel, env: EnvSpec) -> str:
    """IAM role of the state machine."""
    return physical_name(env.naming_prefix, model.pipeline, "orchestrator")


def invoker_role_name(model: InfraModel, env: EnvSpec) -> str:
    """IAM role the orchestrator of another account assumes to start tasks in ``env``."""
    return physical_name(env.naming_prefix, model.pipeline, "invoker")


def scheduler_role_name(model: InfraModel, env: EnvSpec) -> str:
    """IAM role EventBridge starts the state machine with on the pipeline's schedule."""
    return physical_name(env.naming_prefix, model.pipeline, "scheduler")


def schedule_rule_name(model: InfraModel, env: EnvSpec) -> str:
    """EventBridge rule holding the pipeline's schedule."""
    return physical_name(env.naming_prefix, model.pipeline, allowed=RULE_NAME_CHARS)


def cross_account_role_name(
    model: InfraModel, store_env: EnvSpec, task_env: EnvSpec, task: str
) -> str:
    """IAM role in the data's account that a task of another account assumes."""
    return physical_name(
        store_env.naming_prefix, model.pipeline, task, "from", task_env.account_id or ""
    )


def log_group_name(model: InfraModel, env: EnvSpec, task: TaskSpec) -> str:
    """Log group a task writes to."""
    if task.compute == "lambda":
        return f"/aws/lambda/{function_name(model, env, task)}"
    return f"/glacier/{model.pipeline}/{task.name}"


def partition_of(env: EnvSpec) -> str:
    """The AWS partition of ``env`` (``aws``, ``aws-cn``, ``aws-us-gov``): its provider
    config's, ``aws`` when it has none.

    >>> from types import SimpleNamespace
    >>> partition_of(SimpleNamespace(config=SimpleNamespace(partition="aws-cn")))
    'aws-cn'
    >>> partition_of(SimpleNamespace(config=None))
    'aws'
    """
    return str(getattr(env.config, "partition", None) or "aws")


def env_arn(env: EnvSpec, service: str, resource: str, *, regional: bool = True) -> str:
    """``arn:<partition>:<service>:<region>:<account>:<resource>`` in environment ``env``.

    Raises :class:`InfraError` when the account is unknown: such ARNs are only computed for
    references across environments, where no resource output is at hand.
    """
    if env.account_id is None:
        raise InfraError(
            f"Environment {env.key!r} has no account_id, but a resource in another "
            f"environment must reference its {service} resource {resource!r} by ARN. Set "
            "account_id on the environment (AWSEnvironment(account_id='123456789012', ...))."
        )
    region = env.region or "" if regional else ""
    return f"arn:{partition_of(env)}:{service}:{region}:{env.account_id}:{resource}"


def role_arn(env: EnvSpec, role_name: str) -> str:
    """The ARN of IAM role ``role_name`` in ``env``'s account."""
    return env_arn(env, "iam", f"role/{role_name}", regional=False)


def account_root(env: EnvSpec) -> str:
    """The root principal ARN of ``env``'s account."""
    return env_arn(env, "iam", "root", regional=False)


def deployer_role(env: EnvSpec) -> str | None:
    """The role the deploying side assumes in ``env`` (``AwsConfig.role_arn``), if any."""
    given = getattr(env.config, "role_arn", None)
    return str(given) if given else None


def bucket_arn(env: EnvSpec, bucket: str) -> str:
    """ARN of an S3 bucket (bucket ARNs carry neither region nor account).

    >>> from types import SimpleNamespace
    >>> bucket_arn(SimpleNamespace(config=SimpleNamespace(partition="aws-cn")), "lake")
    'arn:aws-cn:s3:::lake'
    """
    return f"arn:{partition_of(env)}:s3:::{bucket}"


def swap_arn(arn: str, service: str, resource: str) -> str:
    """The ARN of ``resource`` of ``service`` in the same partition, region and account.

    >>> swap_arn("arn:aws:ecs:us-east-1:111111111111:cluster/c", "events", "rule/r")
    'arn:aws:events:us-east-1:111111111111:rule/r'
    """
    parts = arn.split(":", 5)
    parts[2] = service
    parts[5] = resource
    return ":".join(parts)

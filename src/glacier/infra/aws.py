"""AWS infrastructure of a pipeline, declared with ``pulumi_aws``.

:class:`AwsInfrastructure` is the ``aws`` choice of the cloud container's ``infrastructure``
provider; it declares one environment's share of an :class:`~glacier.infra.model.InfraModel`:

- one ``aws.Provider`` (region, profile, ``allowed_account_ids``, default tags), to which every
  resource below is bound;
- buckets with versioning, encryption, public-access block, lifecycle rules and a bucket
  policy (TLS only, plus grants to task roles of other accounts);
- per task: a log group, an IAM role with a least-privilege inline policy, and its compute
  (a Lambda function packaged from the pipeline's code, or an ECS/Fargate task definition);
- cross-account roles for tasks of other accounts that reach this environment's data;
- the orchestration (a Step Functions state machine and its role, a schedule) when this
  environment orchestrates the DAG, or an invoker role when another account does.

References inside the environment go through resource outputs; references to another
environment use ARNs computed from deterministic names, so each environment can be its own
stack, deployed with its own credentials.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glacier.errors import InfraError
from glacier.infra import iam
from glacier.infra.model import (
    CodeSpec,
    EnvSpec,
    Grant,
    InfraModel,
    Store,
    TaskSpec,
    artifacts_key,
    code_prefix,
    crosses_account,
    physical_name,
)

#: Tag every resource carries (through the provider's default tags).
MANAGED_BY = {"ManagedBy": "glacier"}
#: How long transient artifacts (in-memory datasets passed between tasks) are kept.
ARTIFACT_RETENTION_DAYS = 7
#: Log retention of task and orchestration logs.
LOG_RETENTION_DAYS = 30
#: Lambda handler inside the generated package.
HANDLER = "glacier_handler.handler"
#: The script every generated Glue job runs, under the pipeline's code prefix.
GLUE_SCRIPT = "glacier_glue_job.py"
#: Where a Glue job's standard output and errors go (Glue names these groups itself).
GLUE_LOG_GROUPS = ("/aws-glue/jobs/output", "/aws-glue/jobs/error")
#: Distributions a Glue job installs for Glacier to run (pinned to the versions here).
GLUE_REQUIREMENTS = ("polars", "dependency-injector", "pydantic-settings", "fsspec", "s3fs")

_LAMBDA_NAME = "A-Za-z0-9_-"
_ECR_IMAGE = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([^:@]+)")
# -- names (pure: also used to compute ARNs across environments) -----------------------------


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
    return physical_name(env.naming_prefix, model.pipeline, task.name, allowed=_LAMBDA_NAME)


def family_name(model: InfraModel, env: EnvSpec, task: str) -> str:
    """ECS task definition family of a task."""
    return physical_name(env.naming_prefix, model.pipeline, task, limit=255, allowed=_LAMBDA_NAME)


def job_name(model: InfraModel, env: EnvSpec, task: str) -> str:
    """Glue job of a task."""
    return physical_name(env.naming_prefix, model.pipeline, task, limit=255, allowed=_LAMBDA_NAME)


def cluster_name(model: InfraModel, env: EnvSpec) -> str:
    """ECS cluster the pipeline's container tasks run on."""
    return physical_name(env.naming_prefix, model.pipeline, limit=255, allowed=_LAMBDA_NAME)


def state_machine_name(model: InfraModel, env: EnvSpec) -> str:
    """Step Functions state machine of the pipeline."""
    return physical_name(env.naming_prefix, model.pipeline, limit=80, allowed=_LAMBDA_NAME)


def state_machine_role_name(model: InfraModel, env: EnvSpec) -> str:
    """IAM role of the state machine."""
    return physical_name(env.naming_prefix, model.pipeline, "orchestrator")


def invoker_role_name(model: InfraModel, env: EnvSpec) -> str:
    """IAM role the orchestrator of another account assumes to start tasks in ``env``."""
    return physical_name(env.naming_prefix, model.pipeline, "invoker")


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


def bucket_arn(env: EnvSpec, bucket: str) -> str:
    """ARN of an S3 bucket (bucket ARNs carry neither region nor account)."""
    return f"arn:{env.partition}:s3:::{bucket}"


# -- the builder -----------------------------------------------------------------------------


@dataclass
class AwsResources:
    """What :meth:`AwsInfrastructure.declare` created for one environment, by purpose."""

    provider: Any
    buckets: dict[str, Any] = field(default_factory=dict)
    roles: dict[str, Any] = field(default_factory=dict)
    functions: dict[str, Any] = field(default_factory=dict)
    task_definitions: dict[str, Any] = field(default_factory=dict)
    jobs: dict[str, Any] = field(default_factory=dict)
    state_machine: Any = None
    resources: list[Any] = field(default_factory=list)


class AwsInfrastructure:
    """Declares an environment's AWS resources for a pipeline (see the module docs).

    Built by the cloud container (``env.container.cloud.infrastructure``); override that
    provider to change what gets declared::

        env.container.cloud.infrastructure.override(providers.Factory(MyInfrastructure))
    """

    cloud = "aws"

    def __init__(self, config: Any = None) -> None:
        self.config = config

    def describe(self) -> str:
        """One line on what this builder declares."""
        region = getattr(self.config, "region", "?")
        return f"AWS resources with pulumi_aws in {region}"

    def declare(self, model: InfraModel, env: str) -> AwsResources:
        """Declare environment ``env``'s share of ``model``; must run inside a Pulumi program."""
        return _Declaration(model, model.envs[env]).run()


class _Declaration:
    """One environment's declaration; holds the pulumi modules and what was made so far."""

    def __init__(self, model: InfraModel, env: EnvSpec) -> None:
        import pulumi
        import pulumi_aws as aws

        self.pulumi = pulumi
        self.aws = aws
        self.model = model
        self.env = env
        self.provider = self._provider()
        self.opts = pulumi.ResourceOptions(provider=self.provider)
        self.out = AwsResources(provider=self.provider)
        self.tags = {"glacier:pipeline": model.pipeline}
        self.store_arns: dict[str, Any] = {}
        self.log_groups: dict[str, Any] = {}
        self.task_roles: dict[str, Any] = {}
        self.exec_roles: dict[str, Any] = {}
        self.cluster: Any = None
        self._archive: Any = None
        self._subnets: Any = None
        self._glue_code: tuple[str, str, list[Any]] | None = None

    def run(self) -> AwsResources:
        model, env = self.model, self.env
        for store in model.stores.values():
            self.store_arns[store.key] = self._store_arn(store)
        for store in model.stores_in(env.key):
            if store.declared:
                self._bucket(store)
        tasks = model.tasks_in(env.key)
        if any(t.compute == "ecs" for t in tasks):
            self.cluster = self._resource(
                self.aws.ecs.Cluster,
                self._ln("cluster"),
                name=cluster_name(model, env),
                tags=self.tags,
            )
            if any(t.compute == "ecs" and t.config.spot for t in tasks):
                self._resource(
                    self.aws.ecs.ClusterCapacityProviders,
                    self._ln("capacity-providers"),
                    cluster_name=self.cluster.name,
                    capacity_providers=["FARGATE", "FARGATE_SPOT"],
                )
        for task in tasks:
            self._task(task)
        for access in model.cross_account_into(env.key):
            self._cross_account_role(access)
        remote = model.orchestrated_from_elsewhere(env.key)
        if remote:
            self._invoker_role(remote)
        if model.orchestrator == env.key and model.tasks:
            self._orchestration()
        return self.out

    # -- helpers -----------------------------------------------------------------------------

    def _ln(self, *parts: str) -> str:
        """A logical (Pulumi) name, unique in the stack."""
        return "-".join((self.env.key, *parts))

    def _resource(
        self, cls: Any, logical: str, /, *, depends_on: Sequence[Any] = (), **args: Any
    ) -> Any:
        opts = self.opts
        if depends_on:
            opts = self.pulumi.ResourceOptions(provider=self.provider, depends_on=list(depends_on))
        resource = cls(logical, opts=opts, **args)
        self.out.resources.append(resource)
        return resource

    def _json(self, doc: Any) -> Any:
        """A JSON string input; an Output when the document holds Outputs."""
        if _has_output(doc, self.pulumi.Output):
            return self.pulumi.Output.json_dumps(doc)
        return json.dumps(doc)

    def _provider(self) -> Any:
        aws, env = self.aws, self.env
        args: dict[str, Any] = {
            "region": env.region,
            "default_tags": aws.ProviderDefaultTagsArgs(tags={**env.tag_map, **MANAGED_BY}),
        }
        if env.profile:
            args["profile"] = env.profile
        if env.account_id:
            args["allowed_account_ids"] = [env.account_id]
        if env.role_arn:
            args["assume_roles"] = [aws.ProviderAssumeRoleArgs(role_arn=env.role_arn)]
        if env.endpoint_url:
            url = env.endpoint_url
            args["endpoints"] = [
                aws.ProviderEndpointArgs(
                    s3=url,
                    iam=url,
                    sts=url,
                    lambda_=url,
                    sfn=url,
                    ecs=url,
                    logs=url,
                    events=url,
                )
            ]
            args["s3_use_path_style"] = True
            args["skip_credentials_validation"] = True
            args["skip_requesting_account_id"] = True
        return aws.Provider(env.key, **args)

    # -- stores ------------------------------------------------------------------------------

    def _store_arn(self, store: Store) -> Any:
        if store.kind == "raw":
            arn = getattr(store.resource, "arn", None)
            if arn is None:
                raise InfraError(
                    f"The Pulumi resource behind datasets {', '.join(store.datasets)} "
                    f"({type(store.resource).__name__}) has no 'arn' output; use an "
                    "aws.s3.Bucket (or BucketV2) as a dataset's storage."
                )
            return arn
        return bucket_arn(self.model.envs[store.env], str(store.bucket_name))

    def _bucket(self, store: Store) -> None:
        aws = self.aws
        from glacier.settings import S3Config

        cfg = store.config if isinstance(store.config, S3Config) else S3Config()
        name = str(store.bucket_name)
        tags = {**{k: v for k, v in store.tags if self.env.tag_map.get(k) != v}, **cfg.tags}
        bucket = self._resource(
            aws.s3.Bucket,
            self._ln(name),
            bucket=name,
            force_destroy=cfg.force_destroy or store.kind == "artifacts",
            tags={**self.tags, **tags},
        )
        self.out.buckets[store.key] = bucket
        if cfg.versioning:
            self._resource(
                aws.s3.BucketVersioning,
                self._ln(name, "versioning"),
                bucket=bucket.id,
                versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                    status="Enabled"
                ),
            )
        sse = aws.s3
        default = (
            sse.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm=cfg.encryption, kms_master_key_id=cfg.kms_key_id
            )
        )
        self._resource(
            aws.s3.BucketServerSideEncryptionConfiguration,
            self._ln(name, "encryption"),
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=default,
                    bucket_key_enabled=cfg.encryption == "aws:kms" or None,
                )
            ],
        )
        if cfg.public_access_block:
            self._resource(
                aws.s3.BucketPublicAccessBlock,
                self._ln(name, "public-access-block"),
                bucket=bucket.id,
                block_public_acls=True,
                block_public_policy=True,
                ignore_public_acls=True,
                restrict_public_buckets=True,
            )
        rules = self._lifecycle_rules(store, cfg)
        if rules:
            self._resource(
                aws.s3.BucketLifecycleConfiguration,
                self._ln(name, "lifecycle"),
                bucket=bucket.id,
                rules=rules,
            )
        self._resource(
            aws.s3.BucketPolicy,
            self._ln(name, "policy"),
            bucket=bucket.id,
            policy=self._json(self._bucket_policy(store)),
        )

    def _lifecycle_rules(self, store: Store, cfg: Any) -> list[Any]:
        aws = self.aws
        rules = []
        for rule in cfg.lifecycle_rules:
            transitions = None
            if rule.storage_class is not None:
                transitions = [
                    aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                        days=rule.transition_days, storage_class=rule.storage_class
                    )
                ]
            expiration = None
            if rule.expiration_days is not None:
                expiration = aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                    days=rule.expiration_days
                )
            rules.append(
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id=rule.id,
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=rule.prefix),
                    transitions=transitions,
                    expiration=expiration,
                )
            )
        if cfg.storage_class != "STANDARD":
            # Objects are written as STANDARD; the bucket's class is reached by a transition
            # (immediately where S3 allows it, after its minimum age otherwise).
            days = 30 if cfg.storage_class in ("STANDARD_IA", "ONEZONE_IA") else 0
            rules.append(
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id=f"storage-class-{cfg.storage_class.lower().replace('_', '-')}",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    transitions=[
                        aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                            days=days, storage_class=cfg.storage_class
                        )
                    ],
                )
            )
        if store.kind == "artifacts":
            # What runs leave behind expires; the Glue jobs' code (code_prefix) stays.
            for prefix in self._transient_prefixes(store):
                rules.append(
                    aws.s3.BucketLifecycleConfigurationRuleArgs(
                        id=f"expire-{prefix.strip('/').replace('/', '-')}",
                        status="Enabled",
                        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=prefix),
                        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                            days=ARTIFACT_RETENTION_DAYS
                        ),
                    )
                )
            rules.append(
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="abort-incomplete-uploads",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=1
                    ),
                )
            )
        return rules

    def _transient_prefixes(self, store: Store) -> list[str]:
        """Where runs leave in-memory datasets in an artifacts bucket, and stage writes."""
        from glacier.adapters.bucket import TMP_DIR

        datasets = {
            g.location.prefix
            for t in self.model.tasks
            for g in t.grants
            if g.location.store == store.key and g.location.is_artifact
        }
        return [*sorted(datasets), f"{TMP_DIR}/"]

    def _bucket_policy(self, store: Store) -> dict[str, Any]:
        arn = self.store_arns[store.key]
        statements = [
            iam.statement(
                "DenyInsecureTransport",
                ["s3:*"],
                [arn, f"{arn}/*"],
                effect="Deny",
                principal="*",
                condition={"Bool": {"aws:SecureTransport": "false"}},
            )
        ]
        for access in self.model.cross_account_into(self.env.key):
            grants = tuple(g for g in access.grants if g.location.store == store.key)
            if not grants:
                continue
            task_env = self.model.envs[access.task_env]
            role = task_env.role_arn_of(task_role_name(self.model, task_env, access.task))
            who = {"ArnEquals": {"aws:PrincipalArn": [role]}}
            label = f"{access.task} from {task_env.account_id}"
            for stmt in self._storage_statements(grants, label, kms=False):
                stmt["Principal"] = {"AWS": task_env.account_root}
                stmt["Condition"] = {**who, **stmt.get("Condition", {})}
                statements.append(_principal_first(stmt))
        return iam.document(statements)

    # -- statements ----------------------------------------------------------------------------

    def _storage_statements(
        self, grants: Sequence[Grant], label: str = "", *, kms: bool = True
    ) -> list[dict[str, Any]]:
        """Read, write and list statements for ``grants``: object ARNs under each dataset's
        prefix, and the bucket itself for listing, restricted to those prefixes; plus the
        use of customer-managed KMS keys (``kms=False`` for bucket policies, which may only
        hold S3 actions)."""
        reads: list[Any] = []
        writes: list[Any] = []
        lists: dict[str, list[str]] = {}
        keys: dict[str, set[str]] = {}
        for g in grants:
            loc = g.location
            objects = _join(self.store_arns[loc.store], "/" + loc.pattern)
            if "read" in g.access:
                reads.append(objects)
            if "write" in g.access:
                writes.append(objects)
            if "list" in g.access:
                lists.setdefault(loc.store, []).append(loc.prefix)
            key = self._kms_key(self.model.stores[loc.store]) if kms else None
            if key is not None:
                keys.setdefault(key, set()).update(g.access)
        out: list[dict[str, Any]] = []
        if reads:
            out.append(iam.statement(f"Read {label}", iam.actions("aws", ["read"]), _unique(reads)))
        if writes:
            out.append(
                iam.statement(f"Write {label}", iam.actions("aws", ["write"]), _unique(writes))
            )
        for n, (store_key, prefixes) in enumerate(lists.items(), 1):
            condition = None
            if "" not in prefixes:
                patterns = sorted({f"{p}*" for p in prefixes})
                condition = {"StringLike": {"s3:prefix": patterns}}
            out.append(
                iam.statement(
                    f"List {n} {label}",
                    iam.actions("aws", ["list"]),
                    [self.store_arns[store_key]],
                    condition=condition,
                )
            )
        for n, (key, access) in enumerate(sorted(keys.items()), 1):
            acts = sorted({a for level in access for a in iam.KMS_ACTIONS[level]})
            if acts:
                out.append(iam.statement(f"Kms {n} {label}", acts, [key]))
        return out

    def _kms_key(self, store: Store) -> str | None:
        cfg = store.config
        key = getattr(cfg, "kms_key_id", None)
        if not key or getattr(cfg, "encryption", None) != "aws:kms":
            return None
        if key.startswith("arn:"):
            return str(key)
        env = self.model.envs[store.env]
        account = env.account_id or "*"
        if key.startswith("alias/"):
            return f"arn:{env.partition}:kms:{env.region}:{account}:{key}"
        return f"arn:{env.partition}:kms:{env.region}:{account}:key/{key}"

    # -- tasks -------------------------------------------------------------------------------

    def _task(self, task: TaskSpec) -> None:
        model, env, aws = self.model, self.env, self.aws
        if task.compute not in ("lambda", "ecs", "glue"):
            raise InfraError(
                f"Task {task.name!r} ({task.location}) asks for {task.compute} compute, which "
                "Glacier cannot generate infrastructure for yet. Use env.compute.lambda_(...), "
                "env.compute.ecs(...) or env.compute.glue(...)."
            )
        if task.compute == "glue":
            self._check_glue(task)
        log_group = self._resource(
            aws.cloudwatch.LogGroup,
            self._ln(task.name, "logs"),
            name=log_group_name(model, env, task),
            retention_in_days=LOG_RETENTION_DAYS,
            tags=self.tags,
        )
        self.log_groups[task.name] = log_group
        role = self._resource(
            aws.iam.Role,
            self._ln(task.name, "role"),
            name=task_role_name(model, env, task.name),
            assume_role_policy=json.dumps(
                iam.trust_policy(service=iam.COMPUTE_PRINCIPALS[task.compute])
            ),
            description=f"Glacier task {task.name!r} of pipeline {model.pipeline!r}",
            tags={**self.tags, "glacier:task": task.name},
        )
        self.task_roles[task.name] = role
        self.out.roles[task.name] = role
        policy = self._resource(
            aws.iam.RolePolicy,
            self._ln(task.name, "policy"),
            name="glacier-data-access",
            role=role.id,
            policy=self._json(self.task_policy(task)),
        )
        if task.compute == "lambda":
            self._function(task, role, log_group, policy)
        elif task.compute == "glue":
            self._glue_job(task, role, log_group, policy)
        else:
            self._container(task, role, log_group, policy)

    def task_policy(self, task: TaskSpec) -> dict[str, Any]:
        """The task role's inline policy: its data, its logs, its cross-account roles."""
        statements = self._storage_statements(task.grants)
        log_group = self.log_groups[task.name]
        statements.append(
            iam.statement("Logs", iam.LOG_ACTIONS, [log_group.arn.apply(lambda a: f"{a}:*")])
        )
        remote = [
            self.model.envs[c.store_env].role_arn_of(
                cross_account_role_name(
                    self.model, self.model.envs[c.store_env], self.env, task.name
                )
            )
            for c in self.model.cross_account_from(task.name)
        ]
        if remote:
            statements.append(iam.statement("AssumeCrossAccountRoles", ["sts:AssumeRole"], remote))
        if task.compute == "lambda" and self.env.network.configured:
            statements.extend(self._vpc_statements())
        if task.compute == "glue":
            env = self.env
            base = f"arn:{env.partition}:logs:{env.region}:{env.account_id or '*'}:log-group:"
            statements.append(
                iam.statement(
                    "GlueLogs",
                    ("logs:CreateLogGroup", *iam.LOG_ACTIONS),
                    [arn for g in GLUE_LOG_GROUPS for arn in (f"{base}{g}", f"{base}{g}:*")],
                )
            )
        return iam.document(statements)

    def _vpc_statements(self) -> list[dict[str, Any]]:
        env = self.env
        account = env.account_id or "*"
        base = f"arn:{env.partition}:ec2:{env.region}:{account}"
        eni = f"{base}:network-interface/*"
        return [
            iam.statement("DescribeNetworkInterfaces", iam.VPC_DESCRIBE_ACTIONS, ["*"]),
            iam.statement(
                "ManageNetworkInterfaces",
                iam.VPC_ENI_ACTIONS,
                [
                    eni,
                    *(f"{base}:subnet/{s}" for s in env.network.subnet_ids),
                    # Without groups of its own, a function gets the VPC's default group, whose
                    # id is known only at deploy time.
                    *(
                        f"{base}:security-group/{g}"
                        for g in env.network.security_group_ids or ("*",)
                    ),
                ],
            ),
        ]

    def _function(self, task: TaskSpec, role: Any, log_group: Any, policy: Any) -> None:
        aws, cfg, env = self.aws, task.config, self.env
        variables = {
            **cfg.environment_vars,
            "GLACIER_PIPELINE": self.model.pipeline,
            "GLACIER_TASK_NAME": task.name,
            "GLACIER_ENVIRONMENT": env.key,
        }
        artifacts = self._artifact_uris(task)
        if artifacts:
            variables["GLACIER_ARTIFACTS"] = json.dumps(artifacts, sort_keys=True)
        vpc = None
        if env.network.configured:
            vpc = aws.lambda_.FunctionVpcConfigArgs(
                subnet_ids=list(env.network.subnet_ids),
                security_group_ids=list(env.network.security_group_ids)
                or [self._default_security_group()],
            )
        function = self._resource(
            aws.lambda_.Function,
            self._ln(task.name, "function"),
            depends_on=[log_group, policy],
            name=function_name(self.model, env, task),
            role=role.arn,
            runtime=cfg.runtime,
            handler=HANDLER,
            code=self._code(),
            memory_size=cfg.memory,
            timeout=cfg.timeout,
            architectures=[cfg.architecture],
            layers=list(cfg.layers) or None,
            ephemeral_storage=aws.lambda_.FunctionEphemeralStorageArgs(size=cfg.ephemeral_storage),
            reserved_concurrent_executions=cfg.reserved_concurrent_executions,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=variables),
            vpc_config=vpc,
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="Text", log_group=log_group.name
            ),
            tags={**self.tags, **cfg.tags, "glacier:task": task.name},
        )
        self.out.functions[task.name] = function

    def _container(self, task: TaskSpec, role: Any, log_group: Any, policy: Any) -> None:
        aws, cfg, env, model = self.aws, task.config, self.env, self.model
        if not getattr(cfg, "image", None):
            raise InfraError(
                f"Task {task.name!r} ({task.location}) runs on ECS but its compute hint has no "
                "image. Build an image with glacier, polars and your pipeline code, and pass it: "
                "compute=env.compute.ecs(image='123456789012.dkr.ecr.us-east-1.amazonaws.com/etl:1')."
            )
        exec_role = self._resource(
            aws.iam.Role,
            self._ln(task.name, "exec-role"),
            name=exec_role_name(model, env, task.name),
            assume_role_policy=json.dumps(iam.trust_policy(service=iam.COMPUTE_PRINCIPALS["ecs"])),
            description=f"ECS execution role of Glacier task {task.name!r}",
            tags={**self.tags, "glacier:task": task.name},
        )
        self.exec_roles[task.name] = exec_role
        exec_policy = self._resource(
            aws.iam.RolePolicy,
            self._ln(task.name, "exec-policy"),
            name="glacier-task-execution",
            role=exec_role.id,
            policy=self._json(self._execution_policy(cfg.image, log_group)),
        )
        environment = [
            {"name": k, "value": v}
            for k, v in sorted(
                {
                    **cfg.environment_vars,
                    "GLACIER_PIPELINE": model.pipeline,
                    "GLACIER_TASK_NAME": task.name,
                    "GLACIER_ENVIRONMENT": env.key,
                    **(
                        {"GLACIER_ARTIFACTS": json.dumps(self._artifact_uris(task), sort_keys=True)}
                        if self._artifact_uris(task)
                        else {}
                    ),
                }.items()
            )
        ]
        target = model.code.relative_target if model.code else model.pipeline
        container = {
            "name": "task",
            "image": cfg.image,
            "essential": True,
            "command": ["python", "-m", "glacier.infra.runtime", target, task.name],
            "environment": environment,
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": log_group.name,
                    "awslogs-region": env.region,
                    "awslogs-stream-prefix": "glacier",
                },
            },
        }
        definition = self._resource(
            aws.ecs.TaskDefinition,
            self._ln(task.name, "task-definition"),
            depends_on=[policy, exec_policy],
            family=family_name(model, env, task.name),
            cpu=str(cfg.cpu),
            memory=str(cfg.memory),
            network_mode="awsvpc",
            requires_compatibilities=[cfg.launch_type],
            execution_role_arn=exec_role.arn,
            task_role_arn=role.arn,
            container_definitions=self.pulumi.Output.json_dumps([container]),
            tags={**self.tags, **cfg.tags, "glacier:task": task.name},
        )
        self.out.task_definitions[task.name] = definition

    def _glue_job(self, task: TaskSpec, role: Any, log_group: Any, policy: Any) -> None:
        aws, cfg, env, model = self.aws, task.config, self.env, self.model
        script, code, uploads = self._glue_uploads()
        modules = [*_pinned(GLUE_REQUIREMENTS), *cfg.additional_python_modules]
        arguments = {
            "--GLACIER_TARGET": self._code_spec().module_target,
            "--GLACIER_PIPELINE": model.pipeline,
            "--GLACIER_TASK_NAME": task.name,
            "--GLACIER_ENVIRONMENT": env.key,
            "--extra-py-files": code,
            "--additional-python-modules": ",".join(modules),
            "--enable-continuous-cloudwatch-log": "true",
            "--continuous-log-logGroup": log_group.name,
        }
        artifacts = self._artifact_uris(task)
        if artifacts:
            arguments["--GLACIER_ARTIFACTS"] = json.dumps(artifacts, sort_keys=True)
        job = self._resource(
            aws.glue.Job,
            self._ln(task.name, "job"),
            depends_on=[policy, *uploads],
            name=job_name(model, env, task.name),
            role_arn=role.arn,
            command=aws.glue.JobCommandArgs(
                name="glueetl", script_location=script, python_version="3"
            ),
            glue_version=cfg.glue_version,
            worker_type=cfg.worker_type,
            number_of_workers=cfg.num_workers,
            timeout=cfg.timeout_minutes,
            max_retries=cfg.max_retries,
            default_arguments=arguments,
            description=f"Glacier task {task.name!r} of pipeline {model.pipeline!r}",
            tags={**self.tags, **cfg.tags, "glacier:task": task.name},
        )
        self.out.jobs[task.name] = job

    def _check_glue(self, task: TaskSpec) -> None:
        cfg = task.config
        if not cfg.worker_type.startswith("G."):
            raise InfraError(
                f"Task {task.name!r} ({task.location}) asks for Glue workers of type "
                f"{cfg.worker_type!r}; Glacier runs tasks as Spark (glueetl) jobs, which take "
                "G.1X, G.2X, G.4X, G.8X or G.025X workers."
            )
        if cfg.glue_version != "5.0":
            raise InfraError(
                f"Task {task.name!r} ({task.location}) asks for Glue {cfg.glue_version}, whose "
                "Python is older than 3.11, the oldest Glacier runs on. Use "
                "GlueConfig(glue_version='5.0') (the default)."
            )

    def _glue_uploads(self) -> tuple[str, str, list[Any]]:
        """The Glue jobs' script and the pipeline's code, uploaded once per environment to
        the artifacts bucket: their ``s3://`` URIs and the upload resources."""
        if self._glue_code is not None:
            return self._glue_code
        pulumi, aws, model = self.pulumi, self.aws, self.model
        store = model.stores[artifacts_key(self.env.key)]
        bucket = self.out.buckets[store.key]
        prefix = code_prefix(model.pipeline)
        self._code_spec()  # a pipeline not defined in a file has no code to upload
        script = self._resource(
            aws.s3.BucketObjectv2,
            self._ln("glue-script"),
            bucket=bucket.id,
            key=f"{prefix}{GLUE_SCRIPT}",
            content=GLUE_JOB_SOURCE,
            content_type="text/x-python",
        )
        # What Glacier builds on is pip-installed by the job (--additional-python-modules).
        code = self._resource(
            aws.s3.BucketObjectv2,
            self._ln("glue-code"),
            bucket=bucket.id,
            key=f"{prefix}code.zip",
            source=pulumi.AssetArchive({**self._glacier_assets(), **self._code_assets()}),
            content_type="application/zip",
        )
        base = f"s3://{store.bucket_name}/{prefix}"
        self._glue_code = (f"{base}{GLUE_SCRIPT}", f"{base}code.zip", [script, code])
        return self._glue_code

    def _execution_policy(self, image: str, log_group: Any) -> dict[str, Any]:
        statements = [
            iam.statement("Logs", iam.LOG_ACTIONS, [log_group.arn.apply(lambda a: f"{a}:*")])
        ]
        match = _ECR_IMAGE.match(image)
        if match:
            account, region, repo = match.groups()
            partition = self.env.partition
            statements.append(iam.statement("EcrToken", ["ecr:GetAuthorizationToken"], ["*"]))
            statements.append(
                iam.statement(
                    "EcrPull",
                    [
                        "ecr:BatchCheckLayerAvailability",
                        "ecr:BatchGetImage",
                        "ecr:GetDownloadUrlForLayer",
                    ],
                    [f"arn:{partition}:ecr:{region}:{account}:repository/{repo}"],
                )
            )
        return iam.document(statements)

    def _artifact_uris(self, task: TaskSpec) -> dict[str, str]:
        """Where the task's in-memory inputs and outputs travel: ``{dataset: s3://...}``."""
        out = {}
        for g in task.grants:
            store = self.model.stores[g.location.store]
            if store.kind == "artifacts" and g.location.is_artifact:
                out[g.location.dataset] = f"s3://{store.bucket_name}/{g.location.prefix}"
        return out

    def _code(self) -> Any:
        """The function package: the pipeline's code and a handler running one task."""
        if self._archive is not None:
            return self._archive
        pulumi, code = self.pulumi, self._code_spec()
        assets: dict[str, Any] = {
            "glacier_handler.py": pulumi.StringAsset(handler_source(code.relative_target)),
            **self._glacier_assets(),
            **self._code_assets(),
        }
        self._archive = pulumi.AssetArchive(assets)
        return self._archive

    def _glacier_assets(self) -> dict[str, Any]:
        """Glacier's own modules (pure Python), so that deployed code runs the version that
        generated it; what Glacier builds on comes from a layer, an image or pip."""
        import glacier

        own = Path(glacier.__file__).parent
        return {
            f"glacier/{path.relative_to(own).as_posix()}": self.pulumi.FileAsset(str(path))
            for path in sorted(own.rglob("*"))
            if path.suffix in (".py", ".typed") and "__pycache__" not in path.parts
        }

    def _code_spec(self) -> CodeSpec:
        code = self.model.code
        if code is None:
            raise InfraError(
                f"Cannot find the file defining pipeline {self.model.pipeline!r}, so its code "
                "cannot be packaged. Define the pipeline in a module (a .py file) and pass "
                "that file as the target."
            )
        return code

    def _code_assets(self) -> dict[str, Any]:
        """The pipeline's code: its top-level package, or the modules beside its file."""
        pulumi, code = self.pulumi, self._code_spec()
        if code.package is not None:
            return {code.package.name: pulumi.FileArchive(str(code.package))}
        return {
            path.name: pulumi.FileAsset(str(path))
            for path in sorted(code.root.glob("*.py"))
            if path.name != "glacier_handler.py"
        }

    # -- cross-account -------------------------------------------------------------------------

    def _cross_account_role(self, access: Any) -> None:
        model, env = self.model, self.env
        task_env = model.envs[access.task_env]
        caller = task_env.role_arn_of(task_role_name(model, task_env, access.task))
        role = self._resource(
            self.aws.iam.Role,
            self._ln(access.task, "from", str(task_env.account_id)),
            name=cross_account_role_name(model, env, task_env, access.task),
            assume_role_policy=json.dumps(
                iam.trust_policy(account_root=task_env.account_root, principal_arns=[caller])
            ),
            description=(
                f"Access of Glacier task {access.task!r} (account {task_env.account_id}) to "
                f"data in {env.key!r}"
            ),
            tags={**self.tags, "glacier:task": access.task},
        )
        self.out.roles[f"{access.task}@{task_env.account_id}"] = role
        self._resource(
            self.aws.iam.RolePolicy,
            self._ln(access.task, "from", str(task_env.account_id), "policy"),
            name="glacier-data-access",
            role=role.id,
            policy=self._json(iam.document(self._storage_statements(access.grants))),
        )

    # -- orchestration -------------------------------------------------------------------------

    def _task_refs(self, task: TaskSpec) -> dict[str, Any]:
        """ARNs the orchestrator needs for ``task``: outputs here, computed elsewhere."""
        model = self.model
        env = model.envs[task.env]
        if task.env == self.env.key:
            refs: dict[str, Any] = {"role": self.task_roles[task.name].arn}
            if task.compute == "lambda":
                refs["function"] = self.out.functions[task.name].arn
            elif task.compute == "glue":
                refs["job"] = self.out.jobs[task.name].arn
            else:
                definition = self.out.task_definitions[task.name]
                refs["task_definition"] = definition.arn
                refs["family"] = definition.arn.apply(lambda a: a.rsplit(":", 1)[0] + ":*")
                refs["exec_role"] = self.exec_roles[task.name].arn
                refs["cluster"] = self.cluster.arn
                refs["tasks"] = self.cluster.arn.apply(
                    lambda a: a.replace(":cluster/", ":task/", 1) + "/*"
                )
                refs["rule"] = self.cluster.arn.apply(
                    lambda a: _swap_arn(a, "events", f"rule/{iam.ECS_SYNC_RULE}")
                )
            return refs
        refs = {"role": env.role_arn_of(task_role_name(model, env, task.name))}
        if task.compute == "lambda":
            refs["function"] = env.arn("lambda", f"function:{function_name(model, env, task)}")
        elif task.compute == "glue":
            refs["job"] = env.arn("glue", f"job/{job_name(model, env, task.name)}")
        else:
            family = family_name(model, env, task.name)
            cluster = cluster_name(model, env)
            refs["task_definition"] = env.arn("ecs", f"task-definition/{family}")
            refs["family"] = env.arn("ecs", f"task-definition/{family}:*")
            refs["exec_role"] = env.role_arn_of(exec_role_name(model, env, task.name))
            refs["cluster"] = env.arn("ecs", f"cluster/{cluster}")
            refs["tasks"] = env.arn("ecs", f"task/{cluster}/*")
            refs["rule"] = env.arn("events", f"rule/{iam.ECS_SYNC_RULE}")
        return refs

    def _orchestration_statements(self, tasks: Sequence[TaskSpec]) -> list[dict[str, Any]]:
        """What starting ``tasks`` takes: invoke exactly their functions, run exactly their
        task definitions (passing exactly their roles)."""
        refs = [(t, self._task_refs(t)) for t in tasks]
        functions = [r["function"] for t, r in refs if t.compute == "lambda"]
        jobs = [r["job"] for t, r in refs if t.compute == "glue"]
        containers = [r for t, r in refs if t.compute == "ecs"]
        out: list[dict[str, Any]] = []
        if functions:
            out.append(
                iam.statement("InvokeTaskFunctions", iam.ORCHESTRATION_ACTIONS["lambda"], functions)
            )
        if jobs:
            out.append(iam.statement("RunTaskJobs", iam.ORCHESTRATION_ACTIONS["glue"], jobs))
        if containers:
            out.append(
                iam.statement(
                    "RunTaskDefinitions",
                    iam.ORCHESTRATION_ACTIONS["ecs"],
                    [r["family"] for r in containers],
                )
            )
            out.append(
                iam.statement(
                    "TrackTasks", iam.ECS_SYNC_ACTIONS, _unique([r["tasks"] for r in containers])
                )
            )
            out.append(
                iam.statement(
                    "TrackTaskEvents",
                    iam.ECS_SYNC_EVENT_ACTIONS,
                    _unique([r["rule"] for r in containers]),
                )
            )
            out.append(
                iam.statement(
                    "PassTaskRoles",
                    ["iam:PassRole"],
                    [arn for r in containers for arn in (r["role"], r["exec_role"])],
                )
            )
        return out

    def _invoker_role(self, tasks: Sequence[TaskSpec]) -> None:
        model, env = self.model, self.env
        assert model.orchestrator is not None
        home = model.envs[model.orchestrator]
        caller = home.role_arn_of(state_machine_role_name(model, home))
        role = self._resource(
            self.aws.iam.Role,
            self._ln("invoker"),
            name=invoker_role_name(model, env),
            assume_role_policy=json.dumps(
                iam.trust_policy(account_root=home.account_root, principal_arns=[caller])
            ),
            description=f"Lets pipeline {model.pipeline!r}'s orchestrator start tasks here",
            tags=self.tags,
        )
        self.out.roles["invoker"] = role
        self._resource(
            self.aws.iam.RolePolicy,
            self._ln("invoker", "policy"),
            name="glacier-orchestration",
            role=role.id,
            policy=self._json(iam.document(self._orchestration_statements(tasks))),
        )

    def _orchestration(self) -> None:
        model, env, aws = self.model, self.env, self.aws
        local = [t for t in model.tasks if not crosses_account(env, model.envs[t.env])]
        remote_envs = sorted(
            {t.env for t in model.tasks if crosses_account(env, model.envs[t.env])}
        )
        statements = self._orchestration_statements(local)
        if remote_envs:
            statements.append(
                iam.statement(
                    "AssumeInvokerRoles",
                    ["sts:AssumeRole"],
                    [
                        model.envs[k].role_arn_of(invoker_role_name(model, model.envs[k]))
                        for k in remote_envs
                    ],
                )
            )
        role = self._resource(
            aws.iam.Role,
            self._ln("orchestrator"),
            name=state_machine_role_name(model, env),
            assume_role_policy=json.dumps(
                iam.trust_policy(service=iam.COMPUTE_PRINCIPALS["states"])
            ),
            description=f"Step Functions role of Glacier pipeline {model.pipeline!r}",
            tags=self.tags,
        )
        self.out.roles["orchestrator"] = role
        policy = self._resource(
            aws.iam.RolePolicy,
            self._ln("orchestrator", "policy"),
            name="glacier-orchestration",
            role=role.id,
            policy=self._json(iam.document(statements)),
        )
        machine = self._resource(
            aws.sfn.StateMachine,
            self._ln("state-machine"),
            depends_on=[policy],
            name=state_machine_name(model, env),
            role_arn=role.arn,
            definition=self._json(self.definition()),
            tags=self.tags,
        )
        self.out.state_machine = machine
        if model.schedule:
            self._schedule(machine)

    def definition(self) -> dict[str, Any]:
        """The state machine definition: one state per DAG level, a ``Parallel`` state with a
        branch per task where a level holds several independent tasks."""
        model = self.model
        names = [
            level[0] if len(level) == 1 else f"Level {i}" for i, level in enumerate(model.levels, 1)
        ]
        states: dict[str, Any] = {}
        for i, (name, level) in enumerate(zip(names, model.levels, strict=True)):
            nxt: dict[str, Any] = {"Next": names[i + 1]} if i + 1 < len(names) else {"End": True}
            if len(level) == 1:
                states[name] = {**self._task_state(model.task(name)), **nxt}
                continue
            states[name] = {
                "Type": "Parallel",
                "Comment": f"Independent tasks: {', '.join(level)}",
                "Branches": [
                    {
                        "StartAt": t,
                        "States": {t: {**self._task_state(model.task(t)), "End": True}},
                    }
                    for t in level
                ],
                "ResultPath": None,
                **nxt,
            }
        start = names[0]
        return {
            "Comment": f"Glacier pipeline {model.pipeline}",
            "StartAt": start,
            "States": states,
        }

    def _task_state(self, task: TaskSpec) -> dict[str, Any]:
        model, env = self.model, self.env
        refs = self._task_refs(task)
        partition = env.partition
        payload = {"pipeline": model.pipeline, "task": task.name, "run_id.$": "$$.Execution.Name"}
        state: dict[str, Any]
        if task.compute == "lambda":
            state = {
                "Type": "Task",
                "Resource": f"arn:{partition}:states:::lambda:invoke",
                "Parameters": {"FunctionName": refs["function"], "Payload": payload},
            }
        elif task.compute == "glue":
            state = {
                "Type": "Task",
                "Resource": f"arn:{partition}:states:::glue:startJobRun.sync",
                "Parameters": {
                    "JobName": job_name(model, model.envs[task.env], task.name),
                    "Arguments": {"--GLACIER_RUN_ID.$": "$$.Execution.Name"},
                },
            }
        else:
            state = {
                "Type": "Task",
                "Resource": f"arn:{partition}:states:::ecs:runTask.sync",
                "Parameters": {
                    **(
                        {
                            "CapacityProviderStrategy": [
                                {"CapacityProvider": "FARGATE_SPOT", "Weight": 1}
                            ]
                        }
                        if task.config.spot
                        else {"LaunchType": task.config.launch_type}
                    ),
                    "Cluster": refs["cluster"],
                    "TaskDefinition": refs["task_definition"],
                    "NetworkConfiguration": {"AwsvpcConfiguration": self._awsvpc(task)},
                    "Overrides": {
                        "ContainerOverrides": [
                            {
                                "Name": "task",
                                "Environment": [
                                    {"Name": "GLACIER_RUN_ID", "Value.$": "$$.Execution.Name"}
                                ],
                            }
                        ]
                    },
                },
            }
        if crosses_account(env, model.envs[task.env]):
            invoker = model.envs[task.env]
            state["Credentials"] = {
                "RoleArn": invoker.role_arn_of(invoker_role_name(model, invoker))
            }
        state["ResultPath"] = None
        if task.timeout:
            state["TimeoutSeconds"] = max(1, int(task.timeout))
        if task.retries:
            state["Retry"] = [
                {
                    "ErrorEquals": ["States.ALL"],
                    "IntervalSeconds": max(1, int(task.retry_delay)),
                    "MaxAttempts": task.retries,
                    "BackoffRate": task.backoff,
                }
            ]
        return state

    def _awsvpc(self, task: TaskSpec) -> dict[str, Any]:
        """Where a Fargate task gets its network: the environment's subnets, else the default
        VPC's (with a public IP, so the image can be pulled from a public registry)."""
        network = self.model.envs[task.env].network
        if network.subnet_ids:
            placed: dict[str, Any] = {"Subnets": list(network.subnet_ids)}
            if network.security_group_ids:  # else ECS applies the VPC's default group
                placed["SecurityGroups"] = list(network.security_group_ids)
            return placed
        if task.env != self.env.key:
            raise InfraError(
                f"Task {task.name!r} ({task.location}) runs on Fargate in environment "
                f"{task.env!r}, which has no subnets, and is started from {self.env.key!r}, "
                "which cannot look up another account's VPC. Set subnet_ids (and "
                "security_group_ids) on the environment."
            )
        return {"Subnets": self._vpc_subnets(), "AssignPublicIp": "ENABLED"}

    def _vpc_subnets(self) -> Any:
        """The subnets of the environment's VPC, else of the account's default VPC."""
        if self._subnets is None:
            aws = self.aws
            opts = self.pulumi.InvokeOutputOptions(provider=self.provider)
            vpc_id = self.env.network.vpc_id
            if vpc_id is None:
                vpc_id = aws.ec2.get_vpc_output(default=True, opts=opts).id
            found = aws.ec2.get_subnets_output(
                filters=[aws.ec2.GetSubnetsFilterArgs(name="vpc-id", values=[vpc_id])],
                opts=opts,
            )
            self._subnets = found.ids
        return self._subnets

    def _default_security_group(self) -> Any:
        """The ``default`` security group of the VPC the environment's subnets are in."""
        aws = self.aws
        opts = self.pulumi.InvokeOutputOptions(provider=self.provider)
        network = self.env.network
        vpc_id = network.vpc_id
        if vpc_id is None:
            vpc_id = aws.ec2.get_subnet_output(id=network.subnet_ids[0], opts=opts).vpc_id
        return aws.ec2.get_security_group_output(name="default", vpc_id=vpc_id, opts=opts).id

    def _schedule(self, machine: Any) -> None:
        model, env, aws = self.model, self.env, self.aws
        schedule = str(model.schedule)  # checked by Pipeline when it was built
        role = self._resource(
            aws.iam.Role,
            self._ln("scheduler"),
            name=physical_name(env.naming_prefix, model.pipeline, "scheduler"),
            assume_role_policy=json.dumps(
                iam.trust_policy(service=iam.COMPUTE_PRINCIPALS["events"])
            ),
            description=f"Starts Glacier pipeline {model.pipeline!r} on its schedule",
            tags=self.tags,
        )
        self.out.roles["scheduler"] = role
        self._resource(
            aws.iam.RolePolicy,
            self._ln("scheduler", "policy"),
            name="glacier-start-pipeline",
            role=role.id,
            policy=self._json(
                iam.document(
                    [iam.statement("StartPipeline", ["states:StartExecution"], [machine.arn])]
                )
            ),
        )
        rule = self._resource(
            aws.cloudwatch.EventRule,
            self._ln("schedule"),
            name=physical_name(env.naming_prefix, model.pipeline, allowed=r"A-Za-z0-9_.-"),
            schedule_expression=schedule,
            description=f"Schedule of Glacier pipeline {model.pipeline!r}",
            tags=self.tags,
        )
        self._resource(
            aws.cloudwatch.EventTarget,
            self._ln("schedule-target"),
            rule=rule.name,
            arn=machine.arn,
            role_arn=role.arn,
        )


#: The script of every generated Glue job: Glacier's runtime reads the job's arguments.
GLUE_JOB_SOURCE = (
    '"""Generated by Glacier: runs the task this Glue job\'s arguments name."""\n'
    "from glacier.infra.runtime import glue_main\n"
    "\n"
    "glue_main()\n"
)


def _pinned(distributions: Sequence[str]) -> list[str]:
    """``name==version`` of each distribution as installed here (the name if it is not)."""
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for name in distributions:
        try:
            out.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            out.append(name)
    return out


def handler_source(target: str) -> str:
    """The Lambda entry point packaged next to the pipeline's code."""
    return (
        '"""Lambda entry point generated by Glacier: runs one task of the pipeline."""\n\n'
        "from glacier.infra.runtime import lambda_handler\n\n"
        f"TARGET = {target!r}\n\n\n"
        "def handler(event, context):\n"
        "    return lambda_handler(TARGET, event, context)\n"
    )


# -- small helpers -----------------------------------------------------------------------------


def _has_output(value: Any, output_type: type) -> bool:
    if isinstance(value, output_type):
        return True
    if isinstance(value, Mapping):
        return any(_has_output(v, output_type) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_output(v, output_type) for v in value)
    return False


def _join(base: Any, suffix: str) -> Any:
    """``base + suffix`` for a string or an Output."""
    if isinstance(base, str):
        return base + suffix
    return base.apply(lambda b: f"{b}{suffix}")


def _unique(values: Sequence[Any]) -> list[Any]:
    """Strings deduplicated and sorted; Outputs kept, in order, after them."""
    strings = sorted({v for v in values if isinstance(v, str)})
    others = [v for v in values if not isinstance(v, str)]
    return [*strings, *others]


def _swap_arn(arn: str, service: str, resource: str) -> str:
    """The ARN of ``resource`` of ``service`` in the same partition, region and account."""
    parts = arn.split(":", 5)
    parts[2] = service
    parts[5] = resource
    return ":".join(parts)


def _principal_first(stmt: dict[str, Any]) -> dict[str, Any]:
    order = ("Sid", "Effect", "Principal", "Action", "Resource", "Condition")
    return {k: stmt[k] for k in order if k in stmt}

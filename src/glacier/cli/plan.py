"""``glacier plan``: preview, offline, the cloud resources a pipeline needs in an environment.

The plan is the generated Pulumi program run under Pulumi's mock engine
(:func:`glacier.infra.plan`): no cloud, no credentials. This module only shows it, as a table
like ``pulumi preview``'s or as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from glacier.cli.app import EnvOpt, SettingsDirOpt, TargetArg, TracebackOpt, app, handle_errors
from glacier.cli.console import console
from glacier.cli.loading import (
    describe_environment,
    load_pipeline,
    nothing_to_deploy,
    pipeline_environment,
    selected_environment,
    selected_environment_name,
)


@app.command()
def plan(
    target: TargetArg,
    env: EnvOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the plan as JSON only (machine-readable).")
    ] = False,
    policies: Annotated[
        bool,
        typer.Option(
            "--policies",
            help="Also print each task's grants: its role's policy (AWS), or its bindings "
            "and their conditions (GCP).",
        ),
    ] = False,
    settings_dir: SettingsDirOpt = None,
    traceback: TracebackOpt = False,
) -> None:
    """Preview, offline, the cloud resources the pipeline needs in an environment.

    Runs the generated Pulumi program under Pulumi's mock engine: no cloud, no credentials.
    """
    out, err = console(), console(stderr=True)
    with handle_errors(err, traceback), selected_environment(env, settings_dir):
        from glacier import infra

        pipeline = load_pipeline(target)
        run_env = pipeline_environment(pipeline)
        # With an environment selected (--env or GLACIER_ENV), that environment's share (what
        # its stack deploys); else everything the pipeline touches.
        selected = selected_environment_name() is not None
        planned = infra.plan(pipeline, env=run_env if selected else None)
        rows = [_resource_row(r) for r in _resources(planned)]
        if as_json:
            typer.echo(json.dumps(_plan_json(planned, rows), indent=2, default=str))
            return
        title = Text.assemble(
            ("glacier plan ", "bold"),
            ("pipeline ", ""),
            (pipeline.name, "bold cyan"),
        )
        if run_env is not None:
            title.append("  environment ")
            title.append(describe_environment(run_env), "bold")
        out.print(title, soft_wrap=True)
        if not rows:
            out.print(Text(nothing_to_deploy("plan", target, pipeline, run_env)), soft_wrap=True)
            return
        # One table per environment, its cloud account and region said once above it: two
        # columns fit 80 characters where five wrapped.
        for where, group in _by_environment(rows):
            out.print(Text(where, style="bold"), soft_wrap=True)
            table = Table(show_edge=False, header_style="bold", pad_edge=False, box=None)
            table.add_column("type", overflow="fold")
            table.add_column("name", overflow="fold")
            for row in group:
                table.add_row(short_type(str(row.get("type") or "")), str(row.get("name") or ""))
            out.print(table)
        out.print(Text(_count_line(rows), style="bold"), soft_wrap=True)
        choices = getattr(planned, "choices", ())
        if choices:
            out.print(Text('Chosen by the plan (docs/deploy.md, "Packages"):', style="bold"))
            for choice in choices:
                out.print(Text(f"  {choice.text}"), soft_wrap=True)
        if policies:
            from glacier.infra.azure.policies import assignment_lines

            azure = assignment_lines(planned)
            if not azure or planned.policies():
                _print_policies(out, planned)
            for line in azure:
                out.print(Text(line), soft_wrap=True)
        else:
            chosen = selected_environment_name()  # --env or GLACIER_ENV, said the same way
            hint = f"Each task's grants: glacier plan {target} --policies"
            out.print(
                Text(hint + (f" --env {chosen}" if chosen else ""), style="dim"), soft_wrap=True
            )


def _by_environment(rows: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Rows grouped by environment, each group headed ``prod · aws 999999999999
    ca-central-1`` (the provider's account and region)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        env, account, region = _where(row)
        head = " · ".join(
            x
            for x in (env or "(default provider)", " ".join(x for x in (account, region) if x))
            if x
        )
        groups.setdefault(head, []).append(row)
    return list(groups.items())


def _print_policies(out: Any, planned: Any) -> None:
    """Each task role's policy, statement by statement: effect, actions, then the resources
    they reach (and the condition, when one narrows them)."""
    found = getattr(planned, "policies", None)
    # Permission policies; the roles' trust policies (who may assume them) are in --json.
    documents = [d for d in (found() if callable(found) else []) if d[1] != "assumeRolePolicy"]
    by_identity = getattr(planned, "grants", None)
    grants = by_identity() if callable(by_identity) else {}
    if grants:
        _print_grants(out, grants)
        if not documents:
            return
    out.print(Text("Policies (one IAM role per task):", style="bold"))
    if not documents:
        out.print(Text("  (none in this plan)", style="dim"))
    for resource, _key, document in documents:
        out.print(Text(f"  {short_type(resource.type)} {resource.name}", style="bold"))
        statements = document.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            actions = statement.get("Action", [])
            targets = statement.get("Resource", [])
            actions = [actions] if isinstance(actions, str) else list(actions)
            targets = [targets] if isinstance(targets, str) else list(targets)
            effect = statement.get("Effect", "Allow")
            out.print(Text(f"    {effect} {', '.join(actions)}"), soft_wrap=True)
            for target_ in targets:
                out.print(Text(f"      on {target_}", style="dim"), soft_wrap=True)
            if "Condition" in statement:
                condition = json.dumps(statement["Condition"], sort_keys=True)
                out.print(Text(f"      if {condition}", style="dim"), soft_wrap=True)


def _print_grants(out: Any, grants: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    """Role bindings per identity (GCP, Azure): each role, what it is bound on, and the
    condition narrowing it."""
    out.print(Text("Grants (per identity, bound on the resource):", style="bold"))
    for identity, bound in grants.items():
        out.print(Text(f"  {identity}", style="bold"), soft_wrap=True)
        for grant in bound:
            out.print(Text(f"    {grant['role']} on {grant['on']}"), soft_wrap=True)
            if grant.get("condition"):
                out.print(Text(f"      if {grant['condition']}", style="dim"), soft_wrap=True)


def _resources(planned: Any) -> list[Any]:
    for attr in ("resources", "planned"):
        inner = getattr(planned, attr, None)
        if inner is not None and not callable(inner):
            return list(inner)
    if isinstance(planned, Mapping):
        return list(planned.get("resources", []))
    return list(planned)


def _resource_row(resource: Any) -> dict[str, Any]:
    if isinstance(resource, Mapping):
        data = dict(resource)
    else:
        to_dict = getattr(resource, "to_dict", None)
        data = dict(to_dict()) if callable(to_dict) else {}
        for key in ("type", "name", "provider", "environment", "account", "region", "inputs"):
            if key not in data and hasattr(resource, key):
                data[key] = getattr(resource, key)
    return data


def _where(row: Mapping[str, Any]) -> tuple[str, str, str]:
    return (
        str(row.get("environment") or ""),
        str(row.get("account") or ""),
        str(row.get("region") or ""),
    )


def _plan_json(planned: Any, rows: list[dict[str, Any]]) -> Any:
    to_json = getattr(planned, "to_json", None)
    if callable(to_json):
        data = to_json()
        data = json.loads(data) if isinstance(data, str) else data
        from glacier.infra.azure.policies import role_assignments

        assignments = role_assignments(planned)
        if assignments and isinstance(data, dict):
            data["role_assignments"] = assignments
        return data
    return rows


def short_type(token: str) -> str:
    """A Pulumi type token as ``pulumi preview`` shows it: ``aws:s3/bucket:Bucket`` ->
    ``aws:s3:Bucket`` (``--json`` keeps the full token).

    Example:
        >>> short_type("aws:iam/rolePolicy:RolePolicy"), short_type("pulumi:providers:aws")
        ('aws:iam:RolePolicy', 'pulumi:providers:aws')
    """
    parts = token.split(":")
    if len(parts) == 3 and "/" in parts[1]:
        return f"{parts[0]}:{parts[1].split('/', 1)[0]}:{parts[2]}"
    return token


def _count_line(rows: Sequence[Mapping[str, Any]]) -> str:
    by_type: dict[str, int] = {}
    for row in rows:
        token = str(row.get("type", "?"))
        short = "provider" if token.startswith("pulumi:providers:") else token.rsplit(":", 1)[-1]
        by_type[short] = by_type.get(short, 0) + 1
    envs = sorted({str(r.get("environment")) for r in rows if r.get("environment")})
    parts = ", ".join(
        f"{n} {t}" for t, n in sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    where = f" in {', '.join(envs)}" if envs else ""
    return f"{len(rows)} resources{where}" + (f" ({parts})" if parts else "")

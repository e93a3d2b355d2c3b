"""``glacier envs``: the environments of the settings directory: list, show NAME, validate;
``show --diff A B`` puts two environments side by side (their sizing, accounts, secrets'
stores), listing the settings that differ.

An environment is one ``<name>.toml`` in the settings directory (``--settings-dir``,
``$GLACIER_SETTINGS_DIR`` or ``./containers``). ``show`` prints the resolved settings (the file
plus ``GLACIER_*`` variables) with secret-looking values masked, because its output ends up in
terminals, logs and bug reports.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from glacier import env_vars
from glacier.cli.app import SettingsDirOpt, app, handle_errors
from glacier.cli.console import console, relative
from glacier.errors import ConfigError, GlacierError
from glacier.redaction import redact

#: A settings key containing one of these has its value masked by ``glacier envs show``.
SECRET_MARKERS = ("key", "secret", "token", "password", "credential")
#: Keys that look secret but only name things (a table's key attribute, which secret holds a
#: password): shown as they are.
NOT_SECRET = frozenset(
    {"hash_key", "range_key", "hash_key_type", "range_key_type", "password_secret"}
)
MASK = "********"

envs_app = typer.Typer(
    help="Environments in the settings directory: list (default), show NAME, validate.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(envs_app, name="envs")


@envs_app.callback()
def _envs_default(ctx: typer.Context, settings_dir: SettingsDirOpt = None) -> None:
    """Environments in the settings directory: list (default), show NAME, validate."""
    if ctx.invoked_subcommand is None:
        envs_list(settings_dir)


@envs_app.command("list")
def envs_list(settings_dir: SettingsDirOpt = None) -> None:
    """List the environments (one NAME.toml each) with their cloud, account and region."""
    from glacier.settings import GlacierSettings

    out, err = console(), console(stderr=True)
    with handle_errors(err, False):
        directory, names = _environments(settings_dir)
        active = os.environ.get(env_vars.GLACIER_ENV) or "dev"
        table = Table(show_edge=False, header_style="bold", pad_edge=False)
        for column in ("environment", "cloud", "account", "region", "prefix", "buckets", "note"):
            table.add_column(column)
        for name in names:
            mark = f"{name} *" if name == active else name
            try:
                s = GlacierSettings.load(name, directory)
            except GlacierError:
                note = Text("invalid: see glacier envs validate", style="red")
                table.add_row(mark, "", "", "", "", "", note)
                continue
            table.add_row(
                mark,
                s.provider.kind,
                str(getattr(s.provider, "account_id", None) or ""),
                str(
                    getattr(s.provider, "region", None)
                    or getattr(s.provider, "location", None)
                    or ""
                ),
                s.resolved_naming_prefix,
                str(len(s.buckets)),
                "",
            )
        out.print(Text(f"environments in {relative(str(directory))}", style="bold"))
        out.print(table)
        out.print(Text(f"* active (GLACIER_ENV={active})", style="dim"))


@envs_app.command("show")
def envs_show(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The environment to show.")],
    other: Annotated[
        str | None,
        typer.Argument(metavar="[OTHER]", help="With --diff: the environment to compare."),
    ] = None,
    diff: Annotated[
        bool, typer.Option("--diff", help="Show NAME and OTHER side by side: what differs.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
    settings_dir: SettingsDirOpt = None,
) -> None:
    """Print an environment's resolved settings (file + GLACIER_* env vars), secrets masked;
    with --diff, two environments side by side."""
    from glacier.settings import GlacierSettings

    out, err = console(), console(stderr=True)
    with handle_errors(err, False):
        directory = _settings_directory(settings_dir)
        if diff or other is not None:
            if not diff or other is None:
                raise ConfigError(
                    "glacier envs show takes a second environment only with --diff: "
                    f"glacier envs show --diff {name} {other or 'OTHER'}."
                )
            _show_diff(name, other, directory, as_json)
            return
        settings = GlacierSettings.load(name, directory)
        data = mask_secrets(settings.model_dump(mode="json"))
        if as_json:
            typer.echo(json.dumps(data, indent=2, sort_keys=False))
            return
        table = Table(show_edge=False, header_style="bold", pad_edge=False)
        table.add_column("setting", no_wrap=True)
        table.add_column("value", overflow="fold")
        for key, value in _flatten(data):
            table.add_row(key, Text(json.dumps(value) if not isinstance(value, str) else value))
        out.print(
            Text.assemble(
                ("environment ", "bold"),
                (name, "bold cyan"),
                f"  ({relative(str(directory / (name + '.toml')))})",
            )
        )
        out.print(table)


def settings_diff(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The flattened settings that differ between ``a`` and ``b``: ``{key: (a's, b's)}``
    (``None`` where one of them does not set it).

    Example:
        >>> settings_diff({"rds": {"class": "db.t3.micro", "port": 5432}},
        ...               {"rds": {"class": "db.t3.medium", "port": 5432}})
        {'rds.class': ('db.t3.micro', 'db.t3.medium')}
    """
    left, right = dict(_flatten(a)), dict(_flatten(b))
    keys = list(dict.fromkeys([*left, *right]))
    return {k: (left.get(k), right.get(k)) for k in keys if left.get(k) != right.get(k)}


def _show_diff(name: str, other: str, directory: Path, as_json: bool) -> None:
    from glacier.settings import GlacierSettings

    dumps = [
        mask_secrets(GlacierSettings.load(env, directory).model_dump(mode="json"))
        for env in (name, other)
    ]
    dumps = [{k: v for k, v in d.items() if k not in ("env", "state_dir")} for d in dumps]
    differ = settings_diff(dumps[0], dumps[1])
    if as_json:
        rows = {k: {name: a, other: b} for k, (a, b) in differ.items()}
        typer.echo(json.dumps(rows, indent=2))
        return
    out = console()
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("setting", no_wrap=True)
    table.add_column(name, overflow="fold")
    table.add_column(other, overflow="fold")
    for key, (a, b) in differ.items():
        table.add_row(key, Text(_cell(a)), Text(_cell(b)))
    out.print(
        Text.assemble(
            ("environments ", "bold"),
            (name, "bold cyan"),
            " and ",
            (other, "bold cyan"),
            f"  ({len(differ)} settings differ, in {relative(str(directory))})",
        )
    )
    out.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return value if isinstance(value, str) else json.dumps(value)


@envs_app.command("validate")
def envs_validate(settings_dir: SettingsDirOpt = None) -> None:
    """Load every environment and report all problems at once (exit 2 if any: a
    configuration error)."""

    out, err = console(), console(stderr=True)
    with handle_errors(err, False):
        directory, names = _environments(settings_dir)
        out.print(Text(f"environments in {relative(str(directory))}", style="bold"))
        invalid = []
        for name in names:
            problem = validate_environment(name, directory)
            if problem is None:
                out.print(Text.assemble(("✓ ", "green"), name))
                continue
            invalid.append(name)
            out.print(Text.assemble(("✗ ", "bold red"), (name, "bold")))
            out.print(Text(_indent(problem, "    "), style="red"), soft_wrap=True)
        if invalid:
            err.print(
                Text.assemble(
                    ("error: ", "bold red"),
                    f"{len(invalid)} of {len(names)} environments invalid: {', '.join(invalid)}",
                )
            )
            raise typer.Exit(2)
        out.print(Text(f"all {len(names)} environments valid", style="bold green"))


def validate_environment(name: str, directory: Path) -> str | None:
    """The problem with environment ``name`` (its settings, then its wiring), or ``None``."""
    from glacier.environment import Environment
    from glacier.settings import GlacierSettings

    try:
        settings = GlacierSettings.load(name, directory)
        Environment.from_settings(settings)
    except GlacierError as exc:
        return str(exc)
    except Exception as exc:  # a wiring bug is still a problem of this environment
        return f"{type(exc).__name__}: {exc}"
    return None


def mask_secrets(data: Any, key: str = "") -> Any:
    """``data`` with every value under a key that looks secret replaced by ``********``.

    A key is secret when it contains key, secret, token, password or credential; booleans
    and empty values stay (they reveal nothing and say whether the setting is on).

    Example:
        >>> mask_secrets({"kms_key_id": "arn:aws:kms:k", "profile": "prod", "api": {"token": "t"}})
        {'kms_key_id': '********', 'profile': 'prod', 'api': {'token': '********'}}
    """
    if isinstance(data, Mapping):
        return {k: mask_secrets(v, str(k)) for k, v in data.items()}
    if key in NOT_SECRET:
        return data
    if isinstance(data, list):
        return [mask_secrets(v, key) for v in data]
    secret = any(marker in key.lower() for marker in SECRET_MARKERS)
    if secret and data not in (None, "") and not isinstance(data, bool):
        return MASK
    # A value under an ordinary key may still carry one (a url's password).
    return redact(data) if isinstance(data, str) else data


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _flatten(data: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(data, Mapping) and data:
        for k, v in data.items():
            yield from _flatten(v, f"{prefix}.{k}" if prefix else str(k))
    else:
        yield prefix, data


def _settings_directory(settings_dir: Path | None) -> Path:
    if settings_dir is not None:
        return settings_dir.expanduser().resolve()
    return Path(
        os.environ.get(env_vars.GLACIER_SETTINGS_DIR) or Path.cwd() / "containers"
    ).resolve()


def _environments(settings_dir: Path | None) -> tuple[Path, list[str]]:
    """The settings directory and its environments; a ConfigError when it has none."""
    from glacier.settings import GlacierSettings

    directory = _settings_directory(settings_dir)
    names = GlacierSettings.available(directory)
    if names:
        return directory, names
    where = "does not exist" if not directory.is_dir() else "has no <name>.toml files"
    raise ConfigError(
        f"No environments: the settings directory {directory} {where}. Pass --settings-dir, "
        "set GLACIER_SETTINGS_DIR, or create containers/dev.toml (glacier init makes one)."
    )

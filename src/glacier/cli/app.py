"""The ``glacier`` typer app, the options its commands share, and how errors reach the user.

Every command module registers on :data:`app`; every command runs its work inside
:func:`handle_errors`, so a user sees one ``error:`` message and an exit code instead of a
traceback: 2 when the command line or the configuration was wrong (an unknown target, task,
environment or run; an invalid settings file or config object), 1 when the work failed (a
task, an error in the target's own code, storage, a missing extra).
"""

from __future__ import annotations

import os
import sys
import sysconfig
import traceback as tb
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text
from typer._click import exceptions as click_errors  # typer vendors click (0.29+)
from typer.core import TyperGroup

from glacier.cli.console import console, relative
from glacier.errors import (
    ConfigError,
    GlacierError,
    OutputPathError,
    TargetNotFoundError,
    UnboundEnvironmentError,
    UnknownEnvironmentError,
    UnknownRunError,
    UnknownTaskError,
)
from glacier.redaction import redact, traceback_text

#: Errors that mean the command line or the configuration was wrong (exit code 2), not that
#: work failed (1). ``ConfigError`` covers invalid settings files and config objects, unknown
#: options and credentials in code; rerunning cannot help until the input changes.
USAGE_ERRORS: tuple[type[BaseException], ...] = (
    ConfigError,
    TargetNotFoundError,
    UnknownEnvironmentError,
    UnboundEnvironmentError,
    UnknownTaskError,
    UnknownRunError,
    OutputPathError,
)

# Frames in Glacier itself are never "where the user's code raised".
_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])


class OneLineErrors(TyperGroup):
    """The command group, reporting a wrong command line (an unknown option, a value not
    among the choices) as one ``error:`` line and exit code 2, like Glacier's own errors,
    instead of click's usage box."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            result = super().main(
                args=args,
                prog_name=prog_name,
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
        except click_errors.NoArgsIsHelpError as exc:  # `glacier` alone: the help
            exc.show()
            code = exc.exit_code
        except click_errors.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx is not None else "glacier"
            message = " ".join(exc.format_message().split())
            # typer validates choices with pydantic, whose messages start "Value error, ".
            message = message.replace("Value error, ", "")
            given = _given_value(exc, sys.argv[1:] if args is None else list(args))
            if given is not None and repr(given) not in message:
                message = f"{message.rstrip('.')}; got {given!r}."
            console(stderr=True).print(
                Text("error: ", style="bold red").append(f"{message} (see `{command} -h`)"),
                soft_wrap=True,
            )
            code = exc.exit_code
        except click_errors.ClickException as exc:
            console(stderr=True).print(
                Text("error: ", style="bold red").append(exc.format_message()), soft_wrap=True
            )
            code = exc.exit_code
        except typer.Abort:
            console(stderr=True).print(Text("Aborted.", style="bold red"))
            code = 1
        else:
            code = result if isinstance(result, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


def _given_value(exc: Exception, args: list[str]) -> str | None:
    """The value the command line gave the option a ``BadParameter`` is about, so that the
    message names it (click's own messages often do not)."""
    param = getattr(exc, "param", None)
    for opt in getattr(param, "opts", ()) if isinstance(exc, click_errors.BadParameter) else ():
        for i, arg in enumerate(args):
            if arg == opt and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(f"{opt}="):
                return arg.split("=", 1)[1]
    return None


def _hide_redundant_types() -> None:
    """Show no ``<bool>`` beside a flag, and no ``<str>`` beside an argument whose metavar
    already says what it takes (``TARGET``): typer prints a type for every parameter."""
    from typer.core import TyperArgument, TyperOption

    option_type = TyperOption.display_type_rich
    argument_type = TyperArgument.display_type_rich

    def option(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else option_type(self, ctx)

    def argument(self: TyperArgument, ctx: Any) -> str | None:
        return None if self.metavar else argument_type(self, ctx)

    TyperOption.display_type_rich = option  # type: ignore[method-assign, assignment]
    TyperArgument.display_type_rich = argument  # type: ignore[method-assign, assignment]


_hide_redundant_types()

app = typer.Typer(
    name="glacier",
    cls=OneLineErrors,
    help="Glacier: cloud-agnostic data pipelines over polars.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Markdown: a docstring's lines join into sentences (rich mode kept each line break), and
    # the settings' [lineage] section is text, not a rich markup tag that vanishes.
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)


# -- shared options --------------------------------------------------------------------------

TargetArg = Annotated[
    str,
    typer.Argument(
        metavar="TARGET",
        help="The pipeline: path/to/file.py, file.py:NAME or package.module:NAME.",
        show_default=False,
    ),
]
EnvOpt = Annotated[
    str | None,
    typer.Option(
        "--env",
        "-e",
        metavar="NAME",
        help="Environment (sets GLACIER_ENV before the target is imported).",
        show_default=False,
    ),
]


def directory_option(value: str) -> Path:
    """A directory option's value as a path; an empty one is refused (it would silently
    mean the current directory).

    >>> directory_option("containers")
    PosixPath('containers')
    """
    if not value.strip():
        raise typer.BadParameter(
            "is empty; give a directory (e.g. containers), or leave the option out for the default"
        )
    return Path(value)


SettingsDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--settings-dir",
        parser=directory_option,
        metavar="DIR",
        help="Where the environments' NAME.toml files are (default: $GLACIER_SETTINGS_DIR "
        "or ./containers).",
        show_default=False,
    ),
]
TracebackOpt = Annotated[
    bool, typer.Option("--traceback", help="Show the full exception chain on errors.")
]


def _version(value: bool) -> None:
    if value:
        from glacier import __version__

        typer.echo(f"glacier {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Glacier: cloud-agnostic data pipelines over polars.

    TARGET is path/to/file.py (one pipeline), file.py:NAME or package.module:NAME.
    Exit codes: 0 ok, 1 a task or the work failed, 2 a usage or configuration error.
    """


def main() -> None:
    """Entry point of the ``glacier`` console script and ``python -m glacier``."""
    # The package registers every command on `app` when it is imported, which importing this
    # module has already done (a submodule's package is imported first).
    app(prog_name="glacier")


# -- error handling --------------------------------------------------------------------------


@contextmanager
def handle_errors(
    console: Console,
    show_traceback: bool,
    usage: tuple[type[BaseException], ...] = (),
) -> Iterator[None]:
    """Turn errors into a message and an exit code: 2 for usage and configuration errors
    (:data:`USAGE_ERRORS` and ``usage``), 1 for the rest."""
    try:
        yield
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise
    except GlacierError as exc:
        code = 2 if isinstance(exc, USAGE_ERRORS + usage) else 1
        print_error(console, exc, show_traceback)
        raise typer.Exit(code) from None
    except Exception as exc:
        print_error(console, exc, show_traceback, unexpected=True)
        raise typer.Exit(1) from None
    except SystemExit as exc:
        # The user's code called sys.exit(): say so and where, and fail (an error is how a
        # task reports failure). sys.exit(0) is no failure and is left alone.
        if exc.code in (None, 0):
            raise
        text = Text("error: ", style="bold red")
        text.append(
            f"the pipeline called sys.exit({exc.code!r}); a task fails by raising an "
            "exception, which glacier reports and records"
        )
        frame = raising_frame(exc)
        if frame is not None:
            text.append(f"\n  at {relative(frame.filename)}:{frame.lineno}")
        console.print(text, soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print(
            Text("error: interrupted (Ctrl-C) before the command finished", style="bold red")
        )
        raise typer.Exit(130) from None


def print_error(
    console: Console, exc: BaseException, show_traceback: bool, *, unexpected: bool = False
) -> None:
    """``error: <message>``; for an error Glacier did not raise on purpose, its type and the
    line of the user's code that raised it."""
    if show_traceback:
        console.print(Text(traceback_text(exc).rstrip()), soft_wrap=True)
    text = Text("error: ", style="bold red")
    if unexpected:
        text.append(f"{type(exc).__name__}: ")
    text.append(redact(str(exc)))
    frame = raising_frame(exc) if unexpected else None
    if frame is not None:
        text.append(f"\n  at {relative(frame.filename)}:{frame.lineno}")
        if frame.line:
            text.append(f"\n      {redact(frame.line)}", style="dim")
    console.print(text, soft_wrap=True)
    if not show_traceback and (unexpected or exc.__cause__ is not None):
        console.print(Text("(run with --traceback for the full traceback)", style="dim"))


def raising_frame(error: BaseException) -> tb.FrameSummary | None:
    """The innermost frame of the user's own code in the error's traceback."""
    frames = tb.extract_tb(error.__traceback__)
    library = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    for frame in reversed(frames):
        path = str(Path(frame.filename).resolve()) if frame.filename else ""
        if path.startswith(_PACKAGE_DIR) or any(path.startswith(p) for p in library):
            continue
        # Compiled extensions report source paths that are not on disk (``src/x.pxd``).
        if frame.filename.startswith("<") or not os.path.isfile(frame.filename):
            continue
        return frame
    return None

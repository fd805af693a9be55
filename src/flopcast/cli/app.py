"""The ``flopcast`` command tree, built lazily: a command's module is imported only when it runs.

Typer builds a click command from every registered function's signature; for the whole tree
that takes about 70 ms and imports every command module. The root group here
(:class:`_LazyGroup`) knows each command by name (:data:`COMMANDS`) and builds only the one a
command line names, so ``flopcast estimate`` pays for ``estimate`` alone. ``--help`` lists
them all (and :mod:`flopcast.cli.main` keeps its rendering, see :mod:`flopcast.cli.helpcache`).
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from flopcast.errors import FlopcastError

#: every command of the root group, in the order ``--help`` lists them: name -> (module, attribute);
#: an attribute that is a ``typer.Typer`` is a group of subcommands
COMMANDS: dict[str, tuple[str, str]] = {
    "diffusion": ("flopcast.cli.forecast", "diffusion_cmd"),
    "emulate": ("flopcast.cli.forecast", "emulate_cmd"),
    "lag": ("flopcast.cli.forecast", "lag_cmd"),
    "trend": ("flopcast.cli.forecast", "trend_cmd"),
    "forecast": ("flopcast.cli.outlook_cmd", "forecast_cmd"),
    "deploy": ("flopcast.cli.forecast", "deploy_cmd"),
    "report": ("flopcast.cli.web_cmd", "report_cmd"),
    "serve": ("flopcast.cli.web_cmd", "serve_cmd"),
    "validate": ("flopcast.cli.web_cmd", "validate_cmd"),
    "explain": ("flopcast.cli.explain_cmd", "explain_cmd"),
    "estimate": ("flopcast.cli.training_cmd", "estimate_cmd"),
    "costs": ("flopcast.cli.training_cmd", "costs_cmd"),
    "plan": ("flopcast.cli.plan_cmd", "plan_cmd"),
    "hardware": ("flopcast.cli.hardware_cmd", "hardware_app"),
    "models": ("flopcast.cli.training_cmd", "models_app"),
    "data": ("flopcast.cli.data_cmd", "data_app"),
    "mfu": ("flopcast.cli.mfu_cmd", "mfu_app"),
}


class _LazyGroup(TyperGroup):
    """The root group: :data:`COMMANDS` by name, each built from its module on first use."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.commands[cmd_name] = _build(cmd_name)
        return self.commands.get(cmd_name)


app = typer.Typer(
    name="flopcast",
    help="AI training compute, hardware and dollar cost, with honest uncertainty.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_LazyGroup,
)


def _build(name: str) -> Any:
    """The click command (or group) of ``name``, as typer would build it inside the whole tree."""
    from typer.main import get_command_from_info, get_group_from_info
    from typer.models import CommandInfo, TyperInfo

    module, attr = COMMANDS[name]
    target = getattr(importlib.import_module(module), attr)
    if isinstance(target, typer.Typer):
        return get_group_from_info(
            TyperInfo(target, name=name),
            pretty_exceptions_short=app.pretty_exceptions_short,
            rich_markup_mode=app.rich_markup_mode,
            suggest_commands=app.suggest_commands,
        )
    return get_command_from_info(
        CommandInfo(name=name, callback=target),
        pretty_exceptions_short=app.pretty_exceptions_short,
        rich_markup_mode=app.rich_markup_mode,
    )


@functools.cache
def command() -> Any:
    """The root click group, built once per process (its commands are built as they are named)."""
    return typer.main.get_group(app)


def tree() -> Any:
    """The root click group with every command built (what ``--help`` lists; tests walk it)."""
    group = command()
    for name in COMMANDS:
        group.get_command(None, name)
    return group


def run(argv: list[str] | None = None) -> None:
    """Run a command line: a FlopcastError becomes one line on stderr and exit status 2."""
    try:
        rc = command()(args=argv, standalone_mode=False)
        if isinstance(rc, int) and rc:  # typer.Exit(code) inside a command returns its code here
            sys.exit(rc)
    except FlopcastError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(2)
    except OSError as exc:
        # a file that a command could not read or write and did not check itself: one line, never a traceback
        # (a closed standard output, `| head`, is click's: it exits 1 quietly)
        sys.stderr.write(f"error: {_os_error_text(exc)}\n")
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("aborted\n")
        sys.exit(1)
    except Exception as exc:
        # usage errors of typer's click (e.g. an unknown option): one line, click's exit code
        # typer's NoArgsIsHelpError is matched by name, as typer itself does (its click is vendored)
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            sys.stdout.write(ctx.get_help() + "\n")
            sys.exit(0)
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            sys.stderr.write(f"error: {exc.format_message()}\n")
            sys.exit(exc.exit_code)
        raise


def _os_error_text(exc: OSError) -> str:
    """One line for an operating-system error: the path (``exc.filename``) and the reason."""
    import errno

    reason = exc.strerror or str(exc) or type(exc).__name__
    reason = reason[:1].lower() + reason[1:]
    named = [
        repr(os.fsdecode(f)) if isinstance(f, (str, bytes)) else str(f)
        for f in (exc.filename, exc.filename2)
        if f is not None
    ]
    if named:
        return f"reading or writing {' and '.join(named)} failed: {reason}"
    code = f", errno {errno.errorcode[exc.errno]}" if exc.errno is not None and exc.errno in errno.errorcode else ""
    return f"{reason} (reading or writing a file{code})"

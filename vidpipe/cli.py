"""`vidpipe` command. Thin: each command module in vidpipe/_cli registers on `app` and calls the API.

A VidpipeError becomes one line on stderr and its exit code; tracebacks only with VIDPIPE_DEBUG=1.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import sys
from pathlib import Path

import typer

from vidpipe import _cli
from vidpipe.environment import BACKENDS
from vidpipe.errors import VidpipeError

app = typer.Typer(
    name="vidpipe",
    help="AI video production pipeline: validate, generate, QC, assemble, learn.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def check_backend(value: str | None) -> str | None:
    """Option callback for --backend: an unknown name is a usage error (one line, exit 2), not a traceback."""
    if value is not None and value != "auto" and value not in BACKENDS:
        raise typer.BadParameter(f"unknown backend {value!r}; choose auto or one of {', '.join(BACKENDS)}")
    return value


@app.callback()
def _root() -> None:
    """AI video production pipeline: validate, generate, QC, assemble, learn."""


_COMMAND = re.compile(r'@app\.command\((?:"([\w-]+)")?[^)]*\)\s*\ndef (\w+)')


def _command_modules() -> dict[str, str]:
    """command name → the vidpipe/_cli module defining it, read from the sources (nothing imported)."""
    out: dict[str, str] = {}
    for mod in pkgutil.iter_modules(_cli.__path__):
        if mod.name.startswith("_"):
            continue
        text = (Path(_cli.__path__[0]) / f"{mod.name}.py").read_text(encoding="utf-8")
        for explicit, func in _COMMAND.findall(text):
            out[explicit or func.replace("_", "-")] = mod.name
    return out


def _register(argv: list[str]) -> None:
    """Import the command modules: only the invoked one when it is known (a 10,000-job `validate` should not
    pay for importing every stage), all of them for help, completion or an unknown name."""
    wanted = next((a for a in argv if not a.startswith("-")), None)
    mods = _command_modules()
    names = [mods[wanted]] if wanted in mods else sorted(set(mods.values()) | {
        m.name for m in pkgutil.iter_modules(_cli.__path__) if not m.name.startswith("_")})
    for mod in names:
        importlib.import_module(f"vidpipe._cli.{mod}")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning VidpipeError into one line and an exit code."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        _register(argv)
        rv = app(args=argv, prog_name="vidpipe", standalone_mode=False)
        if rv == 130:  # typer turns Ctrl-C into Exit(130) and, not standalone, returns the code
            return _interrupted()
        return rv if isinstance(rv, int) else 0
    except VidpipeError as exc:
        if os.environ.get("VIDPIPE_DEBUG") == "1":
            raise
        print(f"vidpipe: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except SystemExit as exc:  # typer.Exit raised inside commands
        return _interrupted() if exc.code == 130 else int(exc.code or 0)
    except typer.Exit as exc:  # typer turns Ctrl-C into Exit(130)
        return _interrupted() if exc.exit_code == 130 else int(exc.exit_code or 0)
    except OSError as exc:  # a read-only or full output folder, a path blocked by a file: one line, exit 1
        if os.environ.get("VIDPIPE_DEBUG") == "1":
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"vidpipe: error: {where}{exc.strerror or exc.__class__.__name__} (check the folder is writable)",
              file=sys.stderr)
        return 1
    except (KeyboardInterrupt, typer.Abort):  # (Abort: EOF at a prompt)
        return _interrupted()
    except typer.TyperException as exc:  # typer's vendored click: usage errors in non-standalone mode
        return _usage_error(exc)
    return 0


def _interrupted() -> int:
    print("vidpipe: interrupted; finished work is kept and a rerun resumes", file=sys.stderr)
    return 130


def _usage_error(exc: Exception) -> int:
    """A usage error (extra argument, unknown option, missing file argument) → one line, exit 2.

    `vidpipe` alone (and a group without a subcommand) shows the help text instead, exit 2 too.
    """
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError":
        print(exc.format_message() if hasattr(exc, "format_message") else exc, file=sys.stderr)  # the help text
        return 2
    message = " ".join(str(exc.format_message() if hasattr(exc, "format_message") else exc).split())
    where = str(getattr(ctx, "command_path", "") or "vidpipe")
    print(f"{where}: error: {message} (see '{where} --help')", file=sys.stderr)
    return int(getattr(exc, "exit_code", 2) or 2)


if __name__ == "__main__":
    sys.exit(main())

"""`vidpipe` command. Thin: each command module in vidpipe/_cli registers on `app` and calls the API.

A VidpipeError becomes one line on stderr and its exit code; tracebacks only with VIDPIPE_DEBUG=1.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import typer

from vidpipe.errors import VidpipeError

app = typer.Typer(
    name="vidpipe",
    help="AI video production pipeline: validate, generate, QC, assemble, learn.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from vidpipe import _cli

    for mod in sorted(m.name for m in pkgutil.iter_modules(_cli.__path__)):
        if not mod.startswith("_"):
            importlib.import_module(f"vidpipe._cli.{mod}")


_register()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning VidpipeError into one line and an exit code."""
    try:
        rv = app(args=argv, prog_name="vidpipe", standalone_mode=False)
        return rv if isinstance(rv, int) else 0
    except VidpipeError as exc:
        if os.environ.get("VIDPIPE_DEBUG") == "1":
            raise
        print(f"vidpipe: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except SystemExit as exc:  # typer.Exit raised inside commands
        return int(exc.code or 0)
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except KeyboardInterrupt:
        print("vidpipe: interrupted; finished work is kept and a rerun resumes", file=sys.stderr)
        return 130
    except Exception as exc:  # click usage errors come through here in non-standalone mode
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Abort):
            return 130
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())

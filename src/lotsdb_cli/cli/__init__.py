"""The command line: `lotsdb` (see `app.py`)."""

from __future__ import annotations

import sys


def interrupted(exc: BaseException | None) -> bool:
    """A KeyboardInterrupt, or an error it caused (Python wraps one raised while a class is made)."""
    while exc is not None:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def main() -> None:
    """The `lotsdb` console script."""
    if sys.argv[1:] == ["--version"]:  # answered before the command-line parser (and Typer) is loaded
        from lotsdb_cli import __version__

        print(f"lotsdb {__version__}")
        return
    try:
        from lotsdb_cli.cli.app import main as run
    except BaseException as exc:  # Ctrl-C while the modules load, before any handler is in place
        if not interrupted(exc):
            raise
        sys.stderr.write("interrupted\n")
        exec("None")  # see errors.forget_keyboard_interrupt (not importable here)
        sys.exit(130)
    run()

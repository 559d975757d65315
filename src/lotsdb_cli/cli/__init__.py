"""The command line: `lotsdb` (see `app.py`)."""

from __future__ import annotations

import sys


def main() -> None:
    """The `lotsdb` console script."""
    if sys.argv[1:] == ["--version"]:  # answered before the command-line parser (and Typer) is loaded
        from lotsdb_cli import __version__

        print(f"lotsdb {__version__}")
        return
    try:
        from lotsdb_cli.cli.app import main as run
    except KeyboardInterrupt:  # Ctrl-C while the modules load, before any handler is in place
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    run()

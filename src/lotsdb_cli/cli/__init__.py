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


def _stop_early(signum: int, frame: object) -> None:
    from lotsdb_cli.errors import Stopped

    raise Stopped(signum)


def main() -> None:
    """The `lotsdb` console script."""
    if sys.argv[1:] == ["--version"]:  # answered before the command-line parser (and Typer) is loaded
        from lotsdb_cli import __version__

        print(f"lotsdb {__version__}")
        return
    import signal

    for signum in (signal.SIGTERM, signal.SIGHUP):  # the command's own handler replaces this one
        if signal.getsignal(signum) is not signal.SIG_IGN:  # (`nohup` asked for SIGHUP to be ignored)
            signal.signal(signum, _stop_early)
    try:
        from lotsdb_cli.cli.app import main as run
    except BaseException as exc:  # a stop while the modules load, before the command's handlers are in place
        if not interrupted(exc):
            raise
        stopped_by = _stopped_by(exc)
        sys.stderr.write(f"stopped by {signal.Signals(stopped_by).name}\n" if stopped_by else "interrupted\n")
        exec("None")  # see errors.forget_keyboard_interrupt (not importable here)
        sys.exit(128 + stopped_by if stopped_by else 130)
    run()


def _stopped_by(exc: BaseException | None) -> int | None:
    """The signal a `Stopped` (itself, or what caused `exc`) was raised for; None for a Ctrl-C."""
    while exc is not None:
        signum = getattr(exc, "signum", None)
        if isinstance(signum, int):
            return signum
        exc = exc.__cause__ or exc.__context__
    return None

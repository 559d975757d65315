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


class _StoppedEarly(KeyboardInterrupt):
    """SIGTERM or SIGHUP while the modules load (`systemctl stop` as the job starts)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop_early(signum: int, frame: object) -> None:
    raise _StoppedEarly(signum)


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
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, _StoppedEarly):
            cause = cause.__cause__ or cause.__context__
        name = signal.Signals(cause.signum).name if isinstance(cause, _StoppedEarly) else None
        sys.stderr.write(f"stopped by {name}\n" if name else "interrupted\n")
        exec("None")  # see errors.forget_keyboard_interrupt (not importable here)
        sys.exit(128 + cause.signum if isinstance(cause, _StoppedEarly) else 130)
    run()

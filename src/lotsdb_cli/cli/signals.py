"""Stop signals: SIGINT (Ctrl-C), SIGTERM (`timeout`, systemd) and SIGHUP (a closed terminal) stop a
command, keeping what was fetched and leaving no partial output, until its output is being committed.

The handler knows where the command is:
- running: a stop signal raises (`KeyboardInterrupt`, or `Stopped` with the signal), and the command
  cleans up and reports it (130, 143, 129);
- finishing (`finishing()`: the output is complete and being put in place, a `--changes` record with
  it): the command is as good as done, so a first stop signal lets it finish and exit with its own
  status, rather than report a stop that did not happen (exit 143 beside a whole file, or a delta
  recorded by a run a cron job counts as failed); a second one stops it;
- reporting (`reporting()`: an error or a stop is being reported): a signal ends the process at once
  with its code, never with a traceback from the middle of the report;
- ended (`ended(status)`: the interpreter is shutting down): a signal ends the process with the
  command's own status at once (everything is written).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _State:
    finishing = False
    reporting = False
    status: int | None = None
    late: list[int] = []  # noqa: RUF012 - one process, one command


def finishing() -> None:
    """The command's output is complete: from here a first stop signal no longer stops it."""
    _State.finishing = True


def reporting() -> None:
    """The command is over and its error is being reported: a stop signal ends the process at once."""
    _State.reporting = True


def ended(status: int) -> None:
    """The command ended with `status` and the process is exiting: a stop signal exits with it at once."""
    _State.status = status


def _stop(signum: int, frame: Any) -> None:
    from lotsdb_cli.errors import Stopped

    if _State.status is not None:
        os._exit(_State.status)
    if _State.reporting:
        os._exit(128 + signum)
    if _State.finishing and not _State.late:
        _State.late.append(signum)  # the work is done; the rest takes moments
        return
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Stopped(signum)


@contextmanager
def stop_signals(*, restore: bool = True) -> Iterator[None]:
    """The stop handler for the command's run (signals a parent ignores, as `nohup` asks, stay ignored).
    `restore` puts the previous handlers back at the end (a command run inside another program);
    the `lotsdb` process keeps this one until it exits (see `ended`)."""
    _State.finishing, _State.reporting, _State.status, _State.late = False, False, None, []
    previous: dict[signal.Signals, Any] = {}
    try:
        for signum in _STOP_SIGNALS:
            if signal.getsignal(signum) is signal.SIG_IGN:
                continue
            previous[signum] = signal.signal(signum, _stop)
    except ValueError:  # not the main thread (a test runner's worker): leave signals alone
        pass
    try:
        yield
    finally:
        if restore:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

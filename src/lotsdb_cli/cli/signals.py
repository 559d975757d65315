"""Stop signals: SIGINT (Ctrl-C), SIGTERM (`timeout`, systemd) and SIGHUP (a closed terminal) stop a
command, keeping what was fetched and leaving no partial output, until its output is being committed.

From `finishing()` on (the output is complete and is being put in place, a `--changes` record with
it), the command is as good as done: a stop signal then lets it finish its last local steps and exit
with its own status, rather than report a stop that did not happen (exit 143 beside a whole file,
or a delta recorded by a run a cron job counts as failed). A second signal still stops it at once.
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
    late: list[int] = []  # noqa: RUF012 - one process, one command


def finishing() -> None:
    """The command's output is complete: from here a first stop signal no longer stops it."""
    _State.finishing = True


def _stop(signum: int, frame: Any) -> None:
    from lotsdb_cli.errors import Stopped

    if _State.finishing and not _State.late:
        _State.late.append(signum)  # the work is done; the rest takes moments
        return
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Stopped(signum)


@contextmanager
def stop_signals() -> Iterator[None]:
    """Install the stop handler for the command's run (signals a parent ignores, as `nohup` asks, stay ignored)."""
    _State.finishing, _State.late = False, []
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
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def exit_quietly_on_stop(status: int) -> None:
    """The command has ended with `status` and the interpreter is shutting down: a stop signal now
    ends the process with that status at once (everything is written), not by the signal."""

    def done(signum: int, frame: Any) -> None:
        os._exit(status)

    for signum in _STOP_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, done)

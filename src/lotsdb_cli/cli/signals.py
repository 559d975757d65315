"""SIGTERM and SIGHUP as an orderly exit (SPEC §6: 143 and 129, the guarantees of Ctrl-C).

Python's default for both is to die on the spot: no `finally` runs, so a summary is never
printed and a temporary output file stays behind. Inside `exit_on_termination()` they raise
`SystemExit(128 + signal)` instead, which unwinds the command like Ctrl-C does.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextmanager
def exit_on_termination() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise SystemExit(143 / 129); handlers are restored after."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = {number: signal.signal(number, stop) for number in _SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)

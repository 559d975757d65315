"""The one place where exceptions become messages and exit codes (SPEC §6)."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import sys
import traceback
from collections.abc import Iterator, Sequence
from typing import IO

from lotsdb_cli.cli import interrupted
from lotsdb_cli.errors import ExitStatus, LotsdbError

# A write that failed for lack of room or a broken device: the output, not lotsdb, is the problem.
OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EIO, errno.EROFS})


# Control characters in a message (a server's error text is quoted in it) must not reach a terminal
# as such: an escape sequence could recolour or rewrite the screen, a CR overwrite the line. Line
# breaks (hints, tracebacks) and tabs stay.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` with its control characters (bidirectional overrides included) shown as `\\x1b`-style escapes."""
    return _CONTROL.sub(lambda match: ascii(match.group())[1:-1], text)


def silence(stream: IO[str]) -> None:
    """The stream's reader went away (`| head`), or it cannot be written (`2>/dev/full`): point it at
    devnull, so what is still buffered goes nowhere and the interpreter's last flush cannot fail
    (which would end the process with status 120 instead of the command's own)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


@contextlib.contextmanager
def stderr_may_fail(stream: IO[str] | None = None) -> Iterator[None]:
    """Messages for stderr that cannot be written are lost, never turned into another error."""
    stream = sys.stderr if stream is None else stream
    try:
        yield
        stream.flush()
    except (OSError, ValueError):
        silence(stream)


def _print(line: str) -> None:
    with stderr_may_fail():
        print(printable(line), file=sys.stderr)


def verbosity_of(args: Sequence[str]) -> int:
    """-v count from the command line (for errors raised before the root callback ran)."""
    count = 0
    for arg in args:
        if arg == "--":
            break
        if arg == "--verbose":
            count += 1
        elif arg.startswith("-") and not arg.startswith("--") and set(arg[1:]) == {"v"}:
            count += len(arg) - 1
    return count


def exit_status_for(exc: BaseException, *, verbosity: int = 0) -> int:
    """Report `exc` on stderr in one line (plus a hint) and return the exit status."""
    from lotsdb_cli.errors import Stopped
    from lotsdb_cli.secrets import redact

    if isinstance(exc, Stopped):
        name = signal.Signals(exc.signum).name
        _print(f"stopped by {name}")
        return 128 + exc.signum
    if isinstance(exc, KeyboardInterrupt) or (not isinstance(exc, LotsdbError) and interrupted(exc)):
        _print("interrupted")
        forget_keyboard_interrupt()
        return ExitStatus.INTERRUPTED
    if isinstance(exc, BrokenPipeError):
        # `lotsdb lots dump 1 | head`: the reader went away, which is not an error.
        silence(sys.stdout)
        return ExitStatus.OK
    if isinstance(exc, LotsdbError):
        _print(f"error: {redact(exc.message)}")
        if exc.hint:
            _print(f"hint: {redact(exc.hint)}")
        if verbosity >= 2:
            _print(redact("".join(traceback.format_exception(exc))))
        return int(exc.exit_status)
    if isinstance(exc, OSError) and exc.errno in OUTPUT_ERRNOS:
        # Files named with -o report their own errors (OutputError); what is left is stdout.
        target = getattr(exc, "filename", None) or "standard output"
        _print(f"error: cannot write {redact(str(target))}: {exc.strerror or exc}")
        return ExitStatus.ERROR
    if _is_sqlite_error(exc):  # the album database (the HTTP cache reports its own): disk full, read-only
        _print(f"error: the album database failed: {redact(str(exc))}")
        _print("hint: check the free space and permissions where it is (`lotsdb config show` names the file)")
        if verbosity >= 2:
            _print(redact("".join(traceback.format_exception(exc))))
        return ExitStatus.ERROR
    _print(f"error: {redact(_describe_unexpected(exc))}")
    if verbosity >= 2:
        _print(redact("".join(traceback.format_exception(exc))))
    else:
        _print("hint: run again with -vv to see the traceback")
    return ExitStatus.ERROR


def forget_keyboard_interrupt() -> None:
    """Exit 130 as SPEC says, not by SIGINT: CPython remembers a KeyboardInterrupt that went through
    code run by `exec` of a string (dataclasses, typing build some) and kills itself with SIGINT at
    exit even though it was handled; its flag is cleared by the next such `exec`."""
    exec("None")  # a constant: this runs nothing


def _is_sqlite_error(exc: BaseException) -> bool:
    sqlite3 = sys.modules.get("sqlite3")  # loaded whenever a database was opened
    return sqlite3 is not None and isinstance(exc, sqlite3.Error)


def _describe_unexpected(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__

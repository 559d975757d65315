"""The one place where exceptions become messages and exit codes (SPEC §6)."""

from __future__ import annotations

import contextlib
import sys
import traceback

from lotsdb_cli.errors import ExitStatus, LotsdbError


def _print(line: str) -> None:
    with contextlib.suppress(OSError, ValueError):  # stderr closed
        print(line, file=sys.stderr, flush=True)


def exit_status_for(exc: BaseException, *, verbosity: int = 0) -> int:
    """Report `exc` on stderr in one line (plus a hint) and return the exit status."""
    from lotsdb_cli.secrets import redact

    if isinstance(exc, KeyboardInterrupt):
        _print("interrupted")
        return ExitStatus.INTERRUPTED
    if isinstance(exc, BrokenPipeError):
        # `lotsdb lots dump 1 | head`: the reader went away, which is not an error.
        return ExitStatus.OK
    if isinstance(exc, LotsdbError):
        _print(f"error: {redact(exc.message)}")
        if exc.hint:
            _print(f"hint: {redact(exc.hint)}")
        if verbosity >= 2:
            _print(redact("".join(traceback.format_exception(exc))))
        return int(exc.exit_status)
    _print(f"error: {redact(_describe_unexpected(exc))}")
    if verbosity >= 2:
        _print(redact("".join(traceback.format_exception(exc))))
    else:
        _print("hint: run again with -vv to see the traceback")
    return ExitStatus.ERROR


def _describe_unexpected(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__

"""Everything the CLI writes to stderr: warnings, notes, summaries, progress bars."""

from __future__ import annotations

import sys
import threading
from typing import Any

_lock = threading.Lock()
_quiet = False
_verbosity = 0
_warned: set[str] = set()


def configure(*, quiet: bool, verbosity: int) -> None:
    global _quiet, _verbosity
    _quiet = quiet
    _verbosity = verbosity
    _warned.clear()


def _write(line: str) -> None:
    with _lock:
        try:
            from tqdm import tqdm

            tqdm.write(line, file=sys.stderr)
        except Exception:  # pragma: no cover - tqdm missing or stderr closed
            print(line, file=sys.stderr)


def warn(message: str, *, once_key: str | None = None) -> None:
    """`warning: ...` on stderr; with `once_key`, only the first time in this run."""
    if once_key is not None:
        if once_key in _warned:
            return
        _warned.add(once_key)
    _write(f"warning: {message}")


def note(message: str) -> None:
    """A summary line on stderr (silenced by --quiet)."""
    if not _quiet:
        _write(message)


def verbosity() -> int:
    return _verbosity


def debug(message: str, level: int = 1) -> None:
    if _verbosity >= level:
        _write(f"debug: {message}")


def progress_enabled() -> bool:
    return not _quiet and sys.stderr.isatty()


def progress(total: int | None, desc: str, unit: str) -> Any:
    """A tqdm bar on stderr, or a do-nothing stand-in when stderr is not a terminal."""
    if not progress_enabled():
        return _NoProgress()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True, leave=False)


class _NoProgress:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

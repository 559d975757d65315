"""Everything the CLI writes to stderr: warnings, notes, summaries, progress bars."""

from __future__ import annotations

import logging
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
    _route_library_logs()


class _LibraryLogHandler(logging.Handler):
    """Our own log records (the sandbox server's) on stderr as Python would print them; those of
    the libraries we use as `debug:` lines at -vv only. Redacted either way."""

    def emit(self, record: logging.LogRecord) -> None:
        from lotsdb_cli.secrets import redact

        try:
            if record.name.startswith("lotsdb_cli"):
                _write(redact(self.format(record)))
            elif _verbosity >= 2:
                _write(f"debug: {record.name}: {redact(record.getMessage())}")
        except Exception:  # pragma: no cover - a broken record must not break the command
            self.handleError(record)


def _route_library_logs() -> None:
    """Without a handler, Python prints library warnings raw on stderr: requests-cache logs a line
    for every unreadable cache entry (hundreds in one dump) although it simply fetches them again."""
    root = logging.getLogger()
    if not any(isinstance(handler, _LibraryLogHandler) for handler in root.handlers):
        root.addHandler(_LibraryLogHandler(logging.WARNING))


def _write(line: str) -> None:
    with _lock:
        if "tqdm" not in sys.modules:  # no progress bar was ever shown: nothing to write around
            print(line, file=sys.stderr)
            return
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

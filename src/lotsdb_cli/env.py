"""What the library needs to know about the process it runs in, passed in rather than read from globals.

Like httpie's `context.Environment`: the standard streams and whether each is a terminal, the
terminal's width, how talkative to be, the clocks, and how to sleep. The CLI builds one from the
real process (`Environment.from_process()`); tests build one with fake streams, a fake terminal
width or a fake clock.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def terminal_columns(environ: Mapping[str, str], stdout: Any) -> int | None:
    """The width tables should fit: `COLUMNS` when set, else the terminal's; None when stdout is not a terminal."""
    columns = environ.get("COLUMNS", "").strip()
    if columns.isascii() and columns.isdigit() and int(columns) > 0:
        return int(columns)
    if not _isatty(stdout):
        return None
    try:
        return os.get_terminal_size(stdout.fileno()).columns or None
    except (AttributeError, ValueError, OSError):
        return shutil.get_terminal_size().columns or None


@dataclass
class Environment:
    """The process as the library sees it."""

    stdin: IO[Any] = field(default_factory=lambda: sys.stdin)
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    stdin_isatty: bool = False
    stdout_isatty: bool = False
    stderr_isatty: bool = False
    columns: int | None = None  # width to fit tables to; None: no limit (piped)
    verbosity: int = 0
    quiet: bool = False
    environ: Mapping[str, str] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic  # for intervals
    wall_clock: Callable[[], float] = time.time  # for timestamps and Retry-After dates
    backoff_scale: float = 1.0  # multiplies every back-off sleep (tests make them tiny)

    @classmethod
    def from_process(cls, *, verbosity: int = 0, quiet: bool = False) -> Environment:
        environ = dict(os.environ)
        return cls(
            stdin=sys.stdin,
            stdout=sys.stdout,
            stderr=sys.stderr,
            stdin_isatty=_isatty(sys.stdin),
            stdout_isatty=_isatty(sys.stdout),
            stderr_isatty=_isatty(sys.stderr),
            columns=terminal_columns(environ, sys.stdout),
            verbosity=verbosity,
            quiet=quiet,
            environ=environ,
            backoff_scale=_backoff_scale(environ),
        )

    @property
    def progress_allowed(self) -> bool:
        """Progress bars only on a terminal stderr, never with --quiet."""
        return self.stderr_isatty and not self.quiet

    @property
    def shared_terminal(self) -> bool:
        """stdout and stderr are the same terminal: a progress bar must be cleared before data is written."""
        return self.stdout_isatty and self.stderr_isatty


def _backoff_scale(environ: Mapping[str, str]) -> float:
    """`LOTSDB_BACKOFF_SCALE` (a number, default 1) multiplies every back-off sleep."""
    try:
        return max(0.0, float(environ.get("LOTSDB_BACKOFF_SCALE", "1")))
    except ValueError:
        return 1.0

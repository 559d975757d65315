"""Everything the CLI writes to stderr: warnings, notes, summaries, `-v` traffic, progress bars.

Safe to call from any thread (the HTTP layer warns from its I/O thread while the main thread
draws a bar). Lines are written around a bar that is being drawn, so they never mix with it.
Progress bars are drawn only when stderr is a terminal and `--quiet` is not given, and never
while the command's data goes to that same terminal (the rows would be torn by the bar).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from lotsdb_cli.cli.errors import printable, stderr_may_fail
from lotsdb_cli.env import Environment
from lotsdb_cli.secrets import redact


class Console:
    def __init__(self, env: Environment) -> None:
        self.env = env
        self._lock = threading.RLock()
        self._warned: set[str] = set()
        self._bar: Any = None
        _route_library_logs(self)

    @property
    def verbosity(self) -> int:
        return self.env.verbosity

    def write(self, line: str) -> None:
        """One line on stderr, redacted, around the progress bar if one is drawn."""
        text = printable(redact(line))
        with self._lock, stderr_may_fail(self.env.stderr):  # stderr closed: nothing more we can say
            if self._bar is not None:
                self._bar.clear()
            print(text, file=self.env.stderr)
            if self._bar is not None:
                self._bar.refresh()

    def warn(self, message: str, *, once_key: str | None = None) -> None:
        """`warning: ...`; with `once_key`, only the first time in this run."""
        with self._lock:
            if once_key is not None:
                if once_key in self._warned:
                    return
                self._warned.add(once_key)
        self.write(f"warning: {message}")

    def note(self, message: str) -> None:
        """A summary line (silenced by --quiet)."""
        if not self.env.quiet:
            self.write(message)

    def data(self, line: str) -> None:
        """A line of the command's data that goes to stderr (CSV's removed lot ids): never silenced by --quiet."""
        self.write(line)

    def trace(self, line: str) -> None:
        """A `-v` line: traffic, shown even with --quiet (asked for explicitly)."""
        self.write(line)

    def debug(self, message: str, level: int = 1) -> None:
        if self.env.verbosity >= level:
            self.write(f"debug: {message}")

    def progress(
        self, total: int | None, desc: str, unit: str, *, data_on_terminal: bool = False, unit_scale: bool = False
    ) -> Progress:
        """A bar on stderr, or a do-nothing stand-in (not a terminal, --quiet, or data on the same terminal).

        `unit_scale`: show 12.3MB rather than 12345678B.
        """
        if not self.env.progress_allowed or (data_on_terminal and self.env.shared_terminal):
            return Progress(self, None)
        from tqdm import tqdm

        bar = tqdm(
            total=total,
            desc=desc,
            unit=unit,
            unit_scale=unit_scale,
            file=self.env.stderr,
            dynamic_ncols=True,
            leave=False,
        )
        with self._lock:
            self._bar = bar
        return Progress(self, bar)

    def _bar_closed(self, bar: Any) -> None:
        with self._lock:
            if self._bar is bar:
                self._bar = None


class Progress:
    """A progress bar (or nothing); `update` and `close` are safe when there is no bar."""

    def __init__(self, console: Console, bar: Any) -> None:
        self._console = console
        self._bar = bar

    def update(self, n: int = 1, *, status: str | None = None) -> None:
        if self._bar is None:
            return
        with self._console._lock:
            if status is not None:
                self._bar.set_postfix_str(status, refresh=False)
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is None:
            return
        with self._console._lock:
            self._bar.close()
        self._console._bar_closed(self._bar)
        self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _LibraryLogHandler(logging.Handler):
    """Log records of the libraries we use, as `debug:` lines at -vv only; our own as they are."""

    def __init__(self, console: Console) -> None:
        super().__init__(logging.WARNING)
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if record.name.startswith("lotsdb_cli"):
                self.console.write(self.format(record))
            elif self.console.verbosity >= 2:
                self.console.write(f"debug: {record.name}: {record.getMessage()}")
        except Exception:  # pragma: no cover - a broken record must not break the command
            self.handleError(record)


def _route_library_logs(console: Console) -> None:
    """Without a handler, Python prints library warnings raw on stderr (asyncio's, aiohttp's)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _LibraryLogHandler):
            root.removeHandler(handler)
    root.addHandler(_LibraryLogHandler(console))

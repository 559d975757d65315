"""Exceptions the library raises and the exit codes they map to (SPEC §6).

Every exception here carries a message fit to show a user on one line; the CLI
turns them into `error:` lines and exit codes in one place (`cli.errors`).
"""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    """Process exit codes, the single source of truth for SPEC §6."""

    OK = 0
    ERROR = 1
    USAGE = 2
    PARTIAL = 3
    AUTH = 4
    TEMPFAIL = 75
    HANGUP = 129
    INTERRUPTED = 130
    TERMINATED = 143


class LotsdbError(Exception):
    """An error meant to be displayed to the user."""

    exit_status = ExitStatus.ERROR
    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    @property
    def message(self) -> str:
        return str(self)


class UsageError(LotsdbError):
    """The command line asked for something that cannot be done (bad id, bad value)."""

    exit_status = ExitStatus.USAGE


class ConfigError(LotsdbError):
    """Configuration is missing or invalid."""

    exit_status = ExitStatus.AUTH


class AuthError(ConfigError):
    """Credentials are missing or were refused."""


class TlsError(ConfigError):
    """The server's TLS certificate did not verify, or the TLS handshake failed."""


class OfflineMiss(LotsdbError):
    """`--offline` was given and the cache has no copy of a response."""

    exit_status = ExitStatus.AUTH


class NotFound(LotsdbError):
    """The API answered 404 for the requested resource."""


class ApiError(LotsdbError):
    """The API answered with an error that retrying will not fix."""

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.status = status


class BadResponse(ApiError):
    """A response was not what the contract promises (HTML, truncated or empty JSON)."""


class OutputError(LotsdbError):
    """An output file cannot be written (no such directory, disk full)."""


class OutputRefused(UsageError):
    """An output names something it must not overwrite: an input, a directory, one of the tool's own files."""

    exit_status = ExitStatus.USAGE


class TemporarilyUnavailable(LotsdbError):
    """The API kept failing or could not be reached; a later run may work."""

    exit_status = ExitStatus.TEMPFAIL


class Unreachable(TemporarilyUnavailable):
    """The server could not be reached at all (connection refused, DNS, reset)."""


class RateLimited(TemporarilyUnavailable):
    """The server asked us to wait longer than `--max-wait`."""

    def __init__(
        self, message: str, *, retry_at: float, quota: bool = False, hint: str | None = None, host: str = ""
    ) -> None:
        super().__init__(message, hint=hint)
        self.retry_at = retry_at
        self.quota = quota
        self.host = host  # `host:port` of the server that asked


class RunStopping(TemporarilyUnavailable):
    """A request was not sent because another one stopped the run (the gates are closed)."""


class Closed(LotsdbError):
    """The `Lotsdb` (or its I/O loop) was closed: nothing more can be sent through it."""


def stops_the_run(error: LotsdbError) -> bool:
    """Errors that end a batch (a dump, a refresh) instead of failing one item of it.

    Rate limits beyond --max-wait, an unreachable host, missing or refused credentials and an
    --offline miss would fail every other item the same way; a 404 or a lot that keeps answering
    5xx is one failed item.
    """
    return isinstance(error, RateLimited | Unreachable | RunStopping | ConfigError | OfflineMiss)


class InvalidInput(LotsdbError):
    """An input file or stream cannot be used at all."""


class PartialFailure(LotsdbError):
    """Some items of a batch failed; the rest were written."""

    exit_status = ExitStatus.PARTIAL


class Stopped(KeyboardInterrupt):
    """The process was asked to stop by a signal (SIGTERM from `timeout` or systemd, SIGHUP)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

"""The retry policy, in one place: what is retried, how long to wait, when to give up."""

from __future__ import annotations

import email.utils
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
BACKOFF_BASE = 0.5  # seconds; the first retry waits up to this, then doubles
BACKOFF_CAP = 30.0  # no single exponential back-off waits longer than this
RETRY_AFTER_CAP = 366 * 86400.0  # a longer Retry-After is read as this (it stops the run either way)


def backoff_scale() -> float:
    """Multiplier for every back-off sleep; tests set `LOTSDB_BACKOFF_SCALE=0.01`."""
    try:
        return max(0.0, float(os.environ.get("LOTSDB_BACKOFF_SCALE", "1")))
    except ValueError:
        return 1.0


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value) if value.isascii() else math.nan
    except ValueError:
        pass
    else:
        # "inf", "nan" or 1e400 are no answer; a huge number is only "very long" (and must not
        # overflow the clock arithmetic that says when to try again).
        return min(RETRY_AFTER_CAP, max(0.0, seconds)) if math.isfinite(seconds) else None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment is None:
        return None
    now = time.time() if now is None else now
    return min(RETRY_AFTER_CAP, max(0.0, moment.timestamp() - now))


def full_jitter(attempt: int, rng: Callable[[], float] = random.random) -> float:
    """Exponential back-off with full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    return rng() * min(BACKOFF_CAP, BACKOFF_BASE * (2**attempt))


@dataclass
class RetryableResponse(Exception):
    """A response or failure worth another try (429, 5xx, connection error, timeout)."""

    reason: str
    status: int | None = None
    retry_after: float | None = None
    quota: bool = False
    url: str = ""
    unreachable: bool = False

    def __str__(self) -> str:
        return self.reason

"""The retry policy, in one place: what is retried, how long to wait, when the host pauses, when to give up.

- Retried: 429, 500, 502, 503, 504, a 200 whose body is unusable (HTML, truncated, empty), and
  network failures (connection refused or reset, timeouts, cut-short bodies); not TLS failures, a
  redirect loop, or an exception that is no failure of the network (a bug is raised as it is).
- Waits: exponential back-off with full jitter (0.5 s base, 30 s cap); a `Retry-After` (seconds or
  an HTTP date) on a 429 or a 503 is honoured instead, and pauses every request to that host.
- A wait longer than `--max-wait` is not slept: the run stops with `RateLimited` (exit 75).
- Giving up: still 429 after every retry stops the run (the host wants less than any pace gives
  it); an unreachable host stops it too; anything else fails that one request.

The loop itself is tenacity's; this module gives it its stop, wait and retry conditions.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from lotsdb_cli.durations import format_duration
from lotsdb_cli.errors import LotsdbError, RateLimited, TemporarilyUnavailable, Unreachable
from lotsdb_cli.http.urls import origin_of, short_url

if TYPE_CHECKING:
    from lotsdb_cli.http.gate import HostGate

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
BACKOFF_BASE = 0.5  # seconds; the first retry waits up to this, then doubles
BACKOFF_CAP = 30.0  # no single exponential back-off waits longer than this
RETRY_AFTER_CAP = 366 * 86400.0  # a longer Retry-After is read as this (it stops the run either way)
KEPT_FAILING = 5  # requests to one host in a row that fail after every retry: the API is down, stop
UNANNOUNCED_429_PAUSE = 1.0  # seconds a host pauses after a 429 without Retry-After

T = TypeVar("T")


@dataclass
class Retryable(Exception):
    """A response or failure worth another try."""

    reason: str
    status: int | None = None
    retry_after: float | None = None
    quota: bool = False
    url: str = ""
    unreachable: bool = False

    def __str__(self) -> str:
        return self.reason


_DELTA_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if _DELTA_SECONDS.fullmatch(value):
        # Digits (RFC 9110 delta-seconds; a decimal part is tolerated): not "1_0", "1e5" or "inf",
        # which Python's float() would read. A huge number is only "very long" (and must not
        # overflow the clock arithmetic that says when to try again).
        return min(RETRY_AFTER_CAP, float(value))
    if value[0].isdigit() or value[0] in "+-.":
        return None  # a number, but not one the header allows
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


def check_status(status: int, headers: Mapping[str, str], detail: Callable[[], str], url: str, *, quota: bool) -> None:
    """Raise `Retryable` for a status worth another try."""
    if status not in RETRYABLE_STATUSES:
        return
    retry_after = parse_retry_after(headers.get("Retry-After")) if status in (429, 503) else None
    phrase = "429 Too Many Requests" if status == 429 else str(status)
    raise Retryable(f"{phrase}: {detail()}", status=status, retry_after=retry_after, quota=quota, url=url)


def host_pause(exc: Retryable) -> float | None:
    """How long every request to the host should wait after `exc` (None: only this request backs off)."""
    if exc.status == 429:
        return exc.retry_after if exc.retry_after is not None else UNANNOUNCED_429_PAUSE
    if exc.status == 503 and exc.retry_after is not None:
        return exc.retry_after
    return None


class RetryPolicy:
    def __init__(
        self,
        *,
        retries: int,
        max_wait: float,
        backoff_scale: float = 1.0,
        on_stop: Callable[[LotsdbError], None] = lambda error: None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.retries = retries
        self.max_wait = max_wait
        self.backoff_scale = backoff_scale
        self._on_stop = on_stop  # closes the gates: a run that must stop sends nothing more (and says why)
        self._wall_clock = wall_clock

    def tell_gate(self, exc: Retryable, gate: HostGate, sent_at: float) -> None:
        """Pause the host (and, for a 429, teach its gate the pace) when `exc` asks for it."""
        pause = host_pause(exc)
        if pause is None or pause > self.max_wait:
            return
        if exc.status == 429:
            gate.record_throttle(pause * self.backoff_scale, sent_at)
        else:
            gate.pause(pause * self.backoff_scale)

    async def run(
        self, attempt: Callable[[], Awaitable[T]], url: str, on_retry: Callable[[], None], gate: HostGate | None = None
    ) -> T:
        """`attempt()` until it returns, retrying `Retryable` failures by this policy.

        The first try is made directly (most requests need no other); the retries run in
        tenacity's loop, which waits before each of them by `_wait`.
        """
        from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

        try:
            return await attempt()
        except Retryable as exc:
            failed = exc
        if self.retries < 1:
            raise self.give_up(failed, url, gate) from None
        on_retry()
        await asyncio.sleep(self.wait(failed, 1))
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retries),
            wait=lambda state: self.wait(
                state.outcome.exception() if state.outcome else None, state.attempt_number + 1
            ),
            retry=retry_if_exception_type(Retryable),
            before_sleep=lambda state: on_retry(),
            reraise=True,
        )
        try:
            async for try_ in retrying:
                with try_:
                    return await attempt()
        except Retryable as exc:
            raise self.give_up(exc, url, gate) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def wait(self, exc: BaseException | None, attempt: int) -> float:
        """Seconds to wait after try number `attempt` failed with `exc` (or stop the run: `RateLimited`)."""
        if isinstance(exc, Retryable) and host_pause(exc) is not None:
            announced = exc.retry_after
            wait = announced if announced is not None else max(UNANNOUNCED_429_PAUSE, full_jitter(attempt))
            if wait > self.max_wait:
                stop = self.rate_limited(exc, wait)
                self._on_stop(stop)
                raise stop
            return wait * self.backoff_scale
        return full_jitter(attempt) * self.backoff_scale

    def refuse_long_pause(self, paused: float, url: str) -> None:
        """Stop the run (`RateLimited`) rather than wait out a pause longer than --max-wait: one
        another process sharing the cache was asked for, with a longer --max-wait of its own."""
        if paused > self.max_wait:
            stop = self.rate_limited(Retryable("paused", status=429, url=url), paused)
            self._on_stop(stop)
            raise stop

    def rate_limited(self, exc: Retryable, wait: float, *, kept_going: int = 0) -> RateLimited:
        retry_at = self._wall_clock() + wait
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(retry_at))
        host = origin_of(exc.url)
        if kept_going:
            message = f"{host} is still rate-limiting after {kept_going} tries (429 Too Many Requests)"
        elif exc.quota:
            message = (
                f"{host} says the app's request quota is used up (QUOTA_EXCEEDED); "
                f"it asks to wait {format_duration(wait)}"
            )
        elif exc.reason == "paused":  # nothing was asked in this run: an earlier one, or another host, was told
            message = (
                f"{host} asked to be left alone for {format_duration(wait)} more (told an earlier run or another "
                f"host sharing the cache), longer than --max-wait {format_duration(self.max_wait)}"
            )
        else:
            asked = "is rate-limiting" if exc.status == 429 else f"is unavailable ({exc.status})"
            message = (
                f"{host} {asked}: it asks to wait {format_duration(wait)}, "
                f"longer than --max-wait {format_duration(self.max_wait)}"
            )
        return RateLimited(
            message,
            retry_at=retry_at,
            quota=exc.quota,
            hint=f"everything fetched so far is kept; run again after {when}",
            host=host,
        )

    def give_up(self, exc: Retryable, url: str, gate: HostGate | None = None) -> LotsdbError:
        from lotsdb_cli.errors import BadResponse

        tries = self.retries + 1
        if exc.status == 200:
            return BadResponse(f"{short_url(url)}: {exc.reason} (after {tries} tries)", status=200)
        if exc.status == 429:
            # Still rate-limited after every retry: the host wants fewer requests than any pacing
            # gives it, so stop the run instead of spending each remaining item's retries on 429s.
            stop = self.rate_limited(exc, exc.retry_after or 60.0, kept_going=tries)
            self._on_stop(stop)
            return stop
        if exc.unreachable:
            return Unreachable(
                f"{origin_of(url)}: {exc.reason} (after {tries} tries)",
                hint="check the URL settings and that the service is up; a re-run continues where this one stopped",
            )
        if gate is not None:
            gate.given_up += 1
            if gate.given_up >= KEPT_FAILING:
                # Request after request fails after every retry (a server that accepts and never
                # answers, 503s for everything): the API is down, not this item. Stop, as for an
                # unreachable host, rather than spend every item's retries and timeouts.
                return Unreachable(
                    f"{origin_of(url)}: {gate.given_up} requests in a row failed after every retry "
                    f"(the last: {exc.reason})",
                    hint="the service seems down; a re-run continues where this one stopped",
                )
        return TemporarilyUnavailable(
            f"{short_url(url)}: {exc.reason} (after {tries} tries)",
            hint="the service may be down or overloaded; try again later",
        )

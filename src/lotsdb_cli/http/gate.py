"""Per-host admission: a shared pause after 429s, an adaptive concurrency limit and a learned rate.

Every request to a host passes `HostGate.admit()`. The gate
- holds every worker while the host has asked us to wait (`Retry-After` on a 429),
- keeps at most `limit` requests in flight, where `limit` grows while latency stays near its
  best and shrinks when latency rises or the server pushes back (AIMD),
- once the server has rate-limited us, paces requests at the rate it was seen to accept
  (successes in the last second), creeping up slowly until the next 429.
A server that never pushes back is used with up to `max_limit` requests in flight and no pacing.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class GateClosed(Exception):
    """The gate was closed (the run is stopping); no more requests are admitted."""


class HostGate:
    RATE_WINDOW = 1.0  # seconds of successes used to estimate what the server accepts
    RATE_HEADROOM = 0.95  # pace a little under the estimate
    RATE_GROWTH = 0.03  # per second without a 429, once pacing
    LATENCY_TOLERANCE = 2.0  # latency this many times the best seen counts as pushback

    def __init__(
        self,
        max_limit: int = 32,
        *,
        initial_limit: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_limit = max(1, max_limit)
        self.limit = float(min(self.max_limit, initial_limit or self.max_limit))
        self._clock = clock
        self._cond = threading.Condition()
        self._in_flight = 0
        self._paused_until = 0.0
        self._closed = False
        self.rate: float | None = None  # requests per second once learned
        self._next_slot = 0.0
        self._last_growth = 0.0
        self._successes: collections.deque[float] = collections.deque()
        self._best_latency: float | None = None
        self._latency_avg: float | None = None
        self.throttled = 0  # 429s seen

    # -- admission -----------------------------------------------------------------------
    @contextmanager
    def admit(self) -> Iterator[None]:
        self._enter()
        try:
            yield
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify_all()

    def _enter(self) -> None:
        with self._cond:
            while True:
                if self._closed:
                    raise GateClosed()
                now = self._clock()
                if now < self._paused_until:
                    self._cond.wait(self._paused_until - now)
                    continue
                if self._in_flight >= max(1, int(self.limit)):
                    self._cond.wait(0.5)
                    continue
                delay = self._pace(now)
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                self._in_flight += 1
                return

    def _pace(self, now: float) -> float:
        """Seconds until the learned rate allows another request (0: go, and book the slot)."""
        if self.rate is None:
            return 0.0
        if now - self._last_growth >= 1.0:
            self.rate *= 1 + self.RATE_GROWTH
            self._last_growth = now
        if self._next_slot > now:
            return self._next_slot - now
        interval = 1.0 / self.rate
        # Late arrivals may catch up half an interval, never more: no bursts after idling.
        self._next_slot = max(self._next_slot, now - interval / 2) + interval
        return 0.0

    # -- feedback ------------------------------------------------------------------------
    def record_success(self, latency: float) -> None:
        with self._cond:
            now = self._clock()
            self._successes.append(now)
            while self._successes and self._successes[0] < now - self.RATE_WINDOW:
                self._successes.popleft()
            self._adapt_to_latency(latency)
            self._cond.notify_all()

    def _adapt_to_latency(self, latency: float) -> None:
        if self._best_latency is None or latency < self._best_latency:
            self._best_latency = latency
        average = latency if self._latency_avg is None else 0.9 * self._latency_avg + 0.1 * latency
        self._latency_avg = average
        floor = 0.005  # below 5 ms, jitter is noise, not congestion
        if average > max(floor, self._best_latency * self.LATENCY_TOLERANCE):
            self.limit = max(1.0, self.limit * 0.98)
        else:
            self.limit = min(float(self.max_limit), self.limit + 1.0 / max(1.0, self.limit))

    def record_throttle(self, retry_after: float | None) -> None:
        """A 429: pause the host, halve concurrency, and learn (or lower) the pacing rate."""
        with self._cond:
            now = self._clock()
            self.throttled += 1
            self.limit = max(1.0, self.limit / 2)
            accepted = sum(1 for moment in self._successes if moment >= now - self.RATE_WINDOW)
            estimate = max(1.0, accepted / self.RATE_WINDOW * self.RATE_HEADROOM)
            if self.rate is None or now >= self._paused_until:
                # The first 429 of a burst teaches us; the ones right behind it carry no news.
                self.rate = estimate if self.rate is None else max(1.0, min(self.rate * 0.85, estimate))
            self._last_growth = now
            self.pause(retry_after if retry_after is not None else 1.0, now=now)

    def pause(self, seconds: float, *, now: float | None = None) -> None:
        with self._cond:
            now = self._clock() if now is None else now
            self._paused_until = max(self._paused_until, now + seconds)
            self._next_slot = max(self._next_slot, self._paused_until)
            self._cond.notify_all()

    def close(self) -> None:
        """Refuse every waiting and future request (used when a run stops early)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def in_flight(self) -> int:
        return self._in_flight

"""Per-host admission: a shared pause after 429s, an adaptive concurrency limit and a learned rate.

Every request to a host passes `HostGate.admit()`. The gate
- holds every worker while the host has asked us to wait (`Retry-After` on a 429),
- keeps at most `limit` requests in flight: it starts low and doubles every round trip (slow
  start) up to `max_limit`, and shrinks when latency rises well above its best (AIMD). Steady
  latency, however high, is not congestion: only a rise is;
- once the server has rate-limited us, paces requests at the rate it accepts.

How the rate is learned. A rate-limited server (a token bucket, a fixed window) answers 429 when
its allowance is used up, so at each 429 the allowance is empty. Between two such moments it
accepted exactly what it refilled: the requests that succeeded in between, divided by the time
between them, is the server's rate, whatever its burst allowance. The first 429 has no earlier
one; its estimate takes the burst allowance to be a second's worth of rate, and the gate paces a
little over it and creeps up until the next 429 gives the measurement (with fewer than
`MIN_EVIDENCE` successes to go on, it only pauses and waits for that measurement). Once measured,
the pace is set a few percent over it (and creeps up very slowly), so that the allowance the
server refilled while we paused is spent over the next seconds instead of wasted: a rate-limited
run goes at the server's rate, with one 429 every ten seconds or so.

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
    RATE_WINDOW = 1.0  # seconds of successes behind the first estimate
    MARGIN = 1.1  # pace this far over the measured rate, to spend what the server refilled in a pause
    FIRST_MARGIN = 0.95  # under the first estimate: it counts the 429s in flight, and a second pause costs more
    PROBE_GROWTH = 0.01  # pace growth per second until the rate has been measured
    CRUISE_GROWTH = 0.005  # pace growth per second once it has
    MEASURE_MIN_INTERVAL = 0.9  # seconds between two 429s for a measurement to count
    MIN_EVIDENCE = 8  # successes in the last second needed for a first estimate
    BACKOFF = 0.85  # cut of the pace on a 429 that cannot be measured
    INITIAL_LIMIT = 8  # requests in flight before the first answers come back
    LATENCY_TOLERANCE = 2.0  # latency this many times the best seen counts as pushback
    LATENCY_FLOOR = 0.005  # below 5 ms, jitter is noise, not congestion

    def __init__(
        self,
        max_limit: int = 32,
        *,
        initial_limit: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_limit = max(1, max_limit)
        start = initial_limit or min(self.max_limit, self.INITIAL_LIMIT)
        self.limit = float(min(self.max_limit, start))
        self._clock = clock
        self._cond = threading.Condition()
        self._in_flight = 0
        self._paused_until = 0.0
        self._closed = False
        self._slow_start = True  # +1 per success (doubling per round trip) until pushback
        self.rate: float | None = None  # requests per second once learned
        self.measured = False  # whether `rate` comes from two 429s (else from the first one)
        self._next_slot = 0.0
        self._last_growth = 0.0
        self._successes: collections.deque[float] = collections.deque()
        self._news_at: float | None = None  # when the last 429 that taught us something came
        self._ok_since_news = 0  # successes sent after it
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
                self._cond.notify()

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
        elapsed = now - self._last_growth
        if elapsed >= 1.0:
            growth = self.CRUISE_GROWTH if self.measured else self.PROBE_GROWTH
            self.rate *= (1 + growth) ** elapsed
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
            if self._news_at is not None and now - latency >= self._news_at:
                self._ok_since_news += 1
            self._adapt_to_latency(latency)
            self._cond.notify_all()

    def _needed_in_flight(self) -> float:
        """Requests in flight that the learned pace needs (rate x latency, with room for jitter)."""
        if self.rate is None or self._latency_avg is None:
            return 1.0
        return min(float(self.max_limit), max(1.0, 2.0 * self.rate * self._latency_avg + 1.0))

    def _adapt_to_latency(self, latency: float) -> None:
        if self._best_latency is None or latency < self._best_latency:
            self._best_latency = latency
        average = latency if self._latency_avg is None else 0.9 * self._latency_avg + 0.1 * latency
        self._latency_avg = average
        if average > max(self.LATENCY_FLOOR, self._best_latency * self.LATENCY_TOLERANCE):
            self._slow_start = False
            self.limit = max(self._needed_in_flight(), self.limit * 0.98)
        elif self._slow_start:
            self.limit = min(float(self.max_limit), self.limit + 1.0)
        else:
            self.limit = min(float(self.max_limit), self.limit + 1.0 / max(1.0, self.limit))

    def record_throttle(self, retry_after: float | None) -> None:
        """A 429: pause the host and learn (or correct) the pace.

        Only the first 429 after a pause carries news; the ones right behind it were sent
        before we knew and change nothing but the count.
        """
        with self._cond:
            now = self._clock()
            self.throttled += 1
            if self.rate is None or now >= self._paused_until:
                self._learn(now)
            self.pause(retry_after if retry_after is not None else 1.0, now=now)

    def _learn(self, now: float) -> None:
        self._slow_start = False
        interval = now - self._news_at if self._news_at is not None else 0.0
        if interval >= self.MEASURE_MIN_INTERVAL and self._ok_since_news > 0:
            # The allowance was empty at the last 429 and is empty now: what was accepted in
            # between is what the server refilled.
            measured = self._ok_since_news / interval * self.MARGIN
            self.rate = max(1.0, measured if self.rate is None else min(self.rate, measured))
            self.measured = True
        elif self.rate is None:
            # The server's allowance was full when it started accepting us, so what it accepted
            # is its burst plus its rate over that time. Take the burst to be a second's worth
            # (as token buckets usually are): rate = accepted / (1 s + time it took). The time
            # is measured from the tenth percentile, so that a lone early request (a login)
            # does not stretch it. The requests still in flight were (nearly all) accepted too:
            # they are waiting for their answers. Too few successes say nothing about a rate (a
            # 429 at the very start, a hiccup): then only pause, and wait for a measurement.
            recent = [moment for moment in self._successes if moment >= now - self.RATE_WINDOW]
            if len(recent) >= self.MIN_EVIDENCE:
                span = now - recent[len(recent) // 10]
                accepted = len(recent) + self._in_flight
                self.rate = max(1.0, accepted / (self.RATE_WINDOW + span) * self.FIRST_MARGIN)
        else:
            self.rate = max(1.0, self.rate * self.BACKOFF)
        self._news_at = now
        self._ok_since_news = 0
        self._last_growth = now
        self.limit = max(self._needed_in_flight(), min(self.limit, self.limit / 2))

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

"""Per-host admission: how many requests are in flight, when the host has asked us to wait, and at what pace.

Every request to a host passes its `HostGate` (`async with gate.slot(): ...`). The gate
- holds every request while the host has asked us to wait (`Retry-After`);
- keeps at most `limit` requests in flight. It starts at `max_limit` (`--workers`): a healthy server
  is used fully from the first round trip. Each round (as many answers as the limit) it compares
  the round's latency with the best it has seen: a rise means requests queue at the server, so the
  limit shrinks in proportion (a gradient, as TCP Vegas does), else it grows back. A steady high
  latency is not congestion; only a rise is;
- once the server has rate-limited us, paces requests at the rate it accepts.
A freed slot wakes exactly one waiting request, and a pause or a pace wakes them with one timer:
no thundering herd, no polling.

How the rate is learned. A rate-limited server (a token bucket, a fixed window) answers 429 when
its allowance is used up, so at each 429 the allowance is empty. Between two such moments it
accepted exactly what it refilled: the requests that succeeded in between, divided by the time
between them, is the server's rate, whatever its burst allowance. The first 429 has no earlier
one; its estimate takes the burst allowance to be a second's worth of rate, and the gate paces a
little under it and creeps up until the next 429 gives the measurement (with fewer than
`MIN_EVIDENCE` successes to go on, it only pauses and waits for that measurement). Once measured,
the pace is set a few percent over it (and creeps up very slowly), so that the allowance the
server refilled while we paused is spent over the next seconds instead of wasted: a rate-limited
run goes at the server's rate, with one 429 every ten seconds or so.

The gate lives on the event loop's thread; nothing here locks.
"""

from __future__ import annotations

import asyncio
import collections
import math
import time
from collections.abc import Callable
from types import TracebackType


class GateClosed(Exception):
    """The gate was closed (the run is stopping); no more requests are admitted."""


class HostGate:
    RATE_WINDOW = 1.0  # seconds of successes behind the first estimate
    MARGIN = 1.1  # pace this far over the measured rate, to spend what the server refilled in a pause
    FIRST_MARGIN = 1.0  # pacing under the rate wastes what the server refills; over it costs one more pause
    PROBE_GROWTH = 0.03  # pace growth per second until the rate has been measured (by the next 429)
    CRUISE_GROWTH = 0.005  # pace growth per second once it has
    MEASURE_MIN_INTERVAL = 0.9  # seconds between two 429s for a measurement to count
    MIN_EVIDENCE = 8  # successes in the last second needed for a first estimate
    BACKOFF = 0.85  # cut of the pace on a 429 that cannot be measured
    LATENCY_TOLERANCE = 1.5  # a round this much slower than the best seen means requests queue
    LATENCY_FLOOR = 0.002  # seconds: below this, differences are the client's own scheduling, not queueing
    BEST_DRIFT = 1.0005  # the best latency creeps up per answer, so a lasting change becomes the new normal
    MIN_ROUND = 8  # answers per round at the least
    SMOOTHING = 0.5  # weight of the current limit against the round's verdict

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
        self._in_flight = 0
        self._sent_at: list[float] = []  # when each request in flight was admitted
        self._waiters: collections.deque[asyncio.Future[float]] = collections.deque()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = math.inf
        self._paused_until = 0.0
        self.given_up = 0  # requests in a row that failed after every retry (see retry.KEPT_FAILING)
        self._closed = False
        self.rate: float | None = None  # requests per second once learned
        self.measured = False  # whether `rate` comes from two 429s (else from the first one)
        self._next_slot = 0.0
        self._last_growth = 0.0
        self._successes: collections.deque[float] = collections.deque()  # when successful requests were sent
        self._news_at: float | None = None  # when the request of the last 429 that taught us something was sent
        self._lesson_at = -math.inf  # when we learned from it: 429s to requests sent before are old news
        self._ok_since_news = 0  # successes sent after it
        self._best_latency: float | None = None
        self._latency_avg: float | None = None
        self._round_total = 0.0
        self._round_count = 0
        self.throttled = 0  # 429s seen

    # -- admission -----------------------------------------------------------------------
    def slot(self) -> _Slot:
        """`async with gate.slot():` around one request."""
        return _Slot(self)

    async def acquire(self) -> float:
        """Wait for a slot; returns when it was granted (the request's send time, for `release`)."""
        if self._closed:
            raise GateClosed()
        now = self._clock()
        if not self._waiters and self._delay(now) == 0.0:
            return self._admit(now)
        waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._grant()
        try:
            return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.release(waiter.result())  # granted a slot, then cancelled before using it
            else:
                waiter.cancel()
            raise

    def _admit(self, now: float) -> float:
        self._in_flight += 1
        self._sent_at.append(now)
        return now

    def release(self, sent_at: float) -> None:
        self._in_flight -= 1
        self._sent_at.remove(sent_at)
        self._grant()

    def paused_for(self) -> float:
        """Seconds the host is still paused for (0: not paused)."""
        return max(0.0, self._paused_until - self._clock())

    def _delay(self, now: float) -> float:
        """Seconds until a request may go (inf: when a slot frees); 0 books the pace slot."""
        if now < self._paused_until:
            return self._paused_until - now
        if self._in_flight >= max(1, int(self.limit)):
            return math.inf
        return self._pace(now)

    def _grant(self) -> None:
        """Admit waiting requests while slots are free, one per slot; else arm the one timer."""
        while self._waiters:
            waiter = self._waiters[0]
            if waiter.done():
                self._waiters.popleft()
                continue
            if self._closed:
                self._waiters.popleft()
                waiter.set_exception(GateClosed())
                continue
            now = self._clock()
            delay = self._delay(now)
            if delay > 0:
                if math.isfinite(delay):
                    self._arm(delay)
                return
            self._waiters.popleft()
            waiter.set_result(self._admit(now))

    def _arm(self, delay: float) -> None:
        due = self._clock() + delay
        if self._timer is not None and self._timer_due <= due:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_due = due
        self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_due = math.inf
        self._grant()

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
        self.given_up = 0
        now = self._clock()
        sent = now - latency
        self._successes.append(sent)
        # Until the first 429 every success is kept: the first estimate needs all of them.
        while self.rate is not None and self._successes and self._successes[0] < now - 2 * self.RATE_WINDOW:
            self._successes.popleft()
        if self._news_at is not None and sent >= self._news_at:
            self._ok_since_news += 1
        self._adapt_to_latency(latency)

    def _needed_in_flight(self) -> float:
        """Requests in flight that the learned pace needs (rate x latency, with room for jitter)."""
        if self.rate is None or self._latency_avg is None:
            return 1.0
        return min(float(self.max_limit), max(1.0, 2.0 * self.rate * self._latency_avg + 1.0))

    def _adapt_to_latency(self, latency: float) -> None:
        best = self._best_latency
        self._best_latency = latency if best is None else min(best * self.BEST_DRIFT, latency)
        self._latency_avg = latency if self._latency_avg is None else 0.9 * self._latency_avg + 0.1 * latency
        self._round_total += latency
        self._round_count += 1
        if self._round_count < max(self.MIN_ROUND, int(self.limit)):
            return
        average = self._round_total / self._round_count
        self._round_total, self._round_count = 0.0, 0
        expected = max(self.LATENCY_FLOOR, self._best_latency * self.LATENCY_TOLERANCE)
        gradient = min(1.0, max(0.5, expected / average)) if average > 0 else 1.0
        verdict = self.limit * gradient + math.sqrt(self.limit)
        limit = self.SMOOTHING * self.limit + (1 - self.SMOOTHING) * verdict
        self.limit = min(float(self.max_limit), max(self._needed_in_flight(), limit))

    def record_throttle(self, retry_after: float | None, sent_at: float | None = None) -> None:
        """A 429 to a request sent at `sent_at`: pause the host and learn (or correct) the pace.

        Only a 429 to a request sent after the last lesson carries news; the ones sent before
        we knew (in flight when the first came back) change nothing but the count.
        """
        now = self._clock()
        sent_at = now if sent_at is None else sent_at
        self.throttled += 1
        if sent_at > self._lesson_at:
            self._learn(now, sent_at)
            self._lesson_at = now
        self.pause(retry_after if retry_after is not None else 1.0, now=now)

    def _learn(self, now: float, sent_at: float) -> None:
        interval = sent_at - self._news_at if self._news_at is not None else 0.0
        if interval >= self.MEASURE_MIN_INTERVAL and self._ok_since_news > 0:
            # The allowance was empty at the last 429 and is empty now: what was accepted in
            # between is what the server refilled.
            measured = self._ok_since_news / interval * self.MARGIN
            self.rate = max(1.0, measured if self.rate is None else min(self.rate, measured))
            self.measured = True
        elif self.rate is None:
            # The server's allowance was full when it started accepting us, so what it accepted
            # since is its burst plus its rate over that time. Take the burst to be a second's
            # worth (as token buckets usually are): rate = accepted / (1 s + time it took).
            # Accepted: what was sent before the refused request, answered or still in flight
            # (with a high latency those were let through and are waiting for their answers).
            # The time runs from the tenth percentile, so that a few early stragglers do not
            # stretch it. Too few successes say nothing about a rate: then only pause, and wait
            # for a measurement.
            before = sorted(moment for moment in self._successes if moment < sent_at)
            if len(before) >= self.MIN_EVIDENCE:
                skipped = len(before) // 10
                span = sent_at - before[skipped]
                accepted = len(before) - skipped + sum(1 for moment in self._sent_at if moment < sent_at)
                self.rate = max(1.0, accepted / (self.RATE_WINDOW + span) * self.FIRST_MARGIN)
        else:
            self.rate = max(1.0, self.rate * self.BACKOFF)
        self._news_at = sent_at
        self._ok_since_news = 0
        self._last_growth = now
        self.limit = max(self._needed_in_flight(), self.limit / 2)

    def pause(self, seconds: float, *, now: float | None = None) -> None:
        now = self._clock() if now is None else now
        self._paused_until = max(self._paused_until, now + seconds)
        self._next_slot = max(self._next_slot, self._paused_until)

    def close(self) -> None:
        """Refuse every waiting and future request (used when a run stops early)."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._grant()

    @property
    def in_flight(self) -> int:
        return self._in_flight


class _Slot:
    __slots__ = ("_gate", "_sent_at")

    def __init__(self, gate: HostGate) -> None:
        self._gate = gate
        self._sent_at = 0.0

    async def __aenter__(self) -> float:
        self._sent_at = await self._gate.acquire()
        return self._sent_at

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._gate.release(self._sent_at)

"""Rate budget and pause state shared through Redis by every process that uses the same cache.

When the HTTP cache is in Redis, several hosts usually talk to the same API at once. Per API host
they then share, in Redis:
- the pause a 429's `Retry-After` asked for: one process is told to wait, all of them wait;
- the pace: one schedule of evenly spaced request slots (GCRA, the "next slot" the local gate
  keeps, held in Redis and advanced by a Lua script), so together they send at the learned rate;
- what the server accepted: a global count of successes, so the rate learned between two 429s
  is the server's rate, not one process's share of it.
Any Redis failure turns sharing off for the rest of the run with one warning; the gate then uses
its local state, so nothing is lost.

Why not a rate-limiter library: the ones with a Redis backend offer fixed or moving windows,
which allow a whole window's quota in one burst; the gate paces evenly, and a burst after a
pause is exactly what makes a token-bucket server answer 429 again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lotsdb_cli.http.gate import HostGate
from lotsdb_cli.http.pauses import paused_until

if TYPE_CHECKING:
    from lotsdb_cli.config import Settings
    from lotsdb_cli.env import Environment

PREFIX = "lotsdb:gate"
STATE_TTL = 3600  # seconds a learned rate is kept without being renewed

# KEYS[1] next-slot key; ARGV: now, interval. Returns the delay in seconds as a string (0: go).
_TAKE_SLOT = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local next_slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if next_slot > now then return tostring(next_slot - now) end
local booked = math.max(next_slot, now - interval / 2) + interval
redis.call('SET', KEYS[1], tostring(booked), 'EX', 60)
return '0'
"""

# KEYS[1] pause key, KEYS[2] next-slot key; ARGV: until, ttl. Keeps the later deadline.
_PAUSE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  local next_slot = tonumber(redis.call('GET', KEYS[2]) or '0')
  if tonumber(ARGV[1]) > next_slot then redis.call('SET', KEYS[2], ARGV[1], 'EX', 60) end
end
return 1
"""

# KEYS[1] news key ("time count"), KEYS[2] success counter; ARGV: now.
# Records this 429 as news and returns the previous news: "time successes_since" or "".
_NEWS = """
local previous = redis.call('GET', KEYS[1])
local ok = tonumber(redis.call('GET', KEYS[2]) or '0')
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ok, 'EX', 600)
if not previous then return '' end
local at, count = string.match(previous, '([^ ]+) ([^ ]+)')
return at .. ' ' .. tostring(ok - tonumber(count))
"""


class SharedBudget:
    """One API host's shared state; every method degrades to a no-op answer when Redis fails."""

    def __init__(self, redis_url: str, host: str, warn: Callable[..., None] | None = None) -> None:
        from redis import Redis

        self._url = redis_url
        self._redis = Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self._key = f"{PREFIX}:{host}"
        self._warn = warn or (lambda message, **_: None)
        self.enabled = True
        self._take_slot = self._redis.register_script(_TAKE_SLOT)
        self._pause = self._redis.register_script(_PAUSE)
        self._news = self._redis.register_script(_NEWS)
        self._redis.ping()

    def _guard(self, operation: Callable[[], Any], fallback: Any) -> Any:
        if not self.enabled:
            return fallback
        try:
            return operation()
        except Exception as exc:
            self.enabled = False
            from lotsdb_cli.http.cache import REDIS_DOWN, redis_down_message

            self._warn(redis_down_message(self._url, exc), once_key=REDIS_DOWN)
            return fallback

    def close(self) -> None:
        """Let go of the Redis connections (a library user may open and close many clients)."""
        self.enabled = False
        self._redis.close()

    def paused_until(self) -> float:
        """Wall-clock time until which every process must wait (0 when not paused)."""
        value = _number(self._guard(lambda: self._redis.get(f"{self._key}:pause"), None))
        return value if value is not None else 0.0

    def pause_for(self, seconds: float) -> None:
        until = time.time() + seconds
        keys = [f"{self._key}:pause", f"{self._key}:next"]
        self._guard(lambda: self._pause(keys=keys, args=[repr(until), int(seconds) + 2]), None)

    def take_slot(self, rate: float) -> float:
        """0 when a request may go now (its slot is booked), else seconds until the next free slot."""
        args = [repr(time.time()), repr(1.0 / max(rate, 0.001))]
        answer = _number(self._guard(lambda: self._take_slot(keys=[f"{self._key}:next"], args=args), b"0"))
        return min(answer, 60.0) if answer is not None else 0.0  # a slot further off than that is no pace

    def rate(self) -> float | None:
        value = _number(self._guard(lambda: self._redis.get(f"{self._key}:rate"), None))
        return value if value is not None and value > 0 else None

    def set_rate(self, rate: float) -> None:
        self._guard(lambda: self._redis.set(f"{self._key}:rate", repr(rate), ex=STATE_TTL), None)

    def claim_growth(self) -> bool:
        """True for one process per second: the one that may raise the shared pace."""
        return bool(self._guard(lambda: self._redis.set(f"{self._key}:grow", "1", nx=True, ex=1), False))

    def count_successes(self, count: int) -> None:
        if count <= 0:
            return
        second = int(time.time())

        def add() -> None:
            pipe = self._redis.pipeline(transaction=False)
            pipe.incrby(f"{self._key}:ok", count)
            pipe.expire(f"{self._key}:ok", STATE_TTL)
            pipe.incrby(f"{self._key}:ok:{second}", count)
            pipe.expire(f"{self._key}:ok:{second}", 5)
            pipe.execute()

        self._guard(add, None)

    def accepted_last_second(self) -> float | None:
        """Successes of every process over the last second (None when sharing is off)."""
        now = time.time()
        second = int(now)
        keys = [f"{self._key}:ok:{second}", f"{self._key}:ok:{second - 1}"]
        values = self._guard(lambda: self._redis.mget(keys), None)
        if values is None:
            return None
        current, previous = (_number(value) or 0.0 for value in values)
        return current + previous * (1 - (now - second))

    def record_news(self) -> tuple[float, int] | None:
        """Mark a 429 that carries news; return (seconds since the previous one, successes since)."""
        now = time.time()
        keys = [f"{self._key}:news", f"{self._key}:ok"]
        answer = self._guard(lambda: self._news(keys=keys, args=[repr(now)]), None)
        if not answer:
            return None
        try:
            at, count = answer.decode().split()
            return now - float(at), int(count)
        except (ValueError, UnicodeDecodeError):  # not what this script writes: no news
            return None


def _number(value: Any) -> float | None:
    """A number read from Redis, or None for what is no finite number (a key someone else set)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class SharedHostGate(HostGate):
    """A HostGate whose pause, pace and evidence live in a `SharedBudget` (local concurrency stays local).

    It keeps HostGate's learning rules; only the numbers come from every process: the successes
    between two 429s are counted by all of them, the pace is one schedule for all of them. When
    the budget fails, it behaves exactly as a plain HostGate. Successes are sent to Redis in
    batches (every `SYNC_INTERVAL`, and before every 429 is learned from), not one call each.
    """

    SYNC_INTERVAL = 0.1  # seconds between two reads of the shared pause and pace (and success reports)

    def __init__(self, max_limit: int, budget: SharedBudget, **kwargs: Any) -> None:
        super().__init__(max_limit, **kwargs)
        self.budget = budget
        self._synced_at = float("-inf")
        self._unreported = 0
        self._reported_at = float("-inf")

    def _sync(self, now: float) -> None:
        if now - self._synced_at < self.SYNC_INTERVAL:
            return
        self._synced_at = now
        until, wall = self.budget.paused_until(), time.time()
        if until > wall:
            self._paused_until = max(self._paused_until, now + (until - wall))
        rate = self.budget.rate()
        if rate is not None:
            self.rate = rate

    def paused_for(self) -> float:
        if self.budget.enabled:
            self._sync(self._clock())  # a pause another process was asked for counts here too
        return super().paused_for()

    def _pace(self, now: float) -> float:
        if not self.budget.enabled:
            return super()._pace(now)
        self._sync(now)
        if now < self._paused_until:
            return self._paused_until - now
        if self.rate is None:
            return 0.0
        if now - self._last_growth >= 1.0:
            self._last_growth = now
            if self.budget.claim_growth():
                self.rate *= 1 + (self.CRUISE_GROWTH if self.measured else self.PROBE_GROWTH)
                self.budget.set_rate(self.rate)
        return self.budget.take_slot(self.rate)

    def record_success(self, latency: float) -> None:
        super().record_success(latency)
        self._unreported += 1
        now = self._clock()
        if now - self._reported_at >= self.SYNC_INTERVAL:
            self._report(now)

    def _report(self, now: float) -> None:
        self._reported_at = now
        count, self._unreported = self._unreported, 0
        self.budget.count_successes(count)

    def _learn(self, now: float, sent_at: float) -> None:
        if not self.budget.enabled:
            super()._learn(now, sent_at)
            return
        self._report(now)
        before = self.rate
        local_recent = sum(1 for moment in self._successes if sent_at - self.RATE_WINDOW <= moment < sent_at)
        local_recent = max(local_recent, 1)
        super()._learn(now, sent_at)  # local bookkeeping: concurrency, and a local estimate
        news = self.budget.record_news()
        if news is not None and news[0] >= self.MEASURE_MIN_INTERVAL and news[1] > 0:
            interval, accepted = news
            measured = accepted / interval * self.MARGIN
            self.rate = max(1.0, measured if before is None else min(before, measured))
            self.measured = True
        elif before is None and self.rate is not None and local_recent:
            # The local estimate saw only this process's share of what the server accepted.
            everyone = self.budget.accepted_last_second()
            if everyone:
                self.rate = max(1.0, self.rate * max(1.0, everyone / local_recent))
        if self.rate is not None:
            self.budget.set_rate(self.rate)

    def pause(self, seconds: float, *, now: float | None = None) -> None:
        super().pause(seconds, now=now)
        self.budget.pause_for(seconds)

    def close(self) -> None:
        if self.budget.enabled:
            self._report(self._clock())
        super().close()
        self.budget.close()


def new_gate(
    host: str, settings: Settings, max_in_flight: int, env: Environment, *, shared: bool, warn: Callable[..., None]
) -> HostGate:
    """The gate of `host`: one sharing its pause and pace through Redis when the cache is there (`shared`),
    else a local one; paused still if an earlier run on this machine was told to wait past now (`pauses.py`),
    which a shared gate passes on to every host sharing the Redis."""
    gate: HostGate | None = None
    if shared:
        try:
            budget = SharedBudget(settings.cache_location, host, warn=warn)
            gate = SharedHostGate(max_in_flight, budget, clock=env.clock)
        except Exception as exc:
            warn(f"the shared rate budget in Redis is unavailable ({type(exc).__name__}); using local limits")
    gate = gate or HostGate(max_in_flight, clock=env.clock)
    now = env.wall_clock()
    until = paused_until(settings.home, host, now)
    if until is not None:
        gate.pause(until - now)
    return gate

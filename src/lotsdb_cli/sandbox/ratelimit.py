"""A token bucket per service: `rate` requests a second, one second's worth of burst."""

from __future__ import annotations

import threading
import time


class TokenBucket:
    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self._tokens = self.capacity
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> float:
        """Take one token: 0.0 when granted, else the seconds until one is available."""
        with self._lock:
            now = time.monotonic()
            elapsed = now - self._updated
            self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
            self._updated = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / self.rate


class RateLimiter:
    """Buckets by service name; a rate of 0 turns limiting off."""

    def __init__(self, rate: float) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, TokenBucket] = {}
        self.rate = rate

    def configure(self, rate: float) -> None:
        with self._lock:
            self.rate = rate
            self._buckets.clear()

    def wait_needed(self, service: str) -> float:
        if self.rate <= 0:
            return 0.0
        with self._lock:
            bucket = self._buckets.get(service)
            if bucket is None:
                bucket = self._buckets[service] = TokenBucket(self.rate)
        return bucket.take()

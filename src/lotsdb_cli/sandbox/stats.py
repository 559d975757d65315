"""Request counts by route template and status, as `GET /_sandbox/stats` reports them."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any


class RequestStats:
    """Counts since the last reset, and when the first and the last counted request were answered.

    `first_at` and `last_at` are wall-clock times (`time.time()`, seconds since the epoch, so
    comparable with a clock read in another process on the same machine), taken when a request
    is counted: after the sandbox's latency, when the answer is ready. With no latency that is
    within a fraction of a millisecond of the request's arrival. Both are absent while nothing
    has been counted.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()
        self._first_at: float | None = None
        self._last_at: float | None = None

    def record(self, route: str, status: str) -> None:
        now = time.time()
        with self._lock:
            self._counts[(route, status)] += 1
            if self._first_at is None:
                self._first_at = now
            self._last_at = now

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
            self._first_at = self._last_at = None

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            counts = dict(self._counts)
            first_at, last_at = self._first_at, self._last_at
        routes: dict[str, dict[str, int]] = {}
        for (route, status), count in sorted(counts.items()):
            routes.setdefault(route, {})[status] = count
        snapshot: dict[str, Any] = {"requests": sum(counts.values()), "routes": routes}
        if first_at is not None:
            snapshot["first_at"] = first_at
            snapshot["last_at"] = last_at
        return snapshot

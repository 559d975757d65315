"""Request counts by route template and status, as `GET /_sandbox/stats` reports them."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class RequestStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def record(self, route: str, status: str) -> None:
        with self._lock:
            self._counts[(route, status)] += 1

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            counts = dict(self._counts)
        routes: dict[str, dict[str, int]] = {}
        for (route, status), count in sorted(counts.items()):
            routes.setdefault(route, {})[status] = count
        return {"requests": sum(counts.values()), "routes": routes}

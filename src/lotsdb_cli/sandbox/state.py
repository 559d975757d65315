"""Everything the route handlers share: data, tokens, knobs, faults, counters."""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, field

from lotsdb_cli.sandbox.credentials import DEMO, DemoCredentials
from lotsdb_cli.sandbox.data import SandboxData
from lotsdb_cli.sandbox.faults import FaultList
from lotsdb_cli.sandbox.ratelimit import RateLimiter
from lotsdb_cli.sandbox.stats import RequestStats
from lotsdb_cli.sandbox.tokens import TokenRegistry


@dataclass
class Knobs:
    """Behaviour that can change while the sandbox runs."""

    latency_ms: float = 0.0
    fail_rate: float = 0.0
    spotify_batch: bool = False

    def validate(self) -> None:
        if not (math.isfinite(self.latency_ms) and self.latency_ms >= 0):
            raise ValueError("latency_ms must be a number >= 0")
        if not 0.0 <= self.fail_rate <= 1.0:  # NaN fails this too
            raise ValueError("fail_rate must be between 0 and 1")
        if not isinstance(self.spotify_batch, bool):
            raise ValueError("spotify_batch must be true or false")


def checked_rate_limit(rate_limit: float) -> float:
    """Requests a second per service, 0 for none."""
    rate = float(rate_limit)
    if not (math.isfinite(rate) and rate >= 0):
        raise ValueError("rate_limit must be a number >= 0")
    return rate


@dataclass
class SandboxState:
    data: SandboxData
    tokens: TokenRegistry
    limiter: RateLimiter
    knobs: Knobs
    failure_rng: random.Random
    demo: DemoCredentials = DEMO
    faults: FaultList = field(default_factory=FaultList)
    stats: RequestStats = field(default_factory=RequestStats)
    stopping: threading.Event = field(default_factory=threading.Event)
    _failure_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return self.data.albums.base_url

    def draw_failure(self) -> bool:
        """Whether this request is one of the `fail_rate` that answer 503 (seeded, so runs repeat)."""
        if self.knobs.fail_rate <= 0:
            return False
        with self._failure_lock:
            return self.failure_rng.random() < self.knobs.fail_rate

    def apply_settings(
        self,
        latency_ms: float | None = None,
        rate_limit: float | None = None,
        fail_rate: float | None = None,
        spotify_batch: bool | None = None,
    ) -> None:
        """Change knobs while the sandbox runs; None leaves a knob as it is."""
        changed = Knobs(
            latency_ms=self.knobs.latency_ms if latency_ms is None else float(latency_ms),
            fail_rate=self.knobs.fail_rate if fail_rate is None else float(fail_rate),
            spotify_batch=self.knobs.spotify_batch if spotify_batch is None else spotify_batch,
        )
        changed.validate()
        rate = None if rate_limit is None else checked_rate_limit(rate_limit)
        self.knobs.latency_ms = changed.latency_ms
        self.knobs.fail_rate = changed.fail_rate
        self.knobs.spotify_batch = changed.spotify_batch
        if rate is not None:
            self.limiter.configure(rate)

    def settings(self) -> dict[str, object]:
        return {
            "latency_ms": self.knobs.latency_ms,
            "rate_limit": self.limiter.rate,
            "fail_rate": self.knobs.fail_rate,
            "spotify_batch": self.knobs.spotify_batch,
        }

    def reset(self) -> None:
        self.stats.clear()
        self.faults.clear()
        self.limiter.configure(self.limiter.rate)  # full buckets again

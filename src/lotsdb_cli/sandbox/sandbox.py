"""`Sandbox`: the local stand-in for the Catalog API, its identity server and the Spotify Web API,
served on one port from a background thread. Also a context manager for tests."""

from __future__ import annotations

import random
import threading
from types import TracebackType
from typing import Any

from lotsdb_cli.sandbox.credentials import DEMO, origin, sandbox_env
from lotsdb_cli.sandbox.data import SandboxData
from lotsdb_cli.sandbox.faults import Fault
from lotsdb_cli.sandbox.ratelimit import RateLimiter
from lotsdb_cli.sandbox.server import REQUEST_TIMEOUT, SandboxHTTPServer
from lotsdb_cli.sandbox.service import SandboxService
from lotsdb_cli.sandbox.state import Knobs, SandboxState, checked_rate_limit
from lotsdb_cli.sandbox.tokens import TokenRegistry

POLL_INTERVAL = 0.02  # how soon serve_forever notices stop()


class Sandbox:
    """Usage: `with Sandbox(seed=1) as sb: requests.get(sb.url + "/api/Lot/100000", ...)`.

    `request_timeout` is how long a request may take to arrive once it has begun (head and body);
    a client slower than that is answered 408."""

    def __init__(
        self,
        seed: int = 1,
        sellers: int = 6,
        events_per_seller: int = 4,
        lots_per_event: int = 120,
        albums: int = 500,
        latency_ms: float = 0,
        rate_limit: float = 0.0,
        fail_rate: float = 0.0,
        spotify_batch: bool = False,
        token_ttl: int = 3600,
        host: str = "127.0.0.1",
        port: int = 0,
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        sizes = {"sellers": sellers, "events_per_seller": events_per_seller,
                 "lots_per_event": lots_per_event, "albums": albums}  # fmt: skip
        for name, size in sizes.items():
            if size < 0:
                raise ValueError(f"{name} must be >= 0")
        if not request_timeout > 0:
            raise ValueError("request_timeout must be > 0")
        knobs = Knobs(latency_ms=float(latency_ms), fail_rate=float(fail_rate),
                      spotify_batch=spotify_batch)  # fmt: skip
        knobs.validate()
        self.host = host
        self._requested_port = port
        self._request_timeout = request_timeout
        self.data = SandboxData(seed, sellers, events_per_seller, lots_per_event, albums,
                                base_url=origin(host, port))  # fmt: skip
        self._state = SandboxState(
            data=self.data,
            tokens=TokenRegistry(token_ttl),
            limiter=RateLimiter(checked_rate_limit(rate_limit)),
            knobs=knobs,
            failure_rng=random.Random(f"lotsdb-sandbox-failures:{seed}"),
            demo=DEMO,
        )
        self._service = SandboxService(self._state)
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Life cycle

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        self._state.stopping.clear()
        server = SandboxHTTPServer((self.host, self._requested_port), self._service, self._request_timeout)
        self._server = server
        self.data.albums.base_url = origin(self.host, server.server_port)
        self.data.albums.forget_rendered()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL},
            name=f"lotsdb-sandbox-{server.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._state.stopping.set()  # wakes handlers sleeping for latency or a "slow" fault
        server.shutdown()
        server.server_close()
        server.close_open_connections()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # Where it is

    @property
    def port(self) -> int:
        return self._server.server_port if self._server else self._requested_port

    @property
    def url(self) -> str:
        """`http://HOST:PORT`, the origin of all three services."""
        return origin(self.host, self.port)

    def env(self) -> dict[str, str]:
        """The environment that points lotsdb at this sandbox (as `lotsdb sandbox env` prints)."""
        return sandbox_env(self.url)

    # Observing and steering it

    def stats(self) -> dict[str, Any]:
        """Requests by route template and status, as `GET /_sandbox/stats`."""
        return self._state.stats.snapshot()

    def reset(self) -> None:
        """Clear the counters and the faults, and refill the rate-limit buckets."""
        self._state.reset()

    def add_fault(self, path_regex: str, kind: str, count: int | None = None, **params: Any) -> None:
        """The next `count` requests (None: all) whose path matches answer with fault `kind`:
        status, html, truncated, empty, slow, close or retry_after."""
        self._state.faults.add(Fault(path_regex, kind, count, dict(params)))

    def clear_faults(self) -> None:
        self._state.faults.clear()

    def faults(self) -> list[dict[str, Any]]:
        return self._state.faults.describe()

    def revoke_tokens(self) -> None:
        """Invalidate every access token issued so far (refresh tokens keep working)."""
        self._state.tokens.revoke_access_tokens()

    def set(
        self,
        latency_ms: float | None = None,
        rate_limit: float | None = None,
        fail_rate: float | None = None,
        spotify_batch: bool | None = None,
    ) -> None:
        """Change knobs at run time; a new rate limit starts with full buckets."""
        self._state.apply_settings(latency_ms, rate_limit, fail_rate, spotify_batch)

    def settings(self) -> dict[str, object]:
        return self._state.settings()

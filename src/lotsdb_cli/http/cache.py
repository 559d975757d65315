"""The persistent HTTP cache: which backend, how long entries stay fresh, and what to do when it breaks.

Backends are requests-cache's: SQLite (WAL mode, a busy timeout so several processes can share one
file) or Redis under the `lotsdb` namespace. A cache that cannot be opened never stops a command:
a corrupt SQLite file is moved aside and recreated, an unwritable location or an unreachable Redis
falls back (to the local file, then to no cache) with one warning.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from requests_cache import BaseCache

    from lotsdb_cli.config import Settings

NAMESPACE = "lotsdb"
SPOTIFY_ALBUM_TTL = 30 * 86400.0
REDIS_STALE_KEEP = 30 * 86400  # Redis keeps expired entries this long, for stale-if-error
SQLITE_BUSY_TIMEOUT_MS = 30_000
BUSY_RETRY_SECONDS = 30.0
CLOSE_WAIT_SECONDS = 5.0  # how long closing the cache waits for operations in progress

Warn = Callable[..., None]


def expiry_rules(settings: Settings) -> dict[str, float]:
    """URL glob -> seconds fresh. The single source of truth for TTLs (SPEC §5)."""
    spotify = urlsplit(settings.spotify_api_url).netloc
    return {f"{spotify}/v1/albums*": SPOTIFY_ALBUM_TTL, "*": settings.ttl}


def ttl_for(url: str, settings: Settings) -> float:
    from fnmatch import fnmatch

    bare = url.split("://", 1)[-1]
    for pattern, seconds in expiry_rules(settings).items():
        if fnmatch(bare, pattern):
            return seconds
    return settings.ttl


REDIS_DOWN = "redis-down"  # one warning when Redis fails, whether the cache or the rate budget notices


def redis_down_message(location: str, exc: BaseException) -> str:
    return f"Redis at {_safe_url(location)} failed ({_short(exc)}); continuing without the shared cache and rate budget"


def is_redis(location: str) -> bool:
    return location.startswith(("redis://", "rediss://", "unix://"))


@dataclass
class OpenedCache:
    backend: BaseCache | None
    kind: str  # "sqlite", "redis" or "none"
    location: str


def open_cache(settings: Settings, warn: Warn) -> OpenedCache:
    """Open the configured cache, falling back rather than failing."""
    location = settings.cache_location
    if is_redis(location):
        try:
            return OpenedCache(_open_redis(location), "redis", location)
        except Exception as exc:
            fallback = str(settings.home / "http_cache.sqlite")
            warn(
                f"Redis cache at {_safe_url(location)} is unavailable ({_short(exc)}); "
                f"using the local cache {fallback}",
                once_key="cache-open",
            )
            location = fallback
    try:
        return OpenedCache(_open_sqlite(Path(location), warn), "sqlite", location)
    except Exception as exc:
        warn(
            f"HTTP cache {location} is unusable ({_short(exc)}); continuing without a cache",
            once_key="cache-open",
        )
        return OpenedCache(None, "none", location)


def _open_redis(url: str) -> BaseCache:
    from redis import Redis
    from requests_cache import RedisCache

    connection = Redis.from_url(url, socket_timeout=3, socket_connect_timeout=2, health_check_interval=30)
    connection.ping()
    return RedisCache(namespace=NAMESPACE, connection=connection, ttl=True, ttl_offset=REDIS_STALE_KEEP)


def _open_sqlite(path: Path, warn: Warn) -> BaseCache:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _sqlite_backend(path)
    except sqlite3.DatabaseError as exc:
        if not _is_corruption(exc) or not path.exists():
            raise
        aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        path.rename(aside)
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        warn(
            f"HTTP cache {path} was corrupt; moved it to {aside.name} and started a new one",
            once_key="cache-open",
        )
        return _sqlite_backend(path)


def _sqlite_backend(path: Path) -> BaseCache:
    from requests_cache import SQLiteCache

    from lotsdb_cli.http.sqlite_lock import bounded_while_opening

    def probe() -> BaseCache:
        with bounded_while_opening():
            backend = SQLiteCache(path, wal=True, busy_timeout=SQLITE_BUSY_TIMEOUT_MS)
        # Opening is lazy: touch the file now so corruption and permissions show up here.
        with backend.responses.connection() as connection:
            connection.execute("SELECT count(*) FROM responses").fetchone()
            connection.execute("PRAGMA quick_check(1)").fetchone()
        return backend

    return GuardedCache._patiently(probe)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "corrupt" in text


def cache_failure_types() -> tuple[type[BaseException], ...]:
    """Exceptions that mean 'the cache broke', as opposed to 'the network broke'."""
    import pickle

    failures: list[type[BaseException]] = [sqlite3.Error, pickle.UnpicklingError, EOFError, OSError]
    # Only an imported redis can raise RedisError; importing it for the SQLite cache costs ~0.1 s.
    if "redis" in sys.modules:
        from redis.exceptions import RedisError

        failures.append(RedisError)
    return tuple(failures)


def _safe_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def describe(opened: OpenedCache) -> dict[str, Any]:
    return {"backend": opened.kind, "location": _safe_url(opened.location)}


class GuardedCache:
    """Wraps a backend so that its failures degrade to 'no cache' with one warning.

    requests-cache calls `get_response`/`save_response` from inside `CachedSession.send`;
    replacing them on the instance means a broken cache never turns into a failed request.
    """

    def __init__(self, backend: BaseCache, warn: Warn, location: str) -> None:
        self.backend = backend
        self.broken = False
        self._warn = warn
        self._location = location
        self._failures = cache_failure_types()
        self._get = backend.get_response
        self._save = backend.save_response
        self._delete = backend.delete
        backend.get_response = self.get_response  # type: ignore[method-assign]
        backend.save_response = self.save_response  # type: ignore[method-assign]
        backend.delete = self.delete  # type: ignore[method-assign]
        # Operations in progress, so that `close` never closes SQLite under a reading thread.
        self._use = threading.Condition()
        self._in_use = 0
        self._closed = False
        responses = getattr(backend, "responses", None)
        if responses is not None and type(responses).__name__ == "SQLiteDict":
            from lotsdb_cli.http.sqlite_lock import bound_write_lock

            bound_write_lock(responses)
            bound_write_lock(backend.redirects)

    def get_response(self, key: str, default: Any = None) -> Any:
        if self.broken or not self._enter():
            return default
        try:
            return self._patiently(self._get, key, default)
        except self._failures as exc:
            self.fail(exc)
            return default
        finally:
            self._leave()

    def save_response(self, *args: Any, **kwargs: Any) -> None:
        if self.broken or not self._enter():
            return
        try:
            self._patiently(self._save, *args, **kwargs)
        except self._failures as exc:
            self.fail(exc)
        finally:
            self._leave()

    def delete(self, *args: Any, **kwargs: Any) -> None:
        if self.broken or not self._enter():
            return
        try:
            self._patiently(self._delete, *args, **kwargs)
        except self._failures as exc:
            self.fail(exc)
        finally:
            self._leave()

    def _enter(self) -> bool:
        with self._use:
            if self._closed:
                return False
            self._in_use += 1
            return True

    def _leave(self) -> None:
        with self._use:
            self._in_use -= 1
            self._use.notify_all()

    def close(self, wait: float = CLOSE_WAIT_SECONDS) -> None:
        """Close the backend once no thread is using it; later operations find no cache.

        Closing a SQLite connection while another thread reads through it crashes the process
        (Ctrl-C during a refresh: the main thread closes, workers still run). A worker stuck
        longer than `wait` keeps the connection open; the process exit closes it.
        """
        deadline = time.monotonic() + wait
        with self._use:
            self._closed = True
            while self._in_use and time.monotonic() < deadline:
                self._use.wait(deadline - time.monotonic())
            if self._in_use:
                return
        with contextlib.suppress(Exception):
            self.backend.close()

    @staticmethod
    def _patiently(operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run `operation`, retrying while another process holds a lock SQLite did not wait for.

        The busy timeout covers most contention, but a few moments (two processes switching a
        new file to WAL mode, WAL recovery) answer SQLITE_BUSY at once.
        """
        deadline = time.monotonic() + BUSY_RETRY_SECONDS
        delay = 0.005
        while True:
            try:
                return operation(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(0.2, delay * 2)

    def fail(self, exc: BaseException) -> None:
        self.broken = True
        if is_redis(self._location):
            self._warn(redis_down_message(self._location, exc), once_key=REDIS_DOWN)
            return
        self._warn(
            f"HTTP cache {_safe_url(self._location)} failed ({_short(exc)}); continuing without it",
            once_key="cache-broken",
        )

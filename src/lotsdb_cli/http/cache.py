"""The HTTP cache: which store, how long an answer stays fresh, and what to do when the store breaks.

- Freshness (SPEC §5): Catalog answers for `--ttl`, Spotify albums for 30 days (`ttl_for`).
- Reads: one entry, or many at once (a dump reads a chunk of lots per query).
- Writes are batched: an answer joins a pending batch that one writer commits every few dozen
  entries or few dozen milliseconds (one transaction, not one per response); a read sees the
  pending entries too, and closing the cache commits what is pending.
- A store that cannot be opened or fails mid-run never fails a command: a corrupt SQLite file is
  moved aside and a new one started; an unreachable Redis falls back to the local file; any other
  failure turns the cache off for the rest of the run, with one warning.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from lotsdb_cli.config import is_redis_url, redact_url
from lotsdb_cli.http.store import CacheEntry, CorruptCache, EntrySummary, SQLiteStore, Store, cache_key
from lotsdb_cli.http.urls import strip_userinfo
from lotsdb_cli.secrets import redact

if TYPE_CHECKING:
    from lotsdb_cli.config import Settings

SPOTIFY_ALBUM_TTL = 30 * 86400.0
FLUSH_EVERY = 64  # entries per write transaction
FLUSH_DELAY = 0.05  # seconds an entry may wait for its batch
REDIS_DOWN = "redis-down"  # one warning when Redis fails, whether the cache or the rate budget notices

Warn = Callable[..., None]
Schedule = Callable[[float, Callable[[], None]], Any]


def ttl_for(url: str, settings: Settings) -> float:
    """Seconds an answer from `url` stays fresh: the single source of truth for TTLs."""
    parts = urlsplit(url)
    spotify = urlsplit(settings.spotify_api_url)
    if parts.netloc == spotify.netloc and parts.path.startswith("/v1/albums"):
        return SPOTIFY_ALBUM_TTL
    return settings.ttl


def is_fresh(url: str, stored_at: float, settings: Settings, now: float) -> bool:
    """Whether an answer stored at `stored_at` is still fresh under this run's TTLs (so `--ttl 0` revalidates all)."""
    return now - stored_at < ttl_for(url, settings)


def entry_for(
    key: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    settings: Settings,
    now: float,
    revalidated: CacheEntry | None = None,
) -> CacheEntry:
    """What to store for a 200 (`headers`: the ones kept), or for a 304 that `revalidated` an entry."""
    ttl = ttl_for(url, settings)
    expires = now + ttl if ttl < 100 * 365 * 86400 else None
    if revalidated is not None:
        kept = {**revalidated.headers, **headers}
        return CacheEntry(key, revalidated.url, 200, kept, revalidated.body, now, expires)
    # The URL kept beside the entry (for `cache stats` and `--url-pattern`) shows no credential, in its
    # userinfo or its query (`?token=…`); the key is a digest of the URL as sent.
    shown = strip_userinfo(url)
    return CacheEntry(key, redact(shown) if "?" in shown else shown, 200, headers, body, now, expires)


def redis_down_message(location: str, exc: BaseException) -> str:
    return (
        f"Redis at {redact_url(location)} failed ({_short(exc)}); continuing without the shared cache and rate budget"
    )


def failure_types() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "the cache broke" (as opposed to the network)."""
    import sqlite3
    import sys

    failures: list[type[BaseException]] = [sqlite3.Error, OSError, ValueError, MemoryError]
    if "redis" in sys.modules:  # only an imported redis can raise its errors
        from redis.exceptions import RedisError

        failures.append(RedisError)
    return tuple(failures)


def open_store(settings: Settings, warn: Warn) -> Store | None:
    """The configured store, falling back (Redis -> local file -> none) rather than failing."""
    location = settings.cache_location
    if is_redis_url(location):
        from lotsdb_cli.http.redis_store import RedisStore

        try:
            return RedisStore(location)
        except Exception as exc:
            location = str(settings.home / "http_cache.sqlite")
            warn(
                f"Redis cache at {redact_url(settings.cache_location)} is unavailable ({_short(exc)}); "
                f"using the local cache {location}",
                once_key="cache-open",
            )
    try:
        return _open_sqlite(Path(location), warn)
    except Exception as exc:
        warn(f"HTTP cache {location} is unusable ({_short(exc)}); continuing without a cache", once_key="cache-open")
        return None


def _open_sqlite(path: Path, warn: Warn) -> Store:
    try:
        return SQLiteStore(path)
    except CorruptCache:
        aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        path.rename(aside)
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        warn(f"HTTP cache {path} was corrupt; moved it to {aside.name} and started a new one", once_key="cache-open")
        return SQLiteStore(path)


class HttpCache:
    """A store behind a guard, with batched writes. Use from one thread (the I/O thread)."""

    def __init__(self, store: Store | None, warn: Warn, *, schedule: Schedule | None = None) -> None:
        self.store = store
        self.broken = store is None
        self._warn = warn
        self._schedule = schedule
        self._failures = failure_types()
        self._pending: dict[str, CacheEntry] = {}
        self._read_ahead: dict[str, CacheEntry | None] = {}  # what a bulk read found (None: nothing)
        self._flush_due = False
        self._lock = threading.Lock()

    @property
    def kind(self) -> str:
        return "none" if self.store is None else self.store.kind

    @property
    def location(self) -> str:
        return "" if self.store is None else self.store.location

    # -- reading -------------------------------------------------------------------------
    def get(self, key: str) -> CacheEntry | None:
        with self._lock:
            if key in self._read_ahead and key not in self._pending:
                return self._read_ahead.pop(key)
        return self.get_many([key]).get(key)

    def read_ahead(self, keys: Sequence[str]) -> dict[str, CacheEntry]:
        """`get_many`, remembering the answer for each key, so that the one `get` that follows for
        it (a dump's request for a lot the bulk read did not find fresh) reads nothing again."""
        found = self.get_many(keys)
        with self._lock:
            for key in keys:
                self._read_ahead[key] = found.get(key)
        return found

    def forget(self, keys: Iterable[str]) -> None:
        """Drop what `read_ahead` remembered for `keys` (answered from the cache: no request follows)."""
        with self._lock:
            for key in keys:
                self._read_ahead.pop(key, None)

    def get_many(self, keys: Sequence[str]) -> dict[str, CacheEntry]:
        if self.broken or self.store is None or not keys:
            return {}
        with self._lock:
            pending = {key: self._pending[key] for key in keys if key in self._pending}
        missing = [key for key in keys if key not in pending] if pending else keys
        try:
            found = self.store.get_many(missing) if missing else {}
        except self._failures as exc:
            self.fail(exc)
            return pending
        found.update(pending)
        return found

    # -- writing -------------------------------------------------------------------------
    def put(self, entry: CacheEntry) -> None:
        """Store `entry` with the next batch."""
        if self.broken:
            return
        with self._lock:
            self._pending[entry.key] = entry
            self._read_ahead.pop(entry.key, None)
            size = len(self._pending)
            schedule_now = not self._flush_due and self._schedule is not None
            if schedule_now:
                self._flush_due = True
        if self._schedule is None or size >= FLUSH_EVERY:
            self.flush()
        elif schedule_now:
            self._schedule(FLUSH_DELAY, self.flush)

    def flush(self) -> None:
        with self._lock:
            batch = list(self._pending.values())
            self._flush_due = False
        if not batch or self.broken or self.store is None:
            return
        try:
            self.store.put_many(batch)
        except self._failures as exc:
            self.fail(exc)
        with self._lock:
            for entry in batch:
                if self._pending.get(entry.key) is entry:
                    del self._pending[entry.key]

    def delete_url(self, url: str) -> None:
        """Drop the cached GET of `url` (after a write to it), pending or stored."""
        key = cache_key("GET", url)
        with self._lock:
            self._pending.pop(key, None)
            self._read_ahead.pop(key, None)
        if self.broken or self.store is None:
            return
        try:
            self.store.delete([key])
        except self._failures as exc:
            self.fail(exc)

    # -- inspection (cache stats / clear) ----------------------------------------------------
    def summaries(self) -> list[EntrySummary]:
        self.flush()
        if self.broken or self.store is None:
            return []
        try:
            return list(self.store.summaries())
        except self._failures as exc:
            self.fail(exc)
            return []

    def delete(self, keys: Sequence[str]) -> int:
        if self.broken or self.store is None or not keys:
            return 0
        try:
            return self.store.delete(keys)
        except self._failures as exc:
            self.fail(exc)
            return 0

    def clear(self) -> int:
        self.flush()
        if self.broken or self.store is None:
            return 0
        try:
            return self.store.clear()
        except self._failures as exc:
            self.fail(exc)
            return 0

    def size_bytes(self) -> int | None:
        if self.store is None:
            return None
        try:
            return self.store.size_bytes()
        except OSError:
            return None

    # -- failure and closing ---------------------------------------------------------------
    def fail(self, exc: BaseException) -> None:
        self.broken = True
        with self._lock:
            self._pending.clear()
        location = self.location
        if is_redis_url(location) or self.kind == "redis":
            self._warn(redis_down_message(location, exc), once_key=REDIS_DOWN)
        else:
            self._warn(f"HTTP cache {location} failed ({_short(exc)}); continuing without it", once_key="cache-broken")

    def close(self) -> None:
        self.flush()
        if self.store is not None:
            self.store.close()


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def loop_scheduler() -> Callable[[float, Callable[[], None]], Any] | None:
    """Batch cache writes on the running loop's timer; with no loop running, write at once."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    return loop.call_later

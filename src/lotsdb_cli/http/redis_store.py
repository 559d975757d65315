"""The cache store in Redis, for several hosts sharing one cache.

Each entry is a hash under `lotsdb:http:<key>` with two fields, `m` (the metadata as JSON: URL,
status, headers, when stored, when it expires) and `b` (the body), so that `cache stats` reads the
small field only. Redis keeps an entry `STALE_KEEP` past its freshness, for stale-if-error, and then
drops it by itself. Every other key in the database is left alone.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator, Sequence
from typing import Any

from lotsdb_cli.config import redact_url
from lotsdb_cli.http.store import CacheEntry, EntrySummary

PREFIX = "lotsdb:http:"
STALE_KEEP = 30 * 86400  # seconds an expired entry stays, for stale-if-error
CHUNK = 500


def connect(url: str) -> Any:
    from redis import Redis

    connection = Redis.from_url(url, socket_timeout=3, socket_connect_timeout=2, health_check_interval=30)
    connection.ping()
    return connection


class RedisStore:
    kind = "redis"

    def __init__(self, url: str, connection: Any | None = None) -> None:
        self.location = redact_url(url)
        self.redis = connection if connection is not None else connect(url)

    def get_many(self, keys: Sequence[str]) -> dict[str, CacheEntry]:
        found: dict[str, CacheEntry] = {}
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            pipe = self.redis.pipeline(transaction=False)
            for key in chunk:
                pipe.hmget(PREFIX + key, "m", "b")
            for key, (meta, body) in zip(chunk, pipe.execute(), strict=True):
                if meta is None or body is None:
                    continue
                try:
                    found[key] = CacheEntry.from_meta(key, json.loads(meta), bytes(body))
                except (ValueError, KeyError, TypeError):
                    continue  # an entry we cannot read is a miss
        return found

    def put_many(self, entries: Sequence[CacheEntry]) -> None:
        if not entries:
            return
        now = time.time()
        pipe = self.redis.pipeline(transaction=False)
        for entry in entries:
            name = PREFIX + entry.key
            pipe.hset(name, mapping={"m": json.dumps(entry.meta()), "b": entry.body})
            if entry.expires_at is None:
                pipe.persist(name)
            else:
                pipe.expire(name, max(1, int(entry.expires_at - now) + STALE_KEEP))
        pipe.execute()

    def delete(self, keys: Sequence[str]) -> int:
        removed = 0
        for start in range(0, len(keys), CHUNK):
            chunk = [PREFIX + key for key in keys[start : start + CHUNK]]
            if chunk:
                removed += int(self.redis.delete(*chunk))
        return removed

    def _names(self) -> Iterator[bytes]:
        return iter(self.redis.scan_iter(match=f"{PREFIX}*", count=1000))

    def summaries(self) -> Iterator[EntrySummary]:
        names = list(self._names())
        for start in range(0, len(names), CHUNK):
            chunk = names[start : start + CHUNK]
            pipe = self.redis.pipeline(transaction=False)
            for name in chunk:
                pipe.hget(name, "m")
            for name, meta in zip(chunk, pipe.execute(), strict=True):
                if meta is None:
                    continue
                try:
                    data = json.loads(meta)
                    key = name.decode()[len(PREFIX) :]
                    yield EntrySummary(key, str(data["url"]), float(data["stored_at"]))
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue

    def clear(self) -> int:
        names = list(self._names())
        removed = 0
        for start in range(0, len(names), CHUNK):
            removed += int(self.redis.delete(*names[start : start + CHUNK]))
        return removed

    def size_bytes(self) -> int | None:
        return None

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a connection that already failed
            self.redis.close()

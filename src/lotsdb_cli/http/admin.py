"""Inspecting and clearing the HTTP cache (`lotsdb cache stats|clear`)."""

from __future__ import annotations

import re
import time
from collections import Counter
from fnmatch import fnmatch
from typing import Any
from urllib.parse import urlsplit

from lotsdb_cli.config import Settings
from lotsdb_cli.http.cache import HttpCache, is_fresh
from lotsdb_cli.http.runlog import recent_runs

_ID_SEGMENT = re.compile(r"/(\d+|[0-9A-Za-z]{22})(?=/|$)")


def endpoint_of(url: str) -> str:
    """`host/api/Lot/{id}` for `https://host/api/Lot/123?x=1`."""
    parts = urlsplit(url)
    return f"{parts.netloc}{_ID_SEGMENT.sub('/{id}', parts.path)}"


def _require_configured(cache: HttpCache, settings: Settings, doing: str) -> None:
    """The cache a user names is the one `stats` and `clear` work on: when the configured Redis could
    not be opened, the local fallback a fetch would use is not what they asked about, and clearing it
    instead would wipe a cache nobody meant."""
    from lotsdb_cli.config import redact_url
    from lotsdb_cli.errors import ConfigError, Unreachable
    from lotsdb_cli.http.cache import is_redis_url

    if not is_redis_url(settings.cache_location) or cache.kind == "redis":
        return
    where = redact_url(settings.cache_location)
    try:
        from lotsdb_cli.http.redis_store import RedisStore

        RedisStore(settings.cache_location)
    except Exception as exc:
        from redis.exceptions import AuthenticationError
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        problem = redact_url(f"{type(exc).__name__}: {exc}".splitlines()[0])
        down = isinstance(exc, RedisConnectionError | RedisTimeoutError | OSError)
        if isinstance(exc, AuthenticationError) or not down:  # a password, a database number, not Redis at all
            raise ConfigError(f"cannot {doing} the Redis cache at {where}: {problem}") from None
        raise Unreachable(
            f"cannot {doing} the Redis cache at {where}: {problem}",
            hint=f"{'nothing was cleared; ' if doing == 'clear' else ''}run again when Redis is back",
        ) from None


def cache_stats(cache: HttpCache, settings: Settings) -> dict[str, Any]:
    _require_configured(cache, settings, "read")
    info: dict[str, Any] = {
        "backend": cache.kind,
        "location": cache.location,
        "size_bytes": cache.size_bytes(),
        "entries": 0,
        "fresh": 0,
        "expired": 0,
    }
    endpoints: dict[str, Counter[str]] = {}
    now = time.time()
    for summary in cache.summaries():
        state = "fresh" if is_fresh(summary.url, summary.stored_at, settings, now) else "expired"
        info[state] += 1
        info["entries"] += 1
        endpoints.setdefault(endpoint_of(summary.url), Counter())[state] += 1
    info["endpoints"] = [
        {"endpoint": name, "fresh": counts["fresh"], "expired": counts["expired"]}
        for name, counts in sorted(endpoints.items())
    ]
    info["recent_runs"] = recent_runs(settings.home)
    return info


def clear_cache(
    cache: HttpCache, settings: Settings, *, expired_only: bool = False, url_pattern: str | None = None
) -> int:
    """Remove entries; returns how many were removed."""
    _require_configured(cache, settings, "clear")
    if cache.kind == "none":  # "removed 0" would say a cache it never opened is empty
        from lotsdb_cli.errors import LotsdbError, UsageError

        if settings.no_cache:
            raise UsageError("--no-cache: the cache is not opened, so nothing can be cleared")
        raise LotsdbError(
            f"cannot clear the HTTP cache at {settings.cache_location}: it could not be opened",
            hint="see the warning above; nothing was cleared",
        )
    if not expired_only and not url_pattern:
        return cache.clear()
    now = time.time()
    doomed = [
        summary.key
        for summary in cache.summaries()
        if (not expired_only or not is_fresh(summary.url, summary.stored_at, settings, now))
        and (not url_pattern or _matches(summary.url, url_pattern))
    ]
    return cache.delete(doomed)


def _matches(url: str, pattern: str) -> bool:
    """`pattern` against the whole URL, the URL without its scheme, or (a pattern that starts with
    `/`) its path and query: `'*/api/Lot/*'` and `'/api/Lot/*'` name the same entries."""
    bare = url.split("://", 1)[-1]
    if pattern.startswith("/"):
        _, slash, path = bare.partition("/")
        return fnmatch(slash + path, pattern)
    return fnmatch(url, pattern) or fnmatch(bare, pattern)

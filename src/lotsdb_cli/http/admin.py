"""Inspecting and clearing the HTTP cache (`lotsdb cache stats|clear`)."""

from __future__ import annotations

import re
from collections import Counter
from fnmatch import fnmatch
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lotsdb_cli.http.client import HttpClient
from lotsdb_cli.http.runlog import recent_runs

_ID_SEGMENT = re.compile(r"/(\d+|[0-9A-Za-z]{22})(?=/|$)")


def endpoint_of(url: str) -> str:
    """`host/api/Lot/{id}` for `https://host/api/Lot/123?x=1`."""
    parts = urlsplit(url)
    return f"{parts.netloc}{_ID_SEGMENT.sub('/{id}', parts.path)}"


def cache_stats(http: HttpClient) -> dict[str, Any]:
    opened = http.cache
    info: dict[str, Any] = {**http.describe_cache(), "size_bytes": None, "entries": 0, "fresh": 0, "expired": 0}
    endpoints: dict[str, Counter[str]] = {}
    backend = opened.backend if http.cache_usable else None
    if backend is not None:
        for response in backend.filter(valid=True, expired=True):
            state = "expired" if response.is_expired else "fresh"
            info[state] += 1
            info["entries"] += 1
            endpoints.setdefault(endpoint_of(response.url), Counter())[state] += 1
        if opened.kind == "sqlite":
            info["size_bytes"] = sum(
                path.stat().st_size for path in (Path(opened.location), Path(f"{opened.location}-wal")) if path.exists()
            )
    info["endpoints"] = [
        {"endpoint": name, "fresh": counts["fresh"], "expired": counts["expired"]}
        for name, counts in sorted(endpoints.items())
    ]
    info["recent_runs"] = recent_runs(http.settings.home)
    return info


def clear_cache(http: HttpClient, *, expired_only: bool = False, url_pattern: str | None = None) -> int:
    """Remove entries; returns how many were removed."""
    if not http.cache_usable or http.cache.backend is None:
        return 0
    backend = http.cache.backend
    if not expired_only and not url_pattern:
        count = backend.responses.__len__()
        backend.clear()
        return count
    doomed = [
        response.cache_key
        for response in backend.filter(valid=True, expired=True)
        if (not expired_only or response.is_expired) and (not url_pattern or _matches(response.url, url_pattern))
    ]
    if doomed:
        backend.delete(*doomed)
    return len(doomed)


def _matches(url: str, pattern: str) -> bool:
    bare = url.split("://", 1)[-1]
    return fnmatch(url, pattern) or fnmatch(bare, pattern)

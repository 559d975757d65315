"""URLs as the HTTP layer handles them: the host a gate is kept for, a query in a stable order,
and the forms shown or stored, which never carry userinfo."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit


def strip_userinfo(url: str) -> str:
    """`url` without `user:password@`; what is stored, shown and hashed."""
    if "@" not in url:  # the usual case, without parsing
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def origin_of(url: str) -> str:
    """`host:port` of an absolute URL, never its `user:password@` (what a gate and its Redis keys
    are named after), without a full parse for the usual case."""
    _, sep, rest = url.partition("://")
    if not sep:
        return urlsplit(url).netloc.rsplit("@", 1)[-1]
    return rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]


def with_params(url: str, params: Mapping[str, Any] | None) -> str:
    """`url` with `params` appended in a stable order (so the cache key does not depend on it)."""
    if not params:
        return url
    pairs = sorted((str(name), value) for name, value in params.items() if value is not None)
    return f"{url}{'&' if '?' in url else '?'}{urlencode(pairs, doseq=True)}"


def short_url(url: str) -> str:
    """`host/path?query`, without scheme or userinfo, at most 120 characters."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    query = f"?{parts.query}" if parts.query else ""
    text = f"{host}{parts.path}{query}"
    return text if len(text) <= 120 else text[:117] + "..."


def proxy_for(url: str) -> str | None:
    """The proxy a request to `url` goes through: `HTTPS_PROXY`/`HTTP_PROXY` unless `NO_PROXY`
    names its host (or its `host:port`), as with curl and requests."""
    import urllib.request

    proxies = urllib.request.getproxies_environment()
    if proxies.get("no") and urllib.request.proxy_bypass_environment(origin_of(url), proxies):  # type: ignore[attr-defined]
        return None
    return proxies.get(urlsplit(url).scheme.lower())

"""`-v`: one line per request on stderr, as httpie's `-v` or gh's `GH_DEBUG=api` would show it.

    GET https://catalog-api.example/api/Lot/100001 200 12ms miss
    GET https://catalog-api.example/api/Lot/100002 - 0ms hit

The outcome says where the answer came from: `hit` (fresh in the cache, nothing sent), `miss`
(sent, no usable copy), `revalidated` (a 304 confirmed the cached copy), `stale` (the server
failed and an expired copy was used). `-vv` adds the request and response headers; the
Authorization header, cookies and anything that looks like a token are masked, and URLs never
show userinfo.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lotsdb_cli import secrets
from lotsdb_cli.http.urls import strip_userinfo

if TYPE_CHECKING:
    from lotsdb_cli.http.transport import RawResponse

# Headers whose value is a credential by their name: Authorization and cookies, and the custom ones
# APIs and gateways use (`X-Api-Token`, `X-Auth-Key`, `X-Amz-Security-Token`, `X-Session-Id`, ...).
_MASKED_HEADER = re.compile(r"auth|token|secret|passw|api-?key|cookie|session|credential|signature", re.IGNORECASE)


@dataclass
class Exchange:
    method: str
    url: str
    status: int | None  # None: answered from the cache
    elapsed: float
    outcome: str  # hit, miss, revalidated, stale
    response: RawResponse | None


def mask_headers(headers: Mapping[str, str]) -> list[str]:
    lines = []
    for name, value in headers.items():
        shown = "***" if _MASKED_HEADER.search(name) else secrets.redact(str(value))
        lines.append(f"{name}: {shown}")
    return lines


class Tracer:
    """Writes the lines, or (with `write` None: no -v) nothing."""

    def __init__(self, write: Callable[[str], None] | None, verbosity: int) -> None:
        self._write = write
        self._verbosity = verbosity

    def answered(self, method: str, url: str, response: RawResponse) -> None:
        if self._write is not None:
            outcome = "revalidated" if response.status == 304 else "miss"
            self.exchange(Exchange(method, url, response.status, response.elapsed, outcome, response))

    def cached(self, method: str, url: str, outcome: str) -> None:
        if self._write is not None:
            self.exchange(Exchange(method, url, None, 0.0, outcome, None))

    def failed(self, method: str, url: str, reason: str) -> None:
        if self._write is not None:
            self._write(f"{method} {secrets.redact(strip_userinfo(url))} failed: {reason}")

    def exchange(self, exchange: Exchange) -> None:
        assert self._write is not None
        status = "-" if exchange.status is None else str(exchange.status)
        url = secrets.redact(strip_userinfo(exchange.url))
        self._write(f"{exchange.method} {url} {status} {exchange.elapsed * 1000:.0f}ms {exchange.outcome}")
        if self._verbosity >= 2 and exchange.response is not None:
            for line in mask_headers(exchange.response.request_headers):
                self._write(f"  > {line}")
            for line in mask_headers(exchange.response.headers):
                self._write(f"  < {line}")

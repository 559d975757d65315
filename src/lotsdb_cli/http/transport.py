"""The transport: one aiohttp session for the run, and `send()`, which returns a whole response or raises.

- One deadline per request: `--timeout` bounds connect + headers + body together, so a body that
  trickles one byte a second is cut off like any other (a per-read timeout would never fire).
- TLS is always verified, against the system's CAs or `ca_bundle` (a file or a directory).
- Proxies come from `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`, as with requests and curl; `.netrc` is
  not read (it would add a second Authorization to requests that carry a bearer token).
- No cookies are kept, bodies are capped at `MAX_BODY`. Redirects of a GET are followed up to 5
  times, never from https to plain http, without the Authorization header once they leave the
  origin; a POST or PUT (a token request, an override) is never redirected: its body has secrets.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from lotsdb_cli import __version__
from lotsdb_cli.errors import BadResponse, ConfigError, LotsdbError, TlsError
from lotsdb_cli.http.failures import transport_failure
from lotsdb_cli.http.retry import Retryable
from lotsdb_cli.http.urls import origin_of, proxy_for, short_url

if TYPE_CHECKING:
    import ssl

    import aiohttp

    from lotsdb_cli.config import Settings

USER_AGENT = f"lotsdb/{__version__}"
MAX_BODY = 64 * 1024 * 1024  # bytes: a larger answer is not an API response we can use
CONNECT_TIMEOUT_CAP = 10.0
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)


@dataclass
class RawResponse:
    status: int
    reason: str
    headers: Mapping[str, str]  # case-insensitive
    body: bytes
    url: str
    elapsed: float  # seconds from sending to the last byte of the body
    request_headers: Mapping[str, str]


class Transport:
    def __init__(self, settings: Settings, *, clock: Any = time.monotonic) -> None:
        self.timeout = settings.timeout
        self._ca_bundle = settings.ca_bundle
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._ssl: ssl.SSLContext | None = None
        self._proxies: dict[str, str | None] = {}

    def _open(self) -> aiohttp.ClientSession:
        import aiohttp

        connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None, connect=min(CONNECT_TIMEOUT_CAP, self.timeout)),
            headers={"User-Agent": USER_AGENT},
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
        )
        return self._session

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context: the system's CAs, or `ca_bundle`; verification always on."""
        if self._ssl is None:
            import ssl
            from pathlib import Path

            bundle = self._ca_bundle
            try:
                if bundle and Path(bundle).is_dir():
                    self._ssl = ssl.create_default_context(capath=bundle)
                else:
                    self._ssl = ssl.create_default_context(cafile=bundle or None)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(
                    f"cannot load the CA bundle {bundle}: {exc}",
                    hint="LOTSDB_CA_BUNDLE must name a PEM file or directory",
                ) from None
        return self._ssl

    def _proxy_for(self, url: str) -> str | None:
        scheme, _, rest = url.partition("://")
        origin = f"{scheme}://{rest.split('/', 1)[0]}"
        if origin not in self._proxies:
            self._proxies[origin] = proxy_for(url)
        return self._proxies[origin]

    async def send(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, body: bytes | None = None
    ) -> RawResponse:
        """Send one request and read its whole answer before the deadline (redirects included)."""
        session = self._session or self._open()
        started = self._clock()
        target, sent = url, dict(headers or {})
        try:
            async with asyncio.timeout(self.timeout):
                for _ in range(MAX_REDIRECTS + 1):
                    async with session.request(
                        method, target, headers=sent, data=body, **self._options(target)
                    ) as response:
                        location = response.headers.get("Location") if response.status in REDIRECTS else None
                        if location is None:
                            content = await _read_capped(response)
                            return RawResponse(
                                status=response.status,
                                reason=response.reason or "",
                                headers=response.headers,
                                body=content,
                                url=target,
                                elapsed=self._clock() - started,
                                request_headers=response.request_info.headers,
                            )
                    target, sent = _follow(method, target, location, sent)
                raise BadResponse(f"{short_url(url)}: too many redirects (more than {MAX_REDIRECTS})")
        except (Retryable, LotsdbError):
            raise
        except Exception as exc:
            failure = transport_failure(exc, target, timeout=self.timeout)
            if failure is None:
                raise
            raise failure from None

    def _options(self, url: str) -> dict[str, Any]:
        options: dict[str, Any] = {"allow_redirects": False}  # followed by `send`, with the checks of `_follow`
        if url.startswith("https:"):
            options["ssl"] = self.ssl_context()
        proxy = self._proxy_for(url)
        if proxy:
            options["proxy"] = proxy
        return options

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _follow(method: str, url: str, location: str, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    """Where a redirect leads, and the headers to send there. Only a GET is followed (a token
    request's form holds the password); never from https to plain http; the Authorization header
    stays with its origin."""
    from urllib.parse import urljoin

    target = urljoin(url, location)
    if method != "GET":
        raise ConfigError(
            f"{method} {short_url(url)}: redirected to {short_url(target)}; not followed, as the request "
            "carries credentials",
            hint="set the URL to the one it redirects to (lotsdb config show names the setting)",
        )
    if url.startswith("https:") and not target.startswith("https:"):
        raise TlsError(f"{short_url(url)}: redirected from https to plain http ({short_url(target)}); refused")
    if origin_of(target) != origin_of(url) or urlsplit(target).scheme != urlsplit(url).scheme:
        headers = {name: value for name, value in headers.items() if name.lower() != "authorization"}
    return target, headers


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    length = response.content_length
    if length is not None and length > MAX_BODY:
        raise _too_large(response, f"{length} bytes")
    if length is not None and "Content-Encoding" not in response.headers:
        return await response.read()
    # No length, or a compressed one (4 MB of gzip can hold 600 MB): the cap counts what is decoded.
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > MAX_BODY:
            raise _too_large(response, f"over {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(response: aiohttp.ClientResponse, size: str) -> BadResponse:
    return BadResponse(f"{response.method} {short_url(str(response.url))}: the answer is too large ({size})")

"""What went wrong on the wire, in words a user can act on: one chain from transport exceptions to
lotsdb's own (like httpie's `core.py`).

- A certificate that does not verify, or a failed TLS handshake, is a configuration problem
  (`TlsError`, exit 4, never retried): the hint names the CA setting.
- No connection at all (refused, unknown host, no route, connect timeout) is `unreachable`: retried,
  and when the retries run out it stops the run (exit 75).
- A connection that breaks mid-answer, a body cut short, or no complete answer before the deadline
  is retried, then fails that one request.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from lotsdb_cli.errors import BadResponse, ConfigError, LotsdbError, TlsError
from lotsdb_cli.http.retry import Retryable
from lotsdb_cli.http.urls import short_url, strip_userinfo

CA_HINT = (
    "if the server uses a private or corporate CA, point LOTSDB_CA_BUNDLE (or REQUESTS_CA_BUNDLE / "
    "SSL_CERT_FILE) at its certificates; verification is never switched off"
)


def transport_failure(exc: BaseException, url: str, *, timeout: float) -> LotsdbError | Retryable | None:
    """The error to raise for an exception from the transport (`Retryable` when worth another try);
    None when it is no failure of the network or of the server (a bug), to be raised as it is."""
    import aiohttp

    host = urlsplit(url).netloc.rsplit("@", 1)[-1]
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return TlsError(f"{host}: the TLS certificate did not verify ({_certificate_reason(exc)})", hint=CA_HINT)
    if isinstance(exc, aiohttp.ClientSSLError):
        return TlsError(f"{host}: the TLS handshake failed ({_first_line(exc.os_error)})", hint=CA_HINT)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return Retryable(f"cannot connect (no answer within {min(10.0, timeout):g}s)", url=url, unreachable=True)
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return Retryable(f"no complete answer within {timeout:g}s (timeout)", url=url)
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return Retryable("cannot connect (unknown host)", url=url, unreachable=True)
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return Retryable(f"cannot connect to the proxy ({_first_line(exc.os_error)})", url=url, unreachable=True)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return Retryable(f"cannot connect ({_connect_reason(exc)})", url=url, unreachable=True)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return Retryable("connection failed (the server closed the connection)", url=url)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return Retryable("connection failed (the response was cut short)", url=url)
    if isinstance(exc, aiohttp.ClientOSError):
        return Retryable(f"connection failed ({_first_line(exc)})", url=url)
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return ConfigError(
            f"not a usable http(s) URL: {strip_userinfo(url)}", hint="check the URL settings (lotsdb config show)"
        )
    if isinstance(exc, aiohttp.TooManyRedirects):  # a loop, or a chain too long: no retry changes that
        return BadResponse(f"{short_url(url)}: too many redirects (a loop, or a chain too long to follow)")
    if isinstance(exc, aiohttp.ClientResponseError):
        return Retryable(f"malformed HTTP response ({_first_line(exc.message)})", url=url)
    if isinstance(exc, aiohttp.ClientError | OSError):
        return Retryable(f"request failed ({type(exc).__name__})", url=url)
    return None  # not a failure of the network: a bug, raised as it is


def _connect_reason(exc: BaseException) -> str:
    errno_value = getattr(getattr(exc, "os_error", None), "errno", None)
    import errno

    reasons = {
        errno.ECONNREFUSED: "connection refused",
        errno.EHOSTUNREACH: "no route to host",
        errno.ENETUNREACH: "network unreachable",
        errno.ECONNRESET: "connection reset",
    }
    return reasons.get(errno_value or -1, _first_line(getattr(exc, "os_error", exc)))


def _certificate_reason(exc: BaseException) -> str:
    detail = getattr(getattr(exc, "certificate_error", None), "verify_message", None)
    return str(detail) if detail else _first_line(getattr(exc, "certificate_error", exc))


def _first_line(value: object) -> str:
    text = str(value).strip().splitlines()
    return text[0][:200] if text else type(value).__name__

"""`HttpClient`: every request the tool makes goes through here.

Order of operations for a GET:
1. look the request up in the cache (no token is needed for a fresh copy, and `--offline` stops here);
2. otherwise send it through requests-cache's session (which revalidates with ETag/Last-Modified and
   stores 200s), admitted by the host's gate (shared pause, adaptive concurrency, learned rate), with
   the bearer token attached, inside the one retry loop (tenacity);
3. when the retries are exhausted or the server rate-limits beyond `--max-wait`, fall back to the
   stale cached copy if there is one, and count it.

Stale copies: requests-cache's own `stale_if_error` would answer with the stale copy on the first
error, before any retry. We want the fresh answer whenever the server can give it, so the stale copy
is used only after our retries have failed (or a wait beyond `--max-wait` was asked for).
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from lotsdb_cli import secrets
from lotsdb_cli.config import Settings
from lotsdb_cli.durations import format_duration
from lotsdb_cli.errors import (
    ApiError,
    AuthError,
    BadResponse,
    NotFound,
    OfflineMiss,
    RateLimited,
    RunStopping,
    TemporarilyUnavailable,
    Unreachable,
)
from lotsdb_cli.http.cache import (
    GuardedCache,
    OpenedCache,
    cache_failure_types,
    describe,
    expiry_rules,
    is_redis,
    open_cache,
    ttl_for,
)
from lotsdb_cli.http.fastcache import decode_rows
from lotsdb_cli.http.gate import GateClosed, HostGate
from lotsdb_cli.http.keys import KeyMaker
from lotsdb_cli.http.lazy_redis import defer_redis_backend
from lotsdb_cli.http.retry import (
    RETRYABLE_STATUSES,
    RetryableResponse,
    backoff_scale,
    full_jitter,
    parse_retry_after,
)

if TYPE_CHECKING:
    from lotsdb_cli.http.auth import BearerAuth, CatalogAuth, SpotifyAuth

USER_AGENT = "lotsdb"


@dataclass
class Fetched:
    """A parsed response and where it came from."""

    data: Any
    url: str
    from_cache: bool = False
    stale: bool = False


@dataclass
class RunStats:
    """Counters for one run, safe to bump from many threads."""

    sent: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    stale: int = 0
    revalidated: int = 0
    retries: int = 0
    throttled: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def bump(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def as_dict(self) -> dict[str, int]:
        return {
            name: getattr(self, name)
            for name in (
                "sent",
                "cache_hits",
                "cache_misses",
                "stale",
                "revalidated",
                "retries",
                "throttled",
            )
        }


class HttpClient:
    def __init__(
        self,
        settings: Settings,
        *,
        warn: Callable[..., None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_in_flight: int = 32,
    ) -> None:
        self.settings = settings
        self.stats = RunStats()
        self.max_in_flight = max_in_flight
        self._warn = warn or (lambda message, **_: None)
        self._sleep = sleep
        self._lock = threading.Lock()
        self._gates: dict[str, HostGate] = {}
        self._opened: OpenedCache | None = None
        self._guard: GuardedCache | None = None
        self._session: requests.Session | None = None
        self._auth: dict[str, BearerAuth] = {}
        self._proxy_memo: dict[str, dict[str, str]] = {}
        self._keys: KeyMaker | None = None
        self._local = threading.local()  # per thread: whether the GET being sent has no cached copy

    # -- set-up --------------------------------------------------------------------------
    @property
    def cache(self) -> OpenedCache:
        self._ensure_session()
        assert self._opened is not None
        return self._opened

    @property
    def cache_usable(self) -> bool:
        self._ensure_session()
        return self._guard is not None and not self._guard.broken

    def _ensure_session(self) -> requests.Session:
        if self._session is not None:
            return self._session
        with self._lock:
            if self._session is None:
                self._session = self._build_session()
        return self._session

    def _build_session(self) -> requests.Session:
        settings = self.settings
        session: requests.Session
        if settings.no_cache:
            self._opened = OpenedCache(None, "none", settings.cache_location)
            session = requests.Session()
        else:
            defer_redis_backend()
            self._opened = open_cache(settings, self._warn)
            if self._opened.backend is None:
                session = requests.Session()
            else:
                from requests_cache import CachedSession

                self._guard = GuardedCache(self._opened.backend, self._warn, self._opened.location)
                self._keys = KeyMaker.install(self._opened.backend)
                session = CachedSession(
                    backend=self._opened.backend,
                    expire_after=settings.ttl,
                    urls_expire_after=dict(expiry_rules(settings)),  # type: ignore[arg-type]
                    allowable_codes=(200,),
                    allowable_methods=("GET",),
                    stale_if_error=False,
                    cache_control=False,
                )
        adapter = requests.adapters.HTTPAdapter(pool_connections=8, pool_maxsize=max(64, self.max_in_flight * 2))
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers["User-Agent"] = USER_AGENT
        return session

    def catalog_auth(self) -> CatalogAuth:
        from lotsdb_cli.http.auth import CatalogAuth, TokenFile

        with self._lock:
            if "catalog" not in self._auth:
                self._auth["catalog"] = CatalogAuth(self.settings, TokenFile(self.settings.token_path), self.post_form)
            return self._auth["catalog"]  # type: ignore[return-value]

    def spotify_auth(self) -> SpotifyAuth:
        from lotsdb_cli.http.auth import SpotifyAuth, TokenFile

        with self._lock:
            if "spotify" not in self._auth:
                self._auth["spotify"] = SpotifyAuth(self.settings, TokenFile(self.settings.token_path), self.post_form)
            return self._auth["spotify"]  # type: ignore[return-value]

    def gate(self, url: str) -> HostGate:
        host = urlsplit(url).netloc
        with self._lock:
            gate = self._gates.get(host)
            if gate is None:
                gate = self._gates[host] = self._new_gate(host)
            return gate

    def _new_gate(self, host: str) -> HostGate:
        """A local gate, or one sharing its pause and pace through Redis when the cache is there."""
        location = self.settings.cache_location
        if self.settings.no_cache or not is_redis(location) or self.cache.kind != "redis":
            return HostGate(self.max_in_flight)
        from lotsdb_cli.http.shared import SharedBudget, SharedHostGate

        try:
            budget = SharedBudget(location, host, warn=self._warn)
        except Exception as exc:
            self._warn(f"the shared rate budget in Redis is unavailable ({type(exc).__name__}); using local limits")
            return HostGate(self.max_in_flight)
        return SharedHostGate(self.max_in_flight, budget)

    def set_max_in_flight(self, workers: int) -> None:
        """At most `workers` requests in flight per host (gates adapt below that)."""
        with self._lock:
            self.max_in_flight = max(1, workers)
            for gate in self._gates.values():
                gate.max_limit = self.max_in_flight
                gate.limit = min(gate.limit, float(self.max_in_flight))

    def close_gates(self) -> None:
        """Stop admitting requests (a run is stopping); waiting workers get `GateClosed`."""
        with self._lock:
            gates = list(self._gates.values())
        for gate in gates:
            gate.close()

    def close(self) -> None:
        self.close_gates()
        if self._guard is not None:
            self._guard.close()  # waits for the cache operations of workers still running
        if self._session is not None:
            requests.Session.close(self._session)  # the connection pools (CachedSession would also close the cache)
        self._record_run()

    # -- reading -------------------------------------------------------------------------
    def get_json(self, url: str, params: Mapping[str, Any] | None = None, *, auth: BearerAuth | None = None) -> Fetched:
        """GET `url` and parse its JSON body, from the cache when fresh."""
        return self._get(url, params, auth, parse=_parse_json)

    def get_bytes(self, url: str, params: Mapping[str, Any] | None = None) -> Fetched:
        """GET `url` and return its body as bytes (CSV exports), cached like everything else."""
        return self._get(url, params, None, parse=lambda response: response.content)

    def cached_many(self, urls: Sequence[str]) -> dict[str, Fetched]:
        """The fresh cached copies of many GETs (URLs without params) in one read of the cache.

        A fast path for dumps: URLs missing from the answer may still be answered by the normal
        lookup (a redirect alias, an unreadable row); never touches the network.
        """
        self._ensure_session()
        guard = self._guard
        if guard is None or guard.broken or not urls:
            return {}
        backend = guard.backend
        make_key = self._keys.key_for_url if self._keys is not None else _plain_key(backend)
        keys = {make_key(url): url for url in urls}
        try:
            found = GuardedCache._patiently(_read_many, backend, list(keys))
        except cache_failure_types() as exc:
            guard.fail(exc)
            return {}
        fresh: dict[str, Fetched] = {}
        for key, cached in found.items():
            if cached is None or cached.is_expired:
                continue
            url = keys[key]
            try:
                fresh[url] = Fetched(_parse_json(cached), url, from_cache=True)
            except BadResponse:
                continue
        if fresh:
            self.stats.bump("cache_hits", len(fresh))
        return fresh

    def _lookup(self, prepared: requests.PreparedRequest) -> Any:
        self._ensure_session()
        if self._guard is None or self._guard.broken:
            return None
        backend = self._guard.backend
        key = backend.create_key(prepared)
        return backend.get_response(key)

    def _get(
        self,
        url: str,
        params: Mapping[str, Any] | None,
        auth: BearerAuth | None,
        *,
        parse: Callable[[Any], Any],
    ) -> Fetched:
        prepared = requests.Request("GET", url, params=params).prepare()
        full_url = prepared.url or url
        cached = None if self.settings.refresh else self._lookup(prepared)
        if cached is not None and not cached.is_expired:
            try:
                data = parse(cached)
            except BadResponse:
                cached = None  # a bad body slipped into the cache: fetch it again
            else:
                self.stats.bump("cache_hits")
                return Fetched(data, full_url, from_cache=True)
        if self.settings.offline:
            if cached is not None:
                self.stats.bump("stale")
                return Fetched(parse(cached), full_url, from_cache=True, stale=True)
            raise OfflineMiss(
                f"--offline: no cached copy of {full_url}",
                hint="run once without --offline to fill the cache",
            )
        self.stats.bump("cache_misses")
        self._local.nothing_cached = cached is None
        try:
            return self._send(prepared, auth, parse=parse)
        except (TemporarilyUnavailable, RateLimited):
            if cached is None:
                raise
            self.stats.bump("stale")
            return Fetched(parse(cached), full_url, from_cache=True, stale=True)
        finally:
            self._local.nothing_cached = False

    # -- writing -------------------------------------------------------------------------
    def put_json(self, url: str, body: Any, *, auth: BearerAuth | None = None) -> Any:
        prepared = requests.Request(
            "PUT", url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        ).prepare()
        return self._send(prepared, auth, parse=_parse_json).data

    def post_form(self, url: str, form: dict[str, str], headers: dict[str, str] | None = None) -> Any:
        """POST a form (token requests): never cached, retried like the rest."""
        prepared = requests.Request("POST", url, data=form, headers=headers or {}).prepare()
        return self._send(prepared, None, parse=_parse_json).data

    def invalidate(self, url: str, params: Mapping[str, Any] | None = None) -> None:
        """Drop the cached copy of a GET so the next read is fresh."""
        prepared = requests.Request("GET", url, params=params).prepare()
        self._ensure_session()
        if self._guard is None or self._guard.broken:
            return
        backend = self._guard.backend
        try:
            backend.delete(backend.create_key(prepared))
        except Exception as exc:
            self._guard.fail(exc)

    # -- the retry loop ------------------------------------------------------------------
    def _send(
        self,
        prepared: requests.PreparedRequest,
        auth: BearerAuth | None,
        *,
        parse: Callable[[Any], Any],
    ) -> Fetched:
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

        retrying = Retrying(
            stop=stop_after_attempt(self.settings.retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(RetryableResponse),
            sleep=self._sleep,
            before_sleep=lambda state: self.stats.bump("retries"),
            reraise=True,
        )
        url = prepared.url or ""
        try:
            for attempt in retrying:
                with attempt:
                    response = self._attempt(prepared, auth)
                    try:
                        data = parse(response)
                    except BadResponse as exc:
                        self._forget(response)
                        raise RetryableResponse(str(exc), status=response.status_code, url=url) from None
                    if getattr(response, "from_cache", False):
                        self.stats.bump("revalidated")
                    return Fetched(data, url)
        except RetryableResponse as exc:
            raise self._give_up(exc, url) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, retry_state: Any) -> float:
        exc = retry_state.outcome.exception()
        attempt = retry_state.attempt_number
        if isinstance(exc, RetryableResponse) and exc.status == 429:
            wait = exc.retry_after if exc.retry_after is not None else max(1.0, full_jitter(attempt))
            if wait > self.settings.max_wait:
                self.close_gates()
                raise self._rate_limited(exc, wait)
            return wait * backoff_scale()
        return full_jitter(attempt) * backoff_scale()

    def _rate_limited(self, exc: RetryableResponse, wait: float, *, kept_going: int = 0) -> RateLimited:
        retry_at = time.time() + wait
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(retry_at))
        host = urlsplit(exc.url).netloc
        if kept_going:
            message = f"{host} is still rate-limiting after {kept_going} tries (429 Too Many Requests)"
        elif exc.quota:
            message = (
                f"{host} says the app's request quota is used up (QUOTA_EXCEEDED); "
                f"it asks to wait {format_duration(wait)}"
            )
        else:
            message = (
                f"{host} is rate-limiting: it asks to wait {format_duration(wait)}, "
                f"longer than --max-wait {format_duration(self.settings.max_wait)}"
            )
        return RateLimited(
            message,
            retry_at=retry_at,
            quota=exc.quota,
            hint=f"everything fetched so far is kept; run again after {when}",
        )

    def _give_up(self, exc: RetryableResponse, url: str) -> Exception:
        tries = self.settings.retries + 1
        if exc.status == 200:
            return BadResponse(f"GET {_short_url(url)}: {exc.reason} (after {tries} tries)", status=200)
        if exc.status == 429:
            # Still rate-limited after every retry: the host wants fewer requests than any pacing
            # gives it, so stop the run instead of spending each remaining item's retries on 429s.
            self.close_gates()
            return self._rate_limited(exc, exc.retry_after or 60.0, kept_going=tries)
        if exc.unreachable:
            return Unreachable(
                f"{urlsplit(url).netloc}: {exc.reason} (after {tries} tries)",
                hint="check the URL settings and that the service is up; a re-run continues where this one stopped",
            )
        return TemporarilyUnavailable(
            f"{_short_url(url)}: {exc.reason} (after {tries} tries)",
            hint="the service may be down or overloaded; try again later",
        )

    def _attempt(self, prepared: requests.PreparedRequest, auth: BearerAuth | None) -> Any:
        request = prepared.copy()
        header = auth.header() if auth is not None else None
        if header:
            request.headers["Authorization"] = header
        response = self._transmit(request)
        if response.status_code == 401 and auth is not None and header:
            request.headers["Authorization"] = auth.renew(header)
            response = self._transmit(request)
            if response.status_code == 401:
                raise AuthError(
                    f"{_short_url(request.url or '')}: {_error_detail(response)} (401 after a token renewal)",
                    hint=auth.hint,
                )
        self._check(response)
        return response

    def _transmit(self, request: requests.PreparedRequest) -> Any:
        session = self._ensure_session()
        gate = self.gate(request.url or "")
        timeout = (min(10.0, self.settings.timeout), self.settings.timeout)
        options: dict[str, Any] = {"timeout": timeout, "proxies": self._proxies(request, session)}
        if self.settings.refresh and self._guard is not None:
            options["force_refresh"] = True
        try:
            with gate.admit():
                started = time.monotonic()
                self.stats.bump("sent")
                response = self._send_through(session, request, options)
                latency = time.monotonic() - started
        except GateClosed:
            raise RunStopping("the run is stopping; request not sent") from None
        except requests.ConnectTimeout:
            raise RetryableResponse(
                f"cannot connect (no answer within {timeout[0]:g}s)", url=request.url or "", unreachable=True
            ) from None
        except requests.Timeout:
            raise RetryableResponse(
                f"no answer within {self.settings.timeout:g}s (timeout)", url=request.url or ""
            ) from None
        except requests.ConnectionError as exc:
            # Only a connection that could not be made means the host is unreachable (which stops
            # a run); a server that hangs up or stalls in the middle of one answer fails that request.
            if _body_timed_out(exc):
                raise RetryableResponse(
                    f"no answer within {self.settings.timeout:g}s (timeout)", url=request.url or ""
                ) from None
            if _could_not_connect(exc):
                raise RetryableResponse(
                    f"cannot connect ({_connection_reason(exc)})", url=request.url or "", unreachable=True
                ) from None
            raise RetryableResponse(f"connection failed ({_connection_reason(exc)})", url=request.url or "") from None
        except requests.RequestException as exc:
            raise RetryableResponse(f"request failed ({type(exc).__name__})", url=request.url or "") from None
        status = response.status_code
        if status == 429:
            self.stats.bump("throttled")
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            pause = retry_after if retry_after is not None else 1.0
            if pause <= self.settings.max_wait:
                gate.record_throttle(pause * backoff_scale())
            raise RetryableResponse(
                f"429 Too Many Requests: {_error_detail(response)}",
                status=429,
                retry_after=retry_after,
                quota=_is_quota(response),
                url=request.url or "",
            )
        if status in RETRYABLE_STATUSES:
            raise RetryableResponse(f"{status} {_error_detail(response)}", status=status, url=request.url or "")
        gate.record_success(latency)
        return response

    def _send_through(
        self, session: requests.Session, request: requests.PreparedRequest, options: dict[str, Any]
    ) -> Any:
        """requests-cache's send; or, for a GET of which nothing is cached, a plain send and a save.

        With nothing cached there is nothing to revalidate or serve, and requests-cache's
        bookkeeping around the send (cache actions, header directives, a second lookup, keyword
        introspection) costs more CPU than the rest of the request when answers come fast.
        """
        guard = self._guard
        if (
            not getattr(self._local, "nothing_cached", False)
            or guard is None
            or guard.broken
            or request.method != "GET"
            or "force_refresh" in options
        ):
            return session.send(request, **options)
        try:
            ttl = ttl_for(request.url or "", self.settings)
            expires = datetime.now(UTC) + timedelta(seconds=ttl) if ttl > 0 else None
        except (OverflowError, ValueError):
            expires = None
        key = guard.backend.create_key(request)
        if expires is None or guard.get_response(key) is not None:
            # A TTL requests-cache has its own rules for, or another worker stored this URL while
            # we waited for the gate: requests-cache serves or revalidates it.
            return session.send(request, **options)
        response = requests.Session.send(session, request, **options)
        if response.status_code == 200:
            guard.save_response(response, key, expires)
        return response

    def _proxies(self, request: requests.PreparedRequest, session: requests.Session) -> dict[str, str]:
        """The proxies for this request's origin, worked out once per origin.

        requests would otherwise scan the environment (proxy variables, no_proxy) on every send,
        which costs more CPU than the rest of a cache miss.
        """
        parts = urlsplit(request.url or "")
        origin = f"{parts.scheme}://{parts.netloc}"
        proxies = self._proxy_memo.get(origin)
        if proxies is None:
            proxies = requests.utils.resolve_proxies(request, dict(session.proxies), session.trust_env)
            self._proxy_memo[origin] = proxies
        return proxies

    def _check(self, response: Any) -> None:
        status = response.status_code
        if status < 400:
            return
        url = _short_url(response.url or "")
        detail = _error_detail(response)
        if status == 404:
            raise NotFound(f"not found: {url} ({detail})")
        if status in (401, 403):
            raise ApiError(f"{url}: {status} {detail}", status=status)
        raise ApiError(f"{url}: {status} {detail}", status=status)

    def _forget(self, response: Any) -> None:
        """A 200 with a body we cannot use must not stay in the cache."""
        if self._guard is None or self._guard.broken or response.request is None:
            return
        try:
            backend = self._guard.backend
            backend.delete(backend.create_key(response.request))
        except Exception as exc:
            self._guard.fail(exc)

    # -- bookkeeping ---------------------------------------------------------------------
    def describe_cache(self) -> dict[str, Any]:
        return describe(self.cache)

    def _record_run(self) -> None:
        if self.stats.sent == 0 and self.stats.cache_hits == 0 and self.stats.cache_misses == 0:
            return
        from lotsdb_cli.http.runlog import record_run

        record_run(self.settings.home, self.stats.as_dict())


SQL_IN_CHUNK = 500  # keys per SELECT ... IN (...)


def _plain_key(backend: Any) -> Callable[[str], str]:
    return lambda url: str(backend.create_key(requests.Request("GET", url).prepare()))


def _read_many(backend: Any, keys: list[str]) -> dict[str, Any]:
    """Cached responses by key, for the keys present; one query per few hundred keys on SQLite."""
    responses = backend.responses
    if type(responses).__name__ != "SQLiteDict" or not all(_is_hex(key) for key in keys):
        found = {key: backend.get_response(key) for key in keys}
        return {key: value for key, value in found.items() if value is not None}
    rows: list[tuple[str, Any]] = []
    with responses.connection() as connection:
        for start in range(0, len(keys), SQL_IN_CHUNK):
            # Keys are hex digests, inlined as requests-cache does (placeholders misbehave when
            # threads share the connection on Python 3.12+).
            listed = ",".join(f"'{key}'" for key in keys[start : start + SQL_IN_CHUNK])
            query = f"SELECT key, value FROM {responses.table_name} WHERE key IN ({listed})"
            rows.extend(connection.execute(query).fetchall())
    return decode_rows(responses, rows)


def _is_hex(key: str) -> bool:
    return bool(key) and all(char in "0123456789abcdef" for char in key)


def _parse_json(response: Any) -> Any:
    body = response.content or b""
    if not body.strip():
        raise BadResponse("empty body where JSON was expected")
    content_type = response.headers.get("Content-Type", "")
    try:
        data = json.loads(body, parse_float=_finite_number, parse_constant=_not_a_number)
    except _NumberOutOfRange as exc:
        raise BadResponse(f"a number out of range in the JSON ({exc})") from None
    except ValueError:
        kind = content_type.split(";")[0].strip() or "unknown content type"
        if "html" in kind or body.lstrip()[:1] == b"<":
            raise BadResponse(f"got an HTML page ({kind}) where JSON was expected") from None
        raise BadResponse(f"invalid or truncated JSON ({len(body)} bytes, {kind})") from None
    if _SURROGATE_ESCAPE.search(body):
        data = _without_lone_surrogates(data)
    return data


# JSON may escape half of a UTF-16 pair ("\ud800"); Python then holds a lone surrogate, which
# no UTF-8 output, CSV cell or SQLite text can carry. It becomes U+FFFD, as a decoder would.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(key): _without_lone_surrogates(item) for key, item in value.items()}
    return value


class _NumberOutOfRange(ValueError):
    pass


def _finite_number(text: str) -> float:
    """1e400 would become infinity, which JSON output cannot carry (it would print `Infinity`)."""
    number = float(text)
    if not math.isfinite(number):
        raise _NumberOutOfRange(text[:40])
    return number


def _not_a_number(name: str) -> Any:
    raise _NumberOutOfRange(name)  # NaN, Infinity: Python accepts them, JSON does not have them


def _error_detail(response: Any) -> str:
    """One line from a ProblemDetails or Spotify error body, else the reason phrase."""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            detail = error.get("message")
        elif isinstance(error, str):
            detail = body.get("error_description") or error
        else:
            detail = body.get("detail") or body.get("title")
    text = str(detail or response.reason or "error").strip().splitlines()[0] if (detail or response.reason) else "error"
    return secrets.redact(text[:200])


def _is_quota(response: Any) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and error.get("reason") == "QUOTA_EXCEEDED"


def _connection_reason(exc: requests.ConnectionError) -> str:
    text = str(exc)
    for marker, reason in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "unknown host"),
        ("Temporary failure in name resolution", "DNS failure"),
        ("RemoteDisconnected", "the server closed the connection"),
        ("Connection reset", "connection reset"),
        ("IncompleteRead", "the response was cut short"),
        ("certificate verify failed", "TLS certificate verification failed"),
    ):
        if marker in text:
            return reason
    return type(exc).__name__


def _cause(exc: requests.ConnectionError) -> object:
    """urllib3's exception under requests' (a `MaxRetryError` carries it as `reason`)."""
    cause = exc.args[0] if exc.args else None
    return getattr(cause, "reason", None) or cause


def _could_not_connect(exc: requests.ConnectionError) -> bool:
    """No connection was made at all: refused, unknown host, no route."""
    from urllib3.exceptions import NewConnectionError

    return isinstance(_cause(exc), NewConnectionError)


def _body_timed_out(exc: requests.ConnectionError) -> bool:
    """requests reports a body that stalls past the read timeout as a ConnectionError."""
    from urllib3.exceptions import ReadTimeoutError

    return isinstance(_cause(exc), ReadTimeoutError)


def _short_url(url: str) -> str:
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    text = f"{parts.netloc}{parts.path}{query}"
    return text if len(text) <= 120 else text[:117] + "..."

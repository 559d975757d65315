"""`HttpClient`: every request the tool makes goes through here, in these stages.

For a GET:
1. the cache (`cache.py`): a fresh copy answers at once, before any token is fetched; `--offline`
   stops here; an expired copy with a validator is revalidated (`If-None-Match`, a 304 costs no body);
2. the host's gate (`gate.py`): shared pause, adaptive concurrency, learned pace;
3. the bearer token (`auth.py`), the transport (`transport.py`, one deadline per request) and the
   status check, inside the retry policy's loop (`retry.py`, where 429s and Retry-After are handled);
4. the body is parsed and checked against the shape the contract promises before it is cached;
5. when the retries are exhausted or the server asks for a wait beyond `--max-wait`, a stale
   cached copy is used if there is one, and counted.

Unlike a cache's usual `stale_if_error` (stale on the first error), a stale copy is used only once the
retries failed: the fresh answer wins whenever the server can give it. Runs on the loop's thread (`runner.py`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

from lotsdb_cli.config import Settings, is_redis_url
from lotsdb_cli.durations import format_duration
from lotsdb_cli.errors import (
    AuthError,
    BadResponse,
    LotsdbError,
    OfflineMiss,
    RateLimited,
    RunStopping,
    TemporarilyUnavailable,
)
from lotsdb_cli.http.cache import HttpCache, entry_for, is_fresh, loop_scheduler, open_store
from lotsdb_cli.http.gate import GateClosed, HostGate
from lotsdb_cli.http.pauses import remember
from lotsdb_cli.http.responses import (
    Validate,
    checked,
    error_detail,
    is_quota,
    json_body,
    json_or_none,
    kept_headers,
    parse_json,
    raise_for_status,
)
from lotsdb_cli.http.retry import Retryable, RetryPolicy, check_status
from lotsdb_cli.http.runlog import RunStats
from lotsdb_cli.http.shared import new_gate
from lotsdb_cli.http.store import CacheEntry, cache_key
from lotsdb_cli.http.trace import Tracer
from lotsdb_cli.http.transport import RawResponse, Transport
from lotsdb_cli.http.urls import origin_of, short_url, strip_userinfo, with_params

if TYPE_CHECKING:
    from lotsdb_cli.env import Environment
    from lotsdb_cli.http.auth import BearerAuth, CatalogAuth, SpotifyAuth

Reuse = Literal["fresh", "revalidated", "never", "private"]
Parse = Callable[[bytes, Mapping[str, str]], Any]


@dataclass
class Fetched:
    """A parsed response and where it came from."""

    data: Any
    url: str
    from_cache: bool = False
    stale: bool = False
    revalidated: bool = False


class HttpClient:
    def __init__(
        self,
        settings: Settings,
        env: Environment,
        *,
        warn: Callable[..., None],
        trace: Callable[[str], None] | None = None,
        max_in_flight: int = 32,
    ) -> None:
        self.settings = settings
        self.env = env
        self.stats = RunStats()
        self.max_in_flight = max_in_flight
        self._warn = warn
        self._tracer = Tracer(trace if env.verbosity > 0 else None, env.verbosity)
        self._gates: dict[str, HostGate] = {}
        self._stop_reason: LotsdbError | None = None  # why the gates were closed, when a run stopped
        self._cache: HttpCache | None = None
        self._auth: dict[str, BearerAuth] = {}
        self.transport = Transport(settings, clock=env.clock)
        self.policy = RetryPolicy(
            retries=settings.retries,
            max_wait=settings.max_wait,
            backoff_scale=env.backoff_scale,
            on_stop=self.close_gates,
            wall_clock=env.wall_clock,
        )

    # -- set-up --------------------------------------------------------------------------
    @property
    def cache(self) -> HttpCache:
        if self._cache is None:
            if self.settings.no_cache:
                self._cache = HttpCache(None, self._warn)
            else:
                schedule = loop_scheduler()
                self._cache = HttpCache(open_store(self.settings, self._warn), self._warn, schedule=schedule)
        return self._cache

    def catalog_auth(self) -> CatalogAuth:
        from lotsdb_cli.http.auth import CatalogAuth, TokenFile

        if "catalog" not in self._auth:
            self._auth["catalog"] = CatalogAuth(self.settings, TokenFile(self.settings.token_path), self.post_form)
        return self._auth["catalog"]  # type: ignore[return-value]

    def spotify_auth(self) -> SpotifyAuth:
        from lotsdb_cli.http.auth import SpotifyAuth, TokenFile

        if "spotify" not in self._auth:
            self._auth["spotify"] = SpotifyAuth(self.settings, TokenFile(self.settings.token_path), self.post_form)
        return self._auth["spotify"]  # type: ignore[return-value]

    def gate(self, url: str, *, login: bool = False) -> HostGate:
        """The host's gate; `login`: the one its token requests go through (never waiting on API slots)."""
        host = origin_of(url) + (" login" if login else "")
        gate = self._gates.get(host)
        if gate is None:
            gate = self._gates[host] = self._new_gate(host)
        return gate

    def _new_gate(self, host: str) -> HostGate:
        redis = not self.settings.no_cache and is_redis_url(self.settings.cache_location)
        shared = redis and self.cache.kind == "redis"
        return new_gate(host, self.settings, self.max_in_flight, self.env, shared=shared, warn=self._warn)

    def set_max_in_flight(self, workers: int) -> None:
        """At most `workers` requests in flight per host (gates adapt below that)."""
        self.max_in_flight = max(1, workers)
        for gate in self._gates.values():
            gate.max_limit = self.max_in_flight
            gate.limit = min(gate.limit, float(self.max_in_flight))

    def close_gates(self, reason: LotsdbError | None = None) -> None:
        """Stop admitting requests (a run is stopping); waiting requests get `RunStopping`, which
        repeats `reason` (a request answered from the cache may have swallowed the original)."""
        if reason is not None and self._stop_reason is None:
            self._stop_reason = reason
            if isinstance(reason, RateLimited):  # the next run waits too (every host sharing Redis), without asking
                remember(self.settings.home, reason.host, reason.retry_at, wall := self.env.wall_clock())
                if reason.host in self._gates:
                    self._gates[reason.host].pause(max(0.0, reason.retry_at - wall))
        for gate in list(self._gates.values()):
            gate.close()

    async def aclose(self, command: str = "") -> None:
        self.close_gates()
        if self._cache is not None:
            self._cache.close()
        await self.transport.close()
        if self.stats.sent or self.stats.cache_hits or self.stats.cache_misses:
            from lotsdb_cli.http.runlog import record_run

            record_run(self.settings.home, command, self.stats.as_dict())

    # -- reading -------------------------------------------------------------------------
    def cached_many(self, urls: Sequence[str], *, validate: Validate | None = None) -> dict[str, Fetched]:
        """The fresh cached copies of many GETs in one read of the cache; never touches the network.

        What it finds stale or missing is remembered, so the request that follows for such a URL
        does not read the cache again (one lookup per lot).
        """
        if self.settings.refresh or self.settings.no_cache or not urls:
            return {}
        keys = {cache_key("GET", url): url for url in urls}
        found = self.cache.read_ahead(list(keys))
        now = self.env.wall_clock()
        fresh: dict[str, Fetched] = {}
        for key, entry in found.items():
            if not is_fresh(entry.url, entry.stored_at, self.settings, now):
                continue
            try:
                data = checked(parse_json(entry.body, entry.headers), validate, entry.url)
            except BadResponse:
                continue
            url = keys[key]
            fresh[url] = Fetched(data, url, from_cache=True)
            self._tracer.cached("GET", url, "hit")
        self.cache.forget(cache_key("GET", url) for url in fresh)  # only what a request will follow stays
        self.stats.cache_hits += len(fresh)
        return fresh

    async def get_json(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        *,
        auth: BearerAuth | None = None,
        validate: Validate | None = None,
        fresh: bool = False,
        revalidate: bool = False,
    ) -> Fetched:
        """GET `url` and parse its JSON body, from the cache when fresh (never with `fresh`; once the server
        confirmed it, with `revalidate`: a 304 costs no body)."""
        reuse: Reuse = "never" if fresh else "revalidated" if revalidate else "fresh"
        return await self._get(with_params(url, params), auth, parse_json, validate, reuse)

    async def get_bytes(self, url: str, *, reuse: Reuse = "fresh") -> Fetched:
        """GET `url` and return its body as bytes (CSV exports); `reuse` as `_get` takes it."""
        return await self._get(url, None, lambda body, headers: body, None, reuse)

    async def _get(
        self, url: str, auth: BearerAuth | None, parse: Parse, validate: Validate | None, reuse: Reuse
    ) -> Fetched:
        """GET through the cache; `reuse`: a cached copy is used when fresh, only once revalidated, or
        never; `private` (an answer to credentials of the URL's own): neither read nor stored."""
        key = cache_key("GET", url)
        skip = reuse in ("never", "private") or self.settings.refresh or self.settings.no_cache
        entry = None if skip else self.cache.get(key)
        now = self.env.wall_clock()
        if entry is not None and reuse == "fresh" and is_fresh(url, entry.stored_at, self.settings, now):
            try:
                data = checked(parse(entry.body, entry.headers), validate, url)
            except BadResponse:
                entry = None  # a bad body slipped into the cache: fetch it again
            else:
                self.stats.cache_hits += 1
                self._tracer.cached("GET", url, "hit")
                return Fetched(data, url, from_cache=True)
        if self.settings.offline:
            if entry is None:
                raise OfflineMiss(
                    f"--offline: no cached copy of {strip_userinfo(url)}", hint="run once without --offline"
                )
            return self._stale(url, entry, parse, validate)
        self.stats.cache_misses += 1
        conditional = entry.validators if entry is not None else {}

        def parsed(response: RawResponse) -> Any:
            body = entry.body if response.status == 304 and entry is not None else response.body
            return parse(body, response.headers)

        try:
            response, data = await self._send("GET", url, auth, headers=conditional, parse=parsed)
        except (TemporarilyUnavailable, RateLimited, BadResponse) as exc:  # (an HTML page after every retry)
            if entry is None:
                raise
            try:
                stale = self._stale(url, entry, parse, validate)
            except BadResponse:
                raise exc from None  # a cached copy of the wrong shape is no better than none
            age = format_duration(max(0.0, now - entry.stored_at))
            self._warn(f"{exc.message}; using the copy cached {age} ago", once_key="stale")  # then counted
            return stale
        data = checked(data, validate, url)
        revalidated = response.status == 304 and entry is not None
        if revalidated:
            assert entry is not None
            self.stats.revalidated += 1
        if reuse != "private":
            self._store(key, url, response, entry if revalidated else None)
        return Fetched(data, url, revalidated=revalidated)

    def _stale(self, url: str, entry: CacheEntry, parse: Parse, validate: Validate | None) -> Fetched:
        data = checked(parse(entry.body, entry.headers), validate, url)  # an older lotsdb may have stored it
        self.stats.stale += 1
        self._tracer.cached("GET", url, "stale")
        return Fetched(data, url, from_cache=True, stale=True)

    def _store(self, key: str, url: str, response: RawResponse, revalidated: CacheEntry | None) -> None:
        if self.settings.no_cache or (response.status != 200 and revalidated is None):
            return
        kept = kept_headers(response.headers)
        self.cache.put(entry_for(key, url, kept, response.body, self.settings, self.env.wall_clock(), revalidated))

    def invalidate(self, url: str, params: Mapping[str, Any] | None = None) -> None:
        """Drop the cached copy of a GET so the next read is fresh (with --no-cache too: it is known stale)."""
        cache = HttpCache(open_store(self.settings, self._warn), self._warn) if self.settings.no_cache else self.cache
        cache.delete_url(with_params(url, params))
        if cache is not self._cache:
            cache.close()

    # -- writing -------------------------------------------------------------------------
    async def put_json(self, url: str, body: Any, *, auth: BearerAuth | None = None) -> Any:
        payload = json.dumps(body, ensure_ascii=False, allow_nan=False).encode()
        headers = {"Content-Type": "application/json"}
        _, data = await self._send("PUT", url, auth, headers=headers, body=payload, parse=json_or_none)
        return data

    async def post_form(self, url: str, form: dict[str, str], headers: dict[str, str] | None = None) -> Any:
        """POST a form (token requests): never cached, retried like the rest."""
        payload = urlencode(form).encode()
        sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        _, data = await self._send("POST", url, None, headers=sent, body=payload, parse=json_body, login=True)
        return data

    # -- the retry loop ------------------------------------------------------------------
    async def _send(
        self,
        method: str,
        url: str,
        auth: BearerAuth | None,
        *,
        headers: Mapping[str, str],
        parse: Callable[[RawResponse], Any],
        body: bytes | None = None,
        login: bool = False,
    ) -> tuple[RawResponse, Any]:
        if self.settings.offline:
            raise OfflineMiss(f"--offline: {method} {strip_userinfo(url)} not sent", hint="run without --offline")
        if auth is not None:
            auth.check_url(url)
        gate = self.gate(url, login=login)

        async def attempt() -> tuple[RawResponse, Any]:
            response = await self._attempt(method, url, auth, headers, body, gate)
            try:
                return response, parse(response)
            except BadResponse as exc:
                if response.status != 200:  # a 204, a 304 with nothing cached: no retry makes a body
                    raise BadResponse(f"{method} {short_url(url)}: {response.status}, {exc.message}") from None
                raise Retryable(str(exc), status=response.status, url=url) from None

        def count_retry() -> None:
            self.stats.retries += 1

        return await self.policy.run(attempt, url, count_retry, gate)

    async def _attempt(
        self,
        method: str,
        url: str,
        auth: BearerAuth | None,
        headers: Mapping[str, str],
        body: bytes | None,
        gate: HostGate,
    ) -> RawResponse:
        response, bearer = await self._transmit(method, url, headers, body, gate, auth)
        if response.status == 401 and auth is not None and bearer:
            await auth.renew(bearer)  # (the renewed token is taken once the request's turn comes, as any)
            response, _ = await self._transmit(method, url, headers, body, gate, auth)
            if response.status == 401:
                raise AuthError(
                    f"{strip_userinfo(url)}: {error_detail(response)} (401 after a token renewal)", hint=auth.hint
                )
        raise_for_status(response)
        return response

    async def _transmit(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        gate: HostGate,
        auth: BearerAuth | None,
    ) -> tuple[RawResponse, str | None]:
        """Send once the gate admits the request; the response and the `Authorization` value sent. The
        token is taken then (a pause or the pace can outlast a short-lived one), renewed first if it came
        due meanwhile: token requests go through a gate of their own, so this waits on no API slot."""
        self.policy.refuse_long_pause(gate.paused_for(), url)
        try:
            async with gate.slot() as sent_at:
                bearer = await auth.header() if auth is not None else None
                sent = {**headers, "Authorization": bearer} if bearer else headers
                self.stats.sent += 1
                response = await self.transport.send(method, url, headers=sent, body=body)
        except GateClosed:
            reason = self._stop_reason
            if reason is None:
                raise RunStopping("the run is stopping; request not sent") from None
            raise RunStopping(reason.message, hint=reason.hint) from None
        except Retryable as exc:
            self._tracer.failed(method, url, exc.reason)
            raise
        self._tracer.answered(method, url, response)
        if response.status == 429:
            self.stats.throttled += 1
        try:
            check_status(
                response.status, response.headers, lambda: error_detail(response), url, quota=is_quota(response)
            )
        except Retryable as exc:
            self.policy.tell_gate(exc, gate, sent_at)
            raise
        gate.record_success(response.elapsed)
        return response, bearer

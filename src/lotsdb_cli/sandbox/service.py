"""One request through the sandbox: faults, rate limit, latency, failures, auth, the route,
then conditional GET. Independent of sockets; the server only reads and writes bytes."""

from __future__ import annotations

from email.utils import formatdate

from lotsdb_cli.sandbox.faults import fault_response
from lotsdb_cli.sandbox.messages import Request, Response, etag_matches, etag_of
from lotsdb_cli.sandbox.problems import problem, retry_after_seconds, service_error, spotify_error
from lotsdb_cli.sandbox.routes_catalog import catalog_routes
from lotsdb_cli.sandbox.routes_control import control_routes
from lotsdb_cli.sandbox.routes_identity import identity_routes
from lotsdb_cli.sandbox.routes_images import image_routes
from lotsdb_cli.sandbox.routes_spotify import SpotifyRequestError, spotify_routes
from lotsdb_cli.sandbox.routing import Call, RouteMatch, Router
from lotsdb_cli.sandbox.services import CONTROL, FAILING, RATE_LIMITED, SPOTIFY
from lotsdb_cli.sandbox.state import SandboxState
from lotsdb_cli.sandbox.tokens import TokenState
from lotsdb_cli.sandbox.validation import InvalidRequest

SPOTIFY_401_MESSAGES = {
    TokenState.MISSING: "No token provided",
    TokenState.INVALID: "Invalid access token",
    TokenState.EXPIRED: "The access token expired",
}
CATALOG_401_DETAILS = {
    TokenState.MISSING: "A bearer token is required.",
    TokenState.INVALID: "The bearer token is invalid.",
    TokenState.EXPIRED: "The bearer token has expired.",
}


def build_router() -> Router:
    # Identity first: POST /api/token is Spotify's accounts service, not the Catalog API.
    return Router(identity_routes() + control_routes() + catalog_routes() + spotify_routes() + image_routes())


class SandboxService:
    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.router = build_router()
        self._last_modified = formatdate(state.data.created_at, usegmt=True)

    def handle(self, request: Request) -> Response:
        match = self.router.match(request.method, request.segments)
        if match.service == CONTROL:
            return self._route(request, match)
        response = self._answer(request, match)
        self.state.stats.record(match.name, response.stats_key)
        return response

    def refuse(self, request: Request, status: int, detail: str) -> Response:
        """The answer to a request the server could not read (bad framing, a malformed head, too
        slow or too big): the error body of the service its path belongs to, when it has one."""
        service = self.router.service_of(request.segments)
        response = service_error(service, status, request.path, detail)
        if service != CONTROL:
            name = f"{request.method} (malformed request)" if request.method else "(malformed request)"
            self.state.stats.record(name, response.stats_key)
        return response

    def _answer(self, request: Request, match: RouteMatch) -> Response:
        state = self.state
        fault = state.faults.take(request.path)
        if fault is not None:
            return fault_response(fault, match.service, request.path, lambda: self._route(request, match))
        if match.service in RATE_LIMITED:
            wait = state.limiter.wait_needed(match.service)
            if wait > 0:
                return self._rate_limited(match.service, request.path, wait)
        if state.knobs.latency_ms > 0:
            state.stopping.wait(state.knobs.latency_ms / 1000.0)
        if match.service in FAILING and state.draw_failure():
            detail = None if match.service == SPOTIFY else "Injected failure (fail_rate)."
            return service_error(match.service, 503, request.path, detail)
        return self._conditional(request, self._route(request, match))

    def _rate_limited(self, service: str, path: str, wait: float) -> Response:
        detail = None if service == SPOTIFY else "Rate limit exceeded. Try again later."
        response = service_error(service, 429, path, detail)
        response.headers["Retry-After"] = retry_after_seconds(wait)
        return response

    def _route(self, request: Request, match: RouteMatch) -> Response:
        route = match.route
        if route is None:
            return self._no_route(request, match)
        if route.realm is not None:
            token_state = self.state.tokens.check(request.header("authorization"), route.realm)
            if token_state is not TokenState.VALID:
                return self._unauthorized(match.service, request.path, token_state)
        try:
            return route.handler(Call(request, match.params, self.state))
        except InvalidRequest as exc:
            return problem(400, exc.detail, request.path, exc.errors)
        except SpotifyRequestError as exc:
            return spotify_error(exc.status, exc.message)

    def _no_route(self, request: Request, match: RouteMatch) -> Response:
        if match.allowed_methods:
            response = service_error(match.service, 405, request.path, "Method not allowed.")
            response.headers["Allow"] = ", ".join(match.allowed_methods)
            return response
        if match.service == SPOTIFY:
            return spotify_error(404, "Service not found")
        return problem(404, "No such endpoint.", request.path)

    def _unauthorized(self, service: str, path: str, token_state: TokenState) -> Response:
        if service == SPOTIFY:
            response = spotify_error(401, SPOTIFY_401_MESSAGES[token_state])
        else:
            response = problem(401, CATALOG_401_DETAILS[token_state], path)
        challenge = "Bearer" if token_state is TokenState.MISSING else 'Bearer error="invalid_token"'
        response.headers["WWW-Authenticate"] = challenge
        return response

    def _conditional(self, request: Request, response: Response) -> Response:
        """ETag and Last-Modified on GET 200s, and 304 when If-None-Match still matches."""
        if request.method not in ("GET", "HEAD") or response.status != 200:
            return response
        etag = response.etag or etag_of(response.body)
        response.headers["ETag"] = etag
        response.headers.setdefault("Last-Modified", self._last_modified)
        if etag_matches(request.header("if-none-match"), etag):
            validators = {"ETag": etag, "Last-Modified": response.headers["Last-Modified"]}
            return Response(304, b"", None, validators)
        return response

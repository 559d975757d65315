"""Route templates -> handlers. A template names its service, which decides the error body,
rate limiting and failures, and the token realm it requires.

Templates match the request's percent-decoded path segments one by one, so `/api/Seller/%31`
is seller 1 and `/api/Seller/1%2F2` is one id, "1/2". Any method can be asked for: a path that
exists answers 405 with `Allow` for the methods it lacks, and HEAD is answered as GET is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lotsdb_cli.sandbox.messages import Request, Response
from lotsdb_cli.sandbox.services import CATALOG, CONTROL, OTHER, SPOTIFY
from lotsdb_cli.sandbox.state import SandboxState


@dataclass(frozen=True)
class Call:
    request: Request
    params: dict[str, str]
    state: SandboxState


Handler = Callable[[Call], Response]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    service: str
    handler: Handler
    realm: str | None = None  # token realm required, if any
    case_insensitive: bool = False
    parts: tuple[str, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", tuple(self.template.split("/")[1:]))

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"

    def bind(self, segments: tuple[str, ...]) -> dict[str, str] | None:
        """The template's parameters from the path's segments, or None if the path is not this route's."""
        if len(segments) != len(self.parts):
            return None
        params: dict[str, str] = {}
        for part, segment in zip(self.parts, segments, strict=True):
            if part.startswith("{"):
                if not segment:
                    return None
                params[part[1:-1]] = segment
            elif not self._same_literal(part, segment):
                return None
        return params

    def _same_literal(self, part: str, segment: str) -> bool:
        return part.lower() == segment.lower() if self.case_insensitive else part == segment


@dataclass(frozen=True)
class RouteMatch:
    route: Route | None
    params: dict[str, str]
    service: str
    name: str
    allowed_methods: tuple[str, ...] = ()


def answers(route: Route, method: str) -> bool:
    """Whether `route` answers `method`: its own, and HEAD wherever GET is (RFC 9110 §9.3.2)."""
    return route.method == method or (method == "HEAD" and route.method == "GET")


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes

    def match(self, method: str, segments: tuple[str, ...]) -> RouteMatch:
        owners: list[Route] = []
        for route in self.routes:
            params = route.bind(segments)
            if params is None:
                continue
            if answers(route, method):
                return RouteMatch(route, params, route.service, f"{method} {route.template}")
            owners.append(route)
        if owners:
            return RouteMatch(None, {}, owners[0].service, f"{method} {owners[0].template}", allowed_methods(owners))
        service = service_of_path(segments)
        return RouteMatch(None, {}, service, f"{method} (unknown {service} route)")

    def service_of(self, segments: tuple[str, ...]) -> str:
        """The service a path belongs to, for requests refused before any route is chosen."""
        owner = next((route for route in self.routes if route.bind(segments) is not None), None)
        return owner.service if owner else service_of_path(segments)


def allowed_methods(routes: list[Route]) -> tuple[str, ...]:
    methods = {route.method for route in routes}
    if "GET" in methods:
        methods.add("HEAD")
    return tuple(sorted(methods))


def service_of_path(segments: tuple[str, ...]) -> str:
    first = segments[0] if segments else ""
    if first.lower() == "_sandbox":
        return CONTROL
    if first.lower() == "api":
        return CATALOG
    if first == "v1":
        return SPOTIFY
    return OTHER

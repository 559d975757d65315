"""Route templates -> handlers. A template names its service, which decides the error body,
rate limiting and failures, and the token realm it requires."""

from __future__ import annotations

import re
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
    pattern: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        flags = re.IGNORECASE if self.case_insensitive else 0
        object.__setattr__(self, "pattern", re.compile(f"^{regex}/?$", flags))

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


@dataclass(frozen=True)
class RouteMatch:
    route: Route | None
    params: dict[str, str]
    service: str
    name: str
    allowed_methods: tuple[str, ...] = ()


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes

    def match(self, method: str, path: str) -> RouteMatch:
        allowed: list[str] = []
        for route in self.routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            if route.method == method:
                return RouteMatch(route, found.groupdict(), route.service, route.name)
            allowed.append(route.method)
        service = service_of_path(path)
        name = f"{method} (unknown {service} route)"
        return RouteMatch(None, {}, service, name, tuple(allowed))


def service_of_path(path: str) -> str:
    lowered = path.lower()
    if lowered.startswith("/_sandbox/"):
        return CONTROL
    if lowered.startswith("/api/"):
        return CATALOG
    if path.startswith("/v1/"):
        return SPOTIFY
    return OTHER

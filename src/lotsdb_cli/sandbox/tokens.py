"""Opaque bearer tokens of the identity server (ABConnect) and Spotify's accounts service."""

from __future__ import annotations

import enum
import secrets
import threading
import time
from dataclasses import dataclass

ABCONNECT = "abconnect"
SPOTIFY = "spotify"


class TokenState(enum.Enum):
    VALID = "valid"
    MISSING = "missing"
    INVALID = "invalid"
    EXPIRED = "expired"


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    refresh_token: str | None = None


class TokenRegistry:
    """Access tokens expire after `ttl` seconds and can all be revoked at once; refresh tokens
    (ABConnect only) stay usable for the life of the sandbox, as IdentityServer's ReUse mode."""

    def __init__(self, ttl: int) -> None:
        self.ttl = ttl
        self._access: dict[str, tuple[str, float]] = {}  # token -> (realm, expires at)
        self._refresh: set[str] = set()
        self._lock = threading.Lock()

    def issue(self, realm: str) -> IssuedToken:
        access_token = secrets.token_urlsafe(32)
        refresh_token = secrets.token_urlsafe(32) if realm == ABCONNECT else None
        with self._lock:
            self._access[access_token] = (realm, time.monotonic() + self.ttl)
            if refresh_token:
                self._refresh.add(refresh_token)
        return IssuedToken(access_token, self.ttl, refresh_token)

    def refresh_token_is_valid(self, refresh_token: str) -> bool:
        with self._lock:
            return refresh_token in self._refresh

    def check(self, authorization: str | None, realm: str) -> TokenState:
        """The state of the bearer token in an Authorization header value."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return TokenState.MISSING
        with self._lock:
            issued = self._access.get(token.strip())
        if issued is None or issued[0] != realm:
            return TokenState.INVALID
        return TokenState.VALID if time.monotonic() < issued[1] else TokenState.EXPIRED

    def revoke_access_tokens(self) -> None:
        with self._lock:
            self._access.clear()

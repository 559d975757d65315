"""Bearer tokens for the Catalog API (password/refresh grants) and Spotify (client credentials).

Tokens live in `$LOTSDB_HOME/tokens.json` (mode 0600), keyed by the token endpoint and the
client, so a sandbox token is never sent to production. A token is renewed once a tenth of its
lifetime is left (at most two minutes before it expires), by one request that every concurrent
request waits for, and once more when the API answers 401. No credential is sent over plain
http to a host other than this machine unless the user allows it (`LOTSDB_ALLOW_INSECURE=1`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from lotsdb_cli import secrets
from lotsdb_cli.config import Settings, require_secure_credentials
from lotsdb_cli.errors import ApiError, AuthError
from lotsdb_cli.own_files import read_regular
from lotsdb_cli.settings_values import BEARER_TOKEN

RENEW_BEFORE = 120.0  # at most this many seconds before expiry a token is renewed...
RENEW_FRACTION = 0.1  # ...or when this share of its lifetime is left, whichever comes later
DEFAULT_LIFETIME = 3600.0  # for a stored token that does not say how long it lived

CATALOG_HINT = (
    "set LOTSDB_USERNAME, LOTSDB_PASSWORD, LOTSDB_CLIENT_ID and LOTSDB_CLIENT_SECRET "
    '(or LOTSDB_TOKEN); for the sandbox: eval "$(lotsdb sandbox env)"'
)
SPOTIFY_HINT = "set SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET (SPOTIPY_* names work too)"


class PostForm(Protocol):
    def __call__(self, url: str, form: dict[str, str], headers: dict[str, str] | None = None) -> Awaitable[Any]: ...


class TokenFile:
    """`tokens.json`: read and written whole, atomically, with mode 0600."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def read(self) -> dict[str, Any]:
        try:
            data = json.loads(read_regular(self.path, 16 * 1024 * 1024).decode("utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> dict[str, Any] | None:
        entry = self.read().get(key)
        return entry if isinstance(entry, dict) else None

    def put(self, key: str, entry: dict[str, Any] | None) -> None:
        with self._lock:
            data = self.read()
            if entry is None:
                data.pop(key, None)
            else:
                data[key] = entry
            self._write(data)

    def _write(self, data: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):  # an unwritable home only costs a login next run
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # private whatever the umask
            handle, temp_name = tempfile.mkstemp(prefix=".tokens-", dir=self.path.parent)
            try:
                os.fchmod(handle, 0o600)
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    json.dump(data, stream)
                os.replace(temp_name, self.path)
            except BaseException:
                Path(temp_name).unlink(missing_ok=True)
                raise


class BearerAuth:
    """A cached bearer token with renewal; subclasses say how to get one.

    Used from the event loop's thread: concurrent requests that find the token due for renewal
    wait on one lock, and the first renews it for all of them.
    """

    hint = ""

    def __init__(self, store: TokenFile, post_form: PostForm, clock: Callable[[], float] = time.time):
        self._store = store
        self._post_form = post_form
        self._clock = clock
        self._lock: asyncio.Lock | None = None
        self._entry: dict[str, Any] | None = None
        self._renew_at = 0.0  # when the token in `_entry` is due for renewal
        self._url_checked = False
        self.renewals = 0  # tokens obtained in this run

    # Subclasses ------------------------------------------------------------------------
    @property
    def store_key(self) -> str:
        raise NotImplementedError

    async def _obtain(self, previous: dict[str, Any] | None) -> dict[str, Any]:
        raise NotImplementedError

    def check_configured(self) -> None:
        raise NotImplementedError

    settings: Settings
    api_setting = ""  # the URL setting of the API this token is sent to

    def check_url(self, url: str) -> None:
        """Raise if the token must not go to the API (plain http off this machine); checked once."""
        if not self._url_checked:
            require_secure_credentials(self.settings, self.api_setting)
            self._url_checked = True

    # Shared ----------------------------------------------------------------------------
    async def header(self) -> str:
        """`Bearer <token>`, logging in or renewing first when needed."""
        entry = self._entry
        if entry is None or self._clock() >= self._renew_at:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                entry = self._entry or self._store.get(self.store_key)
                if not entry or not self._usable(entry):
                    entry = await self._renew(entry)
                self._remember(entry)
        return f"Bearer {entry['access_token']}"

    def _remember(self, entry: dict[str, Any]) -> None:
        self._entry = entry
        self._renew_at = self._renewal_time(entry)
        secrets.register(str(entry["access_token"]))

    async def renew(self, rejected_header: str) -> str:
        """The API refused `rejected_header` (401): get a new token unless another request did."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._entry and f"Bearer {self._entry['access_token']}" == rejected_header:
                self._remember(await self._renew(self._entry))
        return await self.header()

    def _usable(self, entry: dict[str, Any]) -> bool:
        return bool(entry.get("access_token")) and self._clock() < self._renewal_time(entry)

    @staticmethod
    def _renewal_time(entry: dict[str, Any]) -> float:
        """A tenth of the lifetime before expiry, at most two minutes before (0: renew now)."""
        try:
            expires_at = float(entry.get("expires_at", 0))
            lifetime = float(entry.get("lifetime") or DEFAULT_LIFETIME)
        except (TypeError, ValueError):
            return 0.0
        return expires_at - min(RENEW_BEFORE, RENEW_FRACTION * lifetime)

    async def _renew(self, previous: dict[str, Any] | None) -> dict[str, Any]:
        self.check_configured()
        asked_at = self._clock()
        entry = await self._obtain(previous)
        # Its lifetime runs from when the server issued it, some time after it was asked for: counted
        # from the asking, never past its real end (a slow answer must not make it look younger).
        entry["expires_at"] = min(float(entry["expires_at"]), asked_at + float(entry["lifetime"]))
        self.renewals += 1
        self._store.put(self.store_key, entry)
        return entry

    def _entry_from(self, answer: Any, previous: dict[str, Any] | None) -> dict[str, Any]:
        if (
            not isinstance(answer, dict)
            or not isinstance(answer.get("access_token"), str)
            or not answer["access_token"]
        ):
            raise AuthError("the token endpoint answered without an access_token", hint=self.hint)
        if not BEARER_TOKEN.fullmatch(answer["access_token"]):
            # A header cannot carry it (a line break would also split the request): never sent.
            raise AuthError(
                "the token endpoint answered an access_token that is not a bearer token"
                " (spaces, line breaks or characters outside ASCII)",
                hint="the identity server's answer is at fault, not the credentials",
            )
        try:
            expires_in = float(answer.get("expires_in") or DEFAULT_LIFETIME)
        except (TypeError, ValueError):
            expires_in = DEFAULT_LIFETIME
        if not 0 < expires_in < 10 * 365 * 86400:
            expires_in = DEFAULT_LIFETIME
        entry = {
            "access_token": answer["access_token"],
            "expires_at": self._clock() + expires_in,
            "lifetime": expires_in,
        }
        secrets.register(entry["access_token"])
        refresh_token = answer.get("refresh_token") or (previous or {}).get("refresh_token")
        if isinstance(refresh_token, str) and refresh_token:
            entry["refresh_token"] = refresh_token
            secrets.register(refresh_token)
        return entry

    def status(self) -> dict[str, Any]:
        """What `auth status` shows: never the token itself."""
        entry = self._entry or self._store.get(self.store_key)
        if not entry:
            return {"token": "none stored"}
        expires_at = float(entry.get("expires_at", 0))
        return {
            "token": "stored",
            "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires_at)),
            "expires_in_seconds": int(expires_at - self._clock()),
            "refresh_token": "stored" if entry.get("refresh_token") else "none",
        }


class CatalogAuth(BearerAuth):
    """ABConnect identity server: password grant, then refresh grant; or LOTSDB_TOKEN as is."""

    hint = CATALOG_HINT
    api_setting = "catalog_url"

    def __init__(self, settings: Settings, store: TokenFile, post_form: PostForm, **kwargs: Any) -> None:
        super().__init__(store, post_form, **kwargs)
        self.settings = settings
        for secret in (settings.password, settings.client_secret, settings.token):
            secrets.register(secret)

    @property
    def store_key(self) -> str:
        return f"catalog {self.settings.identity_url} {self.settings.client_id} {self.settings.username}"

    def check_configured(self) -> None:
        if self.settings.token:
            return
        missing = [
            name
            for name, value in (
                ("LOTSDB_USERNAME", self.settings.username),
                ("LOTSDB_PASSWORD", self.settings.password),
                ("LOTSDB_CLIENT_ID", self.settings.client_id),
                ("LOTSDB_CLIENT_SECRET", self.settings.client_secret),
            )
            if not value
        ]
        if missing:
            raise AuthError(f"Catalog API credentials are missing: {', '.join(missing)}", hint=self.hint)

    async def header(self) -> str:
        if self.settings.token:
            return f"Bearer {self.settings.token}"
        return await super().header()

    async def renew(self, rejected_header: str) -> str:
        if self.settings.token:
            raise AuthError(
                "the Catalog API refused LOTSDB_TOKEN (401)",
                hint="set a valid LOTSDB_TOKEN, or unset it to log in",
            )
        return await super().renew(rejected_header)

    async def _obtain(self, previous: dict[str, Any] | None) -> dict[str, Any]:
        settings = self.settings
        require_secure_credentials(settings, "identity_url")
        base = {
            "client_id": settings.client_id or "",
            "client_secret": settings.client_secret or "",
        }
        if previous and previous.get("refresh_token"):
            try:
                answer = await self._post_form(
                    settings.identity_url,
                    {
                        "grant_type": "refresh_token",
                        "refresh_token": previous["refresh_token"],
                        **base,
                    },
                )
                return self._entry_from(answer, previous)
            except (ApiError, AuthError):
                pass  # the refresh token expired or was revoked: log in again
        try:
            answer = await self._post_form(
                settings.identity_url,
                {
                    "grant_type": "password",
                    "username": settings.username or "",
                    "password": settings.password or "",
                    "scope": "offline_access",
                    **base,
                },
            )
        except ApiError as exc:
            raise AuthError(f"the identity server refused the credentials: {exc}", hint=self.hint) from None
        return self._entry_from(answer, None)

    def status(self) -> dict[str, Any]:
        configured = bool(self.settings.token) or all(
            (
                self.settings.username,
                self.settings.password,
                self.settings.client_id,
                self.settings.client_secret,
            )
        )
        info: dict[str, Any] = {
            "service": "catalog",
            "identity_url": self.settings.identity_url,
            "credentials": "LOTSDB_TOKEN" if self.settings.token else ("configured" if configured else "missing"),
            "username": self.settings.username,
        }
        if not self.settings.token:
            info.update(super().status())
        return info


class SpotifyAuth(BearerAuth):
    """Spotify client-credentials flow: no refresh token, ask again on expiry or 401."""

    hint = SPOTIFY_HINT
    api_setting = "spotify_api_url"

    def __init__(self, settings: Settings, store: TokenFile, post_form: PostForm, **kwargs: Any) -> None:
        super().__init__(store, post_form, **kwargs)
        self.settings = settings
        secrets.register(settings.spotify_client_secret)

    @property
    def token_url(self) -> str:
        return f"{self.settings.spotify_accounts_url}/api/token"

    @property
    def store_key(self) -> str:
        return f"spotify {self.token_url} {self.settings.spotify_client_id}"

    def check_configured(self) -> None:
        if not (self.settings.spotify_client_id and self.settings.spotify_client_secret):
            raise AuthError("Spotify credentials are missing", hint=self.hint)

    async def _obtain(self, previous: dict[str, Any] | None) -> dict[str, Any]:
        require_secure_credentials(self.settings, "spotify_accounts_url")
        pair = f"{self.settings.spotify_client_id}:{self.settings.spotify_client_secret}".encode()
        basic = base64.b64encode(pair).decode()
        secrets.register(basic)
        try:
            answer = await self._post_form(
                self.token_url,
                {"grant_type": "client_credentials"},
                {"Authorization": f"Basic {basic}"},
            )
        except ApiError as exc:
            raise AuthError(f"Spotify refused the client credentials: {exc}", hint=self.hint) from None
        return self._entry_from(answer, None)

    def status(self) -> dict[str, Any]:
        configured = bool(self.settings.spotify_client_id and self.settings.spotify_client_secret)
        return {
            "service": "spotify",
            "token_url": self.token_url,
            "credentials": "configured" if configured else "missing",
            "client_id": self.settings.spotify_client_id,
            **super().status(),
        }

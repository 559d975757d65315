"""`Lotsdb`: lotsdb as a Python library, and what the CLI commands call.

    from lotsdb_cli import Lotsdb

    with Lotsdb() as db:                      # settings from the environment and config.toml
        for result in db.dump(1002):          # every lot of event 1002, in order, concurrently
            print(result.lot_id, result.lot)

Everything goes through the same HTTP layer as the CLI (the cache, the retry policy, the rate
limits); the requests run on an event loop on a thread of its own (`runner.IoThread`), and these
methods are plain synchronous calls and iterators. Interrupting an iteration (Ctrl-C) cancels what
is in flight and keeps what was fetched.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from lotsdb_cli.config import Settings, load_settings
from lotsdb_cli.env import Environment
from lotsdb_cli.runner import IoThread

if TYPE_CHECKING:
    from lotsdb_cli.albums.models import Album
    from lotsdb_cli.albums.store import AlbumStore
    from lotsdb_cli.catalog import CatalogClient
    from lotsdb_cli.enrich import AlbumResult, RefreshSummary
    from lotsdb_cli.http.client import HttpClient, Reuse
    from lotsdb_cli.lots import DumpSummary, LotResult, OverrideResult
    from lotsdb_cli.spotify import SpotifyClient

T = TypeVar("T")
ITEMS_PER_BATCH = 500


class Lotsdb:
    def __init__(
        self,
        settings: Settings | None = None,
        env: Environment | None = None,
        *,
        warn: Callable[..., None] | None = None,
        trace: Callable[[str], None] | None = None,
        command: str = "",
    ) -> None:
        self.settings = settings if settings is not None else load_settings()
        self.env = env if env is not None else Environment()
        self.command = command  # recorded in the cache's run log (`cache stats`)
        self._warn = warn or _StderrWarnings(self.env).warn
        self._trace = trace
        self._io = IoThread()
        self._http: HttpClient | None = None
        self._catalog: CatalogClient | None = None
        self._spotify: SpotifyClient | None = None
        self._albums: AlbumStore | None = None

    # -- lifetime ------------------------------------------------------------------------
    def __enter__(self) -> Lotsdb:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Flush the cache, close connections and the album database; keeps everything fetched."""
        http = self._http
        try:
            self._io.close(finish=(lambda: http.aclose(self.command)) if http is not None else None)
        finally:
            if self._albums is not None:
                self._albums.close()
                self._albums = None

    # -- the parts -----------------------------------------------------------------------
    @property
    def http(self) -> HttpClient:
        if self._http is None:
            from lotsdb_cli.http.client import HttpClient

            self._http = HttpClient(self.settings, self.env, warn=self._warn, trace=self._trace)
        return self._http

    @property
    def catalog(self) -> CatalogClient:
        if self._catalog is None:
            from lotsdb_cli.catalog import CatalogClient

            self._catalog = CatalogClient(self.http, self.settings)
        return self._catalog

    @property
    def spotify(self) -> SpotifyClient:
        if self._spotify is None:
            from lotsdb_cli.spotify import SpotifyClient

            self._spotify = SpotifyClient(self.http, self.settings)
        return self._spotify

    @property
    def albums(self) -> AlbumStore:
        if self._albums is None:
            self._io.check_open()
            from lotsdb_cli.albums.store import AlbumStore

            self._albums = AlbumStore(self.settings.db_path)
        return self._albums

    def run(self, coroutine: Any) -> Any:
        """Run a coroutine of the library (e.g. `db.catalog.event(1)`) on the I/O loop and return its result."""
        return self._io.run(coroutine)

    def stream(self, batches: Callable[[], AsyncIterator[list[T]]]) -> Iterator[T]:
        return self._io.stream(batches)

    # -- catalog -------------------------------------------------------------------------
    def sellers(
        self, *, name: str | None = None, active: bool | None = None, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        return self.stream(lambda: _batched(self.catalog.sellers(name=name, active=active, limit=limit)))

    def seller(self, seller_id: int) -> dict[str, Any]:
        return self.run(self.catalog.seller(seller_id))

    def events(
        self, *, seller_id: int | None = None, upcoming: bool = True, limit: int | None = None
    ) -> list[dict[str, Any]]:
        return self.run(self.catalog.events(seller_id=seller_id, upcoming=upcoming, limit=limit))

    def upcoming_events(self, *, seller_ids: Iterable[int] = (), within: float | None = None) -> list[dict[str, Any]]:
        """Events starting today (UTC) or later, and less than `within` seconds from now; of `seller_ids` if given."""
        from lotsdb_cli.catalog import event_start
        from lotsdb_cli.catalog import start_of_day as self_start_of_day

        sellers: list[int | None] = list(dict.fromkeys(seller_ids)) or [None]
        found: dict[int, dict[str, Any]] = {}
        for seller_id in sellers:
            for event in self.events(seller_id=seller_id, upcoming=True):
                if isinstance(event.get("id"), int):
                    found.setdefault(event["id"], event)
        events = sorted(found.values(), key=lambda event: event_start(event) or self_start_of_day())
        if within is not None:
            horizon = self.env.wall_clock() + within
            events = [event for event in events if (start := event_start(event)) and start.timestamp() < horizon]
        return events

    def event(self, event_id: int) -> dict[str, Any]:
        return self.run(self.catalog.event(event_id))

    def lot(self, lot_id: int) -> dict[str, Any]:
        return self.run(self.catalog.lot(lot_id)).data

    def dump(self, event_id: int, *, workers: int = 32) -> Dump:
        """Every lot of the event, fetched concurrently, in the event's order (iterate the result)."""
        from lotsdb_cli.lots import DumpSummary, event_lots

        lots = event_lots(self.event(event_id))
        return Dump(self, event_id, lots, workers, DumpSummary(total=len(lots)))

    def override(self, lot_id: int, changes: dict[str, Any], *, dry_run: bool = False) -> OverrideResult:
        from lotsdb_cli.lots import override_lot

        return self.run(override_lot(self.catalog, lot_id, changes, dry_run=dry_run))

    # -- albums --------------------------------------------------------------------------
    def album(self, ref: str, *, max_age: float) -> tuple[Album, str | None]:
        """The album `ref` names (local id, Spotify id or URL), fetched first if missing or older than `max_age`.

        Returns the album and a note when it could not be brought up to date (no Spotify id, unknown to Spotify).
        """
        from lotsdb_cli.albums.ids import SpotifyIdError, extract_album_id
        from lotsdb_cli.albums.queries import local_album_id
        from lotsdb_cli.enrich import ensure_fresh
        from lotsdb_cli.errors import NotFound
        from lotsdb_cli.spotify import cover_url

        album = self.albums.get(ref)
        if album is None and local_album_id(ref) is not None:
            raise NotFound(f"no album {ref!r} in the library", hint="`lotsdb albums list` shows the local ids")
        if album is None:
            try:
                spotify_id = extract_album_id(ref)
            except SpotifyIdError as exc:
                raise NotFound(
                    f"no album {ref!r} in the library ({exc})",
                    hint="use a local id, a Spotify id or a Spotify album URL",
                ) from None
            metadata = self.run(self.spotify.album(spotify_id))
            return self.albums.store_metadata(spotify_id, metadata, cover_url(metadata, self.spotify.base)), None
        if album.not_found:
            return (
                album,
                f"{album.label}: Spotify did not know this album ({album.fetch_error}); showing what is stored",
            )
        if album.spotify_id is None:
            return album, f"{album.label} has no Spotify id; showing the spreadsheet data only"
        return self.run(ensure_fresh(self.albums, self.spotify, album, max_age)), None

    def refresh(self, albums: list[Album], *, workers: int = 32, fresh: bool = False) -> Refresh:
        """Fetch and store the albums (iterate the result); `fresh` bypasses the HTTP cache."""
        from lotsdb_cli.enrich import RefreshSummary

        return Refresh(self, albums, workers, fresh, RefreshSummary())

    def fetch_bytes(self, url: str) -> bytes:
        """The body of a GET (a spreadsheet export), asked for anew each time (a cached copy is used
        when the server answers 304, or fails): a sheet edited a minute ago is read as it is now.

        A `user:password@` in the URL is sent as Basic auth, never stored or shown, and never sent
        over plain http off this machine unless `allow_insecure` is set.
        """
        from urllib.parse import urlsplit

        from lotsdb_cli import secrets
        from lotsdb_cli.config import redact_url, sends_credentials_in_clear
        from lotsdb_cli.errors import ConfigError

        parts = urlsplit(url)
        secrets.register(parts.password or parts.username)  # `https://TOKEN@host/...` has no password
        if (parts.username or parts.password) and sends_credentials_in_clear(url) and not self.settings.allow_insecure:
            raise ConfigError(
                f"{redact_url(url)}: refusing to send the URL's credentials over plain http",
                hint="use an https:// URL, or set LOTSDB_ALLOW_INSECURE=1 to send credentials over plain http",
            )
        # An answer to the URL's own credentials is nobody else's: a shared cache must not hand it
        # to a request without them (its key has no credentials in it), so it is never stored.
        reuse: Reuse = "private" if parts.username or parts.password else "revalidated"
        return self.run(self.http.get_bytes(url, reuse=reuse)).data

    # -- cache and auth ------------------------------------------------------------------
    def cache_stats(self) -> dict[str, Any]:
        from lotsdb_cli.http.admin import cache_stats

        async def stats() -> dict[str, Any]:
            return cache_stats(self.http.cache, self.settings)

        return self.run(stats())

    def cache_clear(self, *, expired_only: bool = False, url_pattern: str | None = None) -> int:
        from lotsdb_cli.http.admin import clear_cache

        async def clear() -> int:
            return clear_cache(self.http.cache, self.settings, expired_only=expired_only, url_pattern=url_pattern)

        return self.run(clear())

    def auth_status(self) -> list[dict[str, Any]]:
        return [self.http.catalog_auth().status(), self.http.spotify_auth().status()]


@dataclass
class Dump:
    """A dump in progress: iterate it for `LotResult`s in the event's order; `summary` counts as it goes."""

    db: Lotsdb
    event_id: int
    lots: list[tuple[int, str | None]]
    workers: int
    summary: DumpSummary

    def __iter__(self) -> Iterator[LotResult]:
        from lotsdb_cli.lots import dump_batches

        return self.db.stream(
            lambda: dump_batches(self.db.catalog, self.lots, workers=self.workers, summary=self.summary)
        )


@dataclass
class Refresh:
    """A refresh in progress: iterate it for `AlbumResult`s; `summary` counts what was stored."""

    db: Lotsdb
    albums: list[Album]
    workers: int
    fresh: bool
    summary: RefreshSummary = field(repr=False)

    def __iter__(self) -> Iterator[AlbumResult]:
        from lotsdb_cli.enrich import refresh_batches

        return self.db.stream(
            lambda: refresh_batches(
                self.db.albums,
                self.db.spotify,
                self.albums,
                workers=self.workers,
                summary=self.summary,
                fresh=self.fresh,
            )
        )


async def _batched(items: AsyncIterator[T], size: int = ITEMS_PER_BATCH) -> AsyncIterator[list[T]]:
    batch: list[T] = []
    async for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _StderrWarnings:
    """The library's default for warnings: `warning: ...` lines on the environment's stderr."""

    def __init__(self, env: Environment) -> None:
        self._env = env
        self._seen: set[str] = set()

    def warn(self, message: str, *, once_key: str | None = None) -> None:
        if once_key is not None:
            if once_key in self._seen:
                return
            self._seen.add(once_key)
        from lotsdb_cli.secrets import redact

        with contextlib.suppress(OSError, ValueError):
            print(f"warning: {redact(message)}", file=self._env.stderr, flush=True)

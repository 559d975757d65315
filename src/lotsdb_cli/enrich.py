"""Enriching the album store from Spotify: just in time for one album, or in bulk."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from lotsdb_cli.albums.models import Album
from lotsdb_cli.albums.store import AlbumStore
from lotsdb_cli.errors import ApiError, NotFound, stops_the_run
from lotsdb_cli.fetcher import ordered_map
from lotsdb_cli.spotify import BATCH_SIZE, SpotifyClient, cover_url


@dataclass
class RefreshSummary:
    refreshed: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: list[tuple[Album, str]] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"albums: {self.refreshed} refreshed, {self.unchanged} unchanged, "
            f"{len(self.failed)} failed, {self.skipped} skipped"
        )


@dataclass
class AlbumResult:
    album: Album
    changed: bool = False
    error: str | None = None


def fetch_and_store(store: AlbumStore, spotify: SpotifyClient, album: Album) -> AlbumResult:
    """Fetch one album from Spotify and store it; 404/400 are recorded on the album."""
    assert album.spotify_id is not None
    try:
        metadata = spotify.album(album.spotify_id)
    except NotFound as exc:
        store.store_error(album.spotify_id, f"not found on Spotify: {exc}", not_found=True)
        raise
    except ApiError as exc:
        store.store_error(album.spotify_id, str(exc), not_found=exc.status == 400)
        raise
    return _store(store, album, metadata)


def _store(store: AlbumStore, album: Album, metadata: dict[str, object]) -> AlbumResult:
    assert album.spotify_id is not None
    changed = album.metadata != metadata
    updated = store.store_metadata(album.spotify_id, metadata, cover_url(metadata))
    return AlbumResult(updated, changed=changed)


def ensure_fresh(store: AlbumStore, spotify: SpotifyClient, album: Album, max_age: float) -> Album:
    """The album, fetched from Spotify first when its metadata or cover is missing or too old."""
    if not album.needs_fetch(max_age):
        return album
    return fetch_and_store(store, spotify, album).album


def refresh(
    store: AlbumStore,
    spotify: SpotifyClient,
    albums: list[Album],
    *,
    workers: int,
    summary: RefreshSummary,
    on_failure: Callable[[Album, str], None] = lambda album, reason: None,
) -> Iterator[AlbumResult]:
    """Fetch and store every album (each stored as soon as it arrives), in the given order."""
    spotify.http.set_max_in_flight(workers)
    albums = _batch_first(store, spotify, albums, summary)

    def work(album: Album) -> AlbumResult:
        return fetch_and_store(store, spotify, album)

    for outcome in ordered_map(work, albums, workers=workers, is_fatal=stops_the_run):
        if outcome.error is not None:
            reason = outcome.error.message
            summary.failed.append((outcome.item, reason))
            on_failure(outcome.item, reason)
            yield AlbumResult(outcome.item, error=reason)
            continue
        result = outcome.result
        assert result is not None
        if result.changed:
            summary.refreshed += 1
        else:
            summary.unchanged += 1
        yield result


def _batch_first(
    store: AlbumStore, spotify: SpotifyClient, albums: list[Album], summary: RefreshSummary
) -> list[Album]:
    """Use the batch endpoint while the app is allowed to; return the albums still to fetch singly."""
    remaining = list(albums)
    singles: list[Album] = []
    while remaining and spotify.batch_allowed is not False:
        chunk, remaining = remaining[:BATCH_SIZE], remaining[BATCH_SIZE:]
        found = spotify.albums_batch([album.spotify_id for album in chunk if album.spotify_id])
        if found is None:  # 403: this app may not batch; everything goes one per call
            return singles + chunk + remaining
        for album in chunk:
            metadata = found.get(album.spotify_id or "")
            if metadata is None:
                singles.append(album)  # null in a batch: ask singly, which tells 404 from 400
                continue
            result = _store(store, album, metadata)
            summary.refreshed += result.changed
            summary.unchanged += not result.changed
    return singles + remaining

"""Enriching the album store from Spotify: just in time for one album, or in bulk.

Each album is stored as soon as its answer arrives, and the summary counts at that moment, so a
run stopped by a quota or a signal reports exactly what the database holds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from lotsdb_cli.albums.models import Album
from lotsdb_cli.albums.store import AlbumStore
from lotsdb_cli.errors import ApiError, LotsdbError, NotFound, stops_the_run
from lotsdb_cli.fetcher import ordered_batches
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

    def count(self, result: AlbumResult) -> None:
        if result.changed:
            self.refreshed += 1
        else:
            self.unchanged += 1


@dataclass
class AlbumResult:
    album: Album
    changed: bool = False
    error: str | None = None


async def fetch_and_store(
    store: AlbumStore, spotify: SpotifyClient, album: Album, *, fresh: bool = False
) -> AlbumResult:
    """Fetch one album from Spotify and store it; 404/400 are recorded on the album."""
    assert album.spotify_id is not None
    try:
        # Stored before and asked for again: it is older than the caller allows, and so is the HTTP
        # cache's copy it came from; Spotify confirms it (a 304) or sends the album as it is now.
        metadata = await spotify.album(album.spotify_id, fresh=fresh, revalidate=album.metadata is not None)
    except NotFound as exc:
        store.store_error(album.spotify_id, f"not found on Spotify: {exc}", not_found=True)
        raise
    except ApiError as exc:
        store.store_error(album.spotify_id, str(exc), not_found=exc.status == 400)
        raise
    return _store(store, spotify, album, metadata)


def _store(store: AlbumStore, spotify: SpotifyClient, album: Album, metadata: dict[str, object]) -> AlbumResult:
    assert album.spotify_id is not None
    changed = album.metadata != metadata
    updated = store.store_metadata(album.spotify_id, metadata, cover_url(metadata, spotify.base))
    return AlbumResult(updated, changed=changed)


async def ensure_fresh(store: AlbumStore, spotify: SpotifyClient, album: Album, max_age: float) -> Album:
    """The album, fetched from Spotify first when its metadata or cover is missing or too old."""
    if not album.needs_fetch(max_age):
        return album
    return (await fetch_and_store(store, spotify, album)).album


async def refresh_batches(
    store: AlbumStore,
    spotify: SpotifyClient,
    albums: list[Album],
    *,
    workers: int,
    summary: RefreshSummary,
    fresh: bool = False,
) -> AsyncIterator[list[AlbumResult]]:
    """Fetch and store every album, in the given order, in batches of results.

    `fresh` asks Spotify even when the HTTP cache holds a fresh answer (`refresh --force`).
    """
    spotify.http.set_max_in_flight(workers)
    singles = []
    async for stored, remaining in _batch_first(store, spotify, albums, summary, fresh=fresh):
        if stored:
            yield stored
        singles = remaining

    async def work(album: Album) -> AlbumResult:
        result = await fetch_and_store(store, spotify, album, fresh=fresh)
        summary.count(result)
        return result

    async for batch in ordered_batches(work, singles, workers=workers, is_fatal=stops_the_run):
        results = []
        for outcome in batch:
            if outcome.error is not None:
                summary.failed.append((outcome.item, outcome.error.message))
                results.append(AlbumResult(outcome.item, error=outcome.error.message))
            else:
                assert outcome.result is not None
                results.append(outcome.result)
        yield results


async def _batch_first(
    store: AlbumStore, spotify: SpotifyClient, albums: list[Album], summary: RefreshSummary, *, fresh: bool
) -> AsyncIterator[tuple[list[AlbumResult], list[Album]]]:
    """Use the batch endpoint while the app is allowed to; the last item says which albums are left."""
    remaining = list(albums)
    singles: list[Album] = []
    while remaining and spotify.batch_allowed is not False:
        chunk, remaining = remaining[:BATCH_SIZE], remaining[BATCH_SIZE:]
        try:
            found = await spotify.albums_batch(
                [album.spotify_id for album in chunk if album.spotify_id],
                fresh=fresh,
                revalidate=any(album.metadata is not None for album in chunk),
            )
        except LotsdbError as exc:
            if stops_the_run(exc):
                raise
            singles.extend(chunk)  # this batch failed after its retries: its albums are asked one by one
            continue
        if found is None:  # 403: this app may not batch; everything goes one per call
            remaining = chunk + remaining
            break
        stored = []
        for album in chunk:
            metadata = found.get(album.spotify_id or "")
            if metadata is None:
                singles.append(album)  # null in a batch: ask singly, which tells 404 from 400
                continue
            result = _store(store, spotify, album, metadata)
            summary.count(result)
            stored.append(result)
        yield stored, []
    yield [], singles + remaining

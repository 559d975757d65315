"""Spotify albums of the sandbox as a Development Mode app sees them since February 2026:
no `popularity`, `label` or `available_markets`, and `genres` always empty."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any

from lotsdb_cli.sandbox import words
from lotsdb_cli.sandbox.albumids import BASE62

TRACK_PAGE_LIMIT = 50
ARTIST_POOL_SIZE = 40
COVER_SIZES = (640, 300, 64)


def base62_id(text: str) -> str:
    """A 22-character base62 id derived from `text` (artists and tracks)."""
    number = int.from_bytes(hashlib.sha256(text.encode()).digest())
    digits = []
    for _ in range(22):
        number, digit = divmod(number, 62)
        digits.append(BASE62[digit])
    return "".join(digits)


@dataclass(frozen=True)
class ArtistSpec:
    id: str
    name: str


@dataclass(frozen=True)
class AlbumSpec:
    id: str
    index: int
    name: str
    artists: tuple[ArtistSpec, ...]
    album_type: str
    release_date: str
    release_date_precision: str
    total_tracks: int
    has_cover: bool
    label: str
    upc: str


def artist_pool(seed: int) -> list[ArtistSpec]:
    rng = random.Random(f"lotsdb-sandbox-artists:{seed}")
    return [
        ArtistSpec(
            id=base62_id(f"lotsdb-sandbox-artist:{seed}:{number}"),
            name=f"{rng.choice(words.ARTIST_FIRST)} {rng.choice(words.ARTIST_LAST)}",
        )
        for number in range(ARTIST_POOL_SIZE)
    ]


def generate_album(seed: int, index: int, album_id: str, artists: list[ArtistSpec]) -> AlbumSpec:
    rng = random.Random(f"lotsdb-sandbox-album-data:{seed}:{index}")
    year = rng.randint(1962, 2025)
    precision = rng.choices(("day", "month", "year"), weights=(7, 1, 2))[0]
    release_date = {
        "day": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "month": f"{year}-{rng.randint(1, 12):02d}",
        "year": str(year),
    }[precision]
    # Every tenth album has more than one page of tracks, every twelfth no cover.
    total_tracks = rng.randint(51, 130) if index % 10 == 3 else rng.randint(1, 18)
    return AlbumSpec(
        id=album_id,
        index=index,
        name=" ".join(rng.sample(words.ALBUM_WORDS, rng.randint(1, 3))),
        artists=tuple(rng.sample(artists, rng.choice((1, 1, 1, 2)))),
        album_type=rng.choices(("album", "single", "compilation"), weights=(7, 2, 1))[0],
        release_date=release_date,
        release_date_precision=precision,
        total_tracks=total_tracks,
        has_cover=index % 12 != 5,
        label=rng.choice(words.LABELS),
        upc=f"{rng.randrange(10**11, 10**12)}",
    )


def album_object(album: AlbumSpec, base_url: str, market: str | None) -> dict[str, Any]:
    """AlbumObject, its first page of tracks included."""
    href = f"{base_url}/v1/albums/{album.id}"
    year = album.release_date[:4]
    return {
        "album_type": album.album_type,
        "total_tracks": album.total_tracks,
        "external_urls": {"spotify": f"https://open.spotify.com/album/{album.id}"},
        "href": href,
        "id": album.id,
        "images": _cover_images(album, base_url),
        "name": album.name,
        "release_date": album.release_date,
        "release_date_precision": album.release_date_precision,
        "type": "album",
        "uri": f"spotify:album:{album.id}",
        "artists": [_artist_object(artist, base_url) for artist in album.artists],
        "tracks": track_page(album, base_url, market, 0, TRACK_PAGE_LIMIT),
        "copyrights": [
            {"text": f"© {year} {album.label}", "type": "C"},
            {"text": f"℗ {year} {album.label}", "type": "P"},
        ],
        "external_ids": {"upc": album.upc},
        "genres": [],
    }


def track_page(album: AlbumSpec, base_url: str, market: str | None, offset: int, limit: int) -> dict[str, Any]:
    """PagingSimplifiedTrackObject for tracks [offset, offset + limit)."""
    numbers = range(offset, min(offset + limit, album.total_tracks))
    next_offset = offset + limit
    previous_offset = max(0, offset - limit)
    return {
        "href": _tracks_url(album, base_url, market, offset, limit),
        "items": [_track_object(album, base_url, market, number) for number in numbers],
        "limit": limit,
        "next": (
            _tracks_url(album, base_url, market, next_offset, limit) if next_offset < album.total_tracks else None
        ),
        "offset": offset,
        "previous": (_tracks_url(album, base_url, market, previous_offset, limit) if offset > 0 else None),
        "total": album.total_tracks,
    }


def _tracks_url(album: AlbumSpec, base_url: str, market: str | None, offset: int, limit: int) -> str:
    url = f"{base_url}/v1/albums/{album.id}/tracks?offset={offset}&limit={limit}"
    return f"{url}&market={market}" if market else url


def _track_object(album: AlbumSpec, base_url: str, market: str | None, number: int) -> dict[str, Any]:
    rng = random.Random(f"lotsdb-sandbox-track:{album.id}:{number}")
    track_id = base62_id(f"lotsdb-sandbox-track:{album.id}:{number}")
    track: dict[str, Any] = {
        "artists": [_artist_object(artist, base_url) for artist in album.artists],
        "disc_number": 1 + number // 40,
        "duration_ms": rng.randint(45_000, 540_000),
        "explicit": rng.random() < 0.1,
        "external_urls": {"spotify": f"https://open.spotify.com/track/{track_id}"},
        "href": f"{base_url}/v1/tracks/{track_id}",
        "id": track_id,
        "name": " ".join(rng.sample(words.ALBUM_WORDS, rng.randint(1, 3))),
        "preview_url": None,
        "track_number": 1 + number % 40,
        "type": "track",
        "uri": f"spotify:track:{track_id}",
        "is_local": False,
    }
    if market:
        track["is_playable"] = True
    return track


def _artist_object(artist: ArtistSpec, base_url: str) -> dict[str, Any]:
    return {
        "external_urls": {"spotify": f"https://open.spotify.com/artist/{artist.id}"},
        "href": f"{base_url}/v1/artists/{artist.id}",
        "id": artist.id,
        "name": artist.name,
        "type": "artist",
        "uri": f"spotify:artist:{artist.id}",
    }


def cover_key(album_id: str, size: int) -> str:
    """The `/image/{key}` of one cover size: 40 hex digits, shaped like Spotify's image ids."""
    return hashlib.sha1(f"{album_id}:{size}".encode()).hexdigest()


def _cover_images(album: AlbumSpec, base_url: str) -> list[dict[str, Any]]:
    """ImageObjects, widest first, served by the sandbox itself (`routes_images`); none for the
    albums that have no cover on purpose."""
    if not album.has_cover:
        return []
    return [
        {"url": f"{base_url}/image/{cover_key(album.id, size)}", "height": size, "width": size} for size in COVER_SIZES
    ]

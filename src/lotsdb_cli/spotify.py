"""Client for the Spotify Web API: albums, one per call, or in batches where the app may.

Since February 2026 a Development Mode app gets 403 from `GET /v1/albums?ids=`; the client tries
the batch endpoint once per run, and on 403 remembers to ask one album per call.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from lotsdb_cli import shapes
from lotsdb_cli.config import Settings
from lotsdb_cli.errors import ApiError, BadResponse
from lotsdb_cli.http.client import HttpClient

BATCH_SIZE = 20  # the most ids GET /v1/albums accepts
MAX_TRACK_PAGES = 100  # 5,000 tracks at Spotify's 50 a page: a guard against `next` links that never end


class SpotifyClient:
    def __init__(self, http: HttpClient, settings: Settings) -> None:
        self.http = http
        self.base = settings.spotify_api_url.rstrip("/")
        self.market = settings.spotify_market
        self.batch_allowed: bool | None = None  # unknown until tried

    def album_url(self, album_id: str) -> str:
        return f"{self.base}/v1/albums/{album_id}"

    async def album(self, album_id: str, *, fresh: bool = False, revalidate: bool = False) -> dict[str, Any]:
        """The album object with every track (the `tracks` pages followed and merged). `fresh`: asked anew;
        `revalidate`: a cached copy is used once Spotify confirmed it (what an album stored too long ago needs)."""
        fetched = await self.http.get_json(
            self.album_url(album_id),
            {"market": self.market},
            auth=self.http.spotify_auth(),
            validate=shapes.spotify_album(album_id),
            fresh=fresh,
            revalidate=revalidate,
        )
        try:
            return await self._with_all_tracks(fetched.data, fresh=fresh, revalidate=revalidate)
        except BadResponse:
            self.http.invalidate(self.album_url(album_id), {"market": self.market})  # its `next` link may be the fault
            raise

    async def albums_batch(
        self, album_ids: list[str], *, fresh: bool = False, revalidate: bool = False
    ) -> dict[str, dict[str, Any] | None] | None:
        """Up to 20 albums in one call, or None when the app may not use the batch endpoint (403)."""
        if self.batch_allowed is False:
            return None
        ids = album_ids[:BATCH_SIZE]
        try:
            answer = await self.http.get_json(
                f"{self.base}/v1/albums",
                {"ids": ",".join(ids), "market": self.market},
                auth=self.http.spotify_auth(),
                validate=shapes.spotify_albums,
                fresh=fresh,
                revalidate=revalidate,
            )
        except ApiError as exc:
            if exc.status == 403:
                self.batch_allowed = False
                return None
            raise
        self.batch_allowed = True
        found: dict[str, dict[str, Any] | None] = dict.fromkeys(ids)
        for album in answer.data.get("albums") or []:
            # An album of the wrong shape stays None: it is asked for on its own, and fails alone.
            if shapes.album_problem(album) is None and album.get("id") in found:
                try:
                    found[album["id"]] = await self._with_all_tracks(album, fresh=fresh, revalidate=revalidate)
                except BadResponse:
                    found[album["id"]] = None
        return found

    async def _with_all_tracks(self, album: dict[str, Any], *, fresh: bool, revalidate: bool) -> dict[str, Any]:
        """The album with the items of every `tracks` page; `BadResponse` when the pages do not end.

        Paging stops at the last page, or once the tracks gathered reach `total`. A `next` link seen
        before (a loop), or more than `MAX_TRACK_PAGES` pages, fails the album: nothing partial is
        stored as if it were complete, and the pages are dropped from the cache so the next run asks again.
        """
        tracks = album.get("tracks")
        if not isinstance(tracks, dict):
            return album
        items = [item for item in tracks.get("items") or [] if isinstance(item, dict)]
        total = tracks.get("total") if shapes.is_id(tracks.get("total")) else None
        next_url = tracks.get("next")
        followed: list[str] = []
        while isinstance(next_url, str) and next_url and (total is None or len(items) < total):
            problem = None
            if next_url in followed:
                problem = f"the next page {next_url[:80]!r} was already read (a loop)"
            elif len(followed) >= MAX_TRACK_PAGES:
                problem = f"more than {MAX_TRACK_PAGES} pages of tracks"
            if problem is not None:
                for url in followed:
                    self.http.invalidate(url)
                raise BadResponse(f"album {album.get('id')}: {problem}; not stored")
            if not self._on_api_origin(next_url):
                # The bearer token goes with every page: never to a host the API did not name as itself.
                raise BadResponse(f"album tracks: the next page {next_url[:80]!r} is not on {self.base}")
            followed.append(next_url)
            page = await self.http.get_json(
                next_url,
                auth=self.http.spotify_auth(),
                validate=shapes.tracks_page,
                fresh=fresh,
                revalidate=revalidate,
            )
            items.extend(item for item in page.data.get("items") or [] if isinstance(item, dict))
            next_url = page.data.get("next")
        return {**album, "tracks": {**tracks, "items": items, "next": None}}

    def _on_api_origin(self, url: str) -> bool:
        page, api = urlsplit(url), urlsplit(self.base)
        return (page.scheme.lower(), page.netloc.lower()) == (api.scheme.lower(), api.netloc.lower())


# What an image URL may hold: printable ASCII without spaces, quotes, angle brackets or backslashes
# (nothing that leaves an attribute, a shell word or a CSV cell).
_PLAIN_URL = re.compile(r"[!#-&(-;=?-\[\]-~]+")


def acceptable_image_url(url: object, api_base: str) -> bool:
    """An image URL worth storing and printing: https (or on the configured API's own origin, as the
    sandbox's http covers are), no userinfo, nothing but plain URL characters. A lying or compromised
    answer's `javascript:`, `data:` or `http://` URLs are not kept."""
    if not isinstance(url, str) or len(url) > 2048 or not _PLAIN_URL.fullmatch(url):
        return False
    parts, api = urlsplit(url), urlsplit(api_base)
    if not parts.netloc or "@" in parts.netloc:
        return False
    same_origin = (parts.scheme.lower(), parts.netloc.lower()) == (api.scheme.lower(), api.netloc.lower())
    return parts.scheme.lower() == "https" or same_origin


def cover_url(album: dict[str, Any], api_base: str) -> str | None:
    """The largest acceptable image's URL (Spotify lists them widest first, but do not rely on it)."""
    images = [
        image
        for image in album.get("images") or []
        if isinstance(image, dict) and acceptable_image_url(image.get("url"), api_base)
    ]
    if not images:
        return None

    def area(image: dict[str, Any]) -> int:
        width, height = image.get("width"), image.get("height")
        return (width if isinstance(width, int) else 0) * (height if isinstance(height, int) else 0)

    return str(max(images, key=area)["url"])

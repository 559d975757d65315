"""Client for the Spotify Web API: albums, one per call, or in batches where the app may.

Since February 2026 a Development Mode app gets 403 from `GET /v1/albums?ids=`; the client tries
the batch endpoint once per run, and on 403 remembers to ask one album per call.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

from lotsdb_cli.config import Settings
from lotsdb_cli.errors import ApiError, BadResponse
from lotsdb_cli.http.client import HttpClient

BATCH_SIZE = 20  # the most ids GET /v1/albums accepts
MAX_TRACK_PAGES = 100  # a guard against a `next` link that never ends


class SpotifyClient:
    def __init__(self, http: HttpClient, settings: Settings) -> None:
        self.http = http
        self.base = settings.spotify_api_url.rstrip("/")
        self.market = settings.spotify_market
        self._batch_allowed: bool | None = None  # unknown until tried
        self._lock = threading.Lock()

    def album_url(self, album_id: str) -> str:
        return f"{self.base}/v1/albums/{album_id}"

    def album(self, album_id: str) -> dict[str, Any]:
        """The album object with every track (the `tracks` pages followed and merged)."""
        album = self._object(self.album_url(album_id), {"market": self.market})
        return self._with_all_tracks(album)

    @property
    def batch_allowed(self) -> bool | None:
        return self._batch_allowed

    def albums_batch(self, album_ids: list[str]) -> dict[str, dict[str, Any] | None] | None:
        """Up to 20 albums in one call, or None when the app may not use the batch endpoint (403)."""
        if self._batch_allowed is False:
            return None
        try:
            answer = self._object(
                f"{self.base}/v1/albums", {"ids": ",".join(album_ids[:BATCH_SIZE]), "market": self.market}
            )
        except ApiError as exc:
            if exc.status == 403:
                with self._lock:
                    self._batch_allowed = False
                return None
            raise
        with self._lock:
            self._batch_allowed = True
        albums = answer.get("albums") if isinstance(answer.get("albums"), list) else []
        found: dict[str, dict[str, Any] | None] = dict.fromkeys(album_ids[:BATCH_SIZE])
        for album in albums or []:
            if isinstance(album, dict) and album.get("id") in found:
                found[album["id"]] = self._with_all_tracks(album)
        return found

    def _object(self, url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        data = self.http.get_json(url, params, auth=self.http.spotify_auth()).data
        if not isinstance(data, dict):
            raise BadResponse(f"GET {url}: expected a JSON object, got {type(data).__name__}")
        return data

    def _with_all_tracks(self, album: dict[str, Any]) -> dict[str, Any]:
        tracks = album.get("tracks")
        if not isinstance(tracks, dict):
            return album
        items = list(tracks.get("items") or [])
        next_url = tracks.get("next")
        pages = 0
        while isinstance(next_url, str) and next_url and pages < MAX_TRACK_PAGES:
            if not self._on_api_origin(next_url):
                # The bearer token goes with every page: never to a host the API did not name as itself.
                raise BadResponse(f"album tracks: the next page {next_url[:80]!r} is not on {self.base}")
            page = self._object(next_url)
            items.extend(page.get("items") or [])
            next_url = page.get("next")
            pages += 1
        return {**album, "tracks": {**tracks, "items": items, "next": None}}

    def _on_api_origin(self, url: str) -> bool:
        page, api = urlsplit(url), urlsplit(self.base)
        return (page.scheme.lower(), page.netloc.lower()) == (api.scheme.lower(), api.netloc.lower())


def cover_url(album: dict[str, Any]) -> str | None:
    """The largest image's URL (Spotify lists them widest first, but do not rely on it)."""
    images = [image for image in album.get("images") or [] if isinstance(image, dict) and image.get("url")]
    if not images:
        return None
    best = max(images, key=lambda image: (image.get("width") or 0) * (image.get("height") or 0))
    return str(best["url"])

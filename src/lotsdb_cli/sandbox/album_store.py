"""The sandbox's albums by Spotify id, rendered on demand and kept serialized per market."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from lotsdb_cli.sandbox.album_data import AlbumSpec, album_object, artist_pool, generate_album
from lotsdb_cli.sandbox.albumids import album_ids
from lotsdb_cli.sandbox.messages import to_json_bytes

MAX_RENDERED = 4096


class AlbumStore(Mapping[str, dict[str, Any]]):
    """Album id -> AlbumObject (as served without `market`). Links point at `base_url`."""

    def __init__(self, seed: int, count: int, base_url: str) -> None:
        self._seed = seed
        self.ids = album_ids(seed, count)
        self._index_of = {album_id: index for index, album_id in enumerate(self.ids)}
        self._artists = artist_pool(seed)
        self._specs: dict[str, AlbumSpec] = {}
        self._rendered: dict[tuple[str, str | None], bytes] = {}
        self._lock = threading.Lock()
        self.base_url = base_url

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __contains__(self, album_id: object) -> bool:
        return album_id in self._index_of

    def __getitem__(self, album_id: str) -> dict[str, Any]:
        spec = self.spec(album_id)
        if spec is None:
            raise KeyError(album_id)
        return album_object(spec, self.base_url, None)

    def spec(self, album_id: str) -> AlbumSpec | None:
        spec = self._specs.get(album_id)
        if spec is None:
            index = self._index_of.get(album_id)
            if index is None:
                return None
            spec = self._specs.setdefault(album_id, generate_album(self._seed, index, album_id, self._artists))
        return spec

    def body(self, album_id: str, market: str | None) -> bytes | None:
        """The serialized AlbumObject, or None for an unknown id."""
        key = (album_id, market)
        body = self._rendered.get(key)
        if body is None:
            spec = self.spec(album_id)
            if spec is None:
                return None
            body = to_json_bytes(album_object(spec, self.base_url, market))
            with self._lock:
                if len(self._rendered) >= MAX_RENDERED:
                    self._rendered.clear()
                self._rendered[key] = body
        return body

    def forget_rendered(self) -> None:
        """Drop serialized bodies (their links embed `base_url`, which changed)."""
        with self._lock:
            self._rendered.clear()

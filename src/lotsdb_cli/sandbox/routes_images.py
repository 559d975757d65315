"""Album covers, served like Spotify's image CDN: no token, long-lived caching, one generated PNG
per album and size (`cover_art`), 404 for a key that names no cover."""

from __future__ import annotations

import threading
import weakref

from lotsdb_cli.sandbox.album_data import COVER_SIZES, cover_key
from lotsdb_cli.sandbox.album_store import AlbumStore
from lotsdb_cli.sandbox.cover_art import cover_png
from lotsdb_cli.sandbox.messages import Response
from lotsdb_cli.sandbox.routing import Call, Route
from lotsdb_cli.sandbox.services import IMAGES

# A cover never changes under its key, as on Spotify's CDN.
CACHE_CONTROL = "public, max-age=31536000, immutable"

CoverIndex = dict[str, tuple[str, int]]  # image key -> (album id, size)
# By id() of the sandbox's album store (a Mapping, so not hashable), with a weak reference to
# tell a store from a later one that happens to get the same id.
_indexes: dict[int, tuple[weakref.ref[AlbumStore], CoverIndex]] = {}
_indexes_lock = threading.Lock()


def cover_index(albums: AlbumStore) -> CoverIndex:
    """The covers of every album of `albums` that has one, by image key; built on first use."""
    with _indexes_lock:
        entry = _indexes.get(id(albums))
        if entry is None or entry[0]() is not albums:
            for key in [key for key, (store, _) in _indexes.items() if store() is None]:
                del _indexes[key]
            entry = (weakref.ref(albums), _build_index(albums))
            _indexes[id(albums)] = entry
        return entry[1]


def _build_index(albums: AlbumStore) -> CoverIndex:
    index: CoverIndex = {}
    for album_id in albums.ids:
        spec = albums.spec(album_id)
        if spec is not None and spec.has_cover:
            index.update((cover_key(album_id, size), (album_id, size)) for size in COVER_SIZES)
    return index


def get_image(call: Call) -> Response:
    found = cover_index(call.state.data.albums).get(call.params["key"])
    if found is None:
        return Response(404, b"Not Found\n", "text/plain; charset=utf-8", {"Cache-Control": "no-store"})
    album_id, size = found
    headers = {"Cache-Control": CACHE_CONTROL, "Access-Control-Allow-Origin": "*"}
    return Response(200, cover_png(album_id, size), "image/png", headers)


def image_routes() -> list[Route]:
    return [Route("GET", "/image/{key}", IMAGES, get_image)]

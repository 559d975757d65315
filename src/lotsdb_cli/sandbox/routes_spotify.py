"""The Spotify Web API's album endpoints, as a Development Mode app sees them."""

from __future__ import annotations

import re
from collections.abc import Callable

from lotsdb_cli.sandbox.album_data import track_page
from lotsdb_cli.sandbox.lexical import ascii_integer
from lotsdb_cli.sandbox.messages import Response, json_response
from lotsdb_cli.sandbox.problems import spotify_error
from lotsdb_cli.sandbox.routing import Call, Route
from lotsdb_cli.sandbox.services import SPOTIFY
from lotsdb_cli.sandbox.tokens import SPOTIFY as SPOTIFY_REALM

ALBUM_ID = re.compile(r"[0-9A-Za-z]{22}")
MARKET = re.compile(r"[A-Z]{2}")
MAX_BATCH_IDS = 20
DEFAULT_TRACK_LIMIT = 20
MAX_TRACK_LIMIT = 50
MAX_OFFSET = 2**31 - 1  # a Java int, as Spotify's services read it


class SpotifyRequestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _market(call: Call) -> str | None:
    values = call.request.query().get("market")
    if not values or not values[0]:
        return None
    if not MARKET.fullmatch(values[0]):
        raise SpotifyRequestError(400, "Invalid market code")
    return values[0]


def _checked_album_id(raw: str) -> str:
    if not ALBUM_ID.fullmatch(raw):
        raise SpotifyRequestError(400, "Invalid base62 id")
    return raw


def _int_query(call: Call, name: str, default: int) -> int:
    values = call.request.query().get(name)
    if not values or not values[0]:
        return default
    number = ascii_integer(values[0])
    if number is None:
        raise SpotifyRequestError(400, f"Invalid {name}")
    return number


def get_album(call: Call) -> Response:
    album_id = _checked_album_id(call.params["id"])
    body = call.state.data.albums.body(album_id, _market(call))
    if body is None:
        return spotify_error(404, "Resource not found")
    return Response(200, body)


def get_album_tracks(call: Call) -> Response:
    album_id = _checked_album_id(call.params["id"])
    market = _market(call)
    limit = _int_query(call, "limit", DEFAULT_TRACK_LIMIT)
    offset = _int_query(call, "offset", 0)
    if not 1 <= limit <= MAX_TRACK_LIMIT:
        raise SpotifyRequestError(400, "Invalid limit")
    if not 0 <= offset <= MAX_OFFSET:
        raise SpotifyRequestError(400, "Invalid offset")
    albums = call.state.data.albums
    spec = albums.spec(album_id)
    if spec is None:
        return spotify_error(404, "Resource not found")
    return json_response(200, track_page(spec, albums.base_url, market, offset, limit))


def get_several_albums(call: Call) -> Response:
    if not call.state.knobs.spotify_batch:
        return spotify_error(403, "Forbidden")
    raw_ids = (call.request.query().get("ids") or [""])[0]
    album_ids = [part for part in raw_ids.split(",") if part]
    if not album_ids:
        raise SpotifyRequestError(400, "invalid id")
    if len(album_ids) > MAX_BATCH_IDS:
        raise SpotifyRequestError(400, "Too many ids requested")
    market = _market(call)
    albums = call.state.data.albums
    bodies = [albums.body(_checked_album_id(album_id), market) for album_id in album_ids]
    # Splice the cached album bodies instead of decoding and re-encoding them.
    items = b",".join(body if body is not None else b"null" for body in bodies)
    return Response(200, b'{"albums":[' + items + b"]}")


def spotify_routes() -> list[Route]:
    def route(template: str, handler: Callable[[Call], Response]) -> Route:
        return Route("GET", template, SPOTIFY, handler, realm=SPOTIFY_REALM)

    return [
        route("/v1/albums", get_several_albums),
        route("/v1/albums/{id}", get_album),
        route("/v1/albums/{id}/tracks", get_album_tracks),
    ]

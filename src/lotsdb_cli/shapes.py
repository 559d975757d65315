"""The shapes the contracts promise, checked before an answer is used or cached.

Each check returns a one-line description of what is wrong, or None. An answer that fails is not
cached (so the next run asks again) and fails loudly instead of turning into "0 lots" or a crash
further on. Fields are checked where the code reads them: a field that is missing or null is left
to the code (which reads it with a default); one that is there must have the contract's type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], str | None]
SHOWN_PROBLEMS = 5


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# A field's type: a test and how to name it in a message.
Kind = tuple[Callable[[Any], bool], str]
STRING: Kind = (lambda value: isinstance(value, str), "a string")
INTEGER: Kind = (is_id, "an integer")
NUMBER: Kind = (_is_number, "a number")
BOOLEAN: Kind = (lambda value: isinstance(value, bool), "a boolean")
OBJECT: Kind = (lambda value: isinstance(value, dict), "an object")
KINDS: dict[type, Kind] = {str: STRING, int: INTEGER, float: NUMBER, bool: BOOLEAN}

# LotDataDto's fields in the contract's order, with the JSON type of each (all nullable).
LOT_DATA_FIELDS: dict[str, type] = {
    "Qty": int,
    "L": float,
    "W": float,
    "H": float,
    "Wgt": float,
    "value": float,
    "Cpack": str,
    "description": str,
    "forceCrate": bool,
    "ItemID": str,
    "Notes": str,
    "notedConditions": str,
    "doNotTip": bool,
    "commodityId": str,
}
Fields = Mapping[str, Kind]


def fields(data: dict[str, Any], expected: Fields, where: str = "") -> str | None:
    """The first field of `data` that is there, not null, and not of its expected kind."""
    for name, (test, label) in expected.items():
        value = data.get(name)
        if value is not None and not test(value):
            return f"`{where}{name}` should be {label}, got {_kind(value)}"
    return None


def objects(value: Any, each: Callable[[dict[str, Any], str], str | None], where: str) -> str | None:
    """`value` (not null) is a list of objects, each of which passes `each` (given its path)."""
    if not isinstance(value, list):
        return f"`{where}` should be a list, got {_kind(value)}"
    for position, item in enumerate(value):
        path = f"{where}[{position}]"
        if not isinstance(item, dict):
            return f"`{path}` should be an object, got {_kind(item)}"
        problem = each(item, path + ".")
        if problem is not None:
            return problem
    return None


def _with_fields(expected: Fields) -> Callable[[dict[str, Any], str], str | None]:
    return lambda item, where: fields(item, expected, where)


def entity(what: str, expected_id: int | str | None = None) -> Check:
    """An object (`what`: SellerExpandedDto ...) whose `id`, when present, is the one asked for."""

    def check(data: Any) -> str | None:
        if not isinstance(data, dict):
            return f"expected {what} (a JSON object), got {_kind(data)}"
        if "id" in data and data["id"] is not None:
            found = data["id"]
            if isinstance(expected_id, int) and not is_id(found):
                return f"{what} has a non-integer id {str(found)[:40]!r}"
            if expected_id is not None and found != expected_id:
                return f"asked for {expected_id}, got {what} {str(found)[:40]}"
        return None

    return check


# -- Catalog API ---------------------------------------------------------------------------

LOT_DATA: Fields = {name: KINDS[kind] for name, kind in LOT_DATA_FIELDS.items()}
_LOT_FIELDS: Fields = {"customerItemId": STRING, "initialData": OBJECT}
_LOT_LISTS: dict[str, Callable[[dict[str, Any], str], str | None]] = {
    "overridenData": _with_fields(LOT_DATA),
    "catalogs": _with_fields({"catalogId": INTEGER, "lotNumber": STRING}),
    "imageLinks": _with_fields({"id": INTEGER, "link": STRING}),
}


def lot(lot_id: int | None = None) -> Check:
    """LotDto: an integer `id` (the one asked for), and every field of the contract's type."""

    def check(data: Any) -> str | None:
        if not isinstance(data, dict):
            return f"expected LotDto (a JSON object), got {_kind(data)}"
        found = data.get("id")
        if not is_id(found):
            return "LotDto has no `id`" if found is None else f"LotDto has a non-integer id {str(found)[:40]!r}"
        if lot_id is not None and found != lot_id:
            return f"asked for {lot_id}, got LotDto {str(found)[:40]}"
        problem = fields(data, _LOT_FIELDS)
        if problem is None and isinstance(data.get("initialData"), dict):
            problem = fields(data["initialData"], LOT_DATA, "initialData.")
        for name, each in _LOT_LISTS.items():
            if problem is None and data.get(name) is not None:
                problem = objects(data[name], each, name)
        return problem

    return check


def event(event_id: int | None = None) -> Check:
    """CatalogExpandedDto: `lots` is null or a list of {id: integer, lotNumber}."""
    base = entity("CatalogExpandedDto", event_id)

    def check(data: Any) -> str | None:
        problem = base(data)
        if problem is not None:
            return problem
        lots = data.get("lots")
        if lots is None:
            return None
        if not isinstance(lots, list):
            return f"`lots` should be a list, got {_kind(lots)}"
        unusable = [str(position) for position, entry in enumerate(lots) if not _lot_entry(entry)]
        if unusable:
            shown = ", ".join(unusable[:SHOWN_PROBLEMS]) + (" ..." if len(unusable) > SHOWN_PROBLEMS else "")
            return f"{len(unusable)} of {len(lots)} `lots` entries have no integer id (positions {shown})"
        return None

    return check


def _lot_entry(entry: Any) -> bool:
    return isinstance(entry, dict) and is_id(entry.get("id")) and entry["id"] > 0


def page(what: str) -> Check:
    """A paginated list: an object whose `items` is null or a list of objects."""

    def check(data: Any) -> str | None:
        if not isinstance(data, dict):
            return f"expected a page of {what} (a JSON object), got {_kind(data)}"
        items = data.get("items")
        return None if items is None else objects(items, lambda item, where: None, "items")

    return check


# -- Spotify -------------------------------------------------------------------------------

_URLS: Fields = {"spotify": STRING}
_ARTISTS = _with_fields({"name": STRING})


def _urls(item: dict[str, Any], where: str) -> str | None:
    value = item.get("external_urls")
    if value is None:
        return None
    if not isinstance(value, dict):
        return f"`{where}external_urls` should be an object, got {_kind(value)}"
    return fields(value, _URLS, f"{where}external_urls.")


def _track(track: dict[str, Any], where: str) -> str | None:
    """SimplifiedTrackObject, in what `albums show` reads of it."""
    problem = fields(track, {"name": STRING, "track_number": INTEGER, "duration_ms": INTEGER}, where)
    if problem is None and track.get("artists") is not None:
        problem = objects(track["artists"], _ARTISTS, f"{where}artists")
    return problem


def tracks_page(data: Any) -> str | None:
    """PagingSimplifiedTrackObject: `items` a list of track objects, `next` a URL or null, `total` an integer."""
    if not isinstance(data, dict):
        return f"expected a page of tracks (a JSON object), got {_kind(data)}"
    return _paging(data, "")


def _paging(data: dict[str, Any], where: str) -> str | None:
    problem = fields(data, {"next": STRING, "total": INTEGER}, where)
    if problem is None and data.get("items") is not None:
        problem = objects(data["items"], _track, f"{where}items")
    return problem


def album_problem(album: Any) -> str | None:
    """AlbumObject, in every field lotsdb reads (stored, shown, or used to follow its tracks)."""
    if not isinstance(album, dict):
        return f"expected a Spotify album (a JSON object), got {_kind(album)}"
    scalars = {"id": STRING, "name": STRING, "release_date": STRING, "total_tracks": INTEGER}
    problem = fields(album, scalars) or _urls(album, "")
    if problem is None and album.get("artists") is not None:
        problem = objects(album["artists"], _ARTISTS, "artists")
    if problem is None and album.get("images") is not None:
        problem = objects(album["images"], _with_fields({"url": STRING, "width": INTEGER, "height": INTEGER}), "images")
    tracks = album.get("tracks")
    if problem is None and tracks is not None:
        problem = (
            _paging(tracks, "tracks.")
            if isinstance(tracks, dict)
            else f"`tracks` should be an object, got {_kind(tracks)}"
        )
    return problem


def spotify_album(album_id: str) -> Check:
    # Not held to the id asked for: Spotify may answer with the album an old id was relinked to.
    return album_problem


def spotify_albums(data: Any) -> str | None:
    """The batch answer's frame; each album in it is checked on its own (a bad one fails alone)."""
    if not isinstance(data, dict):
        return f"expected {{albums: [...]}}, got {_kind(data)}"
    albums = data.get("albums")
    if not isinstance(albums, list):
        return f"`albums` should be a list, got {_kind(albums)}"
    return None

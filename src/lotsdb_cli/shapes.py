"""The shapes the contracts promise, checked before an answer is used or cached.

Each check returns a one-line description of what is wrong, or None. An answer that fails is not
cached (so the next run asks again) and fails loudly instead of turning into "0 lots".
"""

from __future__ import annotations

from collections.abc import Callable
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


def entity(what: str, expected_id: int | str | None = None) -> Check:
    """An object (`what`: LotDto, SellerExpandedDto ...) whose `id`, when present, is the one asked for."""

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
        if items is not None and not isinstance(items, list):
            return f"`items` should be a list, got {_kind(items)}"
        return None

    return check


def spotify_album(album_id: str) -> Check:
    # Not held to the id asked for: Spotify may answer with the album an old id was relinked to.
    return entity("a Spotify album")


def spotify_albums(data: Any) -> str | None:
    if not isinstance(data, dict):
        return f"expected {{albums: [...]}}, got {_kind(data)}"
    albums = data.get("albums")
    if not isinstance(albums, list):
        return f"`albums` should be a list, got {_kind(albums)}"
    return None


tracks_page = page("tracks")

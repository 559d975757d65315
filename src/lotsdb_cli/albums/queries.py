"""The SQL the album store builds: filters, listing order, the gallery's columns, and small helpers."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from lotsdb_cli.albums.ids import ALBUM_ID_LENGTH


def text_contains(haystack: str | None, needle: str) -> bool:
    """Case-insensitive, literal substring test used by every album filter."""
    return haystack is not None and needle.casefold() in haystack.casefold()


def enable_wal(conn: sqlite3.Connection, busy_timeout: float) -> None:
    """Switch to WAL, retrying: the switch fails at once, without waiting for the busy
    timeout, while another process opens the same new database."""
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def local_album_id(ref: str | int) -> int | None:
    if isinstance(ref, int):
        return ref
    text = ref.strip()
    # A 22-digit text would be a (very unlikely) Spotify id, never a local row id.
    if text.isascii() and text.isdigit() and len(text) < ALBUM_ID_LENGTH:
        return int(text)
    return None


ID_IN_JSON_LIST = "id IN (SELECT value FROM json_each(?))"
# The stored Spotify link is read only for an album without an id to build one from (rare: an
# album gets its Spotify object by id). Python's json writes NaN, which SQLite refuses: such an
# album just goes without a link instead of failing the whole query.
CARD_COLUMNS = (
    "id, spotify_id, artist, title, genre, year, cover_url, not_found, "
    "CASE WHEN spotify_id IS NULL AND json_valid(metadata_json) "
    "THEN json_extract(metadata_json, '$.external_urls.spotify') END AS spotify_url"
)


def list_query(
    columns: str,
    *,
    artist: str | None,
    genre: str | None,
    missing_cover: bool,
    limit: int | None,
    among: Sequence[int] | None = None,
) -> tuple[str, list[Any]]:
    """The SELECT of `list` (and of the gallery): filters, order, limit."""
    clauses, params = text_filters(artist=artist, genre=genre)
    if missing_cover:
        clauses.append("cover_url IS NULL")
    if among is not None:
        clauses.append(ID_IN_JSON_LIST)
        params.append(json.dumps(list(among)))
    sql = f"SELECT {columns} FROM albums" + where(clauses)
    sql += " ORDER BY artist COLLATE NOCASE, year, title COLLATE NOCASE, id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return sql, params


def where(clauses: Sequence[str]) -> str:
    return " WHERE " + " AND ".join(clauses) if clauses else ""


def text_filters(**needles: str | None) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for column, needle in needles.items():
        if needle:
            clauses.append(f"text_contains({column}, ?)")
            params.append(needle)
    return clauses, params


def names_from_metadata(metadata: dict[str, Any]) -> tuple[str | None, str | None, int | None]:
    """Artist(s), title and release year of a Spotify album object, where present."""
    title = (metadata.get("name") or None) if isinstance(metadata.get("name"), str) else None
    artists = metadata.get("artists")
    artists = artists if isinstance(artists, list) else []
    artist_names = [str(artist["name"]) for artist in artists if isinstance(artist, dict) and artist.get("name")]
    release_date = str(metadata.get("release_date") or "")
    year = int(release_date[:4]) if release_date[:4].isascii() and release_date[:4].isdigit() else None
    return (", ".join(artist_names) or None), title, year

"""Plain records shared by the album store and the importer."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

from lotsdb_cli.albums.normalize import norm_key

SPREADSHEET_COLUMNS = ("artist", "title", "genre", "year", "source_url")


@dataclass(frozen=True)
class ImportRow:
    """One valid spreadsheet row; `line` is the physical line where its record starts (1-based)."""

    line: int
    title: str
    artist: str | None = None
    genre: str | None = None
    year: int | None = None
    source_url: str | None = None
    spotify_id: str | None = None

    @cached_property
    def norm_key(self) -> str:
        return norm_key(self.artist, self.title)

    def spreadsheet_values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, column) for column in SPREADSHEET_COLUMNS)


@dataclass
class ImportSummary:
    """What an upsert of spreadsheet rows did to the store."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged


@dataclass(frozen=True)
class Album:
    """One album of the local library, with whatever Spotify enrichment it has."""

    id: int
    spotify_id: str | None
    artist: str | None
    title: str | None
    genre: str | None
    year: int | None
    source_url: str | None
    norm_key: str | None
    metadata_json: str | None
    metadata_fetched_at: float | None
    cover_url: str | None
    cover_fetched_at: float | None
    fetch_error: str | None
    fetch_error_at: float | None
    not_found: bool
    imported_at: float | None  # first imported from a spreadsheet; None if only fetched
    updated_at: float | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Album:
        values = dict(row)
        values["not_found"] = bool(values["not_found"])
        return cls(**values)

    @property
    def metadata(self) -> dict[str, Any] | None:
        """The Spotify album object as stored, or None before the first fetch."""
        return json.loads(self.metadata_json) if self.metadata_json else None

    @property
    def label(self) -> str:
        """`Artist - Title` for messages, whatever of it is known."""
        parts = [part for part in (self.artist, self.title) if part]
        return " - ".join(parts) or (self.spotify_id or f"album {self.id}")

    def needs_fetch(self, max_age: float, *, now: float | None = None) -> bool:
        """True if metadata or cover URL is missing or older than `max_age` seconds.

        An album Spotify answered 404/400 for is not fetched again by this rule; callers that
        want to retry anyway (`--force`) decide so themselves.
        """
        if self.spotify_id is None or self.not_found:
            return False
        if self.metadata_fetched_at is None or self.cover_fetched_at is None:
            return True
        now = time.time() if now is None else now
        oldest = min(self.metadata_fetched_at, self.cover_fetched_at)
        return now - oldest > max_age

    def to_record(self) -> dict[str, Any]:
        """The columns as a flat dict for output (metadata left out; see `metadata`)."""
        record = {name: getattr(self, name) for name in _RECORD_FIELDS}
        record["has_metadata"] = self.metadata_fetched_at is not None
        return record


_RECORD_FIELDS = (
    "id",
    "spotify_id",
    "artist",
    "title",
    "genre",
    "year",
    "source_url",
    "cover_url",
    "metadata_fetched_at",
    "fetch_error",
    "not_found",
    "imported_at",
    "updated_at",
)


@dataclass
class RefreshSelection:
    """The albums a refresh would fetch, and why the others are left alone."""

    to_fetch: list[Album] = field(default_factory=list)
    fresh: list[Album] = field(default_factory=list)
    not_found: list[Album] = field(default_factory=list)
    no_spotify_id: list[Album] = field(default_factory=list)
    unknown_refs: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        """Albums that cannot be fetched at all (no Spotify id, or Spotify said 404/400)."""
        return len(self.no_spotify_id) + len(self.not_found)


@dataclass
class GallerySelection:
    """The albums a gallery shows (local ids, in display order) and those whose cover must be fetched first."""

    album_ids: list[int] = field(default_factory=list)
    to_fetch: list[Album] = field(default_factory=list)
    fresh: int = 0
    skipped: int = 0  # no Spotify id, or Spotify answered 404/400


@dataclass(frozen=True)
class AlbumCard:
    """What a gallery tile shows of one album: the store reads only these, not the Spotify object."""

    id: int
    spotify_id: str | None
    artist: str | None
    title: str | None
    genre: str | None
    year: int | None
    cover_url: str | None
    spotify_url: str | None  # `external_urls.spotify` as stored, read only when there is no spotify_id
    not_found: bool

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> AlbumCard:
        values = dict(row)
        spotify_url = values["spotify_url"]
        values["spotify_url"] = spotify_url if isinstance(spotify_url, str) else None
        values["not_found"] = bool(values["not_found"])
        return cls(**values)


# Every column of an Album but the Spotify object itself, which can be tens of kilobytes an album.
ALBUM_COLUMNS_WITHOUT_METADATA = ", ".join(
    "NULL AS metadata_json" if column.name == "metadata_json" else column.name for column in fields(Album)
)

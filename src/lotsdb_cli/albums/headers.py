"""Which spreadsheet column holds which album field, from loosely written header names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

# Header names after normalization (lower case, letters and digits only), best match first.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "title": ("album", "albumtitle", "title", "albumname", "record", "release", "name"),
    "artist": (
        "artist",
        "artists",
        "albumartist",
        "artistname",
        "band",
        "performer",
        "performers",
    ),
    "genre": ("genre", "genres", "style", "styles"),
    "year": ("year", "releaseyear", "yearreleased", "released", "releasedate", "date"),
    "spotify": (
        "spotify",
        "spotifyurl",
        "spotifylink",
        "spotifyuri",
        "spotifyid",
        "spotifyalbum",
        "spotifyalbumurl",
        "spotifyalbumlink",
        "spotifyalbumid",
        "link",
        "url",
        "uri",
        "albumurl",
        "albumlink",
    ),
}
# When no header is a synonym: a header containing one of these words, in this order.
_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("spotify", "spotify"),
    ("artist", "artist"),
    ("genre", "genre"),
    ("year", "year"),
    ("release", "year"),
    ("title", "title"),
    ("album", "title"),
)
FIELD_LABELS = {
    "title": "Album/Title",
    "artist": "Artist",
    "genre": "Genre",
    "year": "Year",
    "spotify": "Spotify URL",
}
_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]+")
# Longer cells are text, not column names: keywords are not looked for in them.
_MAX_KEYWORD_HEADER = 40


def normalize_header(name: str) -> str:
    """`" Spotify-URL "` -> `spotifyurl`."""
    decomposed = unicodedata.normalize("NFKD", name.replace("\ufeff", ""))
    ascii_only = decomposed.encode("ascii", "ignore").decode()
    return _NOT_ALPHANUMERIC.sub("", ascii_only.casefold())


@dataclass(frozen=True)
class ColumnMap:
    """The index of each recognised field in a header row, and the header itself."""

    header: tuple[str, ...]
    indexes: dict[str, int]

    @property
    def has_title(self) -> bool:
        return "title" in self.indexes

    def header_of(self, field: str) -> str:
        return self.header[self.indexes[field]].strip()

    def describe(self) -> dict[str, str]:
        """Field -> the header text it was read from."""
        return {field: self.header_of(field) for field in self.indexes}


def match_columns(header: Sequence[str]) -> ColumnMap:
    """Map album fields to column indexes; each column serves at most one field."""
    normalized = [normalize_header(name) for name in header]
    indexes: dict[str, int] = {}
    for field, synonyms in SYNONYMS.items():
        for synonym in synonyms:
            index = _first_free(normalized, set(indexes.values()), synonym, exact=True)
            if index is not None:
                indexes[field] = index
                break
    for keyword, field in _KEYWORDS:
        if field not in indexes:
            index = _first_free(normalized, set(indexes.values()), keyword, exact=False)
            if index is not None:
                indexes[field] = index
    return ColumnMap(header=tuple(header), indexes=indexes)


def _first_free(names: list[str], used: set[int], wanted: str, *, exact: bool) -> int | None:
    for index, name in enumerate(names):
        if index in used:
            continue
        if name == wanted if exact else (wanted in name and len(name) <= _MAX_KEYWORD_HEADER):
            return index
    return None

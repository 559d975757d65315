"""One spreadsheet record -> a valid `ImportRow` or a `Reject` that says why not."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lotsdb_cli.albums.headers import ColumnMap
from lotsdb_cli.albums.ids import SpotifyIdError, extract_album_id
from lotsdb_cli.albums.models import ImportRow

MAX_CELL_CHARACTERS = 10_000
MIN_YEAR, MAX_YEAR = 1000, 2100
_FOUR_DIGITS = re.compile(r"(?<!\d)\d{4}(?!\d)")
_DATE_WORD = re.compile(r"[A-Za-z]+")
_DATE_CHARACTERS = re.compile(r"[0-9A-Za-z ,./-]+")
_SPREADSHEET_NUMBER = re.compile(r"\d{4}\.0+")
_MONTHS = frozenset(
    [
        "jan",
        "feb",
        "mar",
        "apr",
        "may",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "january",
        "february",
        "march",
        "april",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ]
)


@dataclass(frozen=True)
class Reject:
    """A record that cannot be imported: where it starts, why, and its cells by header."""

    line: int
    reason: str
    raw: dict[str, str]


@dataclass(frozen=True)
class Duplicate:
    """A record naming the same album as the record at `first_line`."""

    line: int
    first_line: int
    key: str


def raw_cells(header: Sequence[str], cells: Sequence[str]) -> dict[str, str]:
    """The cells keyed by their header (`column N` where a header is blank or missing)."""
    raw: dict[str, str] = {}
    for index, cell in enumerate(cells):
        name = header[index].strip() if index < len(header) else ""
        name = name or f"column {index + 1}"
        while name in raw:
            name = f"{name} ({index + 1})"
        raw[name] = cell
    return raw


def parse_year(text: str) -> int | None:
    """The year in a Year or release-date cell (`1997`, `1997-05-21`, `May 21, 1997`).

    Raises ValueError with the reason when the cell holds something else.
    """
    if not text:
        return None
    if _SPREADSHEET_NUMBER.fullmatch(text):
        text = text.split(".")[0]
    years = _FOUR_DIGITS.findall(text)
    words = _DATE_WORD.findall(text)
    looks_like_date = _DATE_CHARACTERS.fullmatch(text) and all(word.casefold() in _MONTHS for word in words)
    if len(years) != 1 or not looks_like_date:
        raise ValueError(f"year {text!r} is not a 4-digit year or a date")
    year = int(years[0])
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {text!r} is out of range ({MIN_YEAR}-{MAX_YEAR})")
    return year


def convert_record(line: int, cells: Sequence[str], columns: ColumnMap) -> ImportRow | Reject:
    """Validate one non-blank record; every problem of the record is named in the reason."""
    values = {field: _cell(cells, index) for field, index in columns.indexes.items()}
    reasons = [
        f"{columns.header_of(field)} cell is too long ({len(value)} characters, at most {MAX_CELL_CHARACTERS})"
        for field, value in values.items()
        if len(value) > MAX_CELL_CHARACTERS
    ]
    if reasons:
        return Reject(line, "; ".join(reasons), raw_cells(columns.header, cells))
    if len(cells) == 1 and len(columns.header) > 1:
        reasons.append(f"only 1 column where the header has {len(columns.header)}")
    title = values.get("title", "")
    if not title:
        reasons.append(f"no title ({columns.header_of('title')} is empty)")
    year: int | None = None
    try:
        year = parse_year(values.get("year", ""))
    except ValueError as exc:
        reasons.append(str(exc))
    spotify_link = values.get("spotify", "")
    spotify_id: str | None = None
    if spotify_link:
        try:
            spotify_id = extract_album_id(spotify_link)
        except SpotifyIdError as exc:
            reasons.append(str(exc))
    if reasons:
        return Reject(line, "; ".join(reasons), raw_cells(columns.header, cells))
    return ImportRow(
        line=line,
        title=title,
        artist=values.get("artist") or None,
        genre=values.get("genre") or None,
        year=year,
        source_url=spotify_link or None,
        spotify_id=spotify_id,
    )


def _cell(cells: Sequence[str], index: int) -> str:
    return cells[index].strip() if index < len(cells) else ""

"""Builders shared by the album tests."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from lotsdb_cli.sandbox.albumids import album_id

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CSV = REPO_ROOT / "examples" / "albums.csv"
HEADER = ("Artist", "Album", "Genre", "Year", "Spotify URL")


def spotify_id(index: int) -> str:
    """A well-formed album id (those of the seed-1 sandbox)."""
    return album_id(1, index)


def csv_bytes(
    rows: Sequence[Sequence[str]],
    header: Sequence[str] = HEADER,
    *,
    delimiter: str = ",",
    line_ending: str = "\r\n",
    bom: bool = False,
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_ending)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode()

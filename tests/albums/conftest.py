"""Fixtures of the album library tests: a store in tmp_path and CSV builders."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from lotsdb_cli.albums import AlbumStore
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


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "lotsdb.sqlite"


@pytest.fixture
def store(db_path: Path) -> Iterator[AlbumStore]:
    album_store = AlbumStore(db_path)
    yield album_store
    album_store.close()


@pytest.fixture
def sample_bytes() -> bytes:
    return SAMPLE_CSV.read_bytes()

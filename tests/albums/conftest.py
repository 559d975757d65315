"""Fixtures of the album library tests: a store in tmp_path and the sample spreadsheet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lotsdb_cli.albums import AlbumStore

from .helpers import SAMPLE_CSV


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

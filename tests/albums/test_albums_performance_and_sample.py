from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
from pathlib import Path

from lotsdb_cli.albums import AlbumStore, import_albums
from lotsdb_cli.sandbox.albumids import album_ids

from .helpers import REPO_ROOT, SAMPLE_CSV

ROWS = 10_000


def big_spreadsheet() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["Artist", "Album", "Genre", "Year", "Spotify URL"])
    for index, spotify_id in enumerate(album_ids(7, ROWS)):
        link = f"https://open.spotify.com/album/{spotify_id}?si=abc" if index % 4 else ""
        writer.writerow([f"Artist {index % 700}", f"Album {index}", "Rock", 1960 + index % 60, link])
    return buffer.getvalue().encode()


def test_ten_thousand_rows_import_quickly(tmp_path: Path) -> None:
    data = big_spreadsheet()
    with AlbumStore(tmp_path / "albums.sqlite") as store:
        started = time.perf_counter()
        first = import_albums(store, data, "big.csv")
        first_seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = import_albums(store, data, "big.csv")
        again_seconds = time.perf_counter() - started
    assert first.inserted == ROWS and again.unchanged == ROWS
    assert first_seconds < 1.5, f"first import took {first_seconds:.2f}s"
    assert again_seconds < 1.5, f"re-import took {again_seconds:.2f}s"


def test_sample_file_is_what_the_generator_writes(tmp_path: Path) -> None:
    output = tmp_path / "albums.csv"
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "make_sample_albums.py"), str(output)],
        check=True,
        capture_output=True,
    )
    assert output.read_bytes() == SAMPLE_CSV.read_bytes()


def test_sample_file_has_bom_and_crlf() -> None:
    data = SAMPLE_CSV.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfArtist,Album,Genre,Year,Spotify URL\r\n")
    assert data.count(b"\r\n") >= 45

from __future__ import annotations

import contextlib
import csv
import io
import os
import sqlite3
import subprocess
import sys
import threading
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


def test_ten_thousand_rows_import_then_reimport_unchanged(tmp_path: Path) -> None:
    data = big_spreadsheet()
    with AlbumStore(tmp_path / "albums.sqlite") as store:
        first = import_albums(store, data, "big.csv")
        again = import_albums(store, data, "big.csv")
    assert first.inserted == ROWS and again.unchanged == ROWS


def test_rows_are_committed_while_the_input_is_still_being_read(tmp_path: Path) -> None:
    """A pipe that pauses halfway: the rows before the pause are in the database (seen from
    another connection) while the import still waits for the rest."""
    db_path = tmp_path / "albums.sqlite"
    data = big_spreadsheet()
    half = data.index(b"\r\n", len(data) // 2) + 2
    rows_before_pause = data[:half].count(b"\r\n") - 1
    read_end, write_end = os.pipe()
    committed_during_pause: list[int] = []

    def feed() -> None:
        with open(write_end, "wb") as pipe:
            pipe.write(data[:half])
            pipe.flush()
            committed_during_pause.append(wait_for_rows(db_path, minimum=rows_before_pause))
            pipe.write(data[half:])

    writer = threading.Thread(target=feed)
    with AlbumStore(db_path) as store, open(read_end, "rb") as stream:
        writer.start()
        report = import_albums(store, stream, "<stdin>")
    writer.join()
    assert committed_during_pause == [rows_before_pause]
    assert report.inserted == ROWS


def wait_for_rows(db_path: Path, minimum: int, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db_path.exists():
            with contextlib.closing(sqlite3.connect(db_path)) as conn:
                count = int(conn.execute("SELECT count(*) FROM albums").fetchone()[0])
            if count >= minimum:
                return count
        time.sleep(0.02)
    raise AssertionError(f"fewer than {minimum} rows in {db_path} after {timeout}s")


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

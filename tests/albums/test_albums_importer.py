from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest

from lotsdb_cli.albums import AlbumStore, Reject, import_albums, write_reject_log
from lotsdb_cli.albums.importer import google_sheets_csv_url
from lotsdb_cli.errors import InvalidInput, LotsdbError
from lotsdb_cli.sandbox.albumids import album_id

from .helpers import csv_bytes, spotify_id

KEY = "1AbC-dEf_GhIjKlMnOpQrStUvWxYz0123456789"
EXPORT = f"https://docs.google.com/spreadsheets/d/{KEY}/export?format=csv"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=123", f"{EXPORT}&gid=123"),
        (f"https://docs.google.com/spreadsheets/d/{KEY}/edit?usp=sharing", f"{EXPORT}&gid=0"),
        (f"https://docs.google.com/spreadsheets/d/{KEY}/edit?gid=77#gid=77", f"{EXPORT}&gid=77"),
        (f"https://docs.google.com/spreadsheets/d/{KEY}/view", f"{EXPORT}&gid=0"),
        (f"https://docs.google.com/spreadsheets/d/{KEY}", f"{EXPORT}&gid=0"),
        (f"https://docs.google.com/spreadsheets/d/{KEY}/", f"{EXPORT}&gid=0"),
        (f"https://docs.google.com/spreadsheets/u/1/d/{KEY}/edit#gid=5", f"{EXPORT}&gid=5"),
        (f"  {EXPORT}&gid=9  ", f"{EXPORT}&gid=9"),
        (
            "https://docs.google.com/spreadsheets/d/e/2PACX-1vQabc/pubhtml?gid=4",
            "https://docs.google.com/spreadsheets/d/e/2PACX-1vQabc/pub?output=csv&gid=4",
        ),
        (
            "https://docs.google.com/spreadsheets/d/e/2PACX-1vQabc/pub?output=csv",
            "https://docs.google.com/spreadsheets/d/e/2PACX-1vQabc/pub?output=csv",
        ),
        ("https://example.com/albums.csv", None),
        ("https://docs.google.com/document/d/abc/edit", None),
        ("albums.csv", None),
        ("-", None),
    ],
)
def test_google_sheets_csv_url(url: str, expected: str | None) -> None:
    assert google_sheets_csv_url(url) == expected


def test_import_sample_then_reimport_is_all_unchanged(store: AlbumStore, sample_bytes: bytes) -> None:
    first = import_albums(store, sample_bytes, "examples/albums.csv")
    assert first.counts() == {
        "inserted": 42,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 1,
        "invalid": 4,
    }
    assert len(first.spotify_ids) == 41 == len(set(first.spotify_ids))
    assert album_id(99, 0) in first.spotify_ids
    assert set(first.spotify_ids) >= {album_id(1, index) for index in range(40)}
    assert [reject.line for reject in first.rejects] == [10, 15, 21, 28]
    second = import_albums(store, sample_bytes, "examples/albums.csv")
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 42)
    assert store.count() == 42


def test_reimport_of_an_edited_sheet_keeps_enrichment(store: AlbumStore) -> None:
    rows = [
        ("Nadia Okafor", "Copper Sun", "Afro", "2019", spotify_id(0)),
        ("Polar Static", "Frostbyte", "Electronic", "2016", ""),
    ]
    import_albums(store, csv_bytes(rows), "v1.csv")
    store.store_metadata(spotify_id(0), {"name": "Copper Sun"}, "https://i.scdn.co/image/c")
    edited = [("Nadia Okafor", "Copper Sun", "Afrobeat", "2019", spotify_id(0)), rows[1]]
    report = import_albums(store, csv_bytes(edited), "v2.csv")
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 1)
    album = store.get(spotify_id(0))
    assert album is not None
    assert album.genre == "Afrobeat"
    assert album.metadata == {"name": "Copper Sun"}
    assert album.cover_url == "https://i.scdn.co/image/c"


def test_dry_run_without_a_store_creates_no_database(tmp_path: Path, sample_bytes: bytes) -> None:
    report = import_albums(None, sample_bytes, "examples/albums.csv", dry_run=True)
    assert report.dry_run
    assert report.counts()["inserted"] == 42
    assert report.counts()["invalid"] == 4
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="needs a store"):
        import_albums(None, sample_bytes, "x.csv")


def test_dry_run_with_a_store_writes_nothing(store: AlbumStore, db_path: Path) -> None:
    import_albums(store, csv_bytes([("A", "Old", "", "", "")]), "a.csv")
    with sqlite3.connect(db_path) as conn:
        before = conn.execute("SELECT * FROM albums").fetchall()
    data = csv_bytes([("A", "Old", "Rock", "", ""), ("B", "New", "", "", spotify_id(3))])
    report = import_albums(store, data, "b.csv", dry_run=True)
    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 0)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT * FROM albums").fetchall() == before


def test_unusable_input_raises_before_touching_the_store(store: AlbumStore) -> None:
    with pytest.raises(InvalidInput):
        import_albums(store, b"\x00\x01\x02binary", "blob.bin")
    assert store.count() == 0


def test_reject_log(tmp_path: Path, sample_bytes: bytes) -> None:
    report = import_albums(None, sample_bytes, "examples/albums.csv", dry_run=True)
    log = tmp_path / "rejects.csv"
    write_reject_log(log, report.rejects)
    with log.open(newline="", encoding="utf-8") as handle:
        logged = list(csv.DictReader(handle))
    assert list(logged[0]) == ["line", "reason", "Artist", "Album", "Genre", "Year", "Spotify URL"]
    assert [entry["line"] for entry in logged] == ["10", "15", "21", "28"]
    assert logged[3]["Year"] == "19x5"
    assert "track link" in logged[1]["reason"]
    assert [path.name for path in tmp_path.iterdir()] == ["rejects.csv"]


def test_reject_log_cells_cannot_run_as_formulas(tmp_path: Path) -> None:
    rejects = [Reject(2, "no title", {"Artist": '=HYPERLINK("http://x")', "Album": ""})]
    log = tmp_path / "r.csv"
    write_reject_log(log, rejects)
    with log.open(newline="", encoding="utf-8") as handle:
        (entry,) = csv.DictReader(handle)
    assert entry["Artist"] == '\'=HYPERLINK("http://x")'


def test_reject_log_in_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LotsdbError, match="cannot write"):
        write_reject_log(tmp_path / "missing" / "r.csv", [])

from __future__ import annotations

import csv
import io
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from lotsdb_cli.albums import AlbumStore, Duplicate, ImportReport, Reject, RejectLog, import_albums
from lotsdb_cli.albums.importer import google_sheets_csv_url
from lotsdb_cli.errors import InvalidInput
from lotsdb_cli.sandbox.albumids import album_id

from .helpers import HEADER, csv_bytes, spotify_id

ID0, ID1 = spotify_id(0), spotify_id(1)

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
    rejects: list[Reject] = []
    duplicates: list[Duplicate] = []
    first = import_albums(
        store,
        sample_bytes,
        "examples/albums.csv",
        on_reject=rejects.append,
        on_duplicate=duplicates.append,
        keep_spotify_ids=True,
    )
    assert first.counts() == {
        "inserted": 42,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 1,
        "invalid": 4,
    }
    assert first.completed and first.last_line == 50  # the last record
    assert len(first.spotify_ids) == 41 == len(set(first.spotify_ids))
    assert album_id(99, 0) in first.spotify_ids
    assert set(first.spotify_ids) >= {album_id(1, index) for index in range(40)}
    assert [reject.line for reject in rejects] == first.reject_lines == [10, 15, 21, 28]
    assert [(d.line, d.first_line, d.key) for d in duplicates] == [(34, 3, album_id(1, 1))]
    second = import_albums(store, sample_bytes, "examples/albums.csv")
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 42)
    assert second.spotify_ids == []  # only kept when asked for
    assert store.count() == 42


def test_reimport_of_an_edited_sheet_keeps_enrichment(store: AlbumStore) -> None:
    rows = [
        ("Nadia Okafor", "Copper Sun", "Afro", "2019", ID0),
        ("Polar Static", "Frostbyte", "Electronic", "2016", ""),
    ]
    import_albums(store, csv_bytes(rows), "v1.csv")
    store.store_metadata(ID0, {"name": "Copper Sun"}, "https://i.scdn.co/image/c")
    edited = [("Nadia Okafor", "Copper Sun", "Afrobeat", "2019", ID0), rows[1]]
    report = import_albums(store, csv_bytes(edited), "v2.csv")
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 1)
    album = store.get(ID0)
    assert album is not None
    assert album.genre == "Afrobeat"
    assert album.metadata == {"name": "Copper Sun"}
    assert album.cover_url == "https://i.scdn.co/image/c"


# -- duplicates within one file ------------------------------------------------------------


def duplicates_of(
    store: AlbumStore | None, rows: Sequence[Sequence[str]]
) -> tuple[list[tuple[int, int, str]], ImportReport]:
    found: list[Duplicate] = []
    report = import_albums(store, csv_bytes(rows), "t.csv", dry_run=store is None, on_duplicate=found.append)
    return [(d.line, d.first_line, d.key) for d in found], report


def test_duplicates_in_file_are_counted_once(store: AlbumStore) -> None:
    rows = [
        ("Saltwater Choir", "Low Tide Hymns", "Folk", "2009", ID0),  # 2
        ("Polar Static", "Frostbyte", "", "", ""),  # 3
        ("Saltwater Choir", "Low Tide Hymns", "Folk", "2009", f"spotify:album:{ID0}"),  # 4
        ("POLAR STATIC", "Frostbyte!", "", "", ""),  # 5: same artist+title, normalized
        ("saltwater choir", "low tide hymns", "", "", ""),  # 6: no id, same as line 2
        ("Other", "Low Tide Hymns", "", "", ID1),  # 7: same title, other album
    ]
    found, report = duplicates_of(store, rows)
    assert found == [(4, 2, ID0), (5, 3, "POLAR STATIC - Frostbyte!"), (6, 2, "saltwater choir - low tide hymns")]
    assert report.counts()["inserted"] == 3 == store.count()
    (first,) = [album for album in store.list() if album.spotify_id == ID0]
    assert (first.genre, first.title) == ("Folk", "Low Tide Hymns")  # the first row wins


def test_a_link_in_a_later_row_completes_the_album_an_earlier_row_named_without_one(store: AlbumStore) -> None:
    rows = [("Polar Static", "Frostbyte", "", "", ""), ("Polar Static", "Frostbyte", "Electronic", "", ID0)]
    found, report = duplicates_of(store, rows)
    assert found == [(3, 2, ID0)]
    assert report.counts() == {"inserted": 1, "updated": 0, "unchanged": 0, "duplicates": 1, "invalid": 0}
    (album,) = store.list()
    assert (album.spotify_id, album.genre) == (ID0, "Electronic")


def test_a_completed_album_that_existed_counts_as_updated(store: AlbumStore) -> None:
    import_albums(store, csv_bytes([("Polar Static", "Frostbyte", "", "", "")]), "v1.csv")
    rows = [("Polar Static", "Frostbyte", "", "", ""), ("Polar Static", "Frostbyte", "", "", ID0)]
    found, report = duplicates_of(store, rows)
    assert found == [(3, 2, ID0)]
    assert report.counts() == {"inserted": 0, "updated": 1, "unchanged": 0, "duplicates": 1, "invalid": 0}
    assert [album.spotify_id for album in store.list()] == [ID0]


def test_accents_and_case_do_not_make_different_albums(store: AlbumStore) -> None:
    found, _ = duplicates_of(store, [("Beyoncé", "Lemonade", "", "", ""), ("BEYONCE", "lemonade", "", "", "")])
    assert found == [(3, 2, "BEYONCE - lemonade")]


def test_a_dry_run_without_a_database_finds_the_same_duplicates(tmp_path: Path) -> None:
    rows = [("A", "T", "", "", ""), ("a", "t!", "", "", ""), ("B", "U", "", "", ID0), ("C", "V", "", "", ID0)]
    found, report = duplicates_of(None, rows)
    assert found == [(3, 2, "a - t!"), (5, 4, ID0)]
    assert report.counts()["inserted"] == 2
    assert list(tmp_path.iterdir()) == []


# -- the counts are what the database holds -------------------------------------------------


def test_counts_match_the_database_after_a_mixed_import(store: AlbumStore, db_path: Path) -> None:
    import_albums(
        store,
        csv_bytes([("Kept", "Same", "", "", ""), ("Changed", "Old", "Rock", "", ""), ("Linked", "Later", "", "", "")]),
        "v1.csv",
    )
    before = table(db_path)
    rows = [
        ("Kept", "Same", "", "", ""),  # unchanged
        ("Changed", "Old", "Jazz", "", ""),  # updated
        ("New", "One", "", "", ""),  # inserted
        ("Linked", "Later", "", "", ""),  # unchanged ...
        ("Linked", "Later", "", "", ID1),  # ... until this duplicate gives it its link: updated
        ("New", "One", "", "", ""),  # duplicate
        ("", "", "", "20x0", ""),  # invalid
    ]
    report = import_albums(store, csv_bytes(rows), "v2.csv")
    after = table(db_path)
    inserted = [key for key in after if key not in before]
    updated = [key for key in after if key in before and after[key] != before[key]]
    unchanged = [key for key in after if key in before and after[key] == before[key]]
    assert report.counts() == {
        "inserted": len(inserted),
        "updated": len(updated),
        "unchanged": len(unchanged),
        "duplicates": 2,
        "invalid": 1,
    }
    assert (len(inserted), len(updated), len(unchanged)) == (1, 2, 1)


def table(db_path: Path) -> dict[int, tuple[object, ...]]:
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT id, spotify_id, artist, title, genre, year, source_url FROM albums").fetchall()
    return {row[0]: row[1:] for row in rows}


# -- dry runs ----------------------------------------------------------------------------


def test_dry_run_without_a_store_creates_no_database(tmp_path: Path, sample_bytes: bytes) -> None:
    report = import_albums(None, sample_bytes, "examples/albums.csv", dry_run=True)
    assert report.dry_run
    assert report.counts() == {"inserted": 42, "updated": 0, "unchanged": 0, "duplicates": 1, "invalid": 4}
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="needs a store"):
        import_albums(None, sample_bytes, "x.csv")


def test_dry_run_with_a_store_writes_nothing(store: AlbumStore, db_path: Path) -> None:
    import_albums(store, csv_bytes([("A", "Old", "", "", "")]), "a.csv")
    with sqlite3.connect(db_path) as conn:
        before = conn.execute("SELECT * FROM albums").fetchall()
    data = csv_bytes([("A", "Old", "Rock", "", ""), ("B", "New", "", "", spotify_id(3))] * 3000)
    report = import_albums(store, data, "b.csv", dry_run=True)  # more rows than a batch
    assert (report.inserted, report.updated, report.unchanged, report.duplicates) == (1, 1, 0, 5998)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT * FROM albums").fetchall() == before


def test_unusable_input_raises_before_touching_the_store(store: AlbumStore) -> None:
    with pytest.raises(InvalidInput):
        import_albums(store, b"\x00\x01\x02binary", "blob.bin")
    assert store.count() == 0


# -- progress ------------------------------------------------------------------------------


def test_progress_reports_bytes_and_rows_as_the_file_is_read(store: AlbumStore, tmp_path: Path) -> None:
    rows = [(f"Artist {index}", f"Title {index}", "", "", "") for index in range(20_000)]
    path = tmp_path / "big.csv"
    path.write_bytes(csv_bytes(rows))
    calls: list[tuple[int, int | None, int]] = []
    with path.open("rb") as stream:
        import_albums(store, stream, "big.csv", on_progress=lambda *call: calls.append(call))
    size = path.stat().st_size
    assert len(calls) > 2 and calls[-1] == (size, size, 20_000)
    assert all(total == size for _, total, _ in calls)
    assert [call[0] for call in calls] == sorted(call[0] for call in calls)
    assert [call[2] for call in calls] == sorted(call[2] for call in calls)
    assert 0 < calls[len(calls) // 2][2] < 20_000  # rows were counted while the file was still being read


def test_progress_of_a_stream_of_unknown_size(store: AlbumStore) -> None:
    reader, writer = os_pipe_with(csv_bytes([("A", "T", "", "", "")]))
    calls: list[tuple[int, int | None, int]] = []
    with reader:
        import_albums(store, reader, "<stdin>", on_progress=lambda *call: calls.append(call))
    assert calls[-1][1:] == (None, 1)
    writer.join()


def os_pipe_with(data: bytes) -> tuple[io.BufferedReader, threading.Thread]:
    read_end, write_end = os.pipe()

    def feed() -> None:
        with open(write_end, "wb") as pipe:
            pipe.write(data)

    thread = threading.Thread(target=feed)
    thread.start()
    return open(read_end, "rb"), thread


# -- the reject log ------------------------------------------------------------------------


def test_reject_log(tmp_path: Path, sample_bytes: bytes) -> None:
    log = tmp_path / "rejects.csv"
    with log.open("w", encoding="utf-8", newline="") as stream:
        import_albums(None, sample_bytes, "examples/albums.csv", dry_run=True, reject_log=stream)
    with log.open(newline="", encoding="utf-8") as handle:
        logged = list(csv.DictReader(handle))
    assert list(logged[0]) == ["line", "reason", "Artist", "Album", "Genre", "Year", "Spotify URL"]
    assert [entry["line"] for entry in logged] == ["10", "15", "21", "28"]
    assert logged[3]["Year"] == "19x5"
    assert "track link" in logged[1]["reason"]


def test_reject_log_without_rejects_is_its_header(store: AlbumStore) -> None:
    stream = io.StringIO()
    import_albums(store, csv_bytes([("A", "T", "", "", "")]), "t.csv", reject_log=stream)
    assert stream.getvalue() == "line,reason," + ",".join(HEADER) + "\r\n"


def test_reject_log_cells_cannot_run_as_formulas_and_keep_every_cell() -> None:
    stream = io.StringIO()
    log = RejectLog(stream, ["Artist", "Album", "line"])
    log.write(Reject(2, "no title", {"Artist": '=HYPERLINK("http://x")', "Album": "", "line": "7", "column 4": "x"}))
    header, row = csv.reader(io.StringIO(stream.getvalue()))
    assert header == ["line", "reason", "Artist", "Album", "line (column 3)"]
    assert row == ["2", "no title", '\'=HYPERLINK("http://x")', "", "7", "x"]

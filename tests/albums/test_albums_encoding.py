"""Encodings: a file is UTF-8, UTF-16/32 (by its byte-order mark) or Windows-1252, and a UTF-8 file
with a few Windows-1252 rows keeps every row right. Never mojibake in the database."""

from __future__ import annotations

import codecs
import sqlite3
from pathlib import Path

import pytest

from lotsdb_cli.albums import AlbumStore, Reject, import_albums, parse_csv
from lotsdb_cli.albums.lines import CHUNK_BYTES

HEADER = b"Artist,Album\r\n"


def stored_artists(db_path: Path) -> list[str]:
    with sqlite3.connect(db_path) as conn:
        return [row[0] for row in conn.execute("SELECT artist FROM albums ORDER BY id")]


def test_a_utf8_file_with_one_windows_row_stores_every_row_right(store: AlbumStore, db_path: Path) -> None:
    data = (
        HEADER
        + "Björk,Homogenic\r\n".encode()
        + b"Sigur R\xf3s,Takk\r\n"  # pasted from a Windows program
        + "Motörhead,Ace of Spades\r\n".encode()
    )
    report = import_albums(store, data, "mixed.csv")
    assert stored_artists(db_path) == ["Björk", "Sigur Rós", "Motörhead"]
    assert report.encoding == "utf-8"
    assert "mixed.csv: line 3 is not UTF-8; read as Windows-1252 (cp1252), the rest of the file as UTF-8" in (
        report.warnings
    )


def test_the_warning_names_the_recovered_rows_and_counts_the_rest() -> None:
    windows_rows = b"".join(b"Caf\xe9 %d,Album %d\r\n" % (index, index) for index in range(14))
    data = HEADER + "Björk,Post\r\n".encode() + windows_rows
    result = parse_csv(data, "m.csv")
    assert [row.artist for row in result.rows][:3] == ["Björk", "Café 0", "Café 1"]
    (warning,) = [warning for warning in result.warnings if "Windows-1252" in warning]
    assert warning.startswith("m.csv: lines 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 and 4 more are not UTF-8")


def test_a_line_with_both_utf8_and_windows_bytes_keeps_both() -> None:
    result = parse_csv(HEADER + "Björk".encode() + b",Sigur R\xf3s\r\n", "b.csv")
    assert [(row.artist, row.title) for row in result.rows] == [("Björk", "Sigur Rós")]


def test_a_file_with_no_utf8_at_all_is_read_as_windows_1252(store: AlbumStore, db_path: Path) -> None:
    data = "Artist,Album\r\nSigur Rós,Takk\r\nMotörhead,Ace\r\nBeyoncé,Lemonade \u2013 Deluxe\r\n".encode("cp1252")
    report = import_albums(store, data, "legacy.csv")
    assert stored_artists(db_path) == ["Sigur Rós", "Motörhead", "Beyoncé"]
    assert store.list(artist="Beyoncé")[0].title == "Lemonade \u2013 Deluxe"
    assert report.encoding == "cp1252"
    assert "legacy.csv: not UTF-8 text; read it as Windows-1252 (cp1252) (lines 2, 3, 4)" in report.warnings


def test_one_windows_1252_row_far_down_an_ascii_file_is_named() -> None:
    """ASCII is both encodings: the one row that needed cp1252 is named even when the whole file is read so."""
    data = HEADER + b"".join(b"Band %d,Album %d\r\n" % (n, n) for n in range(30_000)) + b"Sigur R\xf3s,Takk\r\n"
    result = parse_csv(data, "late.csv")
    assert result.rows[-1].artist == "Sigur R\u00f3s"
    assert "late.csv: not UTF-8 text; read it as Windows-1252 (cp1252) (line 30002)" in result.warnings


@pytest.mark.parametrize(("bom", "encoding"), [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")])
def test_utf16_with_a_byte_order_mark(bom: bytes, encoding: str, store: AlbumStore, db_path: Path) -> None:
    rows = "".join(f"Björk {index},Homogenic 🎵 {index}\r\n" for index in range(4000))  # several chunks
    data = bom + f"Artist,Album\r\n{rows}".encode(encoding)
    assert len(data) > 3 * CHUNK_BYTES
    report = import_albums(store, data, "wide.csv")
    assert report.encoding == "utf-16" and report.inserted == 4000
    assert not [warning for warning in report.warnings if "Windows" in warning]
    assert store.list(artist="Björk 3999")[0].title == "Homogenic 🎵 3999"


def test_utf32_with_a_byte_order_mark() -> None:
    result = parse_csv(codecs.BOM_UTF32_LE + "Artist,Album\r\nBjörk,Post\r\n".encode("utf-32-le"), "w.csv")
    assert result.encoding == "utf-32" and [row.artist for row in result.rows] == ["Björk"]


def test_utf8_with_a_byte_order_mark() -> None:
    result = parse_csv(codecs.BOM_UTF8 + "Artist,Album\r\nBjörk,Post\r\n".encode(), "b.csv")
    assert result.encoding == "utf-8" and result.columns["artist"] == "Artist"
    assert [row.artist for row in result.rows] == ["Björk"]
    assert not [warning for warning in result.warnings if "Windows" in warning]


def test_a_utf8_file_with_a_byte_order_mark_and_a_windows_row() -> None:
    result = parse_csv(codecs.BOM_UTF8 + HEADER + "Björk,Post\r\n".encode() + b"Sigur R\xf3s,Takk\r\n", "b.csv")
    assert [row.artist for row in result.rows] == ["Björk", "Sigur Rós"]
    assert result.encoding == "utf-8"


def test_one_windows_byte_in_a_quoted_multiline_cell(store: AlbumStore, db_path: Path) -> None:
    data = (
        HEADER
        + "Björk,Post\r\n".encode()  # 2
        + b'Blue Meridian Trio,"Live at the Blue Room\r\nVol. 2 \x96 Encore"\r\n'  # 3-4, an en dash in cp1252
        + "Sigur Rós,Takk\r\n".encode()  # 5
    )
    report = import_albums(store, data, "multi.csv")
    titles = [album.title for album in store.list()]
    assert "Live at the Blue Room\r\nVol. 2 \u2013 Encore" in titles
    assert stored_artists(db_path) == ["Björk", "Blue Meridian Trio", "Sigur Rós"]
    assert any("line 3 is not UTF-8" in warning for warning in report.warnings)  # where the record starts


def test_bytes_in_no_encoding_make_their_row_invalid_not_replacement_characters(store: AlbumStore) -> None:
    rejects: list[Reject] = []
    data = HEADER + "Björk,Post\r\n".encode() + b"Odd,Ti\x81tle\r\n" + b"Fine,Row\r\n"
    report = import_albums(store, data, "odd.csv", on_reject=rejects.append)
    assert [(reject.line, reject.reason) for reject in rejects] == [
        (3, "holds bytes that are neither UTF-8 nor Windows-1252 text")
    ]
    assert report.inserted == 2
    assert all("\ufffd" not in (album.title or "") for album in store.list())


def test_invalid_utf16_is_a_clear_error() -> None:
    data = codecs.BOM_UTF16_LE + "Artist,Album\r\nA,B\r\n".encode("utf-16-le") + b"\x00\xd8\x41\x00"  # lone surrogate
    with pytest.raises(Exception, match="not valid utf-16 text"):
        parse_csv(data, "bad16.csv")

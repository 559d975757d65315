"""Inputs at the edges: huge cells, wide sheets, odd line endings, files that change or break while
read, interruptions. Each is read to the end with bounded memory, or stopped with a clear error,
and what was committed is what the report says."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest

from lotsdb_cli.albums import AlbumImporter, AlbumStore, Reject, import_albums, parse_csv
from lotsdb_cli.albums.csvparse import MAX_RECORD_BYTES
from lotsdb_cli.albums.importer import BATCH_ROWS
from lotsdb_cli.albums.lines import CHUNK_BYTES
from lotsdb_cli.errors import InvalidInput

HEADER = b"Artist,Album\r\n"
TOO_LONG = MAX_RECORD_BYTES + 1024


def rows_of(count: int, start: int = 0) -> bytes:
    return b"".join(b"Artist %d,Album %d\r\n" % (index, index) for index in range(start, start + count))


def test_a_row_longer_than_the_limit_is_rejected_and_the_next_rows_are_read() -> None:
    data = HEADER + b"A,One\r\n" + b'B,"' + b"x" * TOO_LONG + b'"\r\n' + b"C,Three\r\n"
    result = parse_csv(data, "huge.csv")
    assert [(row.line, row.title) for row in result.rows] == [(2, "One"), (4, "Three")]
    (reject,) = result.rejects
    assert reject.line == 3
    assert f"the row is {TOO_LONG + 6:,} bytes long, more than a row may be (4 MiB)" == reject.reason


def test_a_multiline_cell_longer_than_the_limit_is_skipped_to_where_it_closes() -> None:
    lines = b"\r\n".join([b"y" * 1000] * (TOO_LONG // 1000))
    data = HEADER + b"A,One\r\n" + b'B,"' + lines + b'",tail\r\n' + b"C,Three\r\n"
    first_after = 3 + lines.count(b"\r\n") + 1
    result = parse_csv(data, "tall.csv")
    assert [(row.line, row.title) for row in result.rows] == [(2, "One"), (first_after, "Three")]
    assert [reject.line for reject in result.rejects] == [3]


def test_a_quote_that_never_closes_in_a_long_file_is_named_not_read_into_memory() -> None:
    data = HEADER + b'A,"Open quote\r\n' + rows_of(TOO_LONG // 20)
    result = parse_csv(data, "open.csv")
    assert result.rows == []
    (reject,) = result.rejects
    assert (reject.line, reject.reason) == (
        2,
        "a quoted cell opened on this line is never closed; the rest of the file was read into it",
    )


def test_a_line_without_end_longer_than_the_limit() -> None:
    data = HEADER + b"A,One\r\n" + b"B," + b"z" * TOO_LONG  # no line end, no quote: a cell running to the end
    result = parse_csv(data, "tail.csv")
    assert [row.line for row in result.rows] == [2]
    assert [reject.line for reject in result.rejects] == [3]


def test_ten_thousand_columns(store: AlbumStore) -> None:
    header = ["Artist", "Album", *(f"Extra {index}" for index in range(10_000))]
    valid = ["A", "Wide", *("v" for _ in range(10_000))]
    invalid = ["B", "", *("w" for _ in range(10_000))]
    data = "\r\n".join(",".join(row) for row in (header, valid, invalid)).encode() + b"\r\n"
    log = io.StringIO()
    report = import_albums(store, data, "wide.csv", reject_log=log)
    assert (report.inserted, report.invalid) == (1, 1)
    logged_header, logged_row = log.getvalue().splitlines()
    assert len(logged_header.split(",")) == len(logged_row.split(",")) == 2 + 10_002


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n  \r\n", b"\xef\xbb\xbf"])
def test_an_empty_file(data: bytes) -> None:
    with pytest.raises(InvalidInput, match="is empty"):
        parse_csv(data, "empty.csv")


def test_a_header_only_file_imports_nothing_and_says_so(store: AlbumStore) -> None:
    report = import_albums(store, b"Artist,Album,Year\r\n", "header.csv")
    assert report.counts() == {"inserted": 0, "updated": 0, "unchanged": 0, "duplicates": 0, "invalid": 0}
    assert "header.csv: no rows below the header (line 1)" in report.warnings


def test_a_nul_byte_mid_file_makes_its_row_invalid(store: AlbumStore) -> None:
    rejects: list[Reject] = []
    data = HEADER + rows_of(5000) + b"Bad,Ti\x00tle\r\n" + rows_of(10, start=5000)
    report = import_albums(store, data, "nul.csv", on_reject=rejects.append)
    assert [(reject.line, reject.reason) for reject in rejects] == [
        (5002, "holds a NUL character (binary data, not text)")
    ]
    assert report.inserted == 5010


def test_line_endings_cr_only_and_crlf_split_across_reads() -> None:
    mac = b"Artist,Album\r" + rows_of(8000).replace(b"\r\n", b"\r")
    assert len(mac) > 2 * CHUNK_BYTES
    result = parse_csv(mac, "mac.csv")
    assert (len(result.rows), result.rows[-1].line) == (8000, 8001)
    filler = b"F," + b"x" * (CHUNK_BYTES + 1 - len(HEADER) - 4) + b"\r\n"
    assert (HEADER + filler)[CHUNK_BYTES - 1 : CHUNK_BYTES + 1] == b"\r\n"  # the CR ends the first read
    result = parse_csv(HEADER + filler + rows_of(3), "split.csv")
    assert [row.line for row in result.rows] == [3, 4, 5]
    assert [reject.line for reject in result.rejects] == [2]  # the filler's cell is too long to import


def test_a_file_that_grows_while_it_is_read_is_named(store: AlbumStore, tmp_path: Path) -> None:
    path = tmp_path / "growing.csv"
    path.write_bytes(HEADER + rows_of(20_000))
    grown: list[int] = []

    def append_once(bytes_read: int, total: int | None, rows: int) -> None:
        if not grown:
            grown.append(bytes_read)
            with path.open("ab") as more:
                more.write(rows_of(10, start=20_000))

    with path.open("rb") as stream:
        report = import_albums(store, stream, "growing.csv", on_progress=append_once)
    assert "growing.csv changed while it was read; import it again once it is complete" in report.warnings


class BreaksAfter(io.RawIOBase):
    """A stream whose device fails after `good` bytes (an I/O error cannot be made on demand)."""

    def __init__(self, data: bytes, good: int) -> None:
        self._data = io.BytesIO(data)
        self._good = good

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._data.tell() >= self._good:
            raise OSError(5, "Input/output error")
        chunk = self._data.read(min(len(buffer), self._good - self._data.tell()))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_a_read_error_midway_keeps_and_reports_what_was_committed(store: AlbumStore, db_path: Path) -> None:
    data = HEADER + rows_of(3 * BATCH_ROWS)
    importer = AlbumImporter(store, "broken.csv")
    with pytest.raises(InvalidInput, match=r"cannot read broken\.csv: Input/output error"):
        importer.run(io.BufferedReader(BreaksAfter(data, len(data) // 2)))
    report = importer.report
    assert not report.completed and report.inserted == count(db_path) == BATCH_ROWS
    assert report.last_line == BATCH_ROWS + 1
    assert report.summary().endswith(
        "(stopped early: the rows up to line 2001 are committed, none after them; import again to finish)"
    )


def test_an_interruption_keeps_whole_batches_and_the_counts_say_which(store: AlbumStore, db_path: Path) -> None:
    data = HEADER + rows_of(5 * BATCH_ROWS)

    def stop_midway(bytes_read: int, total: int | None, rows: int) -> None:
        if rows > 2.5 * BATCH_ROWS:
            raise KeyboardInterrupt

    importer = AlbumImporter(store, "big.csv", on_progress=stop_midway)
    with pytest.raises(KeyboardInterrupt):
        importer.run(data)
    report = importer.report
    assert not report.completed
    assert report.inserted == count(db_path) == 2 * BATCH_ROWS
    assert report.last_line == 2 * BATCH_ROWS + 1
    again = import_albums(store, data, "big.csv")
    assert (again.inserted, again.unchanged) == (3 * BATCH_ROWS, 2 * BATCH_ROWS)


def count(db_path: Path) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute("SELECT count(*) FROM albums").fetchone()[0])

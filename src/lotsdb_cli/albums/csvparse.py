"""Reading an album spreadsheet exported as CSV, a record at a time: encoding, delimiter, header, rows.

The stream is never held whole. The header and the delimiter are found in its first
`HEADER_SEARCH_BYTES`; then each record is read, checked and handed on, so memory stays the same
whatever the size of the file. Physical line numbers are kept for every record (the header is
usually line 1; a record with a quoted multi-line cell starts where its first line is), so
rejects can be found in the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import BinaryIO

from lotsdb_cli.albums.headers import FIELD_LABELS, ColumnMap, match_columns
from lotsdb_cli.albums.ids import is_album_id
from lotsdb_cli.albums.lines import Line, LineReader, bom_encoding
from lotsdb_cli.albums.models import ImportRow
from lotsdb_cli.albums.rows import Reject, convert_record, raw_cells
from lotsdb_cli.errors import InvalidInput

DELIMITERS = (",", ";", "\t")
HEADER_SEARCH_RECORDS = 10
HEADER_SEARCH_BYTES = 64 * 1024
# A record (all its lines) longer than this is rejected unread: no cell is kept whole beyond it.
MAX_RECORD_BYTES = 4 * 1024 * 1024
# Bytes no text file holds (tab, line feed, vertical tab, form feed and carriage return excepted).
_CONTROL_BYTES = bytes([*range(0x09), *range(0x0E, 0x20), 0x7F])
_WORKBOOK_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
_EXPORT_HINT = "save or download the spreadsheet as CSV"
_LINES_NAMED = 10  # in a warning or message that lists lines, the first this many


class RecordTooLong(Exception):
    """Raised through the csv reader when a record passes `MAX_RECORD_BYTES`."""


@dataclass
class ParseResult:
    """Every record of a spreadsheet, collected (for small inputs and tests; imports stream)."""

    source_name: str
    rows: list[ImportRow] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    delimiter: str = ","
    encoding: str = "utf-8"
    header_line: int = 1


def parse_csv(data: bytes, source_name: str) -> ParseResult:
    """Parse CSV bytes; raise `InvalidInput` if they are not an album spreadsheet at all."""
    sheet = SpreadsheetReader(io.BytesIO(data), source_name)
    result = ParseResult(
        source_name=source_name,
        columns=sheet.columns.describe(),
        delimiter=sheet.delimiter,
        header_line=sheet.header_line,
    )
    for outcome in sheet:
        if isinstance(outcome, Reject):
            result.rejects.append(outcome)
        else:
            result.rows.append(outcome)
    result.warnings = sheet.warnings
    result.encoding = sheet.encoding
    return result


class SpreadsheetReader:
    """The valid rows (`ImportRow`) and the rejects (`Reject`) of a CSV spreadsheet, in file order.

    Construction reads the first bytes and finds the header; it raises `InvalidInput` if the
    stream is not an album spreadsheet at all. `warnings` and `encoding` are final once the
    iteration has ended. `before_block` and `on_read` are passed to the `LineReader`.
    """

    def __init__(
        self,
        stream: BinaryIO,
        source_name: str,
        *,
        before_block: Callable[[], None] | None = None,
        on_read: Callable[[int], None] | None = None,
    ) -> None:
        self.source_name = source_name
        self._lines = LineReader(
            stream, source_name, max_line_bytes=MAX_RECORD_BYTES, before_block=before_block, on_read=on_read
        )
        _refuse_binary(self._lines.head(), source_name)
        lines = iter(self._lines)
        head = _read_head(lines, self._lines.would_wait)
        _refuse_non_csv(head, source_name)
        self.delimiter, self.columns, self.header_line = find_header([line.text for line in head], source_name)
        self._records = _RecordFeed(chain(head, lines), source_name)
        self.rows_read = 0  # records below the header, blank ones excepted
        self.windows_1252_lines: list[int] = []  # the first few records read as cp1252
        self.windows_1252_records = 0
        self._skipped_before_header = 0
        self._finished = False
        self.swallowed: tuple[int, int] | None = None  # lines a never-closed quote read in: (first, last)
        if csv.field_size_limit() < MAX_RECORD_BYTES:
            csv.field_size_limit(MAX_RECORD_BYTES)  # the record limit is ours, checked before the csv module

    @property
    def bytes_read(self) -> int:
        return self._lines.bytes_read

    @property
    def encoding(self) -> str:
        """`utf-16`/`utf-32` (byte-order mark), `cp1252` (no UTF-8 in the file at all), else `utf-8`."""
        if self._lines.encoding != "utf-8":
            return self._lines.encoding
        return "cp1252" if self.windows_1252_records and not self._lines.utf8_seen else "utf-8"

    @property
    def warnings(self) -> list[str]:
        name = self.source_name
        warnings = []
        if "spotify" not in self.columns.indexes:
            warnings.append(f"{name}: no Spotify column; albums are matched by artist and title")
        if self._skipped_before_header:
            warnings.append(
                f"{name}: {self._skipped_before_header} line(s) above the header (line {self.header_line}) were skipped"
            )
        if self.encoding == "cp1252":
            where = _lines_phrase(self.windows_1252_lines, self.windows_1252_records).rsplit(" ", 1)[0]
            warnings.append(f"{name}: not UTF-8 text; read it as Windows-1252 (cp1252) ({where})")
        elif self.windows_1252_records:
            warnings.append(
                f"{name}: {_lines_phrase(self.windows_1252_lines, self.windows_1252_records)} not UTF-8;"
                " read as Windows-1252 (cp1252), the rest of the file as UTF-8"
            )
        if self._finished and not self.rows_read:
            warnings.append(f"{name}: no rows below the header (line {self.header_line})")
        if self._finished and self._lines.changed_while_read():
            warnings.append(f"{name} changed while it was read; import it again once it is complete")
        return warnings

    def __iter__(self) -> Iterator[ImportRow | Reject]:
        for line, cells in self._records.records(self.delimiter):
            if cells is not None and _is_blank(cells):
                continue
            if self._records.windows_1252:
                self.windows_1252_records += 1
                if len(self.windows_1252_lines) < _LINES_NAMED:
                    self.windows_1252_lines.append(line)
            if line < self.header_line:
                self._skipped_before_header += 1
                continue
            if line == self.header_line:
                continue
            self.rows_read += 1
            yield self._check(line, cells)
        self._finished = True

    def _check(self, line: int, cells: list[str] | None) -> ImportRow | Reject:
        records = self._records
        if cells is None:
            if records.unterminated:
                self.swallowed = (line, records.line_number)
                return Reject(line, _UNTERMINATED, {})
            limit = MAX_RECORD_BYTES // (1024 * 1024)
            return Reject(
                line, f"the row is {records.record_bytes:,} bytes long, more than a row may be ({limit} MiB)", {}
            )
        if records.undecodable:
            return Reject(line, "holds bytes that are neither UTF-8 nor Windows-1252 text", self._raw(cells))
        if records.nul:
            return Reject(line, "holds a NUL character (binary data, not text)", self._raw(cells))
        if records.unterminated:
            if records.line_number > line:
                self.swallowed = (line, records.line_number)
            return Reject(line, _UNTERMINATED, self._raw(cells))
        return convert_record(line, cells, self.columns)

    def _raw(self, cells: Sequence[str]) -> dict[str, str]:
        return raw_cells(self.columns.header, cells)


_UNTERMINATED = "a quoted cell opened on this line is never closed; the rest of the file was read into it"


class _RecordFeed:
    """Feeds the csv reader one line at a time and keeps the account of the current record.

    A record whose lines pass `MAX_RECORD_BYTES` is abandoned (`RecordTooLong` is raised through
    the csv reader, which starts afresh at its next call): the lines up to where its quotes
    balance again are skipped, so the next record starts where it really does.
    """

    def __init__(self, lines: Iterator[Line], source_name: str) -> None:
        self._lines = lines
        self._source_name = source_name
        self.line_number = 0
        self._start(1)

    def _start(self, line: int) -> None:
        self.record_start = line
        self.record_bytes = 0
        self.record_quotes = 0
        self.record_text: list[str] = []
        self.windows_1252 = False
        self.undecodable = False
        self.nul = False
        self.unterminated = False

    def __iter__(self) -> _RecordFeed:
        return self

    def __next__(self) -> str:
        line = self._take()
        if line.cut or self.record_bytes > MAX_RECORD_BYTES:
            raise RecordTooLong
        self.record_text.append(line.text)
        return line.text

    def _take(self) -> Line:
        line = next(self._lines)
        self.line_number = line.number
        self.record_bytes += line.length
        self.record_quotes += line.quotes
        self.windows_1252 = self.windows_1252 or line.windows_1252
        self.undecodable = self.undecodable or line.undecodable
        self.nul = self.nul or "\x00" in line.text
        return line

    def records(self, delimiter: str) -> Iterator[tuple[int, list[str] | None]]:
        """(start line, cells) of each record; cells None for a record too long to read."""
        reader = csv.reader(self, delimiter=delimiter)
        while True:
            self._start(self.line_number + 1)
            try:
                cells = next(reader)
            except StopIteration:
                return
            except RecordTooLong:
                self.unterminated = not self._skip_to_balanced_quotes()
                yield self.record_start, None
                continue
            except csv.Error as exc:
                message = f"{self._source_name}, line {self.record_start}: not readable as CSV: {exc}"
                raise InvalidInput(message) from None
            self.unterminated = self.record_quotes % 2 == 1 and _runs_to_end(self.record_text, cells, delimiter)
            yield self.record_start, cells

    def _skip_to_balanced_quotes(self) -> bool:
        """Skip the rest of an abandoned record; False if a quote it opened never closes."""
        self.record_text = []
        while self.record_quotes % 2:
            try:
                self._take()
            except StopIteration:
                return False
        return True


def _runs_to_end(record_text: list[str], cells: list[str], delimiter: str) -> bool:
    """True if the record is a quoted multi-line cell that never closes (so it ran to the end)."""
    if not any("\n" in cell or "\r" in cell for cell in cells):
        return False
    try:
        list(csv.reader(record_text, delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _read_head(lines: Iterator[Line], would_wait: Callable[[], bool]) -> list[Line]:
    """The first lines, up to `HEADER_SEARCH_BYTES` (at least one whole line); from a slow pipe, as
    many as have arrived once they fill the header search's window: rows already sent are imported
    (and committed) while the producer takes its time, and a header below a few title lines is found."""
    head: list[Line] = []
    size = 0
    for line in lines:
        head.append(line)
        size += line.length
        if size >= HEADER_SEARCH_BYTES or (len(head) > HEADER_SEARCH_RECORDS + 1 and would_wait()):
            break
    return head


def _refuse_binary(head: bytes, source_name: str) -> None:
    if head.startswith(_WORKBOOK_SIGNATURES):
        raise InvalidInput(f"{source_name} is a spreadsheet workbook, not CSV", hint=_EXPORT_HINT)
    # A stray NUL makes its row invalid; binary files (and UTF-16 without its mark) are full of them.
    control_bytes = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if control_bytes * 100 > len(head) and bom_encoding(head) is None:
        raise InvalidInput(f"{source_name} is not a CSV file (it holds binary data)", hint=_EXPORT_HINT)


def _refuse_non_csv(head: list[Line], source_name: str) -> None:
    text = "".join(line.text for line in islice(head, 50)).lstrip()
    if not text:
        raise InvalidInput(f"{source_name} is empty", hint=_EXPORT_HINT)
    if text[:14].lower() == "<!doctype html" or text[:5].lower() == "<html":
        raise InvalidInput(
            f"{source_name} is an HTML page, not CSV",
            hint="share the sheet with 'anyone with the link', or download it as CSV",
        )


def numbered_records(lines: Sequence[str], delimiter: str, source_name: str) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record of `lines` with the physical line number (1-based) it starts on."""
    reader = csv.reader(lines, delimiter=delimiter)
    last_line = 0
    try:
        for cells in reader:
            yield last_line + 1, cells
            last_line = reader.line_num
    except csv.Error as exc:
        raise InvalidInput(f"{source_name}, line {last_line + 1}: not readable as CSV: {exc}") from None


def find_header(lines: Sequence[str], source_name: str) -> tuple[str, ColumnMap, int]:
    """The delimiter, the column map and the line of the header that recognises most fields."""
    best: tuple[tuple[int, int, int], str, ColumnMap, int] | None = None
    for preference, delimiter in enumerate(DELIMITERS):
        found = _header_for(lines, delimiter)
        if found is None:
            continue
        columns, line = found
        score = (len(columns.indexes), -line, -preference)
        if best is None or score > best[0]:
            best = (score, delimiter, columns, line)
    if best is None:
        raise _no_header_error(lines, source_name)
    return best[1], best[2], best[3]


def _header_for(lines: Sequence[str], delimiter: str) -> tuple[ColumnMap, int] | None:
    try:
        records = (record for record in numbered_records(lines, delimiter, "") if not _is_blank(record[1]))
        for line, cells in islice(records, HEADER_SEARCH_RECORDS):
            if _looks_like_data(cells):
                continue
            columns = match_columns(cells)
            if columns.has_title:
                return columns, line
    except InvalidInput:
        return None
    return None


def _looks_like_data(cells: list[str]) -> bool:
    """True for a record no header would be: one holding a link, a Spotify id or a number."""
    for cell in cells:
        text = cell.strip()
        if "://" in text or text.lower().startswith("spotify:") or is_album_id(text):
            return True
        if text.replace(".", "", 1).isdigit():
            return True
    return False


def _no_header_error(lines: Sequence[str], source_name: str) -> InvalidInput:
    expected = ", ".join(FIELD_LABELS.values())
    first_cells: list[str] = []
    for delimiter in DELIMITERS:
        try:
            first = next(
                (cells for _, cells in numbered_records(lines, delimiter, "") if not _is_blank(cells)),
                [],
            )
        except InvalidInput:
            continue
        if len(first) > len(first_cells):
            first_cells = first
    found = ", ".join(repr(_short(cell.strip())) for cell in first_cells[:12] if cell.strip())
    return InvalidInput(
        f"{source_name}: no album title column in the header (found: {found or 'nothing'})",
        hint=f"the first row should name the columns, e.g. {expected}",
    )


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def _lines_phrase(lines: list[int], total: int) -> str:
    """`line 7 is`, `lines 3, 7 are`, `lines 3, 7, ... and 12 more are`."""
    named = ", ".join(str(line) for line in lines)
    if total == 1:
        return f"line {named} is"
    more = f" and {total - len(lines)} more" if total > len(lines) else ""
    return f"lines {named}{more} are"

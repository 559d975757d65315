"""Reading an album spreadsheet exported as CSV: encoding, delimiter, header, rows.

Physical line numbers are kept for every record (the header is usually line 1; a record with
a quoted multi-line cell starts where its first line is), so rejects can be found in the file.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from lotsdb_cli.albums.headers import FIELD_LABELS, ColumnMap, match_columns
from lotsdb_cli.albums.ids import is_album_id
from lotsdb_cli.albums.models import ImportRow
from lotsdb_cli.albums.rows import Duplicate, Reject, convert_record, raw_cells
from lotsdb_cli.errors import InvalidInput

DELIMITERS = (",", ";", "\t")
HEADER_SEARCH_RECORDS = 10
_FIELD_SIZE_LIMIT = 2**31 - 1
_UNICODE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_WORKBOOK_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
_EXPORT_HINT = "save or download the spreadsheet as CSV"


@dataclass
class ParseResult:
    """The valid rows of a spreadsheet, and everything that was not imported as is."""

    source_name: str
    rows: list[ImportRow] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    delimiter: str = ","
    encoding: str = "utf-8"
    header_line: int = 1


def parse_csv(data: bytes, source_name: str) -> ParseResult:
    """Parse CSV bytes; raise `InvalidInput` if they are not an album spreadsheet at all."""
    text, encoding, warnings = decode_text(data, source_name)
    if csv.field_size_limit() < _FIELD_SIZE_LIMIT:
        # Over-long cells are rejected row by row (rows.MAX_CELL_CHARACTERS), not fatal here.
        csv.field_size_limit(_FIELD_SIZE_LIMIT)
    delimiter, columns, header_line = find_header(text, source_name)
    result = ParseResult(
        source_name=source_name,
        warnings=warnings,
        columns=columns.describe(),
        delimiter=delimiter,
        encoding=encoding,
        header_line=header_line,
    )
    if "spotify" not in columns.indexes:
        result.warnings.append(f"{source_name}: no Spotify column; albums are matched by artist and title")
    converted: list[ImportRow] = []
    skipped_before_header = 0
    last_record: tuple[int, list[str]] | None = None
    for line, cells in numbered_records(text, delimiter, source_name):
        if _is_blank(cells):
            continue
        if line < header_line:
            skipped_before_header += 1
            continue
        if line == header_line:
            continue
        last_record = (line, cells)
        outcome = convert_record(line, cells, columns)
        if isinstance(outcome, Reject):
            result.rejects.append(outcome)
        else:
            converted.append(outcome)
    if skipped_before_header:
        result.warnings.append(
            f"{source_name}: {skipped_before_header} line(s) above the header (line {header_line}) were skipped"
        )
    if last_record is not None and _swallowed_rest_of_file(text, last_record, delimiter):
        _reject_unterminated(result, converted, last_record, columns)
    result.rows, result.duplicates = split_duplicates(converted)
    return result


def decode_text(data: bytes, source_name: str) -> tuple[str, str, list[str]]:
    """The text of `data`, the encoding used, and a warning if it was not UTF-8."""
    for bom, encoding in _UNICODE_BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding, []
            except UnicodeDecodeError as exc:
                raise InvalidInput(f"{source_name}: not valid {encoding} text ({exc.reason})") from None
    _refuse_binary(data, source_name)
    try:
        text, encoding, warnings = data.decode("utf-8-sig"), "utf-8", []
    except UnicodeDecodeError:
        text, encoding = data.decode("cp1252", errors="replace"), "cp1252"
        warnings = [f"{source_name}: not UTF-8 text; read it as Windows-1252 (cp1252)"]
    if not text.strip():
        raise InvalidInput(f"{source_name} is empty", hint=_EXPORT_HINT)
    if text.lstrip()[:14].lower() in ("<!doctype html", "<html") or text.lstrip()[:5] == "<html":
        raise InvalidInput(
            f"{source_name} is an HTML page, not CSV",
            hint="share the sheet with 'anyone with the link', or download it as CSV",
        )
    return text, encoding, warnings


def _refuse_binary(data: bytes, source_name: str) -> None:
    if data.startswith(_WORKBOOK_SIGNATURES):
        raise InvalidInput(f"{source_name} is a spreadsheet workbook, not CSV", hint=_EXPORT_HINT)
    if b"\x00" in data:
        raise InvalidInput(f"{source_name} is not a CSV file (it holds binary data)", hint=_EXPORT_HINT)


def numbered_records(text: str, delimiter: str, source_name: str) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the physical line number (1-based) it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    last_line = 0
    try:
        for cells in reader:
            yield last_line + 1, cells
            last_line = reader.line_num
    except csv.Error as exc:
        raise InvalidInput(f"{source_name}, line {last_line + 1}: not readable as CSV: {exc}") from None


def find_header(text: str, source_name: str) -> tuple[str, ColumnMap, int]:
    """The delimiter, the column map and the line of the header that recognises most fields."""
    best: tuple[tuple[int, int, int], str, ColumnMap, int] | None = None
    for preference, delimiter in enumerate(DELIMITERS):
        found = _header_for(text, delimiter)
        if found is None:
            continue
        columns, line = found
        score = (len(columns.indexes), -line, -preference)
        if best is None or score > best[0]:
            best = (score, delimiter, columns, line)
    if best is None:
        raise _no_header_error(text, source_name)
    return best[1], best[2], best[3]


def _header_for(text: str, delimiter: str) -> tuple[ColumnMap, int] | None:
    try:
        records = (record for record in numbered_records(text, delimiter, "") if not _is_blank(record[1]))
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


def _no_header_error(text: str, source_name: str) -> InvalidInput:
    expected = ", ".join(FIELD_LABELS.values())
    first_cells: list[str] = []
    for delimiter in DELIMITERS:
        try:
            first = next(
                (cells for _, cells in numbered_records(text, delimiter, "") if not _is_blank(cells)),
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


def _swallowed_rest_of_file(text: str, record: tuple[int, list[str]], delimiter: str) -> bool:
    """True if the last record is a quoted cell that never closes and ran to the end of file."""
    line, cells = record
    if not any("\n" in cell or "\r" in cell for cell in cells):
        return False
    tail = "".join(io.StringIO(text, newline="").readlines()[line - 1 :])
    try:
        list(csv.reader(io.StringIO(tail, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _reject_unterminated(
    result: ParseResult,
    converted: list[ImportRow],
    record: tuple[int, list[str]],
    columns: ColumnMap,
) -> None:
    line, cells = record
    converted[:] = [row for row in converted if row.line != line]
    result.rejects = [reject for reject in result.rejects if reject.line != line]
    result.rejects.append(
        Reject(
            line,
            "a quoted cell opened on this line is never closed; the rest of the file was read into it",
            raw_cells(columns.header, cells),
        )
    )


def split_duplicates(rows: list[ImportRow]) -> tuple[list[ImportRow], list[Duplicate]]:
    """Rows naming an album for the first time, and the repeats.

    Rows with a Spotify id repeat by id. A row without one repeats any row (with or without
    an id) of the same artist and title, so both never update the same album in one import.
    """
    first_by_spotify_id: dict[str, int] = {}
    first_by_key: dict[str, int] = {}
    for row in rows:
        if row.spotify_id is not None:
            first_by_spotify_id.setdefault(row.spotify_id, row.line)
            first_by_key.setdefault(row.norm_key, row.line)
    unique: list[ImportRow] = []
    duplicates: list[Duplicate] = []
    for row in rows:
        if row.spotify_id is not None:
            first_line, key = first_by_spotify_id[row.spotify_id], row.spotify_id
        else:
            first_line = first_by_key.setdefault(row.norm_key, row.line)
            key = " - ".join(part for part in (row.artist, row.title) if part)
        if first_line == row.line:
            unique.append(row)
        else:
            duplicates.append(Duplicate(line=row.line, first_line=first_line, key=key))
    return unique, duplicates

"""Importing an album spreadsheet into the store: parse, upsert, report, log the rejects."""

from __future__ import annotations

import csv
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from lotsdb_cli.albums.csvparse import ParseResult, parse_csv
from lotsdb_cli.albums.models import ImportSummary
from lotsdb_cli.albums.rows import Duplicate, Reject
from lotsdb_cli.albums.store import AlbumStore
from lotsdb_cli.errors import LotsdbError
from lotsdb_cli.output import spreadsheet_safe

_SHEETS_HOST = "docs.google.com"
_SHEET_PATH = re.compile(r"^/spreadsheets(?:/u/\d+)?/d/(?P<key>[\w-]+)(?P<rest>/.*)?$")
_PUBLISHED_SHEET_PATH = re.compile(r"^/spreadsheets(?:/u/\d+)?/d/e/(?P<key>[\w-]+)(?P<rest>/.*)?$")
REJECT_LOG_COLUMNS = ("line", "reason")


@dataclass
class ImportReport:
    """What an import did (or, with `dry_run`, would do)."""

    source_name: str
    dry_run: bool
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: list[Duplicate] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    spotify_ids: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def invalid(self) -> int:
        return len(self.rejects)

    def counts(self) -> dict[str, int]:
        """The summary line's numbers, in the order SPEC §4 lists them."""
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "duplicates": len(self.duplicates),
            "invalid": self.invalid,
        }


def import_albums(store: AlbumStore | None, data: bytes, source_name: str, *, dry_run: bool = False) -> ImportReport:
    """Parse a CSV spreadsheet and upsert its valid rows into `store`.

    With `dry_run` nothing is written; `store` may then be None (no database yet), and every
    valid row counts as one that would be inserted.
    """
    parsed = parse_csv(data, source_name)
    if store is not None:
        summary = store.upsert_imported(parsed.rows, dry_run=dry_run)
    elif dry_run:
        summary = ImportSummary(inserted=len(parsed.rows))
    else:
        raise ValueError("import_albums needs a store unless dry_run is set")
    return _report(parsed, summary, dry_run=dry_run)


def _report(parsed: ParseResult, summary: ImportSummary, *, dry_run: bool) -> ImportReport:
    return ImportReport(
        source_name=parsed.source_name,
        dry_run=dry_run,
        inserted=summary.inserted,
        updated=summary.updated,
        unchanged=summary.unchanged,
        duplicates=parsed.duplicates,
        rejects=parsed.rejects,
        spotify_ids=[row.spotify_id for row in parsed.rows if row.spotify_id is not None],
        warnings=parsed.warnings,
        columns=parsed.columns,
    )


def google_sheets_csv_url(url: str) -> str | None:
    """The CSV export URL of a Google Sheets link; None if `url` is not a Google Sheet.

    An export (or published CSV) URL is returned unchanged; the sheet tab (`gid`) is kept,
    and the first tab (`gid=0`) is used when the link names none.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if (parts.hostname or "").lower() != _SHEETS_HOST:
        return None
    gid = _sheet_gid(parts.query, parts.fragment)
    published = _PUBLISHED_SHEET_PATH.match(parts.path)
    if published:
        if "output=csv" in parts.query:
            return url.strip()
        gid_query = f"&gid={gid}" if gid is not None else ""
        return f"https://{_SHEETS_HOST}/spreadsheets/d/e/{published['key']}/pub?output=csv{gid_query}"
    sheet = _SHEET_PATH.match(parts.path)
    if sheet is None:
        return None
    if (sheet["rest"] or "").startswith("/export"):
        return url.strip()
    return f"https://{_SHEETS_HOST}/spreadsheets/d/{sheet['key']}/export?format=csv&gid={gid or 0}"


def _sheet_gid(query: str, fragment: str) -> str | None:
    for part in (query, fragment):
        values = parse_qs(part).get("gid")
        if values and values[0].isdigit():
            return values[0]
    return None


def write_reject_log(path: Path | str, rejects: list[Reject]) -> None:
    """Write the rejects as CSV (line, reason, then the row's own columns), atomically."""
    raw_columns: dict[str, None] = {}
    for reject in rejects:
        raw_columns.update(dict.fromkeys(reject.raw))
    header = [*REJECT_LOG_COLUMNS, *(name for name in raw_columns if name not in REJECT_LOG_COLUMNS)]
    rows = []
    for reject in rejects:
        cells = {**reject.raw, "line": str(reject.line), "reason": reject.reason}
        rows.append([spreadsheet_safe(cells.get(name, "")) for name in header])
    _write_csv_atomically(Path(path), header, rows)


def _write_csv_atomically(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """A temporary file beside `path`, renamed over it: never a half-written log."""
    try:
        descriptor, temporary_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise LotsdbError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        os.replace(temporary_name, path)
    except BaseException as exc:
        Path(temporary_name).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise LotsdbError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise

"""Importing an album spreadsheet into the store: read, upsert and report a row at a time.

Nothing grows with the file: the spreadsheet is read in chunks, each row is written as soon as
it is read, rejects go to the caller (and the reject log) as they are found, and the run's
bookkeeping lives in the database. Rows are committed in batches of `BATCH_ROWS`, and before
each read that would wait on a pipe, so another writer never waits long for the database; the
counts reported are read back from the database, so they are exactly what was committed, even
when the run is interrupted halfway.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, BinaryIO
from urllib.parse import parse_qs, urlsplit

from lotsdb_cli.albums.csvparse import SpreadsheetReader
from lotsdb_cli.albums.lines import stream_size
from lotsdb_cli.albums.rows import Duplicate, Reject, raw_cells
from lotsdb_cli.albums.store import AlbumStore
from lotsdb_cli.albums.upsert import DUPLICATE, ImportCounts, ImportSession
from lotsdb_cli.output import spreadsheet_safe

_SHEETS_HOST = "docs.google.com"
_SHEET_PATH = re.compile(r"^/spreadsheets(?:/u/\d+)?/d/(?P<key>[\w-]+)(?P<rest>/.*)?$")
_PUBLISHED_SHEET_PATH = re.compile(r"^/spreadsheets(?:/u/\d+)?/d/e/(?P<key>[\w-]+)(?P<rest>/.*)?$")
REJECT_LOG_COLUMNS = ("line", "reason")
REJECT_LOG_CUT = "the reject log's reader went away before the import ended: some invalid rows are not in it"
BATCH_ROWS = 2_000
_LINES_KEPT = 10  # invalid rows whose line numbers the report keeps for its message

ProgressCallback = Callable[[int, "int | None", int], None]


@dataclass
class ImportReport:
    """What an import did (with `dry_run`: would do). Always what is committed, even after an
    interruption (`completed` False): `last_line` is then the last line the counts include."""

    source_name: str
    dry_run: bool
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    invalid: int = 0
    last_line: int = 0
    started: bool = False  # the header was found and rows began to be read
    completed: bool = False
    reject_lines: list[int] = field(default_factory=list)  # the first few
    spotify_ids: list[str] = field(default_factory=list)  # only if asked for
    warnings: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    encoding: str = "utf-8"
    rows_read: int = 0
    swallowed: tuple[int, int] | None = None  # a never-closed quote read these lines into one cell

    def counts(self) -> dict[str, int]:
        """The summary line's numbers, in the order SPEC §4 lists them."""
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "invalid": self.invalid,
        }

    @property
    def imported(self) -> int:
        """Rows that named an album (written, unchanged or repeated), as opposed to invalid ones."""
        return self.inserted + self.updated + self.unchanged + self.duplicates

    def summary(self) -> str:
        """`albums.csv: 42 inserted, 0 updated, 0 unchanged, 1 duplicates, 4 invalid`, and what an
        interruption left."""
        counts = ", ".join(f"{value} {name}" for name, value in self.counts().items())
        line = f"{self.source_name}: {counts}"
        if self.dry_run:
            return line + (" (dry run: nothing written)" if self.completed else " (dry run stopped: nothing written)")
        if not self.completed:
            line += (
                f" (stopped early: the rows up to line {self.last_line} are committed, none after them;"
                " import again to finish)"
                if self.last_line
                else " (stopped early: nothing committed)"
            )
        return line

    def lines_phrase(self) -> str:
        """`10, 15, 21` or `10, 15, ... (12 in all)` for the invalid rows."""
        named = ", ".join(str(line) for line in self.reject_lines)
        return named if self.invalid <= len(self.reject_lines) else f"{named}, ... ({self.invalid} in all)"


def import_albums(
    store: AlbumStore | None,
    source: BinaryIO | bytes,
    source_name: str,
    *,
    dry_run: bool = False,
    on_reject: Callable[[Reject], None] | None = None,
    on_duplicate: Callable[[Duplicate], None] | None = None,
    on_progress: ProgressCallback | None = None,
    keep_spotify_ids: bool = False,
    total_bytes: int | None = None,
    reject_log: IO[str] | None = None,
) -> ImportReport:
    """Import a CSV spreadsheet (a binary stream, or bytes) into `store`; see `AlbumImporter`."""
    importer = AlbumImporter(
        store,
        source_name,
        dry_run=dry_run,
        on_reject=on_reject,
        on_duplicate=on_duplicate,
        on_progress=on_progress,
        keep_spotify_ids=keep_spotify_ids,
    )
    return importer.run(source, total_bytes=total_bytes, reject_log=reject_log)


class AlbumImporter:
    """One import of a spreadsheet. `report` says what is committed at any moment, so a caller
    can print it even when `run` was interrupted.

    With `dry_run` nothing is written; `store` may then be None (no database yet): the rows go
    to a temporary store instead, so the counts are those of an import into an empty database.

    Callbacks: `on_reject(reject)` and `on_duplicate(duplicate)` as rows are read;
    `on_progress(bytes_read, total_bytes, rows)` after every chunk read (`total_bytes` as given
    to `run`, else the size of a regular file or buffer, else None). With `keep_spotify_ids`
    the report lists the Spotify ids of the rows imported (to enrich them next); that list
    grows with the file.
    """

    def __init__(
        self,
        store: AlbumStore | None,
        source_name: str,
        *,
        dry_run: bool = False,
        on_reject: Callable[[Reject], None] | None = None,
        on_duplicate: Callable[[Duplicate], None] | None = None,
        on_progress: ProgressCallback | None = None,
        keep_spotify_ids: bool = False,
    ) -> None:
        if store is None and not dry_run:
            raise ValueError("import_albums needs a store unless dry_run is set")
        self.report = ImportReport(source_name=source_name, dry_run=dry_run)
        self._store = store
        self._on_reject = on_reject
        self._on_duplicate = on_duplicate
        self._on_progress = on_progress
        self._keep_spotify_ids = keep_spotify_ids
        self._session: ImportSession | None = None
        self._sheet: SpreadsheetReader | None = None
        self._total_bytes: int | None = None

    def run(
        self, source: BinaryIO | bytes, *, total_bytes: int | None = None, reject_log: IO[str] | None = None
    ) -> ImportReport:
        """Read `source` to its end, writing each valid row; `reject_log` receives the rejects as CSV.

        Raises `InvalidInput` before writing anything if `source` is not an album spreadsheet.
        """
        if isinstance(source, bytes | bytearray):
            source = io.BytesIO(source)
        self._total_bytes = stream_size(source) if total_bytes is None else total_bytes
        sheet = SpreadsheetReader(source, self.report.source_name, before_block=self._commit, on_read=self._progress)
        self._sheet = sheet
        self.report.columns = sheet.columns.describe()
        self.report.started = True
        log = RejectLog(reject_log, sheet.columns.header) if reject_log is not None else None
        store = self._store if self._store is not None else AlbumStore.temporary()
        session: ImportSession | None = None
        try:
            with store.import_session(dry_run=self.report.dry_run and self._store is not None) as session:
                self._session = session
                self._import_rows(sheet, session, log)
                self.report.completed = True
        finally:
            self._session = None
            self._finish(sheet, session.counts() if session is not None else ImportCounts())
            if log is not None and log.cut:
                self.report.warnings.append(REJECT_LOG_CUT)
            if self._store is None:
                store.close()
        return self.report

    def _import_rows(self, sheet: SpreadsheetReader, session: ImportSession, log: RejectLog | None) -> None:
        for number, outcome in enumerate(sheet, start=1):
            if isinstance(outcome, Reject):
                session.count_invalid(outcome.line)
                self._rejected(outcome, log)
            else:
                written = session.write(outcome)
                if written.outcome == DUPLICATE and written.first_line is not None:
                    key = outcome.spotify_id or " - ".join(part for part in (outcome.artist, outcome.title) if part)
                    if self._on_duplicate is not None:
                        self._on_duplicate(Duplicate(line=outcome.line, first_line=written.first_line, key=key))
                applied = written.outcome != DUPLICATE or written.completes
                if self._keep_spotify_ids and outcome.spotify_id and applied:
                    self.report.spotify_ids.append(outcome.spotify_id)
            if number % BATCH_ROWS == 0:
                session.commit()
        self._progress(sheet.bytes_read)

    def _rejected(self, reject: Reject, log: RejectLog | None) -> None:
        if len(self.report.reject_lines) < _LINES_KEPT:
            self.report.reject_lines.append(reject.line)
        if log is not None:
            log.write(reject)
        if self._on_reject is not None:
            self._on_reject(reject)

    def _commit(self) -> None:
        """Before a read that would wait: commit what is held, so no writer waits on our input."""
        if self._session is not None:
            self._session.commit()

    def _progress(self, bytes_read: int) -> None:
        if self._on_progress is not None:
            rows = self._sheet.rows_read if self._sheet is not None else 0
            self._on_progress(bytes_read, self._total_bytes, rows)

    def _finish(self, sheet: SpreadsheetReader, counts: ImportCounts) -> None:
        report = self.report
        report.inserted, report.updated, report.unchanged = counts.inserted, counts.updated, counts.unchanged
        report.duplicates, report.invalid, report.last_line = counts.duplicates, counts.invalid, counts.last_line
        report.warnings = sheet.warnings
        report.encoding = sheet.encoding
        report.rows_read = sheet.rows_read
        report.swallowed = sheet.swallowed


class RejectLog:
    """Invalid rows as CSV, written as they are found: line, reason, then the row's own cells
    under the spreadsheet's header (cells past the header follow, unnamed)."""

    def __init__(self, stream: IO[str], header: Sequence[str]) -> None:
        self.cut = False  # its reader went away (`--reject-log - | head`): the import goes on without it
        names = list(raw_cells(header, header))
        self._names = names
        self._known = set(names)
        self._writer = csv.writer(stream)
        # A sheet column called `line` or `reason` keeps its cells, under a name of its own.
        shown = [
            f"{name} (column {index + 1})" if name in REJECT_LOG_COLUMNS else name for index, name in enumerate(names)
        ]
        self._writer.writerow([*REJECT_LOG_COLUMNS, *shown])

    def write(self, reject: Reject) -> None:
        if self.cut:
            return
        cells = [reject.raw.get(name, "") for name in self._names]
        cells += [value for name, value in reject.raw.items() if name not in self._known]
        try:
            self._writer.writerow([str(reject.line), spreadsheet_safe(reject.reason), *map(spreadsheet_safe, cells)])
        except BrokenPipeError:
            self.cut = True


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

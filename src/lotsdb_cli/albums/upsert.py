"""Spreadsheet rows into the album table, in batches, with counts that are exactly what is committed.

A row names an album by Spotify id, else by normalized artist+title (`_target`). An import
session remembers, in temporary tables of the store's connection, each album it has written
with the line that first named it, and its running counts. Both are written in the same
transactions as the albums themselves: after an interruption, whose open batch is rolled back,
they still say exactly what the database holds, and nothing of the run is kept in Python memory
whatever the size of the file.
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
import threading
from dataclasses import dataclass

from lotsdb_cli.albums.models import SPREADSHEET_COLUMNS, ImportRow

INSERTED, UPDATED, UNCHANGED, DUPLICATE = "inserted", "updated", "unchanged", "duplicate"
_COUNTED = ("inserted", "updated", "unchanged", "duplicates", "invalid")
_TARGET_COLUMNS = ", ".join(("id", "spotify_id", "norm_key", *SPREADSHEET_COLUMNS))
_BY_KEY = f"SELECT {_TARGET_COLUMNS} FROM albums WHERE norm_key = ? ORDER BY id"
_BY_ID_OR_KEY = f"SELECT {_TARGET_COLUMNS} FROM albums WHERE spotify_id = ? OR norm_key = ? ORDER BY id"
_session_numbers = itertools.count(1)


@dataclass(frozen=True)
class Written:
    """What one row did: `outcome` is INSERTED, UPDATED, UNCHANGED or DUPLICATE.

    A duplicate names an album an earlier row of the same import wrote (`first_line`); it is
    not applied, except to give that album the Spotify id the earlier row lacked (`completes`).
    """

    outcome: str
    first_line: int | None = None
    completes: bool = False


@dataclass(frozen=True)
class ImportCounts:
    """An import's counts; `last_line` is the line of the last record they include."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    invalid: int = 0
    last_line: int = 0


class ImportSession:
    """Writes one import's rows. `commit()` ends a batch; a dry run is one transaction, rolled back.

    Use through `AlbumStore.import_session()`, which closes it. A batch holds the store's lock
    and the database's write lock from its first write to its commit.
    """

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock, *, dry_run: bool, now: float) -> None:
        self._conn = conn
        self._lock = lock
        self.dry_run = dry_run
        self._now = now
        number = next(_session_numbers)
        self._written = f"temp.import_{number}_albums"
        self._counts_table = f"temp.import_{number}_counts"
        self._pending = dict.fromkeys(_COUNTED, 0)
        self._last_line = 0
        self._in_batch = False
        self._final: ImportCounts | None = None
        with self._lock:
            conn.execute(
                f"CREATE TABLE {self._written} (album_id INTEGER PRIMARY KEY, first_line INTEGER, outcome TEXT)"
            )
            conn.execute(f"CREATE TABLE {self._counts_table} (last_line INTEGER, {', '.join(_COUNTED)})")
            conn.execute(f"INSERT INTO {self._counts_table} VALUES (0{', 0' * len(_COUNTED)})")

    def write(self, row: ImportRow) -> Written:
        """Insert or update the album `row` names; enrichment is never touched."""
        self._begin()
        conn = self._conn
        self._last_line = row.line
        target = _target(conn, row)
        if target is None:
            cursor = conn.execute(
                "INSERT INTO albums (spotify_id, artist, title, genre, year, source_url, norm_key, "
                "imported_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (row.spotify_id, *row.spreadsheet_values(), row.norm_key, self._now, self._now),
            )
            return self._first_write(cursor.lastrowid, row, INSERTED)
        changed = _differs(target, row)
        seen = conn.execute(
            f"SELECT first_line, outcome FROM {self._written} WHERE album_id = ?", (target["id"],)
        ).fetchone()
        if seen is None:
            if changed:
                self._update(target["id"], row)
            return self._first_write(target["id"], row, UPDATED if changed else UNCHANGED)
        first_line, first_outcome = seen
        self._pending["duplicates"] += 1
        completes = row.spotify_id is not None and target["spotify_id"] is None
        if completes:
            # An earlier row named this album without a link; this one brings it.
            self._update(target["id"], row)
            if first_outcome == UNCHANGED:
                conn.execute(f"UPDATE {self._written} SET outcome = ? WHERE album_id = ?", (UPDATED, target["id"]))
                self._pending["unchanged"] -= 1
                self._pending["updated"] += 1
        return Written(DUPLICATE, first_line=first_line, completes=completes)

    def count_invalid(self, line: int) -> None:
        """Count a row that was not imported at all."""
        self._pending["invalid"] += 1
        self._last_line = line

    def commit(self) -> None:
        """End the open batch: its rows and its counts become durable together. No-op in a dry run."""
        if self.dry_run:
            return
        with self._lock:
            self._flush_counts()
            if self._in_batch:
                self._conn.execute("COMMIT")
                self._end_batch()

    def counts(self) -> ImportCounts:
        """What is committed so far; after `close`, what the whole run left in the database."""
        if self._final is not None:
            return self._final
        with self._lock:
            row = self._conn.execute(f"SELECT last_line, {', '.join(_COUNTED)} FROM {self._counts_table}").fetchone()
        return ImportCounts(last_line=row[0], **dict(zip(_COUNTED, row[1:], strict=True)))

    def close(self, *, completed: bool) -> ImportCounts:
        """Commit the last batch (roll it back if not `completed`, or in a dry run) and forget the run.

        A dry run's counts are what it would have done; an interrupted one did nothing.
        """
        try:
            if completed:
                with self._lock:
                    self._flush_counts()
                if self.dry_run:
                    self._final = self.counts()
                else:
                    self.commit()
        finally:
            self._rollback()
            if self._final is None:
                self._final = ImportCounts() if self.dry_run else self._committed_counts()
            with self._lock, contextlib.suppress(sqlite3.Error):
                self._conn.execute(f"DROP TABLE IF EXISTS {self._written}")
                self._conn.execute(f"DROP TABLE IF EXISTS {self._counts_table}")
        return self._final

    # -- internals ------------------------------------------------------------------------

    def _begin(self) -> None:
        if self._in_batch:
            return
        self._lock.acquire()
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise
        self._in_batch = True

    def _end_batch(self) -> None:
        self._in_batch = False
        self._lock.release()

    def _rollback(self) -> None:
        with self._lock:
            try:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
            finally:
                if self._in_batch:
                    self._end_batch()

    def _committed_counts(self) -> ImportCounts:
        try:
            return self.counts()
        except sqlite3.Error:  # the connection broke: the error that broke it is the one to report
            return ImportCounts()

    def _flush_counts(self) -> None:
        """Add the pending counts to the counts table, in the open transaction if there is one."""
        if not self._in_batch and not any(self._pending.values()):
            return
        assignments = ", ".join(f"{name} = {name} + ?" for name in _COUNTED)
        self._conn.execute(
            f"UPDATE {self._counts_table} SET last_line = max(last_line, ?), {assignments}",
            (self._last_line, *self._pending.values()),
        )
        self._pending = dict.fromkeys(_COUNTED, 0)

    def _first_write(self, album_id: int | None, row: ImportRow, outcome: str) -> Written:
        self._conn.execute(f"INSERT INTO {self._written} VALUES (?, ?, ?)", (album_id, row.line, outcome))
        self._pending[outcome] += 1
        return Written(outcome)

    def _update(self, album_id: int, row: ImportRow) -> None:
        # Only the spreadsheet's columns; a row without a link never removes a stored Spotify id.
        self._conn.execute(
            "UPDATE albums SET artist = ?, title = ?, genre = ?, year = ?, source_url = ?, "
            "norm_key = ?, spotify_id = coalesce(spotify_id, ?), "
            "imported_at = coalesce(imported_at, ?), updated_at = ? WHERE id = ?",
            (*row.spreadsheet_values(), row.norm_key, row.spotify_id, self._now, self._now, album_id),
        )


def _target(conn: sqlite3.Connection, row: ImportRow) -> sqlite3.Row | None:
    """The stored album a spreadsheet row names, if any: the one with its Spotify id, else the
    first with its artist+title and no id (a row without a link: the first with that key)."""
    if row.spotify_id is None:
        same_key = conn.execute(_BY_KEY, (row.norm_key,)).fetchall()
        without_id = [album for album in same_key if album["spotify_id"] is None]
        return (without_id or same_key or [None])[0]
    # One query for both: few albums share a key, and both lookups use an index.
    candidates = conn.execute(_BY_ID_OR_KEY, (row.spotify_id, row.norm_key)).fetchall()
    by_id = [album for album in candidates if album["spotify_id"] == row.spotify_id]
    # Else the same album imported earlier without a link: this row gives it its Spotify id.
    return (by_id or [album for album in candidates if album["spotify_id"] is None] or [None])[0]


def _differs(stored: sqlite3.Row, row: ImportRow) -> bool:
    stored_values = tuple(stored[column] for column in SPREADSHEET_COLUMNS)
    gains_spotify_id = row.spotify_id is not None and stored["spotify_id"] is None
    return stored_values != row.spreadsheet_values() or stored["norm_key"] != row.norm_key or gains_spotify_id

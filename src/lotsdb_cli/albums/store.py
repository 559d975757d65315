"""The local album library: one SQLite file, safe for several threads and processes at once.

Writes run in `BEGIN IMMEDIATE` transactions (so a read-modify-write never meets another
writer halfway) and wait up to `busy_timeout` seconds for a lock instead of failing with
"database is locked". The journal is WAL, so readers never block the writer.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
import threading
import time
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from lotsdb_cli.albums.ids import extract_album_id
from lotsdb_cli.albums.migrations import applied_migrations, migrate
from lotsdb_cli.albums.models import (
    ALBUM_COLUMNS_WITHOUT_METADATA,
    Album,
    AlbumCard,
    GallerySelection,
    ImportRow,
    ImportSummary,
    RefreshSelection,
)
from lotsdb_cli.albums.normalize import norm_key
from lotsdb_cli.albums.queries import (
    CARD_COLUMNS,
    ID_IN_JSON_LIST,
    enable_wal,
    list_query,
    local_album_id,
    names_from_metadata,
    text_contains,
    text_filters,
    where,
)
from lotsdb_cli.albums.upsert import ImportSession
from lotsdb_cli.errors import LotsdbError

DEFAULT_BUSY_TIMEOUT = 10.0
DEFAULT_STALE_AFTER = 30 * 86400.0
# Rows a listing fetches at a time: a listing of any length holds this many albums at most.
_LIST_BATCH = 500


class AlbumStoreError(LotsdbError):
    """The album database cannot be opened or used."""


class AlbumStore:
    """Albums imported from spreadsheets and enriched from Spotify, in one SQLite file."""

    def __init__(self, path: Path | str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # private whatever the umask
            connection = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise AlbumStoreError(f"cannot open album database {self.path}: {exc}") from None
        self._setup(connection, busy_timeout)

    @classmethod
    def temporary(cls) -> AlbumStore:
        """A private store that vanishes when closed: SQLite keeps it in memory until it outgrows
        its page cache, then in a temporary file. For a dry run with no database yet."""
        store = cls.__new__(cls)
        store.path = Path("")
        store._lock = threading.RLock()
        store._setup(sqlite3.connect("", isolation_level=None, check_same_thread=False), DEFAULT_BUSY_TIMEOUT)
        return store

    def _setup(self, connection: sqlite3.Connection, busy_timeout: float) -> None:
        self._conn = connection
        try:
            self._conn.row_factory = sqlite3.Row
            self._conn.create_function("text_contains", 2, text_contains, deterministic=True)
            # Sorts and an import's bookkeeping go to temporary files past the page cache, never
            # all into memory, whatever SQLite was built with.
            self._conn.execute("PRAGMA temp_store = FILE")
            enable_wal(self._conn, busy_timeout)
            with self._write() as conn:
                migrate(conn)
        except sqlite3.Error as exc:
            self._conn.close()
            raise AlbumStoreError(f"cannot use album database {self.path}: {exc}") from None

    # -- connection handling -------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> AlbumStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _write(self, *, commit: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the database's write lock; rolled back on error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT" if commit else "ROLLBACK")

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction on the database (for other records kept in it, such as exports)."""
        return self._write()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self._query(sql, params)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def applied_migrations(self) -> list[str]:
        with self._lock:
            return applied_migrations(self._conn)

    # -- import --------------------------------------------------------------------------

    @contextmanager
    def import_session(self, *, dry_run: bool = False) -> Iterator[ImportSession]:
        """A session writing one import's rows in batches (see `ImportSession`).

        On leaving the block the last batch is committed; if the block raises (Ctrl-C included),
        the open batch is rolled back and the batches committed before it stay. A dry run is one
        transaction, rolled back at the end.
        """
        session = ImportSession(self._conn, self._lock, dry_run=dry_run, now=time.time())
        try:
            yield session
        except BaseException:
            session.close(completed=False)
            raise
        session.close(completed=True)

    def upsert_imported(self, rows: Iterable[ImportRow], *, dry_run: bool = False) -> ImportSummary:
        """Insert or update spreadsheet rows in one transaction; enrichment is never touched.

        A row matches an album by Spotify id, else by normalized artist+title; a row naming an
        album an earlier row wrote is a duplicate. With `dry_run` the counts are computed the
        same way and the transaction is rolled back.
        """
        with self.import_session(dry_run=dry_run) as session:
            for row in rows:
                session.write(row)
        counts = session.counts()
        return ImportSummary(
            inserted=counts.inserted, updated=counts.updated, unchanged=counts.unchanged, duplicates=counts.duplicates
        )

    # -- reading -------------------------------------------------------------------------

    def get(self, ref: str | int) -> Album | None:
        """The album with local id, Spotify id or Spotify URL `ref`, or None.

        Raises `SpotifyIdError` when `ref` is neither a local id nor a Spotify album reference.
        """
        local_id = local_album_id(ref)
        if local_id is not None:
            rows = self._query("SELECT * FROM albums WHERE id = ?", (local_id,))
        else:
            rows = self._query("SELECT * FROM albums WHERE spotify_id = ?", (extract_album_id(str(ref)),))
        return Album.from_row(rows[0]) if rows else None

    def count(self) -> int:
        return int(self._query("SELECT count(*) FROM albums")[0][0])

    def albums(
        self,
        *,
        artist: str | None = None,
        genre: str | None = None,
        missing_cover: bool = False,
        limit: int | None = None,
    ) -> Generator[Album, None, None]:
        """Albums by artist, year and title, fetched a few at a time; artist/genre match
        case-insensitive substrings. Close the iterator (or exhaust it) to end the query."""
        sql, params = list_query("*", artist=artist, genre=genre, missing_cover=missing_cover, limit=limit)
        with self._lock:
            cursor = self._conn.execute(sql, params)
        try:
            while True:
                with self._lock:
                    rows = cursor.fetchmany(_LIST_BATCH)
                if not rows:
                    return
                yield from map(Album.from_row, rows)
        finally:
            with self._lock:
                cursor.close()

    def list(
        self,
        *,
        artist: str | None = None,
        genre: str | None = None,
        missing_cover: bool = False,
        limit: int | None = None,
    ) -> list[Album]:
        """`albums()` as a list, for selections known to be small."""
        return list(self.albums(artist=artist, genre=genre, missing_cover=missing_cover, limit=limit))

    def select_for_refresh(
        self,
        album_ids: Iterable[str | int] = (),
        *,
        artist: str | None = None,
        genre: str | None = None,
        stale_after: float = DEFAULT_STALE_AFTER,
        force: bool = False,
        now: float | None = None,
    ) -> RefreshSelection:
        """Sort the selected albums into those to fetch and those left alone (and why).

        Selected: the albums named in `album_ids` (local ids, Spotify ids or URLs; every album
        if empty) that match `artist` and `genre`. Fetched: those with no metadata or metadata
        older than `stale_after` seconds, except ones Spotify answered 404/400 for; with
        `force`, every selected album that has a Spotify id.
        """
        now = time.time() if now is None else now
        selection = RefreshSelection()
        clauses, params = text_filters(artist=artist, genre=genre)
        refs = list(album_ids)
        if refs:
            local_ids = _resolve_refs(self, refs, selection.unknown_refs)
            clauses.append("id IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(local_ids))
        rows = self._query("SELECT * FROM albums" + where(clauses) + " ORDER BY id", params)
        for album in map(Album.from_row, rows):
            if album.spotify_id is None:
                selection.no_spotify_id.append(album)
            elif force:
                selection.to_fetch.append(album)
            elif album.not_found:
                selection.not_found.append(album)
            elif album.needs_fetch(stale_after, now=now):
                selection.to_fetch.append(album)
            else:
                selection.fresh.append(album)
        return selection

    def select_for_gallery(
        self,
        *,
        artist: str | None = None,
        genre: str | None = None,
        missing_cover: bool = False,
        limit: int | None = None,
        max_age: float = DEFAULT_STALE_AFTER,
        now: float | None = None,
    ) -> GallerySelection:
        """The albums `list` would give, and those of them whose cover must be fetched first.

        To fetch: albums with a Spotify id that Spotify has not answered 404/400 for, whose
        metadata or cover is missing or older than `max_age` seconds (`Album.needs_fetch`).
        The Spotify objects are read only for those.
        """
        sql, params = list_query(
            ALBUM_COLUMNS_WITHOUT_METADATA, artist=artist, genre=genre, missing_cover=missing_cover, limit=limit
        )
        selection = GallerySelection()
        stale_ids: list[int] = []
        for album in map(Album.from_row, self._query(sql, params)):
            selection.album_ids.append(album.id)
            if album.spotify_id is None or album.not_found:
                selection.skipped += 1
            elif album.needs_fetch(max_age, now=now):
                stale_ids.append(album.id)
            else:
                selection.fresh += 1
        rows = self._query(f"SELECT * FROM albums WHERE {ID_IN_JSON_LIST}", (json.dumps(stale_ids),))
        by_id = {album.id: album for album in map(Album.from_row, rows)}
        selection.to_fetch = [by_id[album_id] for album_id in stale_ids if album_id in by_id]
        return selection

    def album_cards(
        self,
        *,
        artist: str | None = None,
        genre: str | None = None,
        missing_cover: bool = False,
        limit: int | None = None,
        among: Sequence[int] | None = None,
    ) -> builtins.list[AlbumCard]:
        """What a gallery shows of the albums `list` would give, in that order; with `among`, only
        of those local ids (a `select_for_gallery` made before a fetch). The Spotify objects are
        not read: a tile needs none of it but the cover URL, which has its own column."""
        sql, params = list_query(
            CARD_COLUMNS, artist=artist, genre=genre, missing_cover=missing_cover, limit=limit, among=among
        )
        return [AlbumCard.from_row(row) for row in self._query(sql, params)]

    @staticmethod
    def needs_fetch(album: Album, max_age: float, *, now: float | None = None) -> bool:
        """True if the album's metadata or cover URL is missing or older than `max_age` seconds."""
        return album.needs_fetch(max_age, now=now)

    # -- enrichment ----------------------------------------------------------------------

    def store_metadata(
        self,
        spotify_id: str,
        metadata: dict[str, Any],
        cover_url: str | None,
        *,
        fetched_at: float | None = None,
    ) -> Album:
        """Store a fetched Spotify album object and clear any recorded error.

        An album not in the library yet (e.g. `albums show URL`) is added. Artist, title and
        year the spreadsheet left empty are filled in from the metadata; others are kept.
        """
        fetched_at = time.time() if fetched_at is None else fetched_at
        metadata_json = json.dumps(metadata, ensure_ascii=False, separators=(",", ":"))
        artist, title, year = names_from_metadata(metadata)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO albums (spotify_id) VALUES (?) ON CONFLICT (spotify_id) DO NOTHING",
                (spotify_id,),
            )
            conn.execute(
                """
                UPDATE albums SET
                    artist = coalesce(artist, :artist), title = coalesce(title, :title),
                    year = coalesce(year, :year), metadata_json = :metadata_json,
                    metadata_fetched_at = :fetched_at, cover_url = :cover_url,
                    cover_fetched_at = :fetched_at, fetch_error = NULL, fetch_error_at = NULL,
                    not_found = 0, updated_at = :fetched_at
                WHERE spotify_id = :spotify_id
                """,
                {
                    "artist": artist,
                    "title": title,
                    "year": year,
                    "metadata_json": metadata_json,
                    "fetched_at": fetched_at,
                    "cover_url": cover_url,
                    "spotify_id": spotify_id,
                },
            )
            row = conn.execute("SELECT * FROM albums WHERE spotify_id = ?", (spotify_id,)).fetchone()
            if row["title"] is not None and row["norm_key"] is None:
                conn.execute(
                    "UPDATE albums SET norm_key = ? WHERE id = ?",
                    (norm_key(row["artist"], row["title"]), row["id"]),
                )
                row = conn.execute("SELECT * FROM albums WHERE id = ?", (row["id"],)).fetchone()
        return Album.from_row(row)

    def store_error(self, spotify_id: str, message: str, *, not_found: bool = False, at: float | None = None) -> bool:
        """Record a failed fetch (metadata kept); `not_found` marks a 404/400 answer.

        False if no album has that Spotify id.
        """
        at = time.time() if at is None else at
        with self._write() as conn:
            cursor = conn.execute(
                """
                UPDATE albums SET fetch_error = ?, fetch_error_at = ?,
                    not_found = CASE WHEN ? THEN 1 ELSE not_found END, updated_at = ?
                WHERE spotify_id = ?
                """,
                (message, at, not_found, at, spotify_id),
            )
            return cursor.rowcount > 0


def _resolve_refs(store: AlbumStore, refs: Sequence[str | int], unknown_refs: list[str]) -> list[int]:
    """Local ids of the albums named by `refs`; refs naming no album go to `unknown_refs`."""
    local_ids: list[int] = []
    for ref in refs:
        album = store.get(ref)
        if album is None:
            unknown_refs.append(str(ref))
        elif album.id not in local_ids:
            local_ids.append(album.id)
    return local_ids

"""Named, ordered schema migrations of the album database, recorded in `_migrations`.

Append new migrations at the end; never edit or reorder one that has shipped. Each runs inside
the caller's transaction, so a migration is applied completely or not at all.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(function: Migration) -> Migration:
    MIGRATIONS.append(function)
    return function


def ensure_migrations_table(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    """Names of the migrations already applied, in the order they were applied."""
    ensure_migrations_table(conn)
    rows = conn.execute("SELECT name FROM _migrations ORDER BY applied_at, rowid").fetchall()
    return [row[0] for row in rows]


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply the missing migrations; the names of those applied now. Call inside a transaction."""
    done = set(applied_migrations(conn))
    applied_now = []
    for function in MIGRATIONS:
        if function.__name__ in done:
            continue
        function(conn)
        conn.execute(
            "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
            (function.__name__, time.time()),
        )
        applied_now.append(function.__name__)
    return applied_now


@migration
def m001_create_albums(conn: sqlite3.Connection) -> None:
    conn.execute(
        """
        CREATE TABLE albums (
            id INTEGER PRIMARY KEY,
            spotify_id TEXT UNIQUE,
            artist TEXT,
            title TEXT,
            genre TEXT,
            year INTEGER,
            source_url TEXT,
            norm_key TEXT,
            metadata_json TEXT,
            metadata_fetched_at REAL,
            cover_url TEXT,
            cover_fetched_at REAL,
            fetch_error TEXT,
            fetch_error_at REAL,
            not_found INTEGER NOT NULL DEFAULT 0,
            imported_at REAL,
            updated_at REAL
        )
        """
    )


@migration
def m002_index_norm_key(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE INDEX albums_norm_key ON albums (norm_key)")


@migration
def m003_create_exports(conn: sqlite3.Connection) -> None:
    """What `lots dump --changes` last wrote: one fingerprint per lot, per event and format."""
    conn.execute(
        """
        CREATE TABLE exports (
            event_id INTEGER NOT NULL,
            format TEXT NOT NULL,
            lot_id INTEGER NOT NULL,
            fingerprint TEXT NOT NULL,
            exported_at REAL NOT NULL,
            PRIMARY KEY (event_id, format, lot_id)
        ) WITHOUT ROWID
        """
    )


@migration
def m004_exports_per_catalog(conn: sqlite3.Connection) -> None:
    """The `--changes` record is kept per Catalog API too: one home used against the sandbox and then
    production must not report production's lots as changed, nor the sandbox's as removed. Records
    made before it are not known to belong to a catalog and are dropped (that event's next
    `--changes` export writes every lot, as a first one does)."""
    conn.execute("DROP TABLE exports")
    conn.execute(
        """
        CREATE TABLE exports (
            catalog TEXT NOT NULL,
            event_id INTEGER NOT NULL,
            format TEXT NOT NULL,
            lot_id INTEGER NOT NULL,
            fingerprint TEXT NOT NULL,
            exported_at REAL NOT NULL,
            PRIMARY KEY (catalog, event_id, format, lot_id)
        ) WITHOUT ROWID
        """
    )

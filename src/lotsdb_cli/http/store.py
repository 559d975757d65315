"""Where cached responses live: one row per GET in a SQLite file (or one hash per GET in Redis, see
`redis_store`).

An entry is what a later run needs to answer without the network (status, the headers that matter,
the body) or to revalidate (ETag, Last-Modified), and when it stops being fresh. The key is a digest
of the method and the URL exactly as sent, without any userinfo: credentials never reach a key, a
stored URL or a log.

The store itself is plain storage: what is cacheable and for how long is decided in `cache.py`,
and failures of the store are turned into "no cache" there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from lotsdb_cli.http.urls import strip_userinfo

TABLE = "lotsdb_http"
SQL_IN_CHUNK = 500  # keys per SELECT ... IN (...)
BUSY_TIMEOUT_S = 30.0
KEPT_HEADERS = ("content-type", "etag", "last-modified", "date")
_COLUMNS = "key, url, status, headers, body, stored_at, expires_at"
# Tables of the requests-cache file earlier versions wrote at the same default path.
_LEGACY_TABLES = ("responses", "redirects")


def cache_key(method: str, url: str) -> str:
    """The key of a request: a digest of the method and the URL as sent (no userinfo)."""
    text = f"{method} {strip_userinfo(url)}"
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


@dataclass
class CacheEntry:
    key: str
    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    stored_at: float
    expires_at: float | None  # when it stopped being fresh under the TTL it was stored with (None: never)
    extra: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def validators(self) -> dict[str, str]:
        """Conditional-request headers that revalidate this entry (empty when the server sent none)."""
        found = {}
        if self.headers.get("etag"):
            found["If-None-Match"] = self.headers["etag"]
        if self.headers.get("last-modified"):
            found["If-Modified-Since"] = self.headers["last-modified"]
        return found

    def meta(self) -> dict[str, object]:
        return {
            "url": self.url,
            "status": self.status,
            "headers": self.headers,
            "stored_at": self.stored_at,
            "expires_at": self.expires_at,
        }

    @classmethod
    def from_meta(cls, key: str, meta: dict[str, object], body: bytes) -> CacheEntry:
        headers = meta.get("headers")
        expires = meta.get("expires_at")
        return cls(
            key=key,
            url=str(meta["url"]),
            status=int(meta["status"]),  # type: ignore[call-overload]
            headers={str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {},
            body=body,
            stored_at=float(meta["stored_at"]),  # type: ignore[arg-type]
            expires_at=None if expires is None else float(expires),  # type: ignore[arg-type]
        )


@dataclass
class EntrySummary:
    """What `cache stats` and `cache clear` look at: never the body."""

    key: str
    url: str
    stored_at: float


class Store(Protocol):
    kind: str
    location: str

    def get_many(self, keys: Sequence[str]) -> dict[str, CacheEntry]: ...
    def put_many(self, entries: Sequence[CacheEntry]) -> None: ...
    def delete(self, keys: Sequence[str]) -> int: ...
    def summaries(self) -> Iterator[EntrySummary]: ...
    def clear(self) -> int: ...
    def size_bytes(self) -> int | None: ...
    def close(self) -> None: ...


class CorruptCache(Exception):
    """The cache file is not a database (or a damaged one)."""


def is_corruption(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "corrupt" in text


class SQLiteStore:
    """A table in a SQLite file (WAL mode, so several processes share it); safe to use from any thread."""

    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)
        self._lock = threading.Lock()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # private whatever the umask
        self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        try:
            self._prepare()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            if is_corruption(exc):
                raise CorruptCache(str(exc)) from None
            raise
        except BaseException:
            self._db.close()
            raise

    def _prepare(self) -> None:
        db = self._db
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if TABLE in tables and not set(_LEGACY_TABLES) <= tables:
            return  # the usual case: nothing to create, no write lock taken
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            _retry_busy(lambda: db.execute("PRAGMA journal_mode = WAL"))
        with self._transaction():
            db.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (key TEXT PRIMARY KEY, url TEXT NOT NULL, "
                "status INTEGER NOT NULL, headers TEXT NOT NULL, body BLOB NOT NULL, "
                "stored_at REAL NOT NULL, expires_at REAL) WITHOUT ROWID"
            )
            if set(_LEGACY_TABLES) <= tables:
                for legacy in _LEGACY_TABLES:  # an earlier version's cache at this path: its entries are not ours
                    db.execute(f"DROP TABLE IF EXISTS {legacy}")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            _retry_busy(lambda: self._db.execute("BEGIN IMMEDIATE"))
            try:
                yield self._db
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def get_many(self, keys: Sequence[str]) -> dict[str, CacheEntry]:
        found: dict[str, CacheEntry] = {}
        with self._lock:
            for start in range(0, len(keys), SQL_IN_CHUNK):
                chunk = list(keys[start : start + SQL_IN_CHUNK])
                marks = ",".join("?" * len(chunk))
                query = f"SELECT {_COLUMNS} FROM {TABLE} WHERE key IN ({marks})"
                rows = self._db.execute(query, chunk).fetchall()
                for key, url, status, headers, body, stored_at, expires_at in rows:
                    found[key] = CacheEntry(key, url, status, _headers(headers), bytes(body), stored_at, expires_at)
        return found

    def put_many(self, entries: Sequence[CacheEntry]) -> None:
        if not entries:
            return
        rows = [(e.key, e.url, e.status, json.dumps(e.headers), e.body, e.stored_at, e.expires_at) for e in entries]
        with self._transaction() as db:
            db.executemany(f"INSERT OR REPLACE INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def delete(self, keys: Sequence[str]) -> int:
        removed = 0
        with self._transaction() as db:
            for start in range(0, len(keys), SQL_IN_CHUNK):
                chunk = list(keys[start : start + SQL_IN_CHUNK])
                marks = ",".join("?" * len(chunk))
                removed += db.execute(f"DELETE FROM {TABLE} WHERE key IN ({marks})", chunk).rowcount
        return removed

    def summaries(self) -> Iterator[EntrySummary]:
        with self._lock:
            rows = self._db.execute(f"SELECT key, url, stored_at FROM {TABLE}").fetchall()
        return (EntrySummary(key, url, stored_at) for key, url, stored_at in rows)

    def clear(self) -> int:
        with self._transaction() as db:
            return db.execute(f"DELETE FROM {TABLE}").rowcount

    def size_bytes(self) -> int | None:
        return sum(path.stat().st_size for path in (self.path, Path(f"{self.path}-wal")) if path.exists())

    def close(self) -> None:
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.close()


def _headers(text: str) -> dict[str, str]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _retry_busy(operation: object) -> None:
    """Run a statement that SQLite may refuse at once (SQLITE_BUSY without waiting: switching a new
    file to WAL, taking the write lock while another process recovers the WAL), for a while."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    delay = 0.005
    while True:
        try:
            operation()  # type: ignore[operator]
            return
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(0.2, delay * 2)

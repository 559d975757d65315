"""A bounded write lock for requests-cache's SQLite storage.

requests-cache retries `BEGIN IMMEDIATE` forever, which hangs on a read-only or failing
database. This version waits for other writers (the busy timeout does most of that), but gives
up with an error on any other failure, which `GuardedCache` turns into a warning.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

WRITE_LOCK_DEADLINE = 60.0


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


@contextmanager
def _bounded_write_lock(self: Any) -> Iterator[None]:
    with self._lock:
        deadline = time.monotonic() + WRITE_LOCK_DEADLINE
        while True:
            try:
                self._connection.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.001)
        self._active_transaction = True
        try:
            yield
            self._connection.commit()
        except BaseException:
            self._connection.rollback()
            raise
        finally:
            self._active_transaction = False


def bound_write_lock(storage: Any) -> None:
    """Replace `storage._acquire_sqlite_lock` with the bounded version (on this instance only)."""
    storage._acquire_sqlite_lock = types.MethodType(_bounded_write_lock, storage)


_class_patch_lock = threading.Lock()


@contextmanager
def bounded_while_opening() -> Iterator[None]:
    """Bound the write lock of every `SQLiteDict` for the duration of the block.

    `SQLiteCache(...)` creates its tables in its constructor, before `bound_write_lock` can
    be applied to the instance: on a full disk its `BEGIN IMMEDIATE` fails with "disk I/O
    error" and requests-cache would retry it forever.
    """
    from requests_cache.backends.sqlite import SQLiteDict

    with _class_patch_lock:
        original = SQLiteDict.__dict__["_acquire_sqlite_lock"]
        SQLiteDict._acquire_sqlite_lock = _bounded_write_lock  # type: ignore[method-assign]
        try:
            yield
        finally:
            SQLiteDict._acquire_sqlite_lock = original  # type: ignore[method-assign]

"""Writing a dump: every lot of an event in its order, or (`--changes`) only what changed since the last export.

What a `--changes` export wrote is recorded in the local database as one fingerprint per lot (a
digest of the content written), per event and format, and only once the output was written
completely with no failed lot: an export that fails (even one lot of it) or is interrupted changes
nothing, so the next run repeats the same delta. A lot is new (no fingerprint), changed (another
one) or unchanged (the same: not written); a lot in the record that is no longer in the event is
removed (a `{"id": ..., "removed": true}` row in JSON/JSONL). The order of the lots does not
matter, only their content.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from lotsdb_cli.http.urls import strip_userinfo
from lotsdb_cli.lots import LotResult, csv_row

if TYPE_CHECKING:
    from lotsdb_cli.albums.store import AlbumStore
    from lotsdb_cli.api import Dump
    from lotsdb_cli.output import RecordWriter


def fingerprint(content: Any) -> str:
    """A digest of what is written for a lot: the same content, the same digest, whatever the key order."""
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


@dataclass
class Changes:
    """The delta of one export against the previous record of the same event and format."""

    previous: dict[int, str]
    current: dict[int, str] = field(default_factory=dict)  # what to record once the export is complete
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)  # lots that could not be fetched

    @property
    def complete(self) -> bool:
        """Whether this delta may be recorded: every lot was fetched (and judged)."""
        return not self.failed

    def keep(self, lot_id: int, content: Any) -> bool:
        """Whether a lot with this content is written (new or changed)."""
        digest = fingerprint(content)
        self.current[lot_id] = digest
        before = self.previous.get(lot_id)
        if before is None:
            self.new += 1
            return True
        if before != digest:
            self.changed += 1
            return True
        self.unchanged += 1
        return False

    def lot_failed(self, lot_id: int) -> None:
        """A lot that could not be fetched: this delta is incomplete and must not be recorded."""
        self.failed.append(lot_id)

    def find_removed(self, event_lot_ids: Iterable[int]) -> list[int]:
        still_there = set(event_lot_ids)
        self.removed = sorted(lot_id for lot_id in self.previous if lot_id not in still_there)
        return self.removed

    def line(self) -> str:
        return (
            f"changes: {self.new} new, {self.changed} changed, {self.unchanged} unchanged, {len(self.removed)} removed"
        )


def catalog_key(catalog_url: str) -> str:
    """The Catalog API a record belongs to: its base URL as one server is named however it is written
    (scheme and host in lower case, no default port, no userinfo, query, trailing dot or slash)."""
    parts = urlsplit(strip_userinfo(catalog_url))
    scheme, host = parts.scheme.lower(), (parts.hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:  # (settings are checked at start; this is only for a caller of our own)
        port = None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != {"http": 80, "https": 443}.get(scheme):
        netloc += f":{port}"
    path = "/".join(segment for segment in parts.path.split("/") if segment not in ("", "."))
    return f"{scheme}://{netloc}" + (f"/{path}" if path else "")


class ExportLog:
    """The record of `--changes` exports in the album database (table `exports`), for one Catalog API
    (`catalog_url`): an event id means another event on another server."""

    def __init__(self, store: AlbumStore, catalog_url: str) -> None:
        self.store = store
        self.catalog = catalog_key(catalog_url)

    def previous(self, event_id: int, fmt: str) -> dict[int, str]:
        rows = self.store.query(
            "SELECT lot_id, fingerprint FROM exports WHERE catalog = ? AND event_id = ? AND format = ?",
            (self.catalog, event_id, fmt),
        )
        return {int(row[0]): str(row[1]) for row in rows}

    def record(self, event_id: int, fmt: str, fingerprints: dict[int, str]) -> None:
        """Replace the record of this event and format, in one transaction."""
        now = time.time()
        with self.store.transaction() as db:
            db.execute(
                "DELETE FROM exports WHERE catalog = ? AND event_id = ? AND format = ?", (self.catalog, event_id, fmt)
            )
            db.executemany(
                "INSERT INTO exports (catalog, event_id, format, lot_id, fingerprint, exported_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(self.catalog, event_id, fmt, lot_id, digest, now) for lot_id, digest in fingerprints.items()],
            )

    def forget(self, event_id: int) -> int:
        """Forget every export of the event (all formats); the next `--changes` export writes every lot."""
        with self.store.transaction() as db:
            cursor = db.execute("DELETE FROM exports WHERE catalog = ? AND event_id = ?", (self.catalog, event_id))
            return int(cursor.rowcount)


def write_dump(
    dump: Dump,
    writer: RecordWriter | None,
    fmt: str,
    *,
    changes: Changes | None = None,
    on_lot: Callable[[LotResult], None] = lambda result: None,
) -> None:
    """Fetch every lot of `dump` and write it (or, with `changes`, what changed) with `writer`.

    `writer` None fetches into the cache only (`cache warm`). The caller records `changes.current`
    once the output is complete, and only if `changes.complete` (no lot failed), and closes the writer.
    """
    for result in dump:
        if result.lot is None:
            if changes is not None:
                changes.lot_failed(result.lot_id)
        else:
            content = csv_row(result.lot, result.lot_number) if fmt == "csv" else result.lot
            wanted = changes is None or changes.keep(result.lot_id, content)
            if wanted and writer is not None:
                writer.write(content)
        on_lot(result)
    if changes is not None:
        removed = changes.find_removed(lot_id for lot_id, _ in dump.lots)
        if writer is not None and fmt != "csv":
            for lot_id in removed:
                writer.write({"id": lot_id, "removed": True})

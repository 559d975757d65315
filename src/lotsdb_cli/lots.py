"""Lots: the concurrent dump of an event, CSV flattening, and override entries."""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from lotsdb_cli import shapes
from lotsdb_cli.catalog import CatalogClient
from lotsdb_cli.errors import BadResponse, UsageError, stops_the_run
from lotsdb_cli.fetcher import ordered_batches
from lotsdb_cli.http.client import Fetched
from lotsdb_cli.shapes import LOT_DATA_FIELDS  # LotDataDto's fields and their JSON types

PROBE_CHUNK = 250  # lots looked up in the cache per query during a dump
CSV_COLUMNS = ["id", "lotNumber", "customerItemId", *LOT_DATA_FIELDS, "imageLinks"]


def effective_data(lot: dict[str, Any]) -> dict[str, Any]:
    """The last entry of `overridenData` if there is one, else `initialData` (both may be null)."""
    overrides = lot.get("overridenData")
    for entry in reversed(overrides if isinstance(overrides, list) else []):
        if isinstance(entry, dict):
            return entry
    initial = lot.get("initialData")
    return initial if isinstance(initial, dict) else {}


def csv_row(lot: dict[str, Any], lot_number: str | None) -> dict[str, Any]:
    """One CSV row: id, lotNumber, customerItemId, the effective LotDataDto fields, imageLinks."""
    data = effective_data(lot)
    links = [link.get("link") for link in _list(lot.get("imageLinks")) if isinstance(link, dict)]
    row: dict[str, Any] = {"id": lot.get("id"), "lotNumber": lot_number, "customerItemId": lot.get("customerItemId")}
    row.update({name: data.get(name) for name in LOT_DATA_FIELDS})
    row["imageLinks"] = " ".join(str(link) for link in links if link)
    return row


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


@dataclass
class DumpSummary:
    """What a dump did, counted where it happened: a lot counts as fetched once it is in the cache."""

    total: int = 0
    fetched: int = 0
    from_cache: int = 0
    stale: int = 0
    failed: dict[int, str] = field(default_factory=dict)  # lot id -> reason

    @property
    def done(self) -> int:
        return self.fetched + self.from_cache + self.stale + len(self.failed)

    def line(self) -> str:
        return (
            f"lots: {self.total} total, {self.fetched} fetched, {self.from_cache} from cache, "
            f"{self.stale} served stale, {len(self.failed)} failed"
        )

    def add(self, other: DumpSummary) -> None:
        """Fold another event's summary into this one (`cache warm`'s total)."""
        self.total += other.total
        self.fetched += other.fetched
        self.from_cache += other.from_cache
        self.stale += other.stale
        self.failed.update(other.failed)

    def count(self, fetched: Fetched) -> None:
        if fetched.stale:
            self.stale += 1
        elif fetched.from_cache:
            self.from_cache += 1
        else:
            self.fetched += 1


@dataclass
class LotResult:
    lot_id: int
    lot_number: str | None
    lot: dict[str, Any] | None
    error: str | None = None


def event_lots(event: dict[str, Any]) -> list[tuple[int, str | None]]:
    """(lot id, lot number) of an event, in the event's order; `BadResponse` if an entry is unusable."""
    problem = shapes.event()(event)
    if problem is not None:
        raise BadResponse(f"event {event.get('id')}: {problem}")
    entries = []
    for entry in event.get("lots") or []:
        lot_number = entry.get("lotNumber")
        entries.append((entry["id"], lot_number if isinstance(lot_number, str) else None))
    return entries


async def dump_batches(
    catalog: CatalogClient, lots: list[tuple[int, str | None]], *, workers: int, summary: DumpSummary
) -> AsyncIterator[list[LotResult]]:
    """Every lot, in order, in batches, fetched concurrently; cached lots are read without a request."""
    summary.total = len(lots)
    catalog.http.set_max_in_flight(workers)
    Entry = tuple[tuple[int, str | None], Fetched | None]

    def probed() -> Iterator[Entry]:
        # The cache is read a chunk of lots at a time (one query each), as the workers ask for
        # more: a warm dump makes no per-lot lookups, and memory stays flat.
        for start in range(0, len(lots), PROBE_CHUNK):
            chunk = lots[start : start + PROBE_CHUNK]
            cached = catalog.cached_lots([lot_id for lot_id, _ in chunk])
            for entry in chunk:
                yield entry, cached.pop(entry[0], None)

    async def fetch(item: Entry) -> Fetched:
        fetched = await catalog.lot(item[0][0])
        summary.count(fetched)
        return fetched

    def probe(item: Entry) -> Fetched | None:
        if item[1] is not None:
            summary.from_cache += 1
        return item[1]

    async for batch in ordered_batches(fetch, probed(), workers=workers, is_fatal=stops_the_run, probe=probe):
        results = []
        for outcome in batch:
            (lot_id, lot_number), _ = outcome.item
            if outcome.error is not None:
                summary.failed[lot_id] = outcome.error.message
                results.append(LotResult(lot_id, lot_number, None, outcome.error.message))
            else:
                assert outcome.result is not None
                results.append(LotResult(lot_id, lot_number, outcome.result.data))
        yield results


def parse_assignments(assignments: list[str]) -> dict[str, Any]:
    """`FIELD=VALUE` pairs, checked against LotDataDto's fields and types (`null` clears a field).

    A field given twice (in any case) is refused: which value was meant cannot be told.
    """
    values: dict[str, Any] = {}
    for assignment in assignments:
        field_name, value = parse_assignment(assignment)
        if field_name in values:
            raise UsageError(f"--set gives {field_name} twice; give each field once")
        values[field_name] = value
    return values


def parse_assignment(assignment: str) -> tuple[str, Any]:
    """One `FIELD=VALUE`: the field's name as LotDataDto spells it, and the value converted."""
    valid = ", ".join(LOT_DATA_FIELDS)
    name, sep, text = assignment.partition("=")
    if not sep or not name.strip():
        raise UsageError(f"--set expects FIELD=VALUE, got {assignment!r}", hint=f"fields: {valid}")
    field_name = _FIELDS_BY_LOWER_NAME.get(name.strip().lower())
    if field_name is None:
        raise UsageError(f"unknown lot field {name.strip()!r}", hint=f"fields: {valid}")
    return field_name, _convert(field_name, text)


_FIELDS_BY_LOWER_NAME = {name.lower(): name for name in LOT_DATA_FIELDS}
INT32 = range(-(2**31), 2**31)
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _convert(field_name: str, text: str) -> Any:
    kind = LOT_DATA_FIELDS[field_name]
    if text.strip().lower() == "null":
        return None
    try:
        if kind is bool:
            lowered = text.strip().lower()
            if lowered in ("true", "yes", "1"):
                return True
            if lowered in ("false", "no", "0"):
                return False
            raise ValueError(text)
        if kind is int:
            if not _INTEGER.fullmatch(text.strip()):  # int() also takes `1_000` and non-ASCII digits
                raise ValueError(text)
            whole = int(text.strip())
            if whole not in INT32:
                raise ValueError(text)
            return whole
        if kind is float:
            if not _DECIMAL.fullmatch(text.strip()):  # float() also takes `1_0.5`, `٣` and `nan`
                raise ValueError(text)
            number = float(text.strip())
            if not math.isfinite(number):
                raise ValueError(text)
            return number
    except ValueError:
        names = {bool: "true or false", int: "an integer from -2147483648 to 2147483647", float: "a number"}
        raise UsageError(f"{field_name} must be {names[kind]} (or null), not {text!r}") from None
    return text


def override_body(lot: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """An UpdateLotRequest that appends an override built from the effective data plus `changes`."""
    entry = {name: effective_data(lot).get(name) for name in LOT_DATA_FIELDS}
    entry.update(changes)
    overrides = [item for item in _list(lot.get("overridenData")) if isinstance(item, dict)]
    return {
        "customerItemId": lot.get("customerItemId"),
        "imageLinks": [
            link["link"] for link in _list(lot.get("imageLinks")) if isinstance(link, dict) and link.get("link")
        ],
        "overridenData": [*overrides, entry],
        "catalogs": [item for item in _list(lot.get("catalogs")) if isinstance(item, dict)],
    }


@dataclass
class OverrideResult:
    lot: dict[str, Any]  # the lot after the override (or as it is, when nothing changed or on a dry run)
    body: dict[str, Any] | None  # the UpdateLotRequest sent (or that would be sent); None: no change
    sent: bool = False


async def override_lot(
    catalog: CatalogClient, lot_id: int, changes: dict[str, Any], *, dry_run: bool
) -> OverrideResult:
    """Append an override built from the current effective data plus `changes`; nothing when it changes nothing."""
    current = (await catalog.lot(lot_id, fresh=True)).data
    effective = effective_data(current)
    if all(_same(effective.get(name), value) for name, value in changes.items()):
        return OverrideResult(current, None)
    body = override_body(current, changes)
    if dry_run:
        return OverrideResult(current, body)
    updated = await catalog.update_lot(lot_id, body)
    return OverrideResult(updated, body, sent=True)


def _same(stored: Any, wanted: Any) -> bool:
    """Equal as the API sees it: 2 and 2.0 are the same number, True is not 1."""
    if isinstance(stored, bool) or isinstance(wanted, bool):
        return type(stored) is type(wanted) and stored == wanted
    return bool(stored == wanted)

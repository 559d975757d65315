"""Every lot of the sandbox, generated on first use and kept as its serialized LotDto, with
the changes made by `PUT /api/Lot/{id}` for the life of the process."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

from lotsdb_cli.sandbox.catalog_data import FIRST_LOT_ID, CatalogRecord
from lotsdb_cli.sandbox.lot_data import LOT_DATA_FIELDS, generate_lot
from lotsdb_cli.sandbox.messages import etag_of, to_json_bytes

FIRST_NEW_IMAGE_ID = 1_000_000_000


@dataclass(frozen=True)
class StoredLot:
    body: bytes  # the LotDto as served
    etag: str
    last_modified: str
    customer_item_id: str | None
    lot_numbers: tuple[str | None, ...]

    def dto(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.body)
        return document


def store_lot(dto: dict[str, Any], modified_at: float) -> StoredLot:
    body = to_json_bytes(dto)
    return StoredLot(
        body=body,
        etag=etag_of(body),
        last_modified=formatdate(modified_at, usegmt=True),
        customer_item_id=dto.get("customerItemId"),
        lot_numbers=tuple(entry.get("lotNumber") for entry in dto.get("catalogs") or ()),
    )


class LotStore(Mapping[int, dict[str, Any]]):
    """Lot id -> LotDto (a copy). `lookup` gives the serialized form the server sends."""

    def __init__(self, seed: int, catalogs: list[CatalogRecord], created_at: float) -> None:
        self._seed = seed
        self._catalogs = catalogs
        self._lots_per_catalog = len(catalogs[0].lot_numbers) if catalogs else 0
        self._created_at = created_at
        self._stored: dict[int, StoredLot] = {}
        self._write_lock = threading.Lock()
        self._new_image_ids = itertools.count(FIRST_NEW_IMAGE_ID)

    @property
    def lot_ids(self) -> range:
        return range(FIRST_LOT_ID, FIRST_LOT_ID + len(self._catalogs) * self._lots_per_catalog)

    def __len__(self) -> int:
        return len(self.lot_ids)

    def __iter__(self) -> Iterator[int]:
        return iter(self.lot_ids)

    def __contains__(self, lot_id: object) -> bool:
        return lot_id in self.lot_ids

    def __getitem__(self, lot_id: int) -> dict[str, Any]:
        stored = self.lookup(lot_id)
        if stored is None:
            raise KeyError(lot_id)
        return stored.dto()

    def lookup(self, lot_id: int) -> StoredLot | None:
        stored = self._stored.get(lot_id)
        if stored is not None:
            return stored
        if lot_id not in self.lot_ids:
            return None
        catalog = self._catalogs[(lot_id - FIRST_LOT_ID) // self._lots_per_catalog]
        generated = store_lot(generate_lot(self._seed, catalog, lot_id), self._created_at)
        # Two threads may generate the same lot at once; both produce the same bytes.
        return self._stored.setdefault(lot_id, generated)

    def matching_ids(self, keep: Callable[[StoredLot], bool] | None) -> list[int] | range:
        if keep is None:
            return self.lot_ids
        return [lot_id for lot_id in self.lot_ids if keep(self._lookup_known(lot_id))]

    def update(self, lot_id: int, changes: Mapping[str, Any]) -> StoredLot | None:
        """Apply the fields present in an UpdateLotRequest; absent fields stay as they are."""
        with self._write_lock:
            current = self.lookup(lot_id)
            if current is None:
                return None
            dto = current.dto()
            for name, value in changes.items():
                dto[name] = self._bound(name, value)
            updated = store_lot(dto, time.time())
            self._stored[lot_id] = updated
            return updated

    def _lookup_known(self, lot_id: int) -> StoredLot:
        stored = self.lookup(lot_id)
        assert stored is not None
        return stored

    def _bound(self, name: str, value: Any) -> Any:
        """A request field as ASP.NET binds it: absent properties of a DTO become null (0 for a
        non-nullable int), and image links get ids."""
        if value is None or name == "customerItemId":
            return value
        if name == "imageLinks":
            return [{"id": next(self._new_image_ids), "link": link} for link in value]
        if name == "overridenData":
            return [{field: entry.get(field) for field in LOT_DATA_FIELDS} for entry in value]
        return [{"catalogId": entry.get("catalogId", 0), "lotNumber": entry.get("lotNumber")} for entry in value]

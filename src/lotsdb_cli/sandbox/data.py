"""All generated data of one sandbox: the Catalog API's sellers, events and lots, and the
Spotify albums. Deterministic from the seed (and today's UTC date, for event dates)."""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime
from typing import Any

from lotsdb_cli.sandbox.album_store import AlbumStore
from lotsdb_cli.sandbox.catalog_data import (
    CatalogRecord,
    SellerRecord,
    generate_catalogs,
    generate_sellers,
)
from lotsdb_cli.sandbox.lot_store import LotStore


class SandboxData:
    """`sellers` and `catalogs` are records (`.dto()` gives the API shape); `lots` maps lot id to
    LotDto and `albums` album id to AlbumObject, both generated lazily."""

    def __init__(
        self,
        seed: int,
        sellers: int,
        events_per_seller: int,
        lots_per_event: int,
        albums: int,
        base_url: str,
        today: date | None = None,
    ) -> None:
        self.seed = seed
        self.today = today or datetime.now(UTC).date()
        self.created_at = float(int(time.time()))
        rng = random.Random(f"lotsdb-sandbox-catalog:{seed}")
        self.sellers: list[SellerRecord] = generate_sellers(rng, sellers)
        self.catalogs: list[CatalogRecord] = generate_catalogs(
            rng, self.sellers, events_per_seller, lots_per_event, self.today
        )
        self.lots = LotStore(seed, self.catalogs, self.created_at)
        self.albums = AlbumStore(seed, albums, base_url)
        self._seller_by_id = {seller.id: seller for seller in self.sellers}
        self._catalog_by_id = {catalog.id: catalog for catalog in self.catalogs}

    @property
    def album_ids(self) -> list[str]:
        return self.albums.ids

    def seller(self, seller_id: int) -> SellerRecord | None:
        return self._seller_by_id.get(seller_id)

    def catalog(self, catalog_id: int) -> CatalogRecord | None:
        return self._catalog_by_id.get(catalog_id)

    def seller_expanded(self, seller: SellerRecord) -> dict[str, Any]:
        """SellerExpandedDto."""
        catalogs = [c.dto() for c in self.catalogs if seller.id in c.seller_ids]
        return {**seller.dto(), "catalogs": catalogs}

    def catalog_expanded(self, catalog: CatalogRecord) -> dict[str, Any]:
        """CatalogExpandedDto: the event with its sellers and its lots in lot order."""
        sellers = [self._seller_by_id[seller_id].dto() for seller_id in catalog.seller_ids]
        lots = [
            {"id": lot_id, "lotNumber": number}
            for lot_id, number in zip(catalog.lot_ids, catalog.lot_numbers, strict=True)
        ]
        return {**catalog.dto(), "sellers": sellers, "lots": lots}

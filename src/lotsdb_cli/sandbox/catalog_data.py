"""Sellers and events ("catalogs") of the sandbox: small, generated eagerly from the seed.

Dates are relative to the UTC date the sandbox starts on, so some events are always upcoming.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from lotsdb_cli.sandbox import words

FIRST_SELLER_ID = 1
FIRST_CATALOG_ID = 1000
FIRST_LOT_ID = 100000


@dataclass(frozen=True)
class SellerRecord:
    id: int
    name: str | None
    customer_display_id: int
    is_active: bool

    def dto(self) -> dict[str, Any]:
        """SellerDto."""
        return {
            "id": self.id,
            "name": self.name,
            "customerDisplayId": self.customer_display_id,
            "isActive": self.is_active,
        }


@dataclass(frozen=True)
class CatalogRecord:
    id: int
    customer_catalog_id: str | None
    agent: str | None
    title: str | None
    start_date: datetime
    end_date: datetime
    is_completed: bool
    seller_ids: tuple[int, ...]
    first_lot_id: int
    lot_numbers: tuple[str, ...]

    @property
    def lot_ids(self) -> range:
        return range(self.first_lot_id, self.first_lot_id + len(self.lot_numbers))

    def dto(self) -> dict[str, Any]:
        """CatalogDto."""
        return {
            "id": self.id,
            "customerCatalogId": self.customer_catalog_id,
            "agent": self.agent,
            "title": self.title,
            "startDate": format_datetime(self.start_date),
            "endDate": format_datetime(self.end_date),
            "isCompleted": self.is_completed,
        }


def format_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_sellers(rng: random.Random, count: int) -> list[SellerRecord]:
    display_ids = rng.sample(range(10000, 99999), count)
    sellers = []
    for index in range(count):
        name = rng.choice(words.SELLER_NAMES)
        sellers.append(
            SellerRecord(
                id=FIRST_SELLER_ID + index,
                # Fixed positions guarantee a null name and an inactive seller in any sandbox
                # of four sellers or more; randomness adds a few more in big ones.
                name=None if index % 6 == 3 or rng.random() < 0.03 else name,
                customer_display_id=display_ids[index],
                is_active=not (index % 5 == 4 or rng.random() < 0.05),
            )
        )
    return sellers


def generate_catalogs(
    rng: random.Random,
    sellers: list[SellerRecord],
    events_per_seller: int,
    lots_per_event: int,
    today: date,
) -> list[CatalogRecord]:
    catalogs: list[CatalogRecord] = []
    for seller in sellers:
        for slot in range(events_per_seller):
            in_past = slot < events_per_seller // 2
            index = len(catalogs)
            catalogs.append(_catalog(rng, index, seller.id, in_past, lots_per_event, today))
    return catalogs


def _catalog(
    rng: random.Random, index: int, seller_id: int, in_past: bool, lot_count: int, today: date
) -> CatalogRecord:
    catalog_id = FIRST_CATALOG_ID + index
    start_day = (
        today - timedelta(days=rng.randint(7, 365)) if in_past else (today + timedelta(days=rng.randint(0, 120)))
    )
    start = datetime.combine(start_day, time(rng.choice((10, 14, 18))), UTC)
    end = start + timedelta(days=rng.randint(1, 3), hours=rng.choice((0, 4, 8)))
    title = f"{rng.choice(words.EVENT_PLACES)} {rng.choice(words.EVENT_KINDS)}"
    return CatalogRecord(
        id=catalog_id,
        customer_catalog_id=None if index % 7 == 3 else f"EV-{start.year}-{catalog_id:05d}",
        agent=None if index % 7 == 5 else rng.choice(words.AGENTS),
        title=None if index % 11 == 6 else title,
        start_date=start,
        end_date=end,
        is_completed=in_past,
        seller_ids=(seller_id,),
        first_lot_id=FIRST_LOT_ID + index * lot_count,
        lot_numbers=lot_numbers(rng, lot_count),
    )


def lot_numbers(rng: random.Random, count: int) -> tuple[str, ...]:
    """ "1", "2", … in lot order, with the odd inserted lot such as "12A" after "12"."""
    numbers: list[str] = []
    current = 0
    while len(numbers) < count:
        inserted_after_previous = current > 0 and not numbers[-1].endswith("A")
        if inserted_after_previous and rng.random() < 0.02:
            numbers.append(f"{current}A")
        else:
            current += 1
            numbers.append(str(current))
    return tuple(numbers)

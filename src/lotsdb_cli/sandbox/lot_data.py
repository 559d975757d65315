"""Lots: generated one at a time on first use (an event may hold 20,000 of them), each from
its own seeded RNG so that the order of requests never changes the data."""

from __future__ import annotations

import random
from typing import Any

from lotsdb_cli.sandbox import words
from lotsdb_cli.sandbox.catalog_data import CatalogRecord

LOT_DATA_FIELDS = (
    "Qty", "L", "W", "H", "Wgt", "value", "Cpack", "description",
    "forceCrate", "ItemID", "Notes", "notedConditions", "doNotTip", "commodityId",
)  # fmt: skip
NULL_FIELD_CHANCE = 0.12
IMAGE_HOST = "https://images.sandbox.lotsdb.test"


def generate_lot(seed: int, catalog: CatalogRecord, lot_id: int) -> dict[str, Any]:
    """LotDto of lot `lot_id`, which belongs to `catalog`."""
    rng = random.Random(f"lotsdb-sandbox-lot:{seed}:{lot_id}")
    position = lot_id - catalog.first_lot_id
    initial = lot_data(rng, lot_id)
    return {
        "id": lot_id,
        "customerItemId": None if rng.random() < 0.1 else f"CI-{catalog.id}-{position + 1:05d}",
        "initialData": initial,
        "overridenData": _overrides(rng, initial),
        "catalogs": [{"catalogId": catalog.id, "lotNumber": catalog.lot_numbers[position]}],
        "imageLinks": _image_links(rng, lot_id),
    }


def lot_data(rng: random.Random, lot_id: int) -> dict[str, Any]:
    """LotDataDto; any field may be null, and every 50th lot has nothing filled in."""
    values: dict[str, Any] = {
        "Qty": rng.randint(1, 12),
        "L": round(rng.uniform(5, 240), 1),
        "W": round(rng.uniform(5, 120), 1),
        "H": round(rng.uniform(2, 200), 1),
        "Wgt": round(rng.uniform(0.2, 180), 2),
        "value": round(rng.uniform(5, 25000), 2),
        "Cpack": rng.choice(words.CPACK_CODES),
        "description": _description(rng),
        "forceCrate": rng.random() < 0.2,
        "ItemID": f"ITM-{lot_id}",
        "Notes": _note(rng),
        "notedConditions": rng.choice(words.CONDITIONS),
        "doNotTip": rng.random() < 0.15,
        "commodityId": rng.choice(words.COMMODITY_IDS),
    }
    all_null = lot_id % 50 == 0
    return {name: None if all_null or rng.random() < NULL_FIELD_CHANCE else values[name] for name in LOT_DATA_FIELDS}


def _description(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.03:
        return rng.choice(words.FORMULA_LIKE)
    if roll < 0.12:
        return rng.choice(words.NON_ASCII_DESCRIPTIONS)
    return f"{rng.choice(words.OBJECT_QUALITIES)} {rng.choice(words.OBJECTS)}"


def _note(rng: random.Random) -> str:
    return rng.choice(words.FORMULA_LIKE) if rng.random() < 0.03 else rng.choice(words.NOTES)


def _overrides(rng: random.Random, initial: dict[str, Any]) -> list[dict[str, Any]] | None:
    roll = rng.random()
    if roll < 0.3:
        return [_override(rng, initial) for _ in range(rng.randint(1, 2))]
    return None if roll < 0.65 else []


def _override(rng: random.Random, initial: dict[str, Any]) -> dict[str, Any]:
    changed = dict(initial)
    changed["value"] = round(rng.uniform(5, 25000), 2)
    changed["Qty"] = rng.randint(1, 12)
    if rng.random() < 0.5:
        changed["notedConditions"] = rng.choice(words.CONDITIONS)
    return changed


def _image_links(rng: random.Random, lot_id: int) -> list[dict[str, Any]] | None:
    roll = rng.random()
    if roll < 0.2:
        return None
    if roll < 0.4:
        return []
    return [
        {"id": lot_id * 10 + number, "link": f"{IMAGE_HOST}/lots/{lot_id}/{number}.jpg"}
        for number in range(1, rng.randint(1, 3) + 1)
    ]

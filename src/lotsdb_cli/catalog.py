"""Client for the ABConnect Catalog API: sellers, events (the API's catalogs) and lots."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from lotsdb_cli import shapes
from lotsdb_cli.config import Settings
from lotsdb_cli.errors import BadResponse, UsageError
from lotsdb_cli.http.client import Fetched, HttpClient

PAGE_SIZE = 500  # the largest page the API serves
MAX_PAGES = 2_000  # a million items at full pages: far beyond any real catalog, and a bound on a lying server


class CatalogClient:
    def __init__(self, http: HttpClient, settings: Settings) -> None:
        self.http = http
        self.base = settings.catalog_url.rstrip("/")

    async def _object(self, path: str, check: shapes.Check) -> dict[str, Any]:
        fetched = await self.http.get_json(f"{self.base}{path}", auth=self.http.catalog_auth(), validate=check)
        data: dict[str, Any] = fetched.data
        return data

    async def _pages(self, path: str, params: dict[str, Any], limit: int | None) -> AsyncIterator[dict[str, Any]]:
        """Every item of a paginated list, page after page, up to `limit` items.

        The server's word on how many pages there are is not enough to stop on (a server can say
        `hasNextPage` and `totalPages: 2**31` for ever): paging also ends once the items gathered
        reach the first page's `totalItems`, and fails (`BadResponse`) when a page repeats any
        earlier one or when `MAX_PAGES` pages were not enough.
        """
        page_number, yielded, gathered = 1, 0, 0
        seen: dict[str, int] = {}  # a digest of each page's items -> the page it came from
        total_items: int | None = None
        check = shapes.page(path)
        while True:
            query = {**params, "PageNumber": page_number, "PageSize": PAGE_SIZE}
            page = (
                await self.http.get_json(f"{self.base}{path}", query, auth=self.http.catalog_auth(), validate=check)
            ).data
            items = page.get("items") or []
            digest = _digest(items)
            if digest in seen:
                # A server that ignores PageNumber (or cycles through a few pages) would otherwise be
                # asked for page after page of the same items.
                raise BadResponse(f"GET {path}: page {page_number} repeats page {seen[digest]}; stopping")
            seen[digest] = page_number
            if page_number == 1 and shapes.is_id(page.get("totalItems")):
                total_items = page["totalItems"]
            for item in items:
                if isinstance(item, dict):
                    yield item
                    yielded += 1
                    if limit is not None and yielded >= limit:
                        return
            gathered += len(items)
            total_pages = page.get("totalPages") or 0
            if not page.get("hasNextPage") or not isinstance(total_pages, int) or page_number >= total_pages:
                return
            if not items or (total_items is not None and gathered >= total_items):
                return
            if page_number >= MAX_PAGES:
                raise BadResponse(
                    f"GET {path}: the server kept announcing more pages after {page_number} pages "
                    f"({gathered} items); stopping"
                )
            page_number += 1

    # -- sellers -------------------------------------------------------------------------
    def sellers(
        self, *, name: str | None = None, active: bool | None = None, limit: int | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        params: dict[str, Any] = {}
        if name:
            params["Name"] = name
        if active is not None:
            params["IsActive"] = "true" if active else "false"
        return self._pages("/api/Seller", params, limit)

    async def seller(self, seller_id: int) -> dict[str, Any]:
        seller_id = _positive(seller_id, "seller")
        return await self._object(f"/api/Seller/{seller_id}", shapes.entity("SellerExpandedDto", seller_id))

    # -- events --------------------------------------------------------------------------
    async def events(
        self,
        *,
        seller_id: int | None = None,
        upcoming: bool = True,
        limit: int | None = None,
        today: dt.date | None = None,
    ) -> list[dict[str, Any]]:
        """Events, soonest first; `upcoming` keeps those starting today (UTC) or later."""
        params: dict[str, Any] = {}
        if seller_id is not None:
            params["SellerIds"] = [_positive(seller_id, "seller")]
        midnight = start_of_day(today)
        if upcoming:
            params["StartDate"] = midnight.strftime("%Y-%m-%dT%H:%M:%SZ")
        events = [event async for event in self._pages("/api/Catalog", params, None)]
        if upcoming:
            events = [event for event in events if (event_start(event) or midnight) >= midnight]
        events.sort(key=lambda event: (event_start(event) is None, event_start(event) or midnight, _id_key(event)))
        return events[:limit] if limit is not None else events

    async def event(self, event_id: int) -> dict[str, Any]:
        event_id = _positive(event_id, "event")
        return await self._object(f"/api/Catalog/{event_id}", shapes.event(event_id))

    # -- lots ----------------------------------------------------------------------------
    def lot_url(self, lot_id: int) -> str:
        return f"{self.base}/api/Lot/{lot_id}"

    async def lot(self, lot_id: int, *, fresh: bool = False) -> Fetched:
        lot_id = _positive(lot_id, "lot")
        return await self.http.get_json(
            self.lot_url(lot_id), auth=self.http.catalog_auth(), validate=shapes.lot(lot_id), fresh=fresh
        )

    def cached_lots(self, lot_ids: Sequence[int]) -> dict[int, Fetched]:
        """The fresh cached copies of many lots, read from the cache at once (no request)."""
        urls = {self.lot_url(lot_id): lot_id for lot_id in lot_ids}
        found = self.http.cached_many(list(urls))
        return {urls[url]: fetched for url, fetched in found.items() if shapes.lot(urls[url])(fetched.data) is None}

    async def update_lot(self, lot_id: int, body: dict[str, Any]) -> dict[str, Any]:
        url = self.lot_url(_positive(lot_id, "lot"))
        try:
            data = await self.http.put_json(url, body, auth=self.http.catalog_auth())
        finally:
            self.http.invalidate(url)  # whatever the answer, the cached copy may be out of date now
        return data if isinstance(data, dict) else {}


def _digest(items: list[Any]) -> str:
    text = json.dumps(items, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _positive(value: int, what: str) -> int:
    if not shapes.is_id(value) or value < 1:
        raise UsageError(f"{what} id must be a positive integer, not {value!r}")
    return value


def _id_key(event: dict[str, Any]) -> int:
    value = event.get("id")
    return value if isinstance(value, int) else 0


def start_of_day(today: dt.date | None = None) -> dt.datetime:
    """Midnight UTC of `today` (default: the current UTC date)."""
    day = today or dt.datetime.now(dt.UTC).date()
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def event_start(event: dict[str, Any]) -> dt.datetime | None:
    text = event.get("startDate")
    if not isinstance(text, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)

"""Client for the ABConnect Catalog API: sellers, events (the API's catalogs) and lots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from lotsdb_cli.config import Settings
from lotsdb_cli.errors import BadResponse, UsageError
from lotsdb_cli.http.client import Fetched, HttpClient

PAGE_SIZE = 500  # the largest page the API serves


class CatalogClient:
    def __init__(self, http: HttpClient, settings: Settings) -> None:
        self.http = http
        self.base = settings.catalog_url.rstrip("/")

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Fetched:
        return self.http.get_json(f"{self.base}{path}", params, auth=self.http.catalog_auth())

    def _object(self, path: str) -> dict[str, Any]:
        data = self._get(path).data
        if not isinstance(data, dict):
            raise BadResponse(f"GET {path}: expected a JSON object, got {type(data).__name__}")
        return data

    def _pages(self, path: str, params: dict[str, Any], limit: int | None) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list, page after page, up to `limit` items."""
        page_number, yielded = 1, 0
        previous_items: Any = None
        while True:
            page = self._get(path, {**params, "PageNumber": page_number, "PageSize": PAGE_SIZE}).data
            if not isinstance(page, dict):
                raise BadResponse(f"GET {path}: expected a page object, got {type(page).__name__}")
            if page_number > 1 and page.get("items") == previous_items:
                # A server that ignores PageNumber would otherwise be asked for page after page
                # (totalPages can be 2**31) of the same items.
                raise BadResponse(f"GET {path}: page {page_number} repeats page {page_number - 1}; stopping")
            previous_items = page.get("items")
            for item in page.get("items") or []:
                if isinstance(item, dict):
                    yield item
                    yielded += 1
                    if limit is not None and yielded >= limit:
                        return
            total_pages = page.get("totalPages") or 0
            if not page.get("hasNextPage") or page_number >= total_pages or not page.get("items"):
                return
            page_number += 1

    # -- sellers -------------------------------------------------------------------------
    def sellers(
        self, *, name: str | None = None, active: bool | None = None, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {}
        if name:
            params["Name"] = name
        if active is not None:
            params["IsActive"] = "true" if active else "false"
        return self._pages("/api/Seller", params, limit)

    def seller(self, seller_id: int) -> dict[str, Any]:
        return self._object(f"/api/Seller/{_positive(seller_id, 'seller')}")

    # -- events --------------------------------------------------------------------------
    def events(
        self, *, seller_id: int | None = None, upcoming: bool = True, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Events, soonest first; `upcoming` keeps those starting today (UTC) or later."""
        params: dict[str, Any] = {}
        if seller_id is not None:
            params["SellerIds"] = [_positive(seller_id, "seller")]
        today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        if upcoming:
            params["StartDate"] = today.strftime("%Y-%m-%dT%H:%M:%SZ")
        events = list(self._pages("/api/Catalog", params, None))
        if upcoming:
            events = [event for event in events if (_start(event) or today) >= today]
        events.sort(key=lambda event: (_start(event) is None, _start(event) or today, event.get("id") or 0))
        return events[:limit] if limit is not None else events

    def event(self, event_id: int) -> dict[str, Any]:
        return self._object(f"/api/Catalog/{_positive(event_id, 'event')}")

    # -- lots ----------------------------------------------------------------------------
    def lot_url(self, lot_id: int) -> str:
        return f"{self.base}/api/Lot/{lot_id}"

    def lot(self, lot_id: int) -> Fetched:
        fetched = self.http.get_json(self.lot_url(_positive(lot_id, "lot")), auth=self.http.catalog_auth())
        if not isinstance(fetched.data, dict):
            raise BadResponse(f"GET /api/Lot/{lot_id}: expected a JSON object, got {type(fetched.data).__name__}")
        return fetched

    def cached_lots(self, lot_ids: Sequence[int]) -> dict[int, Fetched]:
        """The fresh cached copies of many lots, read from the cache at once (no request)."""
        if self.http.settings.refresh or self.http.settings.no_cache:
            return {}
        urls = {self.lot_url(lot_id): lot_id for lot_id in lot_ids}
        found = self.http.cached_many(list(urls))
        return {urls[url]: fetched for url, fetched in found.items() if isinstance(fetched.data, dict)}

    def update_lot(self, lot_id: int, body: dict[str, Any]) -> dict[str, Any]:
        data = self.http.put_json(self.lot_url(_positive(lot_id, "lot")), body, auth=self.http.catalog_auth())
        self.http.invalidate(self.lot_url(lot_id))
        return data if isinstance(data, dict) else {}


def _positive(value: int, what: str) -> int:
    if not isinstance(value, int) or value < 1:
        raise UsageError(f"{what} id must be a positive integer, not {value!r}")
    return value


def _start(event: dict[str, Any]) -> dt.datetime | None:
    text = event.get("startDate")
    if not isinstance(text, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)

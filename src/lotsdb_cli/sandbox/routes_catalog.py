"""The Catalog API: /api/Seller, /api/Catalog and /api/Lot (GET, and PUT for a lot)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from lotsdb_cli.sandbox.catalog_data import CatalogRecord, SellerRecord
from lotsdb_cli.sandbox.lot_store import StoredLot
from lotsdb_cli.sandbox.messages import Response, json_response
from lotsdb_cli.sandbox.problems import problem
from lotsdb_cli.sandbox.routing import Call, Route
from lotsdb_cli.sandbox.services import CATALOG
from lotsdb_cli.sandbox.tokens import ABCONNECT
from lotsdb_cli.sandbox.validation import (
    bool_param,
    datetime_param,
    int_list_param,
    int_param,
    paging,
    parse_int32,
    parse_update_lot_request,
    text_param,
)

Item = TypeVar("Item")
JSON_BODY_TYPES = ("application/json", "text/json")


def page_document(
    items: Sequence[Item], query: dict[str, list[str]], render: Callable[[Item], dict[str, Any]]
) -> dict[str, Any]:
    """A `...PaginatedList` of `items` for the query's PageNumber and PageSize."""
    page_number, page_size = paging(query)
    total_pages = math.ceil(len(items) / page_size)
    start = (page_number - 1) * page_size
    return {
        "items": [render(item) for item in items[start : start + page_size]],
        "pageNumber": page_number,
        "totalPages": total_pages,
        "totalItems": len(items),
        "hasPreviousPage": page_number > 1,
        "hasNextPage": page_number < total_pages,
    }


def list_sellers(call: Call) -> Response:
    query = call.request.query_folded()
    seller_id = int_param(query, "Id")
    name = text_param(query, "Name")
    display_id = int_param(query, "CustomerDisplayId")
    is_active = bool_param(query, "IsActive")

    def wanted(seller: SellerRecord) -> bool:
        return (
            (seller_id is None or seller.id == seller_id)
            and (name is None or (seller.name is not None and name.lower() in seller.name.lower()))
            and (display_id is None or seller.customer_display_id == display_id)
            and (is_active is None or seller.is_active == is_active)
        )

    data = call.state.data
    sellers = [seller for seller in data.sellers if wanted(seller)]
    return json_response(200, page_document(sellers, query, data.seller_expanded))


def get_seller(call: Call) -> Response:
    seller_id = parse_int32(call.params["id"], "id")
    seller = call.state.data.seller(seller_id)
    if seller is None:
        return problem(404, f"Seller {seller_id} was not found.", call.request.path)
    return json_response(200, call.state.data.seller_expanded(seller))


def list_catalogs(call: Call) -> Response:
    query = call.request.query_folded()
    catalog_id = int_param(query, "Id")
    customer_catalog_id = text_param(query, "CustomerCatalogId")
    agent = text_param(query, "Agent")
    title = text_param(query, "Title")
    starts_from = datetime_param(query, "StartDate")
    ends_by = datetime_param(query, "EndDate")
    is_completed = bool_param(query, "IsCompleted")
    seller_ids = set(int_list_param(query, "SellerIds"))

    def wanted(catalog: CatalogRecord) -> bool:
        return (
            (catalog_id is None or catalog.id == catalog_id)
            and (customer_catalog_id is None or catalog.customer_catalog_id == customer_catalog_id)
            and _contains(catalog.agent, agent)
            and _contains(catalog.title, title)
            and (starts_from is None or catalog.start_date >= starts_from)
            and (ends_by is None or catalog.end_date <= ends_by)
            and (is_completed is None or catalog.is_completed == is_completed)
            and (not seller_ids or bool(seller_ids.intersection(catalog.seller_ids)))
        )

    data = call.state.data
    catalogs = [catalog for catalog in data.catalogs if wanted(catalog)]
    return json_response(200, page_document(catalogs, query, data.catalog_expanded))


def _contains(value: str | None, wanted: str | None) -> bool:
    return wanted is None or (value is not None and wanted.lower() in value.lower())


def get_catalog(call: Call) -> Response:
    catalog_id = parse_int32(call.params["id"], "id")
    catalog = call.state.data.catalog(catalog_id)
    if catalog is None:
        return problem(404, f"Catalog {catalog_id} was not found.", call.request.path)
    return json_response(200, call.state.data.catalog_expanded(catalog))


def list_lots(call: Call) -> Response:
    query = call.request.query_folded()
    lot_id = int_param(query, "Id")
    customer_item_id = text_param(query, "CustomerItemId")
    lot_number = text_param(query, "LotNumber")
    lots = call.state.data.lots

    def wanted(stored: StoredLot) -> bool:
        return (customer_item_id is None or stored.customer_item_id == customer_item_id) and (
            lot_number is None or lot_number in stored.lot_numbers
        )

    if lot_id is not None:
        lot_ids: Sequence[int] = [lot_id] if lot_id in lots else []
        if customer_item_id is not None or lot_number is not None:
            lot_ids = [i for i in lot_ids if wanted(_known(lots.lookup(i)))]
    else:
        filtering = customer_item_id is not None or lot_number is not None
        lot_ids = lots.matching_ids(wanted if filtering else None)
    document = page_document(lot_ids, query, lambda i: _known(lots.lookup(i)).dto())
    return json_response(200, document)


def _known(stored: StoredLot | None) -> StoredLot:
    assert stored is not None
    return stored


def get_lot(call: Call) -> Response:
    lot_id = parse_int32(call.params["id"], "id")
    stored = call.state.data.lots.lookup(lot_id)
    if stored is None:
        return problem(404, f"Lot {lot_id} was not found.", call.request.path)
    return _lot_response(stored)


def put_lot(call: Call) -> Response:
    lot_id = parse_int32(call.params["id"], "id")
    media_type = (call.request.header("content-type") or "").split(";")[0].strip().lower()
    if not (media_type in JSON_BODY_TYPES or media_type.endswith("+json")):
        return problem(415, "Send the body as application/json.", call.request.path)
    changes = parse_update_lot_request(call.request.body)
    stored = call.state.data.lots.update(lot_id, changes)
    if stored is None:
        return problem(404, f"Lot {lot_id} was not found.", call.request.path)
    return _lot_response(stored)


def _lot_response(stored: StoredLot) -> Response:
    response = Response(200, stored.body, etag=stored.etag)
    response.headers["Last-Modified"] = stored.last_modified
    return response


def catalog_routes() -> list[Route]:
    def route(method: str, template: str, handler: Callable[[Call], Response]) -> Route:
        return Route(method, template, CATALOG, handler, realm=ABCONNECT, case_insensitive=True)

    return [
        route("GET", "/api/Seller", list_sellers),
        route("GET", "/api/Seller/{id}", get_seller),
        route("GET", "/api/Catalog", list_catalogs),
        route("GET", "/api/Catalog/{id}", get_catalog),
        route("GET", "/api/Lot", list_lots),
        route("GET", "/api/Lot/{id}", get_lot),
        route("PUT", "/api/Lot/{id}", put_lot),
    ]

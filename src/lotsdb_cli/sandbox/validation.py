"""Model binding as ASP.NET does it for the Catalog API: query and path values, paging, and the
UpdateLotRequest body. Failures raise InvalidRequest, answered as a 400 validation problem."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lotsdb_cli.sandbox.json_body import JsonBodyError, is_double, parse_json_body
from lotsdb_cli.sandbox.lexical import ASCII_WHITESPACE, ascii_integer

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 500


class InvalidRequest(Exception):
    def __init__(self, errors: dict[str, list[str]], detail: str | None = None) -> None:
        self.detail = detail or " ".join(m for ms in errors.values() for m in ms)
        super().__init__(self.detail)
        self.errors = errors


def parse_int32(raw: str, name: str) -> int:
    """An Int32 as .NET's int.Parse reads one: ASCII digits, a sign, ASCII spaces around."""
    number = ascii_integer(raw.strip(ASCII_WHITESPACE))
    if number is None or not INT32_MIN <= number <= INT32_MAX:
        raise InvalidRequest({name: [f"The value '{raw}' is not valid for {name}."]})
    return number


def _first(query: dict[str, list[str]], name: str) -> str | None:
    """The first value of a query parameter, as ASP.NET binds a repeated one to a scalar; a blank
    value means "not given"."""
    values = query.get(name.lower())
    if not values or not values[0].strip(ASCII_WHITESPACE):
        return None
    return values[0]


def int_param(query: dict[str, list[str]], name: str) -> int | None:
    raw = _first(query, name)
    return None if raw is None else parse_int32(raw, name)


def text_param(query: dict[str, list[str]], name: str) -> str | None:
    return _first(query, name)


def bool_param(query: dict[str, list[str]], name: str) -> bool | None:
    raw = _first(query, name)
    if raw is None:
        return None
    spelled = raw.strip(ASCII_WHITESPACE).lower()
    if spelled not in ("true", "false"):
        raise InvalidRequest({name: [f"The value '{raw}' is not valid for {name}."]})
    return spelled == "true"


def datetime_param(query: dict[str, list[str]], name: str) -> datetime | None:
    raw = _first(query, name)
    if raw is None:
        return None
    try:
        if not raw.isascii():
            raise ValueError("digits and separators are ASCII")
        moment = datetime.fromisoformat(raw.strip(ASCII_WHITESPACE))
    except ValueError:
        raise InvalidRequest({name: [f"The value '{raw}' is not valid for {name}."]}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def int_list_param(query: dict[str, list[str]], name: str) -> list[int]:
    """Every value of a repeated parameter, as ASP.NET binds a List<int>: a blank one is invalid
    (an int cannot be empty), unlike a blank scalar, which is "not given"."""
    return [parse_int32(raw, name) for raw in query.get(name.lower(), ())]


def paging(query: dict[str, list[str]]) -> tuple[int, int]:
    """(PageNumber, PageSize): 1-based page, 1..500 items, defaults 1 and 10."""
    page_number = int_param(query, "PageNumber")
    page_size = int_param(query, "PageSize")
    errors: dict[str, list[str]] = {}
    if page_number is not None and page_number < 1:
        errors["PageNumber"] = ["PageNumber must be greater than or equal to 1."]
    if page_size is not None and not 1 <= page_size <= MAX_PAGE_SIZE:
        errors["PageSize"] = [f"PageSize must be between 1 and {MAX_PAGE_SIZE}."]
    if errors:
        raise InvalidRequest(errors)
    return page_number or 1, page_size or DEFAULT_PAGE_SIZE


# UpdateLotRequest and its parts, as in the contract (every property nullable).
_STRING, _INT, _NUMBER, _BOOL = "string", "integer", "number", "boolean"
LOT_DATA_TYPES = {
    "Qty": _INT, "L": _NUMBER, "W": _NUMBER, "H": _NUMBER, "Wgt": _NUMBER, "value": _NUMBER,
    "Cpack": _STRING, "description": _STRING, "forceCrate": _BOOL, "ItemID": _STRING,
    "Notes": _STRING, "notedConditions": _STRING, "doNotTip": _BOOL, "commodityId": _STRING,
}  # fmt: skip
LOT_CATALOG_TYPES = {"catalogId": _INT, "lotNumber": _STRING}
UPDATE_LOT_FIELDS = ("customerItemId", "imageLinks", "overridenData", "catalogs")
NOT_NULLABLE = frozenset({"catalogId"})


def parse_update_lot_request(body: bytes) -> dict[str, Any]:
    try:
        document = parse_json_body(body)
    except JsonBodyError as exc:
        raise InvalidRequest({"$": [str(exc)]}) from None
    errors: dict[str, list[str]] = {}
    if not isinstance(document, dict):
        raise InvalidRequest({"$": ["The request body must be a JSON object."]})
    for name, value in document.items():
        if name not in UPDATE_LOT_FIELDS:
            errors[f"$.{name}"] = [f"'{name}' is not a member of UpdateLotRequest."]
        elif value is not None:
            _check_update_field(name, value, errors)
    if errors:
        raise InvalidRequest(errors)
    return document


def _check_update_field(name: str, value: Any, errors: dict[str, list[str]]) -> None:
    path = f"$.{name}"
    if name == "customerItemId":
        _check_scalar(path, value, _STRING, errors)
    elif not isinstance(value, list):
        errors[path] = ["The JSON value must be an array or null."]
    elif name == "imageLinks":
        for index, link in enumerate(value):
            if link is None or not isinstance(link, str):
                errors[f"{path}[{index}]"] = ["The JSON value must be a string."]
    else:
        types = LOT_DATA_TYPES if name == "overridenData" else LOT_CATALOG_TYPES
        for index, item in enumerate(value):
            _check_object(f"{path}[{index}]", item, types, errors)


def _check_object(path: str, item: Any, types: dict[str, str], errors: dict[str, list[str]]) -> None:
    if not isinstance(item, dict):
        errors[path] = ["The JSON value must be an object."]
        return
    for name, value in item.items():
        expected = types.get(name)
        if expected is None:
            errors[f"{path}.{name}"] = [f"'{name}' is not a known property."]
        elif value is None and name in NOT_NULLABLE:
            errors[f"{path}.{name}"] = ["The JSON value must not be null."]
        elif value is not None:
            _check_scalar(f"{path}.{name}", value, expected, errors)


def _check_scalar(path: str, value: Any, expected: str, errors: dict[str, list[str]]) -> None:
    valid = {
        _STRING: isinstance(value, str),
        _BOOL: isinstance(value, bool),
        _INT: isinstance(value, int) and not isinstance(value, bool) and INT32_MIN <= value <= INT32_MAX,
        _NUMBER: is_double(value),
    }[expected]
    if not valid:
        errors[path] = [f"The JSON value could not be converted to {expected}."]

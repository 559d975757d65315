"""Reading answers: JSON bodies checked on the way in, and one-line error details from error bodies.

A body we cannot use (empty, HTML, truncated, a number JSON cannot carry, a lone surrogate) raises
`BadResponse`, which the retry loop treats as worth another try and never caches.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from lotsdb_cli import secrets
from lotsdb_cli.errors import ApiError, BadResponse, NotFound
from lotsdb_cli.http.urls import short_url, strip_userinfo

if TYPE_CHECKING:
    from lotsdb_cli.http.transport import RawResponse

Validate = Callable[[Any], "str | None"]  # a problem with an answer's shape, or None


def parse_json(body: bytes, headers: Mapping[str, str]) -> Any:
    if not body.strip():
        raise BadResponse("empty body where JSON was expected")
    # Only a body that could hold a number beyond a float (or NaN, Infinity) pays for the checks.
    checked = _MAYBE_NOT_FINITE.search(body) is not None
    try:
        if checked:
            data = json.loads(body, parse_float=_finite_number, parse_constant=_not_a_number)
        else:
            data = json.loads(body)
    except _NumberOutOfRange as exc:
        raise BadResponse(f"a number out of range in the JSON ({exc})") from None
    except RecursionError:  # `[[[[...` a hundred thousand deep: the parser runs out of stack
        raise BadResponse(f"JSON nested too deeply to read ({len(body)} bytes)") from None
    except ValueError:
        kind = (headers.get("Content-Type") or "").split(";")[0].strip() or "unknown content type"
        if "html" in kind or body.lstrip()[:1] == b"<":
            raise BadResponse(f"got an HTML page ({kind}) where JSON was expected") from None
        raise BadResponse(f"invalid or truncated JSON ({len(body)} bytes, {kind})") from None
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH and _deeper_than(data, MAX_DEPTH):
        # Parsed, but writing it out (JSON, a table, the cache) would run out of stack further on.
        raise BadResponse(f"JSON nested more than {MAX_DEPTH} levels deep")
    if _SURROGATE_ESCAPE.search(body):
        data = _without_lone_surrogates(data)
    return data


MAX_DEPTH = 64  # no answer of either API nests more than a few levels


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether lists and objects nest more than `limit` levels in `data` (without recursion)."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


# A number whose exponent has three digits or more, a run of 300 digits, NaN or Infinity.
_MAYBE_NOT_FINITE = re.compile(rb"[eE][+-]?\d{3}|\d{300}|NaN|Infinity")

# JSON may escape half of a UTF-16 pair ("\ud800"); Python then holds a lone surrogate, which
# no UTF-8 output, CSV cell or SQLite text can carry. It becomes U+FFFD, as a decoder would.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(key): _without_lone_surrogates(item) for key, item in value.items()}
    return value


class _NumberOutOfRange(ValueError):
    pass


def _finite_number(text: str) -> float:
    """1e400 would become infinity, which JSON output cannot carry (it would print `Infinity`)."""
    number = float(text)
    if not math.isfinite(number):
        raise _NumberOutOfRange(text[:40])
    return number


def _not_a_number(name: str) -> Any:
    raise _NumberOutOfRange(name)  # NaN, Infinity: Python accepts them, JSON does not have them


def error_detail(response: RawResponse) -> str:
    """One line from a ProblemDetails or Spotify error body, else the reason phrase."""
    try:
        body = json.loads(response.body) if response.body else None
    except ValueError:
        body = None
    detail = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            detail = error.get("message")
        elif isinstance(error, str):
            detail = body.get("error_description") or error
        else:
            detail = body.get("detail") or body.get("title")
    lines = str(detail or response.reason or "error").strip().splitlines()
    return secrets.redact((lines[0] if lines else "error")[:200])


def is_quota(response: RawResponse) -> bool:
    if response.status != 429 or not response.body:
        return False
    try:
        body = json.loads(response.body)
    except ValueError:
        return False
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and error.get("reason") == "QUOTA_EXCEEDED"


def raise_for_status(response: RawResponse) -> None:
    """Errors that retrying will not fix (the retryable statuses were raised before this is called)."""
    status = response.status
    if status < 400:
        return
    url = short_url(response.url)
    detail = error_detail(response)
    if status == 404:
        raise NotFound(f"not found: {url} ({detail})")
    raise ApiError(f"{url}: {status} {detail}", status=status)


def checked(data: Any, validate: Validate | None, url: str) -> Any:
    if validate is not None:
        problem = validate(data)
        if problem is not None:
            raise BadResponse(f"GET {strip_userinfo(url).split('://', 1)[-1]}: {problem}")
    return data


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    from lotsdb_cli.http.store import KEPT_HEADERS

    # A validator is sent back in If-None-Match: one that is not plain ASCII text could not be.
    return {
        name: value for name in KEPT_HEADERS if (value := headers.get(name)) and value.isascii() and value.isprintable()
    }


def json_body(response: RawResponse) -> Any:
    return parse_json(response.body, response.headers)


def json_or_none(response: RawResponse) -> Any:
    return parse_json(response.body, response.headers) if response.body.strip() else None

"""Request bodies as System.Text.Json reads them, which Python's json module does not by default:
strict UTF-8 (a leading BOM skipped), RFC 8259 only (no NaN or Infinity literals), at most 64
levels of nesting, and no lone surrogate escape ("\\ud800") in a string. Numbers are parsed
as written; whether one fits its field (an int32, a finite double) is the binder's question."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

MAX_DEPTH = 64  # JsonSerializerOptions.MaxDepth's default


class JsonBodyError(ValueError):
    """A body that is not a JSON document System.Text.Json would read."""


def parse_json_body(body: bytes) -> Any:
    try:
        text = body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise JsonBodyError(f"The body is not valid UTF-8 (byte {exc.start}).") from None
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise JsonBodyError(f"The JSON is nested deeper than {MAX_DEPTH} levels.") from None
    except ValueError as exc:  # JSONDecodeError, and integers of more digits than Python converts
        raise JsonBodyError(f"The JSON value could not be parsed: {exc}") from None
    _check_values(document, depth=0)
    return document


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _check_values(value: Any, depth: int) -> None:
    if isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            raise JsonBodyError(f"The JSON is nested deeper than {MAX_DEPTH} levels.")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            _check_text(key)
            _check_values(item, depth + 1)
    else:
        _check_text(value)


def _check_text(value: Any) -> None:
    if isinstance(value, str) and not _is_unicode_text(value):
        raise JsonBodyError("A JSON string holds a lone surrogate escape, which is not Unicode text.")


def _is_unicode_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_double(value: Any) -> bool:
    """Whether a parsed JSON number converts to a finite double (1e400 and 10**400 do not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    return abs(value) <= sys.float_info.max

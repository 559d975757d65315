"""How one value becomes text: JSON, a flattened record, a CSV or table cell."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A plain number (`-5`, `-1.5`, `+2e3`) is read by a spreadsheet as that number, never run: it stays
# a number rather than becoming the text `'-5`.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Control characters from API data must not reach a terminal: a line break would break the
# table, and an escape sequence could rewrite the screen or the window title.
# Bidirectional overrides and isolates too: `\u202e` would show what follows it reversed.
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def dumps(record: Any) -> str:
    """Compact JSON on one line (JSONL rows, `json` when piped)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def pretty(record: Any) -> str:
    """Indented JSON, for a terminal."""
    return json.dumps(record, ensure_ascii=False, indent=2)


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings become dotted keys; lists become JSON text."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, prefix=f"{name}."))
        elif isinstance(value, list):
            flat[name] = dumps(value)
        else:
            flat[name] = value
    return flat


def cell_text(value: Any) -> str:
    """A value as CSV and tables show it: nothing for null, `true`/`false`, JSON for lists and objects."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping | list | tuple):
        return dumps(value)
    return str(value)


def spreadsheet_safe(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = cell_text(value)
    if text.startswith(_FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def terminal_safe(value: Any) -> str:
    """A table cell: control characters (line breaks, escape sequences) become spaces."""
    return _CONTROL_CHARACTERS.sub(" ", cell_text(value))

"""How the sandbox reads values spelled on the wire: integers in ASCII digits only (as .NET's
int.Parse and Java's Integer.parseInt read them; Python's int() also takes other scripts' digits,
"1_000" and Unicode spaces around), and path segments percent-decoded one at a time."""

from __future__ import annotations

import re
from urllib.parse import unquote

_ASCII_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
# What .NET's NumberStyles.Integer lets surround a number: ASCII white space only.
ASCII_WHITESPACE = " \t\n\v\f\r"


def ascii_integer(text: str) -> int | None:
    """The integer `text` spells with an optional sign and ASCII digits, else None."""
    if not _ASCII_INTEGER.fullmatch(text):
        return None
    try:
        return int(text)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        return None


def path_segments(raw_path: str) -> tuple[str, ...]:
    """The segments of a path as sent, each percent-decoded on its own so that an encoded
    slash (%2F) stays inside its segment. A trailing slash adds no segment."""
    parts = raw_path.split("/")[1:]
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    return tuple(unquote(part, errors="replace") for part in parts)

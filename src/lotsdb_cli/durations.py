"""Parsing of durations such as `600`, `10m`, `2h`, `1d`."""

from __future__ import annotations

import re

from lotsdb_cli.errors import UsageError

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_DURATION = 36500 * 86400.0
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)  # ASCII digits only
# What a duration may look like; every message about a bad duration quotes it.
DURATION_FORMS = "seconds, or a number with s, m, h, d or w: 600, 90s, 10m, 2h, 1d, 1w"


class DurationError(UsageError):
    """Text that is not a duration, or a duration out of range."""

    def __init__(self, problem: str, value: object, hint: str) -> None:
        super().__init__(f"{problem}: {value!r}", hint=hint)
        self.problem = problem


def parse_duration(text: str | int | float) -> float:
    """Seconds in `text` (`600`, `90s`, `10m`, `2h`, `1d`, `1w`); a number is taken as seconds."""
    if isinstance(text, bool) or not isinstance(text, str | int | float):  # TOML: `ttl = true`
        raise DurationError("not a duration", text, f"use {DURATION_FORMS}")
    if isinstance(text, int | float):
        if text != text:  # NaN (TOML has it)
            raise DurationError("not a duration", text, f"use {DURATION_FORMS}")
        if text < 0:
            raise DurationError("duration must not be negative", text, f"use {DURATION_FORMS}")
        seconds = float(text)
    else:
        match = _DURATION.match(text)
        if not match:
            raise DurationError("not a duration", text, f"use {DURATION_FORMS}")
        seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if not seconds <= MAX_DURATION:  # also infinity (TOML has it)
        # Far beyond any sensible freshness, and past what expiry dates can represent.
        raise DurationError("duration too long", text, "at most 100 years (36500d)")
    return seconds


def format_duration(seconds: float) -> str:
    """A short human form: `45s`, `12m`, `3h05m`, `2d`."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s" if seconds % 60 else f"{seconds // 60}m"
    if seconds < 86400:
        hours, rest = divmod(seconds, 3600)
        return f"{hours}h{rest // 60:02d}m" if rest else f"{hours}h"
    days, rest = divmod(seconds, 86400)
    return f"{days}d{rest // 3600}h" if rest >= 3600 else f"{days}d"

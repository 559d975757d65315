"""Parsing of durations such as `600`, `10m`, `2h`, `1d`."""

from __future__ import annotations

import re

from lotsdb_cli.errors import UsageError

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_DURATION = 36500 * 86400.0
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)


def parse_duration(text: str | int | float) -> float:
    """Seconds in `text` (`600`, `90s`, `10m`, `2h`, `1d`, `1w`)."""
    if isinstance(text, int | float):
        if text < 0:
            raise UsageError(f"duration must not be negative: {text}")
        seconds = float(text)
    else:
        match = _DURATION.match(text)
        if not match:
            raise UsageError(
                f"not a duration: {text!r}",
                hint="use seconds or a number with s, m, h, d or w: 600, 10m, 2h, 1d",
            )
        seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if not seconds <= MAX_DURATION:  # also NaN and infinity (TOML has both)
        # Far beyond any sensible freshness, and past what expiry dates can represent.
        raise UsageError(f"duration too long: {text!r}", hint="at most 100 years (36500d)")
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

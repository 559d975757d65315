"""Waits a server asked for that outlast the run (a quota's `Retry-After: 3600`), kept in
`$LOTSDB_HOME/pauses.json` so that the next run (a cron job every ten minutes) does not ask again
before the time: it stops at once, exit 75, with nothing sent. With a Redis cache, every host sharing
it also keeps them there (`shared.py`). Reading or writing the file never fails a command."""

from __future__ import annotations

import contextlib
import json
import math
import os
from pathlib import Path

from lotsdb_cli.own_files import read_regular

FILE_NAME = "pauses.json"  # also named in output/targets.py, which refuses it as -o
MAX_BYTES = 64 * 1024


MAX_WAIT = 366 * 86400  # what a server may ask for at most (retry.py caps Retry-After the same)


def paused_until(home: Path, host: str, now: float) -> float | None:
    """When `host` may be asked again (wall-clock seconds), if a run was told to wait until later than `now`
    (an entry further away than any server may ask for is not ours: ignored)."""
    until = _read(home).get(host)
    return until if until is not None and now < until <= now + MAX_WAIT else None


def remember(home: Path, host: str, until: float, now: float) -> None:
    """Keep `host`'s wait until `until`, dropping the waits that are over."""
    if not host:
        return
    waits = {name: when for name, when in _read(home).items() if when > now}
    waits[host] = max(until, waits.get(host, 0.0))
    path = home / FILE_NAME
    temp = path.with_name(f".{FILE_NAME}.{os.getpid()}")
    with contextlib.suppress(OSError):
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            with os.fdopen(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
                json.dump(waits, file)
            os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)


def _read(home: Path) -> dict[str, float]:
    """The waits kept; anything else at the path (a FIFO, a device, a foreign or damaged file) reads as none."""
    with contextlib.suppress(OSError, ValueError, RecursionError):
        data = json.loads(read_regular(home / FILE_NAME, MAX_BYTES))
        if isinstance(data, dict):
            return {str(host): when for host, raw in data.items() if (when := _seconds(raw)) is not None}
    return {}


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # a 400-digit integer
        return None
    return seconds if math.isfinite(seconds) else None

"""Hit/miss counts of recent runs, for `lotsdb cache stats`."""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

KEEP_RUNS = 20
FILE_NAME = "cache_runs.jsonl"


def record_run(home: Path, command: str, counts: dict[str, int]) -> None:
    """Append this run's counts; keep the last `KEEP_RUNS`. Never fails a command.

    `command` is the command's name (`lots dump`), never the command line: options can hold
    secrets (a Redis URL with a password).
    """
    path = home / FILE_NAME
    entry = {
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": command,
        **counts,
    }
    with contextlib.suppress(OSError):
        home.mkdir(parents=True, exist_ok=True)
        lines = path.read_text(encoding="utf-8").splitlines()[-(KEEP_RUNS - 1) :] if path.exists() else []
        lines.append(json.dumps(entry))
        temp = path.with_name(f".{path.name}.{os.getpid()}")
        try:
            temp.write_text("\n".join(lines) + "\n", encoding="utf-8")
            os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)


def recent_runs(home: Path) -> list[dict[str, Any]]:
    path = home / FILE_NAME
    runs = []
    with contextlib.suppress(OSError):
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                runs.append(json.loads(line))
    return runs

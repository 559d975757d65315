"""Hit/miss counts of recent runs, for `lotsdb cache stats`."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

KEEP_RUNS = 20
FILE_NAME = "cache_runs.jsonl"


def record_run(home: Path, counts: dict[str, int]) -> None:
    """Append this run's counts; keep the last `KEEP_RUNS`. Never fails a command."""
    path = home / FILE_NAME
    entry = {
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": _command(),
        **counts,
    }
    with contextlib.suppress(OSError):
        home.mkdir(parents=True, exist_ok=True)
        lines = path.read_text(encoding="utf-8").splitlines()[-(KEEP_RUNS - 1) :] if path.exists() else []
        lines.append(json.dumps(entry))
        temp = path.with_name(f".{path.name}.{os.getpid()}")
        temp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(temp, path)


def recent_runs(home: Path) -> list[dict[str, Any]]:
    path = home / FILE_NAME
    runs = []
    with contextlib.suppress(OSError):
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                runs.append(json.loads(line))
    return runs


def _command() -> str:
    # Options could hold secrets (a --cache URL with a password): keep only the command words.
    words = [word for word in sys.argv[1:] if not word.startswith("-")]
    return " ".join(words[:3])

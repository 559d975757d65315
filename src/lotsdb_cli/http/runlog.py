"""Hit/miss counts of recent runs, for `lotsdb cache stats`."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, BinaryIO

from lotsdb_cli.own_files import read_regular

KEEP_RUNS = 20
FILE_NAME = "cache_runs.jsonl"  # also named in output/targets.py, which refuses it as -o
MAX_BYTES = 1 << 20  # the file holds 20 short lines; more is not ours to read


@dataclass
class RunStats:
    """Counters for one run (bumped on the event loop's thread only), recorded when it ends."""

    sent: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    stale: int = 0
    revalidated: int = 0
    retries: int = 0
    throttled: int = 0

    def as_dict(self) -> dict[str, int]:
        return {item.name: getattr(self, item.name) for item in fields(self)}


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
        home.mkdir(mode=0o700, parents=True, exist_ok=True)  # private whatever the umask
        with _locked(home / f".{FILE_NAME}.lock") as locked:
            if not locked:
                return  # another run holds it for long: this run's line is the one to lose
            lines = [json.dumps(run) for run in recent_runs(home)[-(KEEP_RUNS - 1) :]]  # what is not a run goes
            lines.append(json.dumps(entry))
            temp = path.with_name(f".{path.name}.{os.getpid()}")
            try:
                with _private(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC) as file:
                    file.write(("\n".join(lines) + "\n").encode("utf-8"))
                os.replace(temp, path)
            finally:
                temp.unlink(missing_ok=True)


def _private(path: Path, flags: int) -> BinaryIO:
    """`path` opened with mode 0600 when it is created, whatever the umask (the runs are nobody else's)."""
    return os.fdopen(os.open(path, flags, 0o600), "wb" if flags & os.O_TRUNC else "ab")


@contextlib.contextmanager
def _locked(lock_path: Path, wait: float = 2.0) -> Iterator[bool]:
    """An exclusive lock on `lock_path` (runs finishing together each add their line), or False
    after `wait` seconds; never blocks for longer."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, as before
        yield True
        return
    with _private(lock_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND) as lock:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    yield False
                    return
                time.sleep(0.01)
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def recent_runs(home: Path) -> list[dict[str, Any]]:
    """The runs recorded, oldest first; a damaged or foreign file reads as the runs it still holds."""
    path = home / FILE_NAME
    runs = []
    with contextlib.suppress(OSError):
        text = read_regular(path, MAX_BYTES).decode("utf-8", errors="replace")
        for line in text.splitlines():
            with contextlib.suppress(ValueError, RecursionError):
                run = json.loads(line)
                if isinstance(run, dict) and isinstance(run.get("command"), str):
                    runs.append(run)
    return runs[-KEEP_RUNS:]

"""Helpers of the reliability suite: waiting on the sandbox, checking files, building inputs."""

from __future__ import annotations

import csv
import io
import json
import resource
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from lotsdb_cli.sandbox import Sandbox
from lotsdb_cli.sandbox.albumids import album_ids

EVENT = 1000  # the first event of the seed-1 sandbox: 60 lots in the shared fixture
LOT_ROUTE = "GET /api/Lot/{id}"
ALBUM_ROUTE = "GET /v1/albums/{id}"
UNEXPECTED = ("Traceback", "run again with -vv")  # what a crash looks like on stderr


def route_count(sandbox: Sandbox, route: str, status: str | None = None) -> int:
    counts = sandbox.stats().get("routes", {}).get(route, {})
    return counts.get(status, 0) if status else sum(counts.values())


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def wait_for_answers(sandbox: Sandbox, route: str, count: int, proc: subprocess.Popen[str]) -> None:
    """Until the sandbox has answered `count` requests of `route` with 200 (the run is mid-way)."""

    def reached() -> bool:
        assert proc.poll() is None, f"the process ended early: {proc.communicate()}"
        return route_count(sandbox, route, "200") >= count

    try:
        wait_until(reached, what=f"{count} answers to {route}")
    except BaseException:
        proc.kill()
        proc.communicate()
        raise


def settle(sandbox: Sandbox, quiet: float = 0.8) -> None:
    """Until the sandbox has answered what a killed client had in flight (its counters are still)."""
    last = sandbox.stats()["requests"]
    stable_since = time.monotonic()
    while time.monotonic() - stable_since < quiet:
        time.sleep(0.02)
        now = sandbox.stats()["requests"]
        if now != last:
            last, stable_since = now, time.monotonic()


def finish(proc: subprocess.Popen[str], timeout: float = 30) -> tuple[str, str]:
    """The process's output once it ends; killed (and the test failed) if it does not."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"the process did not end within {timeout} s") from None


def assert_no_crash(stderr: str) -> None:
    for marker in UNEXPECTED:
        assert marker not in stderr, stderr


def assert_one_error_line(stderr: str) -> None:
    """SPEC §6: one `error:` line (plus an optional `hint:`), no traceback."""
    assert_no_crash(stderr)
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr


def integrity_check(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        connection.close()


def leftovers(directory: Path, name: str) -> list[Path]:
    """Temporary files an `-o NAME` run may have left."""
    return sorted(directory.glob(f".{name}.*"))


def albums_csv(path: Path, count: int, *, start: int = 0, prefix: str = "Artist") -> list[str]:
    """A spreadsheet of `count` albums of the seed-1 sandbox; returns their Spotify ids."""
    ids = album_ids(1, start + count)[start:]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["Artist", "Album", "Genre", "Year", "Spotify URL"])
    for number, spotify_id in enumerate(ids, start=start):
        writer.writerow([f"{prefix} {number}", f"Album {number}", "Jazz", 1990 + number % 30, spotify_id])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return ids


def stored_albums(db_path: Path) -> dict[str, tuple[str | None, str | None]]:
    """Spotify id -> (metadata JSON, cover URL) of every album with metadata."""
    connection = sqlite3.connect(db_path)
    try:
        rows = connection.execute(
            "SELECT spotify_id, metadata_json, cover_url FROM albums WHERE metadata_json IS NOT NULL"
        ).fetchall()
    finally:
        connection.close()
    return {spotify_id: (metadata, cover) for spotify_id, metadata, cover in rows}


def cached_lot_count(stats_json: str) -> int:
    """Fresh /api/Lot/{id} entries in `lotsdb cache stats --format json` output."""
    stats = json.loads(stats_json)
    return sum(row["fresh"] for row in stats["endpoints"] if row["endpoint"].endswith("/api/Lot/{id}"))


def file_size_limit(limit: int) -> Callable[[], None]:
    """A `preexec_fn` that makes writes past `limit` bytes fail with EFBIG (as a full disk would
    fail with ENOSPC): SIGXFSZ is ignored, so the write returns an error instead of killing."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def jsonl_ids(text: str) -> list[int]:
    return [json.loads(line)["id"] for line in text.split("\n") if line]


def all_files(root: Path) -> Iterable[Path]:
    return (path for path in root.rglob("*") if path.is_file())

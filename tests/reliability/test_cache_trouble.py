"""The cache in trouble, through a real dump in a subprocess: corrupt, unwritable, full, Redis
down. One warning, and the command does its job; the cache is never why a command fails."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import Cli

from lotsdb_cli.sandbox import Sandbox

from .support import EVENT, LOT_ROUTE, assert_one_error_line, file_size_limit, jsonl_ids, leftovers, route_count

LOTS = 60


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning:")]


def assert_dumped_with_one_warning(result: object, sandbox: Sandbox, about: str) -> None:
    code, stdout, stderr = result.returncode, result.stdout, result.stderr  # type: ignore[attr-defined]
    assert code == 0, stderr
    assert len(jsonl_ids(stdout)) == LOTS
    found = warnings(stderr)
    assert len(found) == 1 and about in found[0], stderr


def test_corrupt_cache_file(cli: Cli, sandbox: Sandbox, isolated_home: Path) -> None:
    isolated_home.mkdir(parents=True)
    # A valid header and garbage after it: SQLite opens it and fails on the first read.
    (isolated_home / "http_cache.sqlite").write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 64)
    result = cli.proc("lots", "dump", str(EVENT))
    assert_dumped_with_one_warning(result, sandbox, "corrupt")
    sandbox.reset()
    again = cli.proc("lots", "dump", str(EVENT))
    assert again.returncode == 0 and route_count(sandbox, LOT_ROUTE) == 0  # the new cache works


def test_cache_with_garbled_entries(cli: Cli, sandbox: Sandbox, isolated_home: Path) -> None:
    assert cli.proc("lots", "dump", str(EVENT)).returncode == 0
    connection = sqlite3.connect(isolated_home / "http_cache.sqlite")
    with connection:
        connection.execute("UPDATE lotsdb_http SET body = X'00FF00FF'")
    connection.close()
    result = cli.proc("lots", "dump", str(EVENT))
    assert result.returncode == 0, result.stderr
    assert jsonl_ids(result.stdout) == jsonl_ids(cli.proc("--no-cache", "lots", "dump", str(EVENT)).stdout)
    # Unreadable entries are misses, fetched and stored again; not a line of log per entry.
    assert result.stderr.splitlines() == [
        f"event {EVENT}: lots: 60 total, 60 fetched, 0 from cache, 0 served stale, 0 failed"
    ]
    sandbox.reset()
    assert cli.proc("lots", "dump", str(EVENT)).returncode == 0
    assert route_count(sandbox, LOT_ROUTE) == 0  # the cache healed


def test_home_that_cannot_exist(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    # We run as root, so chmod cannot make a directory unwritable for us: a LOTSDB_HOME under a
    # regular file is a location nobody can create (as on a read-only or unmounted volume).
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    homeless = Cli({**cli.env, "LOTSDB_HOME": str(blocker / "lotsdb")})
    result = homeless.proc("lots", "dump", str(EVENT))
    assert_dumped_with_one_warning(result, sandbox, "HTTP cache")
    albums = homeless.proc("albums", "list")  # the album database is data, not a cache: an error
    assert albums.returncode == 1
    assert_one_error_line(albums.stderr)
    assert "album database" in albums.stderr


def test_cache_location_under_a_regular_file(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = cli.proc("--cache", str(blocker / "cache.sqlite"), "lots", "dump", str(EVENT))
    assert_dumped_with_one_warning(result, sandbox, "unusable")


def test_redis_down(cli: Cli, sandbox: Sandbox) -> None:
    result = cli.proc("--cache", "redis://127.0.0.1:1/0", "lots", "dump", str(EVENT))
    assert_dumped_with_one_warning(result, sandbox, "Redis")


@pytest.mark.parametrize(
    ("limit", "about"),
    [(4_000, "unusable"), (60_000, "failed")],
    ids=["full-before-the-cache-exists", "full-half-way-through"],
)
def test_disk_full_for_the_cache(cli: Cli, sandbox: Sandbox, limit: int, about: str) -> None:
    # A full disk, simulated with a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored): writes past
    # `limit` bytes fail with EFBIG where a full disk fails with ENOSPC; SQLite reports both as
    # "disk I/O error" or "database or disk is full".
    result = cli.proc("lots", "dump", str(EVENT), timeout=30, preexec_fn=file_size_limit(limit))
    assert_dumped_with_one_warning(result, sandbox, about)


def test_disk_full_for_the_output_file(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "lots.jsonl"
    result = cli.proc("lots", "dump", str(EVENT), "-o", str(out), timeout=60, preexec_fn=file_size_limit(20_000))
    assert result.returncode == 1, result.stderr
    assert_one_error_line(result.stderr)
    assert f"cannot write {out}" in result.stderr
    assert not out.exists() and leftovers(tmp_path, out.name) == []


def test_disk_full_for_the_album_database(cli: Cli, tmp_path: Path, isolated_home: Path) -> None:
    from .support import albums_csv

    albums_csv(tmp_path / "albums.csv", 20)
    result = cli.proc("albums", "import", str(tmp_path / "albums.csv"), preexec_fn=file_size_limit(20_000))
    assert result.returncode == 1, result.stderr
    assert_one_error_line(result.stderr)
    assert "album database" in result.stderr


def test_cache_clear_of_a_cache_it_cannot_open_fails(cli: Cli, tmp_path: Path) -> None:
    """Saying `removed 0 cache entries` with exit 0 would tell a script an unopened cache is now empty."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    unusable = cli.proc("--cache", str(blocker / "http_cache.sqlite"), "cache", "clear")
    assert unusable.returncode == 1 and "cannot clear the HTTP cache" in unusable.stderr
    skipped = cli.proc("--no-cache", "cache", "clear")
    assert skipped.returncode == 2 and "nothing can be cleared" in skipped.stderr

"""Album commands through the CLI against the sandbox: import, list, show, cover, refresh."""

from __future__ import annotations

import contextlib
import csv
import fcntl
import http.server
import io
import json
import os
import pty
import re
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from conftest import Cli, local_server, route_count

from lotsdb_cli.sandbox import Sandbox
from lotsdb_cli.sandbox.albumids import album_id

SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "albums.csv"
UNKNOWN_TO_SPOTIFY = album_id(99, 0)


def album_requests(sandbox: Sandbox) -> int:
    return route_count(sandbox, "GET /v1/albums/{id}")


def imported(cli: Cli) -> None:
    result = cli("albums", "import", str(SAMPLE))
    assert result.code == 3, result.stderr  # the sample has invalid rows on purpose


def test_import_makes_no_request_and_reports_bad_rows(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    result = cli("albums", "import", str(SAMPLE), "--reject-log", str(rejects))
    assert result.code == 3
    assert sandbox.stats()["requests"] == 0
    for line, reason in [(10, "no title"), (15, "track link"), (21, "short link"), (28, "year")]:
        assert f"albums.csv:{line}: invalid:" in result.stderr and reason in result.stderr
    assert "42 inserted, 0 updated, 0 unchanged, 1 duplicates, 4 invalid" in result.stderr
    rows = list(csv.DictReader(rejects.open(encoding="utf-8")))
    assert [row["line"] for row in rows] == ["10", "15", "21", "28"]


def test_reimport_is_idempotent_and_keeps_enrichment(cli: Cli, sandbox: Sandbox) -> None:
    imported(cli)
    assert cli("albums", "refresh", "--album-id", "1").code == 0
    again = cli("albums", "import", str(SAMPLE))
    assert "0 inserted, 0 updated, 42 unchanged" in again.stderr
    shown = json.loads(cli("albums", "show", "1", "--format", "json").stdout)
    assert shown["spotify_name"] and shown["tracks"]


def test_dry_run_import_writes_nothing(cli: Cli, sandbox: Sandbox, isolated_home: Path) -> None:
    result = cli("albums", "import", str(SAMPLE), "--dry-run")
    assert "(dry run: nothing written)" in result.stderr
    assert not (isolated_home / "lotsdb.sqlite").exists()
    assert sandbox.stats()["requests"] == 0


def test_import_from_stdin(cli: Cli) -> None:
    result = cli("albums", "import", "-", stdin="Artist,Album,Spotify\nA,B,spotify:album:" + album_id(1, 3) + "\n")
    assert result.code == 0 and "1 inserted" in result.stderr


def test_import_from_url_goes_through_the_http_layer(cli: Cli, sandbox: Sandbox) -> None:
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(SAMPLE.parent))
    with local_server(handler) as base:
        url = f"{base}/albums.csv"
        result = cli("-v", "albums", "import", url)
        assert result.code == 3 and "42 inserted" in result.stderr
        assert re.search(r"^GET http://127\.0\.0\.1:\d+/albums\.csv 200 \d+ms miss$", result.stderr, re.M)
        again = cli("-v", "albums", "import", url)  # asked again, with its validator: the sheet may have changed
        assert "42 unchanged" in again.stderr
        assert re.search(r"^GET http://127\.0\.0\.1:\d+/albums\.csv 304 \d+ms revalidated$", again.stderr, re.M)
    offline = cli("--offline", "albums", "import", url)  # the server is gone: the cached copy serves --offline
    assert "42 unchanged" in offline.stderr


def test_not_a_csv_is_a_clear_error_and_writes_nothing(cli: Cli, tmp_path: Path, isolated_home: Path) -> None:
    binary = tmp_path / "cover.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    result = cli("albums", "import", str(binary))
    assert result.code == 1 and result.stderr.startswith("error:")
    missing = cli("albums", "import", str(tmp_path / "nope.csv"))
    assert missing.code == 1 and "cannot read" in missing.stderr
    if (isolated_home / "lotsdb.sqlite").exists():
        with sqlite3.connect(isolated_home / "lotsdb.sqlite") as db:
            assert db.execute("SELECT count(*) FROM albums").fetchone()[0] == 0


def test_refresh_dry_run_lists_and_makes_no_request(cli: Cli, sandbox: Sandbox) -> None:
    imported(cli)
    result = cli("albums", "refresh", "--dry-run", "--format", "json")
    assert result.code == 0
    assert len(json.loads(result.stdout)) == 41
    assert sandbox.stats()["requests"] == 0


def test_refresh_stores_metadata_then_show_is_free(cli: Cli, sandbox: Sandbox) -> None:
    imported(cli)
    result = cli("albums", "refresh")
    assert result.code == 3  # one album of the sample is unknown to Spotify
    assert "40 refreshed, 0 unchanged, 1 failed, 1 skipped" in result.stderr
    assert UNKNOWN_TO_SPOTIFY in result.stderr and "Not In The Sandbox" in result.stderr
    assert route_count(sandbox, "GET /v1/albums", "403") == 1  # tried the batch endpoint once
    sandbox.reset()
    listed = json.loads(cli("albums", "list", "--format", "json").stdout)
    assert sum(1 for album in listed if album["has_metadata"]) == 40
    for ref in ("2", album_id(1, 1), f"https://open.spotify.com/intl-de/album/{album_id(1, 1)}/"):
        shown = cli("albums", "show", ref, "--format", "json")
        assert shown.code == 0 and json.loads(shown.stdout)["spotify_id"] == album_id(1, 1)
    assert sandbox.stats()["requests"] == 0
    second = cli("albums", "refresh")
    assert second.code == 0 and "0 refreshed" in second.stderr and "2 skipped" in second.stderr
    assert sandbox.stats()["requests"] == 0  # the 404 is remembered; nothing is stale


def test_a_max_age_shorter_than_the_http_cache_asks_spotify(cli: Cli, sandbox: Sandbox) -> None:
    """`refresh --max-age 1d` daily must see Spotify, not the 30-day HTTP cache: a stale album is revalidated
    (a 304 costs no body), and `show --max-age` the same."""
    imported(cli)
    assert cli("albums", "refresh").code == 3
    sandbox.reset()
    again = cli("-v", "albums", "refresh", "--max-age", "0", "--artist", "Saltwater")
    assert again.code == 0, again.stderr
    asked = album_requests(sandbox)
    assert asked > 0 and " hit" not in again.stderr  # every album asked Spotify: none from the cache alone
    assert re.search(r"^GET \S+/v1/albums/\w+\?market=US 304 \d+ms revalidated$", again.stderr, re.M)
    sandbox.reset()
    shown = cli("-v", "albums", "show", album_id(1, 1), "--max-age", "0", "--format", "json")
    assert shown.code == 0 and album_requests(sandbox) >= 1 and " revalidated" in shown.stderr


def test_force_refetches_even_not_found(cli: Cli, sandbox: Sandbox) -> None:
    imported(cli)
    cli("albums", "refresh")
    sandbox.reset()
    forced = cli("albums", "refresh", "--force", "--artist", "unmapped")
    assert forced.code == 3 and album_requests(sandbox) == 1


def test_albums_with_many_tracks_keep_every_track(cli: Cli, sandbox: Sandbox) -> None:
    long_album = album_id(1, 3)  # every tenth album (index 3, 13, ...) has more than 50 tracks
    shown = json.loads(cli("albums", "show", long_album, "--format", "json").stdout)
    assert shown["total_tracks"] > 50 and len(shown["tracks"]) == shown["total_tracks"]
    assert route_count(sandbox, "GET /v1/albums/{id}/tracks") >= 1


def test_cover_prints_the_url(cli: Cli, sandbox: Sandbox) -> None:
    result = cli("albums", "cover", album_id(1, 0))
    assert result.code == 0 and result.stdout.strip().startswith(sandbox.url)
    assert cli("albums", "cover", "not-an-album").code == 2  # not an album reference: a usage error


def test_batch_endpoint_when_the_app_may(isolated_home: Path) -> None:
    with Sandbox(albums=60, spotify_batch=True) as sandbox:
        cli = Cli({**sandbox.env(), "LOTSDB_HOME": str(isolated_home)})
        imported(cli)
        result = cli("albums", "refresh")
        assert result.code == 3, result.stderr
        assert route_count(sandbox, "GET /v1/albums", "200") == 3  # 41 albums in batches of 20
        assert album_requests(sandbox) == 1  # the null in a batch is asked singly: 404


def test_a_batch_that_keeps_failing_is_asked_album_by_album(isolated_home: Path) -> None:
    with Sandbox(albums=60, spotify_batch=True) as sandbox:
        cli = Cli({**sandbox.env(), "LOTSDB_HOME": str(isolated_home), "LOTSDB_BACKOFF_SCALE": "0"})
        imported(cli)
        sandbox.add_fault("^/v1/albums$", "status", count=4, status=500)  # the first batch, every try
        result = cli("--retries", "3", "albums", "refresh")
        assert result.code == 3, result.stderr  # only the album Spotify does not know failed
        assert "40 refreshed" in result.stderr and "1 failed" in result.stderr
        assert route_count(sandbox, "GET /v1/albums", "500") == 4
        assert album_requests(sandbox) == 20 + 1  # the failed batch's albums singly, and the unknown one


def test_quota_stop_keeps_what_was_stored_and_resumes(cli: Cli, sandbox: Sandbox) -> None:
    imported(cli)
    stopper = album_id(1, 20)
    sandbox.add_fault(f"/v1/albums/{stopper}", "retry_after", value="3600", quota=True)
    stopped = cli("albums", "refresh", "--workers", "1")
    assert stopped.code == 75
    assert "QUOTA_EXCEEDED" in stopped.stderr and "run again after" in stopped.stderr
    stored = [a for a in json.loads(cli("albums", "list", "--format", "json").stdout) if a["has_metadata"]]
    assert 15 <= len(stored) < 40
    sandbox.clear_faults()
    sandbox.reset()
    held = cli("albums", "refresh")  # before the hour is over: stopped at once, nothing asked
    assert held.code == 75 and album_requests(sandbox) == 0
    (Path(cli.env["LOTSDB_HOME"]) / "pauses.json").unlink()  # the hour has passed
    resumed = cli("albums", "refresh")
    assert resumed.code == 3  # the unknown album again
    assert album_requests(sandbox) == 41 - len(stored)


def test_import_then_enrich_right_away(cli: Cli, sandbox: Sandbox) -> None:
    result = cli("albums", "import", str(SAMPLE), "--no-skip-spotify")
    assert result.code == 3 and "40 refreshed" in result.stderr


@pytest.fixture
def sql_meta_rows(cli: Cli) -> Iterator[None]:
    rows = 'Artist,Album\n100% Pure,Fun_house\n"O\'Brien","x""; DROP TABLE albums; --"\n'
    assert cli("albums", "import", "-", stdin=rows).code == 0
    yield


@pytest.mark.usefixtures("sql_meta_rows")
def test_list_filters_are_literal(cli: Cli) -> None:
    def artists(*args: str) -> list[str]:
        return [album["artist"] for album in json.loads(cli("albums", "list", *args, "--format", "json").stdout)]

    assert artists("--artist", "%") == ["100% Pure"]
    assert artists("--artist", "_") == []
    assert artists("--artist", "o'b") == ["O'Brien"]
    assert len(artists()) == 2  # the table survived


# -- streaming, interruptions and odd inputs ------------------------------------------------


def many_rows(count: int, start: int = 0) -> str:
    return "".join(f"Artist {index},Album {index}\n" for index in range(start, start + count))


def album_count(db_path: Path) -> int:
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return int(db.execute("SELECT count(*) FROM albums").fetchone()[0])


def wait_for_albums(db_path: Path, wanted: int, *, at_least: bool = False, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db_path.exists():
            with contextlib.suppress(sqlite3.OperationalError):  # the file exists before its table does
                found = album_count(db_path)
                if found == wanted or (at_least and found >= wanted):
                    return found
        time.sleep(0.02)
    raise AssertionError(f"{db_path} never held {wanted} albums")


@pytest.mark.parametrize(
    ("stop", "status", "rows"),
    [(signal.SIGTERM, 143, 4999), (signal.SIGINT, 130, 4999), (signal.SIGINT, 130, 20)],
    ids=["sigterm", "sigint", "sigint-fewer-rows-than-the-header-search"],
)
def test_a_stopped_import_keeps_and_reports_what_it_committed(
    cli: Cli, isolated_home: Path, tmp_path: Path, stop: signal.Signals, status: int, rows: int
) -> None:
    """The rows read so far are committed before the import waits for more input (however few: the
    header search makes do with what has arrived); stopped there, the summary says exactly what the
    database holds, and no reject log (or part of one) is left."""
    (tmp_path / "out").mkdir()
    rejects = tmp_path / "out" / "rejects.csv"
    proc = cli.popen("albums", "import", "-", "--reject-log", str(rejects), stdin=subprocess.PIPE)
    assert proc.stdin is not None
    proc.stdin.write("Artist,Album\n" + many_rows(rows) + "No Title,\n")
    proc.stdin.flush()
    wait_for_albums(isolated_home / "lotsdb.sqlite", rows)
    proc.send_signal(stop)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == status, stderr
    assert f"<stdin>:{rows + 2}: invalid: no title" in stderr
    assert (
        f"<stdin>: {rows} inserted, 0 updated, 0 unchanged, 0 duplicates, 1 invalid (stopped early: "
        f"the rows up to line {rows + 2} are committed, none after them; import again to finish)" in stderr
    )
    assert album_count(isolated_home / "lotsdb.sqlite") == rows
    assert list((tmp_path / "out").iterdir()) == []


def test_a_slow_pipe_with_title_lines_above_the_header(cli: Cli, isolated_home: Path) -> None:
    """The header search waits for its window when only a few title lines have arrived."""
    import time

    proc = cli.popen("albums", "import", "-", stdin=subprocess.PIPE)
    assert proc.stdin is not None
    proc.stdin.write("My albums, 2024\nExported by a script\n\n")
    proc.stdin.flush()
    time.sleep(0.3)  # (the producer takes its time; the outcome is the same if it does not)
    proc.stdin.write("Artist,Album\n" + many_rows(30))
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "30 inserted" in stderr and "line(s) above the header (line 4) were skipped" in stderr
    assert album_count(isolated_home / "lotsdb.sqlite") == 30


def test_an_import_killed_at_any_moment_reports_exactly_what_is_stored(
    cli: Cli, isolated_home: Path, tmp_path: Path
) -> None:
    source = tmp_path / "big.csv"
    source.write_text("Artist,Album\n" + many_rows(60_000), encoding="utf-8")
    proc = cli.popen("albums", "import", str(source))
    wait_for_albums(isolated_home / "lotsdb.sqlite", 2_000, at_least=True)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    stored = album_count(isolated_home / "lotsdb.sqlite")
    assert 2_000 <= stored < 60_000
    assert f"big.csv: {stored} inserted, 0 updated, 0 unchanged, 0 duplicates, 0 invalid (stopped" in stderr
    again = cli("albums", "import", str(source))
    assert again.code == 0 and f"{60_000 - stored} inserted, 0 updated, {stored} unchanged" in again.stderr


def test_import_with_stdin_closed(cli: Cli) -> None:
    proc = subprocess.run(
        ["sh", "-c", 'exec "$@" <&-', "sh", sys.executable, "-m", "lotsdb_cli", "albums", "import", "-"],
        env={**os.environ, **cli.env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: cannot read <stdin>")


def test_a_file_of_only_invalid_rows_is_an_error(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("Artist,Album,Year\nA,,2001\nB,Title,19x5\n", encoding="utf-8")
    result = cli("albums", "import", str(source))
    assert result.code == 1
    assert f"error: none of the 2 rows of {source} could be imported (lines 2, 3)" in result.stderr


def test_a_header_only_file_says_so(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "empty.csv"
    source.write_text("Artist,Album\n", encoding="utf-8")
    result = cli("albums", "import", str(source))
    assert result.code == 0
    assert f"warning: {source}: no rows below the header (line 1)" in result.stderr


def test_a_mixed_encoding_file_through_the_cli(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "mixed.csv"
    source.write_bytes("Artist,Album\nBjörk,Post\n".encode() + b"Sigur R\xf3s,Takk\n")
    result = cli("albums", "import", str(source))
    assert result.code == 0
    assert "line 3 is not UTF-8; read as Windows-1252 (cp1252)" in result.stderr
    listed = json.loads(cli("albums", "list", "--format", "json").stdout)
    assert sorted(album["artist"] for album in listed) == ["Björk", "Sigur Rós"]


def test_a_reject_log_never_replaces_the_source(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "albums.csv"
    source.write_bytes(SAMPLE.read_bytes())
    result = cli("albums", "import", str(source), "--reject-log", str(source))
    assert result.code == 2 and f"refusing to write {source}: it is the input" in result.stderr
    assert source.read_bytes() == SAMPLE.read_bytes()


def test_progress_bar_on_a_terminal_only(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    source.write_text("Artist,Album\n" + many_rows(20_000), encoding="utf-8")
    shown = stderr_on_a_terminal(cli, "albums", "import", str(source))
    assert "importing:" in shown and "%|" in shown and "rows]" in shown
    assert "20000 inserted" in shown
    quiet = stderr_on_a_terminal(cli, "--quiet", "albums", "import", str(source))
    assert "%|" not in quiet and "unchanged" not in quiet


def stderr_on_a_terminal(cli: Cli, *args: str) -> str:
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "lotsdb_cli", *args],
        env={**os.environ, **cli.env},
        stdout=subprocess.DEVNULL,
        stderr=terminal,
    )
    os.close(terminal)
    shown = b""
    with contextlib.suppress(OSError):  # EIO once the process has closed the terminal
        while chunk := os.read(controller, 4096):
            shown += chunk
    os.close(controller)
    assert proc.wait(timeout=60) == 0
    return shown.decode(errors="replace")


def test_list_streams_every_album_in_order(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "many.csv"
    source.write_text("Artist,Album,Year\n" + "".join(f"A{i:04d},T{i},{1990 + i % 30}\n" for i in range(1_234)))
    assert cli("albums", "import", str(source)).code == 0
    listed = cli("albums", "list", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert [row["artist"] for row in rows] == [f"A{i:04d}" for i in range(1_234)]
    lines = cli("albums", "list", "--format", "jsonl", "--limit", "600").stdout.splitlines()
    assert len(lines) == 600 and json.loads(lines[-1])["artist"] == "A0599"

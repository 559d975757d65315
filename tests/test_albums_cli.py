"""Album commands through the CLI against the sandbox: import, list, show, cover, refresh."""

from __future__ import annotations

import csv
import http.server
import json
import sqlite3
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from conftest import Cli, route_count

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
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/albums.csv"
        result = cli("albums", "import", url)
        assert result.code == 3 and "42 inserted" in result.stderr
        server.shutdown()
        cached = cli("albums", "import", url)  # the CSV itself is cached like any GET
        assert "42 unchanged" in cached.stderr
    finally:
        server.server_close()


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
    assert cli("albums", "cover", "not-an-album").code == 1


def test_batch_endpoint_when_the_app_may(isolated_home: Path) -> None:
    with Sandbox(albums=60, spotify_batch=True) as sandbox:
        cli = Cli({**sandbox.env(), "LOTSDB_HOME": str(isolated_home)})
        imported(cli)
        result = cli("albums", "refresh")
        assert result.code == 3, result.stderr
        assert route_count(sandbox, "GET /v1/albums", "200") == 3  # 41 albums in batches of 20
        assert album_requests(sandbox) == 1  # the null in a batch is asked singly: 404


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

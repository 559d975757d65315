"""Secrets after a full run at -vv: only tokens.json (mode 0600) holds one; never stdout, stderr,
the cache, the run log or the album database; never sent to a host that is not the API's."""

from __future__ import annotations

import base64
import http.server
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Cli, local_server

from lotsdb_cli.sandbox import Sandbox

from .support import EVENT, albums_csv, all_files


@pytest.fixture
def capture_server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A stranger's server that records the headers of every request it gets."""
    seen: list[dict[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(dict(self.headers))
            body = b'{"items": [], "next": null}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with local_server(Handler) as url:
        yield url, seen


def test_no_secret_outside_tokens_json_after_a_full_verbose_run(
    cli: Cli, sandbox: Sandbox, tmp_path: Path, isolated_home: Path
) -> None:
    albums_csv(tmp_path / "albums.csv", 10)
    bad_lot = EVENT * 100 + 2
    sandbox.add_fault(f"/api/Lot/{bad_lot}$", "status", status=500)  # an error path at -vv too
    runs = [
        cli.proc("-vv", "lots", "dump", str(EVENT), "--workers", "4"),
        cli.proc("-vv", "albums", "import", str(tmp_path / "albums.csv")),
        cli.proc("-vv", "albums", "refresh", "--workers", "4"),
        cli.proc("-vv", "auth", "status"),
        cli.proc("-vv", "cache", "stats"),
    ]
    sandbox.revoke_tokens()  # a 401 and a renewal, at -vv
    runs.append(cli.proc("-vv", "--refresh", "lots", "show", str(EVENT * 100 + 1)))
    wrong = Cli({**cli.env, "LOTSDB_PASSWORD": "wrong-password-1234", "LOTSDB_HOME": str(tmp_path / "other")})
    runs.append(wrong.proc("-vv", "lots", "show", str(EVENT * 100 + 1)))  # refused login, at -vv
    assert [run.returncode for run in runs] == [3, 0, 0, 0, 0, 0, 4]

    env = sandbox.env()
    tokens_path = isolated_home / "tokens.json"
    assert stat.S_IMODE(os.stat(tokens_path).st_mode) == 0o600
    stored = json.loads(tokens_path.read_text())
    tokens = [entry[name] for entry in stored.values() for name in ("access_token", "refresh_token") if name in entry]
    assert len(tokens) >= 3  # catalog access + refresh, spotify access
    spotify_pair = f"{env['SPOTIFY_CLIENT_ID']}:{env['SPOTIFY_CLIENT_SECRET']}".encode()
    secrets = [
        env["LOTSDB_PASSWORD"],
        env["LOTSDB_CLIENT_SECRET"],
        env["SPOTIFY_CLIENT_SECRET"],
        base64.b64encode(spotify_pair).decode(),
        "wrong-password-1234",
        *tokens,
    ]
    for path in all_files(tmp_path):
        if path != tokens_path:
            content = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in content, f"a secret in {path.relative_to(tmp_path)}"
    for run in runs:
        for secret in secrets:
            assert secret not in run.stdout and secret not in run.stderr, run.args


def test_the_spotify_token_never_follows_a_link_to_another_host(
    cli: Cli, sandbox: Sandbox, capture_server: tuple[str, list[dict[str, str]]]
) -> None:
    stranger, seen = capture_server
    album_id = sandbox.data.album_ids[0]
    album = {
        "id": album_id,
        "name": "Paged",
        "artists": [{"name": "Someone"}],
        "images": [],
        "tracks": {"items": [{"name": "one", "track_number": 1}], "next": f"{stranger}/v1/albums/{album_id}/tracks"},
    }
    sandbox.add_fault(f"/v1/albums/{album_id}$", "status", status=200, body=album)
    result = cli.proc("-vv", "albums", "show", album_id)
    assert seen == []  # not even asked: the bearer token goes only to the API's own origin
    assert result.returncode == 1
    assert "next page" in result.stderr and "is not on" in result.stderr


def test_a_credential_in_a_query_string_is_never_shown_or_stored(
    cli: Cli, sandbox: Sandbox, tmp_path: Path, isolated_home: Path
) -> None:
    """A sheet shared as `…/export.csv?token=…`, an API URL with `?api_key=…`: masked wherever shown or kept."""
    from functools import partial

    albums_csv(tmp_path / "albums.csv", 3)
    secret = "SHEETQS-d3f4x9"

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass  # (the server's own log would land in the captured stderr)

    with local_server(partial(Quiet, directory=str(tmp_path))) as base:
        query = f"token={secret}&%74oken={secret}1&X-Amz-Signature={secret}2&private_token={secret}3&format=csv"
        result = cli("-vv", "albums", "import", f"{base}/albums.csv?{query}")
        stats = cli("cache", "stats", "--format", "json")
    assert result.code == 0, result.stderr
    assert "albums.csv?token=***&%74oken=***&X-Amz-Signature=***&private_token=***&format=csv" in result.stderr
    assert stats.code == 0 and secret not in stats.stdout
    refused = cli.proc("events", "list", env={"LOTSDB_CATALOG_URL": f"not-a-url?api_key={secret}"})
    assert refused.returncode == 4 and "api_key=***" in refused.stderr
    for output in (result.stdout, result.stderr, refused.stderr):
        assert secret not in output
    for path in all_files(isolated_home):
        assert secret.encode() not in path.read_bytes(), path

"""Trust at the edges of the HTTP layer: shapes, deadlines, tokens, Retry-After, TLS, credentials.

Each test runs the real CLI against a real server over a loopback socket: the sandbox, or a
small server of the test's own where the fault cannot be produced otherwise (a body that
trickles, a TLS certificate nobody trusts, a spreadsheet behind Basic auth).
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from conftest import Cli, local_server

from lotsdb_cli.sandbox import Sandbox

from .support import EVENT, LOT_ROUTE, all_files, assert_one_error_line, route_count

LOT = EVENT * 100 + 1
TOKEN_ROUTE = "POST /connect/token"


# -- shapes --------------------------------------------------------------------------------


def test_a_lot_answered_with_a_list_is_an_error_and_not_cached(cli: Cli, sandbox: Sandbox) -> None:
    sandbox.add_fault(f"/api/Lot/{LOT}$", "status", count=1, status=200, body=[1, 2, 3])
    result = cli("lots", "show", str(LOT), "--format", "json")
    assert result.code == 1
    assert_one_error_line(result.stderr)
    assert "expected LotDto (a JSON object), got a list" in result.stderr
    again = cli("lots", "show", str(LOT), "--format", "json")
    assert again.code == 0 and json.loads(again.stdout)["id"] == LOT
    assert route_count(sandbox, LOT_ROUTE) == 2  # the bad answer was not served from the cache


def test_an_answer_about_another_lot_is_refused(cli: Cli, sandbox: Sandbox) -> None:
    sandbox.add_fault(f"/api/Lot/{LOT}$", "status", count=1, status=200, body={"id": LOT + 1})
    result = cli("lots", "show", str(LOT))
    assert result.code == 1 and f"asked for {LOT}, got LotDto {LOT + 1}" in result.stderr


def test_an_event_with_unusable_lot_entries_names_them(cli: Cli, sandbox: Sandbox) -> None:
    body = {"id": EVENT, "lots": [{"id": LOT, "lotNumber": "1"}, {"id": "x"}, {"lotNumber": "3"}, 7]}
    sandbox.add_fault(f"/api/Catalog/{EVENT}$", "status", count=1, status=200, body=body)
    result = cli("lots", "dump", str(EVENT))
    assert result.code == 1 and result.stdout == ""
    assert_one_error_line(result.stderr)
    assert "3 of 4 `lots` entries have no integer id (positions 1, 2, 3)" in result.stderr
    assert route_count(sandbox, LOT_ROUTE) == 0
    assert cli("lots", "dump", str(EVENT)).code == 0  # not cached: the next run asks again


# -- one deadline per request --------------------------------------------------------------


class TrickleServer:
    """Answers every request with a 200 whose body arrives one byte at a time, for ever."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            threading.Thread(target=self._trickle, args=(connection,), daemon=True).start()

    def _trickle(self, connection: socket.socket) -> None:
        with connection:
            try:
                connection.recv(65536)
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                )
                while not self.stop.wait(0.2):
                    connection.sendall(b" ")
            except OSError:
                return

    def close(self) -> None:
        self.stop.set()
        self.socket.close()


def test_a_trickling_body_is_cut_off_by_the_deadline(tmp_path: Path) -> None:
    server = TrickleServer()
    try:
        env = {"LOTSDB_HOME": str(tmp_path / "home"), "LOTSDB_CATALOG_URL": f"http://127.0.0.1:{server.port}"}
        trickled = Cli({**env, "LOTSDB_TOKEN": "a-token-for-the-trickle-server"})
        result = trickled.proc("--timeout", "1", "--retries", "0", "lots", "show", str(LOT), timeout=60)
    finally:
        server.close()
    assert result.returncode == 75, result.stderr
    assert_one_error_line(result.stderr)
    assert "no complete answer within 1s" in result.stderr


# -- tokens ----------------------------------------------------------------------------------


def test_a_short_lived_token_is_fetched_once_for_a_whole_dump(isolated_home: Path) -> None:
    with Sandbox(sellers=1, events_per_seller=1, lots_per_event=200, token_ttl=100) as sandbox:
        cli = Cli({**sandbox.env(), "LOTSDB_HOME": str(isolated_home)})
        result = cli("lots", "dump", str(EVENT), "--workers", "32")
        assert result.code == 0, result.stderr
        assert len(result.stdout.splitlines()) == 200
        assert route_count(sandbox, TOKEN_ROUTE) == 1  # 32 requests wanted one at once: one login


def test_a_token_near_its_end_is_renewed_once(isolated_home: Path) -> None:
    with Sandbox(sellers=1, events_per_seller=1, lots_per_event=5, token_ttl=100) as sandbox:
        cli = Cli({**sandbox.env(), "LOTSDB_HOME": str(isolated_home)})
        assert cli("lots", "show", str(LOT)).code == 0
        tokens = isolated_home / "tokens.json"
        stored = json.loads(tokens.read_text())
        for entry in stored.values():
            entry["expires_at"] = time.time() + 5  # 5 s of 100 left: past the renewal point
        tokens.write_text(json.dumps(stored))
        assert cli("--refresh", "lots", "dump", str(EVENT)).code == 0
        assert route_count(sandbox, TOKEN_ROUTE) == 2  # the first login, and one renewal for 6 requests


# -- Retry-After on a 503 -------------------------------------------------------------------


def test_retry_after_on_a_503_is_honoured(cli: Cli, sandbox: Sandbox) -> None:
    sandbox.add_fault(f"/api/Lot/{LOT}$", "status", count=1, status=503, headers={"Retry-After": "1"})
    result = cli("lots", "show", str(LOT), "--format", "json")
    assert result.code == 0 and json.loads(result.stdout)["id"] == LOT
    assert route_count(sandbox, LOT_ROUTE) == 2


def test_a_503_asking_for_an_hour_stops_the_run_with_75(cli: Cli, sandbox: Sandbox) -> None:
    sandbox.add_fault(f"/api/Lot/{LOT}$", "status", status=503, headers={"Retry-After": "3600"})
    result = cli("--max-wait", "60", "lots", "show", str(LOT))
    assert result.code == 75
    assert_one_error_line(result.stderr)
    assert "is unavailable (503): it asks to wait 1h, longer than --max-wait 1m" in result.stderr
    assert route_count(sandbox, LOT_ROUTE) == 1  # not slept, not retried


# -- credentials ----------------------------------------------------------------------------


def test_credentials_are_not_sent_over_plain_http_off_this_machine(cli: Cli, sandbox: Sandbox) -> None:
    insecure = Cli({**cli.env, "LOTSDB_IDENTITY_URL": "http://login.example.invalid/connect/token"})
    result = insecure("lots", "show", str(LOT))
    assert result.code == 4
    assert_one_error_line(result.stderr)
    assert "would send credentials in clear" in result.stderr and "LOTSDB_ALLOW_INSECURE=1" in result.stderr
    assert sandbox.stats()["requests"] == 0
    allowed = Cli({**insecure.env, "LOTSDB_ALLOW_INSECURE": "1"})
    tried = allowed.proc("--retries", "0", "lots", "show", str(LOT))
    assert tried.returncode == 75 and "unknown host" in tried.stderr  # it did try (.invalid never resolves)


def test_a_redis_password_never_reaches_a_file_or_a_stream(cli: Cli, isolated_home: Path) -> None:
    password = "s3cret-redis-password"
    redis_url = f"redis://:{password}@127.0.0.1:1/0"  # nothing listens there: the local cache is used
    dumped = cli("--cache", redis_url, "lots", "dump", str(EVENT))
    stats = cli("--cache", redis_url, "cache", "stats", "--format", "json")  # about that Redis: it fails
    shown = cli("--cache", redis_url, "config", "show", "--format", "json")
    assert dumped.code == 0 and stats.code == 75 and shown.code == 0
    for result in (dumped, stats, shown):
        assert password not in result.stdout and password not in result.stderr
    assert ":***@" in dumped.stderr and ":***@" in stats.stderr  # the Redis it could not reach, redacted
    for path in all_files(isolated_home):
        assert password.encode() not in path.read_bytes(), path.name
    runs = json.loads(cli("cache", "stats", "--format", "json").stdout)["recent_runs"]
    assert [run["command"] for run in runs] == ["lots dump"]  # the command's name, not its line


class BasicAuthCsvServer(http.server.ThreadingHTTPServer):
    """Serves one spreadsheet, only to `alice` with `password`."""

    def __init__(self, csv_bytes: bytes, password: str) -> None:
        expected = "Basic " + base64.b64encode(f"alice:{password}".encode()).decode()
        self.requests_seen: list[str] = []
        self.csv_bytes = csv_bytes  # what the next GET answers

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(handler) -> None:
                self.requests_seen.append(handler.path)
                if handler.headers.get("Authorization") != expected:
                    handler.send_response(401)
                    handler.send_header("Content-Length", "0")
                    handler.end_headers()
                    return
                handler.send_response(200)
                handler.send_header("Content-Type", "text/csv")
                handler.send_header("Content-Length", str(len(self.csv_bytes)))
                handler.end_headers()
                handler.wfile.write(self.csv_bytes)

            def log_message(handler, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_credentials_in_an_import_url_are_used_and_never_shown_or_stored(
    cli: Cli, isolated_home: Path, tmp_path: Path
) -> None:
    from .support import albums_csv

    password = "pa55-in-the-url"
    albums_csv(tmp_path / "albums.csv", 5)
    server = BasicAuthCsvServer((tmp_path / "albums.csv").read_bytes(), password)
    try:
        url = f"http://alice:{password}@127.0.0.1:{server.server_address[1]}/export.csv"
        result = cli.proc("-v", "albums", "import", url)
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    assert server.requests_seen == ["/export.csv"]
    assert "5 inserted" in result.stderr
    assert password not in result.stdout + result.stderr
    for path in all_files(isolated_home):
        assert password.encode() not in path.read_bytes(), path.name
    far = cli.proc("albums", "import", f"http://alice:{password}@sheets.example.invalid/export.csv")
    assert far.returncode == 4 and "plain http" in far.stderr and password not in far.stderr


def test_a_sheet_imported_again_is_read_as_it_is_now(cli: Cli, tmp_path: Path) -> None:
    from .support import albums_csv

    albums_csv(tmp_path / "five.csv", 5)
    albums_csv(tmp_path / "six.csv", 6)
    server = BasicAuthCsvServer((tmp_path / "five.csv").read_bytes(), "pa55word")
    url = f"http://alice:pa55word@127.0.0.1:{server.server_address[1]}/export.csv"
    try:
        assert "5 inserted" in cli.proc("albums", "import", url).stderr
        server.csv_bytes = (tmp_path / "six.csv").read_bytes()  # a row added to the sheet a minute later
        again = cli.proc("albums", "import", url)
    finally:
        server.shutdown()
    assert again.returncode == 0 and "1 inserted" in again.stderr and "5 unchanged" in again.stderr
    assert server.requests_seen == ["/export.csv", "/export.csv"]


def test_an_answer_to_an_import_urls_credentials_is_not_served_to_anyone_else(cli: Cli, tmp_path: Path) -> None:
    from .support import albums_csv

    albums_csv(tmp_path / "albums.csv", 3)
    server = BasicAuthCsvServer((tmp_path / "albums.csv").read_bytes(), "pa55word")
    port = server.server_address[1]
    try:
        assert cli.proc("albums", "import", f"http://alice:pa55word@127.0.0.1:{port}/x.csv").returncode == 0
        anonymous = cli.proc("albums", "import", "--dry-run", f"http://127.0.0.1:{port}/x.csv")
        wrong = cli.proc("albums", "import", "--dry-run", f"http://mallory:guess@127.0.0.1:{port}/x.csv")
    finally:
        server.shutdown()
    assert anonymous.returncode == 1 and "401" in anonymous.stderr  # asked the server, which said no
    assert wrong.returncode == 1 and "401" in wrong.stderr
    assert len(server.requests_seen) == 3


def test_a_token_as_the_user_name_of_an_import_url_is_never_shown(
    cli: Cli, isolated_home: Path, redis_url: str, tmp_path: Path
) -> None:
    token = "ghp_SecretToken123"
    refused = cli.proc("albums", "import", f"http://{token}@127.0.0.1:1/export.csv")  # nothing listens on port 1
    assert refused.returncode in (4, 75) and "127.0.0.1:1" in refused.stderr
    assert token not in refused.stdout + refused.stderr
    # With the cache in Redis, the rate budget's keys are named after the host, never its user part.
    from .support import albums_csv

    albums_csv(tmp_path / "albums.csv", 3)
    server = BasicAuthCsvServer((tmp_path / "albums.csv").read_bytes(), "Sh33tPassw0rd")
    try:
        url = f"http://alice:Sh33tPassw0rd@127.0.0.1:{server.server_address[1]}/a.csv"
        assert cli.proc("albums", "import", url, env={"LOTSDB_CACHE": redis_url}).returncode == 0
    finally:
        server.shutdown()
    keys = [key.decode() for key in redis.Redis.from_url(redis_url).keys("*")]
    assert keys and not [key for key in keys if "Sh33tPassw0rd" in key or "alice" in key], keys


@pytest.mark.parametrize("variable", ["LOTSDB_CATALOG_URL", "LOTSDB_IDENTITY_URL", "LOTSDB_SPOTIFY_API_URL"])
def test_credentials_in_an_api_url_are_a_configuration_error(cli: Cli, sandbox: Sandbox, variable: str) -> None:
    url = sandbox.url.replace("://", "://bob:Hunter2pw@")
    result = cli.proc("events", "show", "1017", env={variable: url})
    assert result.returncode == 4 and variable in result.stderr and "user name or password" in result.stderr
    assert "Hunter2pw" not in result.stdout + result.stderr
    assert sandbox.stats()["requests"] == 0


def test_an_exception_that_is_no_network_failure_is_not_retried() -> None:
    from lotsdb_cli.http.failures import transport_failure

    assert transport_failure(ValueError("a bug"), "http://127.0.0.1/", timeout=1) is None
    assert transport_failure(ConnectionResetError(), "http://127.0.0.1/", timeout=1) is not None


def test_a_compressed_answer_is_capped_at_its_decoded_size(cli: Cli) -> None:
    import gzip

    row = b"Artist,Title,Genre,1999\n"
    bomb = gzip.compress(b"Artist,Album,Genre,Year\n" + row * (70 * 1024 * 1024 // len(row)), compresslevel=9)

    class Bomb(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(bomb)))
            self.end_headers()
            self.wfile.write(bomb)

        def log_message(self, *args: object) -> None:
            pass

    with local_server(Bomb) as url:
        result = cli.proc("albums", "import", f"{url}/sheet.csv")
    assert len(bomb) < 1024 * 1024  # well under the cap as sent
    assert result.returncode == 1 and "the answer is too large (over 67108864 bytes)" in result.stderr


def test_a_redirect_loop_is_an_error_not_an_outage(cli: Cli) -> None:
    seen: list[str] = []

    class Loop(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(302)
            self.send_header("Location", self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    with local_server(Loop) as url:
        result = cli.proc("albums", "import", f"{url}/sheet.csv")
    assert result.returncode == 1 and "too many redirects" in result.stderr
    assert len(seen) <= 6  # one chain of redirects, not retried as if the server were down


# -- TLS ------------------------------------------------------------------------------------


class TlsFront:
    """A TLS endpoint in front of the sandbox's plain port, with a certificate from `ca`."""

    def __init__(self, backend_port: int, context: ssl.SSLContext) -> None:
        self.backend_port = backend_port
        self.context = context
        self.handshakes = 0
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                raw, _ = self.socket.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        self.handshakes += 1
        try:
            client = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        backend = socket.create_connection(("127.0.0.1", self.backend_port))
        threading.Thread(target=_pump, args=(backend, client), daemon=True).start()
        _pump(client, backend)

    def close(self) -> None:
        self.socket.close()


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def tls(sandbox: Sandbox, tmp_path: Path) -> Iterator[tuple[TlsFront, Path]]:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "private-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    front = TlsFront(int(sandbox.url.rsplit(":", 1)[1]), context)
    yield front, ca_file
    front.close()


def _over_tls(cli: Cli, front: TlsFront, **extra: str) -> Cli:
    origin = f"https://localhost:{front.port}"
    return Cli(
        {
            **cli.env,
            "LOTSDB_CATALOG_URL": origin,
            "LOTSDB_IDENTITY_URL": f"{origin}/connect/token",
            **extra,
        }
    )


def test_a_certificate_that_does_not_verify_is_a_configuration_error(
    cli: Cli, sandbox: Sandbox, tls: tuple[TlsFront, Path]
) -> None:
    front, _ = tls
    result = _over_tls(cli, front).proc("lots", "show", str(LOT))
    assert result.returncode == 4, result.stderr
    assert_one_error_line(result.stderr)
    assert "the TLS certificate did not verify" in result.stderr and "LOTSDB_CA_BUNDLE" in result.stderr
    assert front.handshakes == 1  # not retried: another try would fail the same way
    assert sandbox.stats()["requests"] == 0


@pytest.mark.parametrize("variable", ["LOTSDB_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_a_private_ca_is_trusted_when_configured(
    cli: Cli, sandbox: Sandbox, tls: tuple[TlsFront, Path], variable: str
) -> None:
    front, ca_file = tls
    result = _over_tls(cli, front, **{variable: str(ca_file)}).proc("lots", "show", str(LOT), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == LOT


# -- writes -----------------------------------------------------------------------------------

PUT_ROUTE = "PUT /api/Lot/{id}"


def test_override_checks_every_option_before_sending(cli: Cli, sandbox: Sandbox) -> None:
    for args in (["--set", "Notes=y", "--format", "xml"], ["--set", "Qty"], ["--set", "Nope=1"]):
        result = cli("lots", "override", str(LOT), *args)
        assert result.code in (1, 2), result.stderr
        assert sandbox.stats()["requests"] == 0, args


def test_override_with_the_current_values_sends_nothing(cli: Cli, sandbox: Sandbox) -> None:
    first = cli("lots", "override", str(LOT), "--set", "Qty=7", "--set", "Notes=fragile", "--format", "json")
    assert first.code == 0, first.stderr
    again = cli("lots", "override", str(LOT), "--set", "Qty=7", "--set", "Notes=fragile", "--format", "json")
    assert again.code == 0 and "no change" in again.stderr
    assert route_count(sandbox, PUT_ROUTE) == 1  # re-running a script appends nothing
    shown = json.loads(again.stdout)
    assert len(shown["overridenData"]) == len(json.loads(first.stdout)["overridenData"])


def test_override_dry_run_honours_the_format(cli: Cli, sandbox: Sandbox) -> None:
    result = cli("lots", "override", str(LOT), "--set", "Qty=2", "--dry-run", "--format", "jsonl")
    assert result.code == 0, result.stderr
    body = json.loads(result.stdout)  # one line: the request body as JSONL
    assert len(result.stdout.splitlines()) == 1 and body["overridenData"][-1]["Qty"] == 2
    assert route_count(sandbox, PUT_ROUTE) == 0


def test_refresh_force_asks_spotify_again(cli: Cli, sandbox: Sandbox, tmp_path: Path) -> None:
    from .support import ALBUM_ROUTE, albums_csv

    albums_csv(tmp_path / "albums.csv", 6)
    assert cli("albums", "import", str(tmp_path / "albums.csv")).code == 0
    assert cli("albums", "refresh").code == 0
    assert route_count(sandbox, ALBUM_ROUTE) == 6
    forced = cli("albums", "refresh", "--force")
    assert forced.code == 0, forced.stderr
    assert route_count(sandbox, ALBUM_ROUTE) == 12  # every album asked again, not read from the HTTP cache
    assert "6 unchanged" in forced.stderr


def test_a_quota_stop_counts_what_was_stored(cli: Cli, sandbox: Sandbox, tmp_path: Path, isolated_home: Path) -> None:
    from lotsdb_cli.sandbox.albumids import album_id

    from .support import albums_csv, stored_albums

    albums_csv(tmp_path / "albums.csv", 40)
    assert cli("albums", "import", str(tmp_path / "albums.csv")).code == 0
    sandbox.add_fault(f"/v1/albums/{album_id(1, 25)}", "retry_after", value="3600", quota=True)
    stopped = cli("albums", "refresh", "--workers", "8")
    assert stopped.code == 75
    refreshed = int(stopped.stderr.split(" refreshed")[0].rsplit(" ", 1)[1])
    assert refreshed == len(stored_albums(isolated_home / "lotsdb.sqlite"))


def test_a_long_retry_after_counts_what_was_cached(cli: Cli, sandbox: Sandbox) -> None:
    from .support import cached_lot_count

    sandbox.add_fault(f"/api/Lot/{EVENT * 100 + 30}$", "retry_after", value="3600")
    stopped = cli("lots", "dump", str(EVENT))
    assert stopped.code == 75
    fetched = int(stopped.stderr.split(" fetched")[0].rsplit(" ", 1)[1])
    assert fetched == cached_lot_count(cli("cache", "stats", "--format", "json").stdout)


class RedirectingServer(http.server.ThreadingHTTPServer):
    """Answers every request with `status` and `Location: target + path`, and records what came."""

    def __init__(self, status: int, target: str) -> None:
        self.seen: list[tuple[str, str, str | None, bytes]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def _redirect(handler) -> None:
                length = int(handler.headers.get("Content-Length") or 0)
                body = handler.rfile.read(length) if length else b""
                self.seen.append((handler.command, handler.path, handler.headers.get("Authorization"), body))
                handler.send_response(status)
                handler.send_header("Location", target + handler.path)
                handler.send_header("Content-Length", "0")
                handler.end_headers()

            do_GET = do_POST = do_PUT = _redirect

            def log_message(handler, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def test_a_token_request_is_never_redirected(cli: Cli, sandbox: Sandbox) -> None:
    elsewhere = RedirectingServer(200, "")  # what would receive the password
    front = RedirectingServer(307, elsewhere.url)
    try:
        result = cli.proc(
            "--no-cache", "lots", "show", "100001", env={"LOTSDB_IDENTITY_URL": front.url + "/connect/token"}
        )
    finally:
        front.shutdown()
        elsewhere.shutdown()
    assert result.returncode == 4 and "redirected" in result.stderr and "not followed" in result.stderr
    assert [method for method, *_ in front.seen] == ["POST"] and elsewhere.seen == []


def test_a_redirected_get_leaves_the_bearer_token_behind(cli: Cli, sandbox: Sandbox) -> None:
    sink = RedirectingServer(404, "")  # another origin: answers 404 and records the headers
    front = RedirectingServer(302, sink.url)
    try:
        result = cli.proc(
            "--no-cache", "--retries", "0", "lots", "show", "100001", env={"LOTSDB_CATALOG_URL": front.url}
        )
    finally:
        front.shutdown()
        sink.shutdown()
    assert result.returncode == 1  # the 404 at the end of the redirect
    assert front.seen[0][2] is not None and front.seen[0][2].startswith("Bearer ")  # sent to the origin
    assert [(method, path, auth) for method, path, auth, _ in sink.seen] == [("GET", "/api/Lot/100001", None)]


def test_a_redirect_from_https_to_plain_http_is_refused() -> None:
    from lotsdb_cli.errors import TlsError
    from lotsdb_cli.http.transport import _follow

    headers = {"Authorization": "Bearer x"}
    with pytest.raises(TlsError, match="from https to plain http"):
        _follow("GET", "https://catalog.example/api/Lot/1", "http://catalog.example/api/Lot/1", headers)
    assert _follow("GET", "https://a.example/x", "/y", headers) == ("https://a.example/y", headers)
    assert _follow("GET", "https://a.example/x", "https://b.example/y", headers) == ("https://b.example/y", {})


def token_endpoint(answer: Callable[[str], tuple[int, dict[str, Any]]]) -> type[http.server.BaseHTTPRequestHandler]:
    """A token endpoint of a test's own: `answer(form)` gives the status and the JSON body of each POST."""

    class Endpoint(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            status, answered = answer(self.rfile.read(int(self.headers["Content-Length"])).decode())
            body = json.dumps(answered).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Endpoint


@pytest.mark.parametrize("password", ["p@ss w/rd&x=1", "abc"])
def test_a_token_endpoint_that_echoes_the_form_shows_no_secret(cli: Cli, sandbox: Sandbox, password: str) -> None:
    echo = token_endpoint(lambda form: (400, {"error": "invalid_request", "error_description": f"bad request: {form}"}))
    with local_server(echo) as url:
        result = cli.proc(
            "--no-cache",
            "lots",
            "show",
            "100001",
            env={"LOTSDB_IDENTITY_URL": f"{url}/connect/token", "LOTSDB_PASSWORD": password},
        )
    assert result.returncode == 4 and "password=***" in result.stderr
    from urllib.parse import quote_plus

    for shown in (password, quote_plus(password), sandbox.env()["LOTSDB_CLIENT_SECRET"]):
        assert f"={shown}" not in result.stderr and f"={shown}&" not in result.stderr


@pytest.mark.parametrize("token", ["abc\r\nX-Evil: 1", "two words", "caf\u00e9"])
def test_an_access_token_no_header_can_carry_is_refused(cli: Cli, sandbox: Sandbox, token: str) -> None:
    """A token endpoint that answers a token with a line break (or a space): a credentials problem, not a crash."""

    issuer = token_endpoint(lambda form: (200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600}))
    with local_server(issuer) as url:
        result = cli.proc("--no-cache", "lots", "show", "100001", env={"LOTSDB_IDENTITY_URL": f"{url}/connect/token"})
    assert result.returncode == 4, result.stderr
    assert "answered an access_token that is not a bearer token" in result.stderr
    assert_one_error_line(result.stderr)
    assert sandbox.stats()["requests"] == 0  # the catalog never saw it


def test_a_redis_url_python_cannot_parse_is_refused_without_its_password(cli: Cli) -> None:
    result = cli.proc("--cache", "redis://:R3disPassw0rd@[::1:16390/13", "lots", "show", "4")
    assert result.returncode == 2 and "R3disPassw0rd" not in result.stderr and ":***@" in result.stderr


def test_credentials_for_a_loopback_host_are_refused_through_a_proxy_elsewhere(cli: Cli, sandbox: Sandbox) -> None:
    # The sandbox is on loopback, but a proxy off this machine would carry the password in clear.
    result = cli.proc("--no-cache", "lots", "show", "100001", env={"HTTP_PROXY": "http://proxy.example:3128"})
    assert result.returncode == 4 and "plain http" in result.stderr
    assert sandbox.stats()["requests"] == 0
    through_loopback = cli.proc(
        "--no-cache", "lots", "show", "100001", env={"HTTP_PROXY": "http://proxy.example:3128", "NO_PROXY": "127.0.0.1"}
    )
    assert through_loopback.returncode == 0, through_loopback.stderr  # NO_PROXY: straight to loopback


def test_an_api_that_keeps_failing_stops_the_run_instead_of_failing_every_lot(cli: Cli, sandbox: Sandbox) -> None:
    """Every lot answers 503 after every retry: after a few in a row the API is down (75), and the
    rest of a large event is not tried lot by lot."""
    sandbox.add_fault(r"/api/Lot/\d+$", "status", status=503)
    result = cli.proc("--retries", "1", "lots", "dump", "1000", "--workers", "2")
    assert result.returncode == 75, result.stderr
    assert "requests in a row failed after every retry" in result.stderr
    assert route_count(sandbox, "GET /api/Lot/{id}") < 2 * 20  # stopped long before the 60 lots


def test_one_lot_that_keeps_failing_is_one_failed_lot(cli: Cli, sandbox: Sandbox) -> None:
    sandbox.add_fault(r"/api/Lot/100003$", "status", status=503)
    result = cli.proc("--retries", "1", "lots", "dump", "1000")
    assert result.returncode == 3 and len(result.stdout.splitlines()) == 59


class TinyCatalog(http.server.ThreadingHTTPServer):
    """A Catalog API of one lot: `/api/Lot/1` with a validator that cannot be sent back, `/api/Lot/2` a 204."""

    def __init__(self) -> None:
        self.paths: list[tuple[str, str | None]] = []
        lot = json.dumps({"id": 1, "customerItemId": "c-1", "initialData": {"Qty": 1}, "overridenData": []}).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(handler) -> None:
                self.paths.append((handler.path, handler.headers.get("If-None-Match")))
                if handler.path == "/api/Lot/2":
                    handler.send_response(204)
                    handler.end_headers()
                    return
                handler.send_response(200)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("ETag", '"a\x01b"')
                handler.send_header("Content-Length", str(len(lot)))
                handler.end_headers()
                handler.wfile.write(lot)

            def log_message(handler, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_a_validator_that_cannot_be_sent_back_is_not_kept(cli: Cli) -> None:
    server = TinyCatalog()
    env = {"LOTSDB_CATALOG_URL": f"http://127.0.0.1:{server.server_address[1]}", "LOTSDB_TOKEN": "tok-abc12345"}
    try:
        first = cli.proc("lots", "show", "1", "--format", "json", env=env)
        again = cli.proc("--ttl", "0", "lots", "show", "1", "--format", "json", env=env)
        no_content = cli.proc("lots", "show", "2", env=env)
    finally:
        server.shutdown()
    assert first.returncode == 0 and again.returncode == 0, again.stderr
    assert "warning" not in again.stderr  # asked again (nothing to revalidate with), not served stale
    assert server.paths[:2] == [("/api/Lot/1", None), ("/api/Lot/1", None)]
    assert no_content.returncode == 1  # no retry makes a body
    assert "error: GET 127.0.0.1:" in no_content.stderr and "/api/Lot/2: 204, empty body" in no_content.stderr
    assert server.paths[2:] == [("/api/Lot/2", None)]

"""Answers of the wrong shape, from a hostile server: each fails the one item it is about, with a
message naming the problem, is never cached or stored, and never crashes or hangs a command.

The bad answers come from the sandbox's faults, or from a small server of the test's own where an
answer must change from one request to the next (pages that never end).
"""

from __future__ import annotations

import csv
import http.server
import io
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from conftest import Cli

from lotsdb_cli import catalog, spotify
from lotsdb_cli.sandbox import Sandbox

from .support import ALBUM_ROUTE, EVENT, LOT_ROUTE, albums_csv, assert_one_error_line, route_count, stored_albums

TRACKS_ROUTE = "GET /v1/albums/{id}/tracks"


def lot_ids(sandbox: Sandbox) -> list[int]:
    event = sandbox.data.catalog(EVENT)
    assert event is not None
    return list(event.lot_ids)


# -- LotDto: every field of the contract's type, and an integer id -------------------------------

BAD_LOTS = [
    ({"overridenData": 5}, "`overridenData` should be a list, got int"),
    ({"overridenData": [{"Qty": 1}, 5]}, "`overridenData[1]` should be an object, got int"),
    ({"overridenData": [{"forceCrate": "yes"}]}, "`overridenData[0].forceCrate` should be a boolean, got a string"),
    ({"initialData": [1, 2]}, "`initialData` should be an object, got a list"),
    ({"initialData": {"Qty": "3"}}, "`initialData.Qty` should be an integer, got a string"),
    ({"initialData": {"value": True}}, "`initialData.value` should be a number, got a boolean"),
    ({"imageLinks": "https://x"}, "`imageLinks` should be a list, got a string"),
    ({"imageLinks": [{"link": 5}]}, "`imageLinks[0].link` should be a string, got int"),
    ({"catalogs": {"catalogId": 1}}, "`catalogs` should be a list, got an object"),
    ({"customerItemId": ["a"]}, "`customerItemId` should be a string, got a list"),
]


@pytest.mark.parametrize(("fields", "problem"), BAD_LOTS, ids=[problem.split("`")[1] for _, problem in BAD_LOTS])
def test_a_lot_of_the_wrong_shape_fails_alone_and_is_not_cached(
    cli: Cli, sandbox: Sandbox, fields: dict[str, Any], problem: str
) -> None:
    ids = lot_ids(sandbox)
    bad = ids[5]
    sandbox.add_fault(f"/api/Lot/{bad}$", "status", status=200, body={"id": bad, **fields})
    result = cli("--retries", "0", "lots", "dump", str(EVENT), "-f", "csv")
    assert result.code == 3, result.stderr
    assert_one_error_line(result.stderr)
    failed = [line for line in result.stderr.splitlines() if f"failed lot {bad}:" in line]
    assert len(failed) == 1 and problem in failed[0], result.stderr
    written = [int(row["id"]) for row in csv.DictReader(io.StringIO(result.stdout, newline=""))]
    assert written == [lot_id for lot_id in ids if lot_id != bad]
    assert route_count(sandbox, LOT_ROUTE) == len(ids)

    again = cli("--retries", "0", "lots", "dump", str(EVENT), "-f", "csv")  # the fault still answers
    assert again.code == 3 and f"failed lot {bad}:" in again.stderr
    assert route_count(sandbox, LOT_ROUTE) == len(ids) + 1  # only the bad lot is asked again: it was not cached


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"id": None}, "LotDto has no `id`"),
        ({}, "LotDto has no `id`"),
        ({"initialData": {"Qty": 1}}, "LotDto has no `id`"),
        ({"id": "LOT"}, "LotDto has a non-integer id 'LOT'"),
        ({"id": True}, "LotDto has a non-integer id 'True'"),
    ],
)
def test_a_lot_without_its_integer_id_is_refused(cli: Cli, sandbox: Sandbox, body: Any, problem: str) -> None:
    lot = lot_ids(sandbox)[0]
    sandbox.add_fault(f"/api/Lot/{lot}$", "status", count=1, status=200, body=body)
    result = cli("lots", "show", str(lot), "--format", "json")
    assert result.code == 1 and result.stdout == ""
    assert_one_error_line(result.stderr)
    assert problem in result.stderr
    again = cli("lots", "show", str(lot), "--format", "json")
    assert again.code == 0 and json.loads(again.stdout)["id"] == lot
    assert route_count(sandbox, LOT_ROUTE) == 2  # the refused answer was not served from the cache


# -- JSON nested too deep ----------------------------------------------------------------------


def test_a_lot_nested_a_hundred_thousand_deep_fails_alone(cli: Cli, sandbox: Sandbox) -> None:
    ids = lot_ids(sandbox)
    bad = ids[2]
    sandbox.add_fault(f"/api/Lot/{bad}$", "status", status=200, body="[" * 100_000)
    result = cli("--retries", "0", "lots", "dump", str(EVENT), "-f", "jsonl")
    assert result.code == 3, result.stderr
    assert_one_error_line(result.stderr)
    assert f"failed lot {bad}: " in result.stderr and "nested too deeply" in result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [i for i in ids if i != bad]


def test_a_lot_nested_deep_inside_a_field_is_refused_before_it_is_read_further(cli: Cli, sandbox: Sandbox) -> None:
    """500 levels parse, but walking them (a lone surrogate to replace, a writer) ran out of stack."""
    ids = lot_ids(sandbox)
    bad = ids[4]
    deep = "[" * 500 + '"\\ud800"' + "]" * 500
    sandbox.add_fault(f"/api/Lot/{bad}$", "status", status=200, body=f'{{"id": {bad}, "extra": {deep}}}')
    result = cli("--retries", "0", "lots", "dump", str(EVENT), "-f", "json")
    assert result.code == 3, result.stderr
    assert_one_error_line(result.stderr)
    assert f"failed lot {bad}: " in result.stderr and "nested more than 64 levels deep" in result.stderr
    assert [lot["id"] for lot in json.loads(result.stdout)] == [i for i in ids if i != bad]
    for fmt in ("json", "table", "csv"):
        shown = cli("--retries", "0", "lots", "show", str(bad), "--format", fmt)
        assert shown.code == 1 and "nested more than 64 levels deep" in shown.stderr
        assert_one_error_line(shown.stderr)


def test_an_event_nested_too_deep_is_one_error_line(cli: Cli, sandbox: Sandbox) -> None:
    sandbox.add_fault(f"/api/Catalog/{EVENT}$", "status", status=200, body='{"a":' * 50_000)
    result = cli("--retries", "1", "lots", "dump", str(EVENT))
    assert result.code == 1 and result.stdout == ""
    assert_one_error_line(result.stderr)
    assert "nested too deeply" in result.stderr
    assert route_count(sandbox, LOT_ROUTE) == 0


# -- Spotify albums: every field lotsdb reads, of the contract's type ---------------------------


def album_body(album_id: str, tracks: int = 1) -> dict[str, Any]:
    items = [{"name": f"track {n}", "track_number": n, "duration_ms": 1000 * n} for n in range(1, tracks + 1)]
    return {
        "id": album_id,
        "name": "Shaped",
        "artists": [{"name": "Someone"}],
        "images": [{"url": "https://i.scdn.co/image/x", "width": 640, "height": 640}],
        "external_urls": {"spotify": f"https://open.spotify.com/album/{album_id}"},
        "release_date": "1999-01-01",
        "total_tracks": tracks,
        "tracks": {"items": items, "next": None, "total": tracks},
    }


def spoiled(album_id: str, path: str, value: Any) -> dict[str, Any]:
    album = album_body(album_id)
    *parents, last = path.split(".")
    target: Any = album
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[last] = value
    return album


BAD_ALBUMS = [
    ("artists", 5, "`artists` should be a list, got int"),
    ("artists", [5], "`artists[0]` should be an object, got int"),
    ("artists", [{"name": 7}], "`artists[0].name` should be a string, got int"),
    ("external_urls", "x", "`external_urls` should be an object, got a string"),
    ("external_urls", {"spotify": []}, "`external_urls.spotify` should be a string, got a list"),
    ("tracks", "garbage", "`tracks` should be an object, got a string"),
    ("tracks.items", {"a": 1}, "`tracks.items` should be a list, got an object"),
    ("tracks.items.0.duration_ms", "x", "`tracks.items[0].duration_ms` should be an integer, got a string"),
    ("tracks.items.0.artists", "Someone", "`tracks.items[0].artists` should be a list, got a string"),
    ("tracks.next", 5, "`tracks.next` should be a string, got int"),
    ("images", 5, "`images` should be a list, got int"),
    ("images", [{"url": None, "width": "640"}], "`images[0].width` should be an integer, got a string"),
    ("name", ["x"], "`name` should be a string, got a list"),
    ("id", [1], "`id` should be a string, got a list"),
    ("total_tracks", "12", "`total_tracks` should be an integer, got a string"),
]
BAD_ALBUM_IDS = [f"{path}={json.dumps(value)}" for path, value, _ in BAD_ALBUMS]


@pytest.mark.parametrize(("path", "value", "problem"), BAD_ALBUMS, ids=BAD_ALBUM_IDS)
def test_albums_show_refuses_an_album_of_the_wrong_shape(
    cli: Cli, sandbox: Sandbox, isolated_home: Path, path: str, value: Any, problem: str
) -> None:
    album_id = sandbox.data.album_ids[0]
    sandbox.add_fault(f"/v1/albums/{album_id}$", "status", count=1, status=200, body=spoiled(album_id, path, value))
    result = cli("albums", "show", album_id, "--format", "json")
    assert result.code == 1 and result.stdout == ""
    assert_one_error_line(result.stderr)
    assert problem in result.stderr
    assert album_id not in stored_albums(isolated_home / "lotsdb.sqlite")
    again = cli("albums", "show", album_id, "--format", "json")  # not cached: Spotify is asked again
    assert again.code == 0 and json.loads(again.stdout)["spotify_id"] == album_id
    assert route_count(sandbox, ALBUM_ROUTE) == 2


@pytest.mark.parametrize(("path", "value", "problem"), BAD_ALBUMS[:8:2], ids=BAD_ALBUM_IDS[:8:2])
def test_refresh_fails_only_the_album_of_the_wrong_shape(
    cli: Cli, sandbox: Sandbox, tmp_path: Path, isolated_home: Path, path: str, value: Any, problem: str
) -> None:
    ids = albums_csv(tmp_path / "albums.csv", 3)
    assert cli("albums", "import", str(tmp_path / "albums.csv")).code == 0
    bad = ids[1]
    sandbox.add_fault(f"/v1/albums/{bad}$", "status", status=200, body=spoiled(bad, path, value))
    for run in (1, 2):  # never cached: the second run asks Spotify again, and fails the same way
        result = cli("albums", "refresh", "--workers", "1")
        assert result.code == 3, result.stderr
        assert_one_error_line(result.stderr)  # "N of 3 albums failed", and no traceback
        assert ("2 refreshed, 0 unchanged" if run == 1 else "0 refreshed, 2 unchanged") + ", 1 failed" in result.stderr
        warning = [line for line in result.stderr.splitlines() if bad in line and "error:" not in line]
        assert len(warning) == 1 and problem in warning[0], result.stderr
        assert route_count(sandbox, ALBUM_ROUTE) == 2 + run  # three albums, then the bad one again
    assert set(stored_albums(isolated_home / "lotsdb.sqlite")) == {ids[0], ids[2]}


def test_an_album_of_the_wrong_shape_in_a_batch_is_asked_for_on_its_own(tmp_path: Path, isolated_home: Path) -> None:
    with Sandbox(albums=10, spotify_batch=True) as sandbox:
        cli = Cli({**sandbox.env(), "LOTSDB_HOME": str(isolated_home)})
        ids = albums_csv(tmp_path / "albums.csv", 3)
        assert cli("albums", "import", str(tmp_path / "albums.csv")).code == 0
        batch = [album_body(ids[0]), spoiled(ids[1], "artists", 5), {**album_body(ids[2]), "id": [ids[2]]}]
        sandbox.add_fault("^/v1/albums$", "status", count=1, status=200, body={"albums": batch})
        result = cli("albums", "refresh")
        assert result.code == 0, result.stderr
        assert "3 refreshed, 0 unchanged, 0 failed" in result.stderr
        assert route_count(sandbox, ALBUM_ROUTE) == 2  # the two spoiled ones, singly: the sandbox answers well
        assert set(stored_albums(isolated_home / "lotsdb.sqlite")) == set(ids)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "http://evil.example/x.jpg",
        "data:image/svg+xml,<svg onload=alert(1)>",
        "https://user:pw@i.scdn.co/image/x",
        "https://i.scdn.co/image/x'><script>alert(1)</script>",
        "https://i.scdn.co/image/x y",
    ],
)
def test_a_cover_url_no_one_should_open_is_not_kept(cli: Cli, sandbox: Sandbox, isolated_home: Path, url: str) -> None:
    """A lying answer's image URL is neither stored nor printed by `albums cover`: the album has no cover."""
    album_id = sandbox.data.album_ids[0]
    body = album_body(album_id)
    body["images"] = [{"url": url, "width": 640, "height": 640}, {"url": "https://i.scdn.co/image/ok", "width": 64}]
    sandbox.add_fault(f"/v1/albums/{album_id}$", "status", count=1, status=200, body=body)
    shown = cli("albums", "show", album_id, "--format", "json")
    assert shown.code == 0 and json.loads(shown.stdout)["cover_url"] == "https://i.scdn.co/image/ok"
    body["images"] = body["images"][:1]  # the lie alone: no cover at all
    sandbox.add_fault(f"/v1/albums/{album_id}$", "status", count=1, status=200, body=body)
    cover = cli("--refresh", "albums", "cover", album_id, "--max-age", "0")
    assert cover.code == 1 and cover.stdout == "" and "has no cover image" in cover.stderr
    stored = sqlite3.connect(isolated_home / "lotsdb.sqlite").execute("SELECT cover_url FROM albums").fetchall()
    assert stored == [(None,)]


def test_a_stored_album_of_an_older_shape_is_shown_not_crashed_on(cli: Cli, sandbox: Sandbox) -> None:
    """A row an older lotsdb stored before answers were checked: shown with the bad fields empty."""
    from lotsdb_cli.albums.store import AlbumStore

    album_id = sandbox.data.album_ids[0]
    old = {**spoiled(album_id, "tracks.items.0.duration_ms", "x"), "external_urls": "x", "artists": 5}
    store = AlbumStore(Path(cli.env["LOTSDB_HOME"]) / "lotsdb.sqlite")
    try:
        store.store_metadata(album_id, old, "https://i.scdn.co/image/x")
    finally:
        store.close()
    result = cli("albums", "show", album_id, "--format", "json")
    assert result.code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["spotify_url"] is None and shown["artists"] == "" and shown["tracks"][0]["duration"] is None
    assert sandbox.stats()["requests"] == 0


# -- Spotify tracks pages that do not end ---------------------------------------------------------


def a_tracks_page_that_links_to_itself(sandbox: Sandbox, total: int) -> str:
    """The first album's tracks go on to a page whose `next` is itself; returns the album's id."""
    album_id = sandbox.data.album_ids[0]
    page_url = f"{sandbox.url}/v1/albums/{album_id}/tracks?offset=1&limit=1"
    album = album_body(album_id)
    album["tracks"].update(next=page_url, total=total)
    page = {"items": [{"name": "second", "track_number": 2}], "next": page_url, "total": total}
    sandbox.add_fault(f"/v1/albums/{album_id}$", "status", status=200, body=album)
    sandbox.add_fault(f"/v1/albums/{album_id}/tracks$", "status", status=200, body=page)
    return album_id


def test_a_tracks_page_that_links_to_itself_fails_the_album(cli: Cli, sandbox: Sandbox, isolated_home: Path) -> None:
    album_id = a_tracks_page_that_links_to_itself(sandbox, total=3)
    result = cli("albums", "show", album_id, "--format", "json")
    assert result.code == 1 and result.stdout == ""
    assert_one_error_line(result.stderr)
    assert "already read (a loop)" in result.stderr and "not stored" in result.stderr
    assert route_count(sandbox, TRACKS_ROUTE) == 1
    assert album_id not in stored_albums(isolated_home / "lotsdb.sqlite")
    cli("albums", "show", album_id)  # neither the album nor its page was kept: both are asked again
    assert route_count(sandbox, ALBUM_ROUTE) == 2 and route_count(sandbox, TRACKS_ROUTE) == 2


def test_tracks_paging_stops_once_total_is_reached(cli: Cli, sandbox: Sandbox) -> None:
    album_id = a_tracks_page_that_links_to_itself(sandbox, total=2)
    result = cli("albums", "show", album_id, "--format", "json")
    assert result.code == 0, result.stderr
    assert [track["name"] for track in json.loads(result.stdout)["tracks"]] == ["track 1", "second"]
    assert route_count(sandbox, TRACKS_ROUTE) == 1


Answer = Callable[[str, dict[str, str]], Any]  # (path, query) -> the JSON to answer with


class JsonServer:
    """A small API on 127.0.0.1: every GET is answered 200 with `answer(path, query)` as JSON."""

    def __init__(self, answer: Answer) -> None:
        self.paths: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.paths.append(self.path)
                parts = urlsplit(self.path)
                body = json.dumps(answer(parts.path, dict(parse_qsl(parts.query)))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def json_server() -> Iterator[Callable[[Answer], JsonServer]]:
    servers: list[JsonServer] = []
    yield lambda answer: servers.append(JsonServer(answer)) or servers[-1]
    for server in servers:
        server.close()


def test_tracks_pages_that_never_end_fail_the_album_at_the_cap(
    sandbox: Sandbox, isolated_home: Path, json_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spotify, "MAX_TRACK_PAGES", 5)
    album_id = sandbox.data.album_ids[0]

    def answer(path: str, query: dict[str, str]) -> Any:
        if path.endswith("/tracks"):  # always one more page, each a new one, and no total
            offset = int(query["offset"])
            return {"items": [{"name": f"t{offset}"}], "next": f"{server.url}{path}?offset={offset + 1}"}
        album = album_body(album_id)
        album["tracks"] = {"items": [{"name": "t0"}], "next": f"{server.url}{path}/tracks?offset=1"}
        return album

    server = json_server(answer)
    cli = Cli({**sandbox.env(), "LOTSDB_HOME": str(isolated_home), "LOTSDB_SPOTIFY_API_URL": server.url})
    result = cli("albums", "show", album_id, "--format", "json")
    assert result.code == 1 and result.stdout == ""
    assert_one_error_line(result.stderr)
    assert "more than 5 pages of tracks" in result.stderr and "not stored" in result.stderr
    assert sum("/tracks" in path for path in server.paths) == 5
    assert album_id not in stored_albums(isolated_home / "lotsdb.sqlite")


# -- Catalog lists whose pages do not end -----------------------------------------------------------

LISTS = [("/api/Seller", ["sellers", "list"]), ("/api/Catalog", ["events", "list", "--all"])]


def page_of(number: int, **extra: Any) -> dict[str, Any]:
    """Page `number` of a list that never ends: three items of its own, and always one more page."""
    ids = range(3 * number, 3 * number + 3)
    items = [{"id": n, "name": f"Seller {n}", "title": f"Event {n}", "startDate": "2030-01-01T00:00:00Z"} for n in ids]
    return {"items": items, "pageNumber": number, "totalPages": 2**31 - 1, "hasNextPage": True, **extra}


def catalog_cli(isolated_home: Path, server: JsonServer) -> Cli:
    return Cli({"LOTSDB_HOME": str(isolated_home), "LOTSDB_CATALOG_URL": server.url, "LOTSDB_TOKEN": "a-test-token"})


@pytest.mark.parametrize(("path", "args"), LISTS, ids=["sellers", "events"])
def test_new_pages_for_ever_stop_at_the_cap_with_an_error(
    isolated_home: Path, json_server: Any, monkeypatch: pytest.MonkeyPatch, path: str, args: list[str]
) -> None:
    monkeypatch.setattr(catalog, "MAX_PAGES", 20)

    server = json_server(lambda _, query: page_of(int(query["PageNumber"])))
    result = catalog_cli(isolated_home, server)("--no-cache", *args, "--format", "jsonl")
    assert result.code == 1
    assert_one_error_line(result.stderr)
    assert f"GET {path}: the server kept announcing more pages after 20 pages" in result.stderr
    assert len(server.paths) == 20


@pytest.mark.parametrize(("path", "args"), LISTS, ids=["sellers", "events"])
def test_two_pages_that_alternate_are_a_loop(isolated_home: Path, json_server: Any, path: str, args: list[str]) -> None:
    server = json_server(lambda _, query: page_of(2 - int(query["PageNumber"]) % 2))  # pages 1, 2, 1, 2 ...
    result = catalog_cli(isolated_home, server)("--no-cache", *args, "--format", "jsonl")
    assert result.code == 1
    assert_one_error_line(result.stderr)
    assert f"GET {path}: page 3 repeats page 1" in result.stderr
    assert len(server.paths) == 3


@pytest.mark.parametrize(("path", "args"), LISTS, ids=["sellers", "events"])
def test_paging_stops_once_total_items_are_gathered(
    isolated_home: Path, json_server: Any, path: str, args: list[str]
) -> None:
    server = json_server(lambda _, query: page_of(int(query["PageNumber"]), totalItems=7))
    result = catalog_cli(isolated_home, server)("--no-cache", *args, "--format", "jsonl")
    assert result.code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 9  # three pages of three: the seventh item was on the third
    assert len(server.paths) == 3


@pytest.mark.parametrize(("path", "args"), LISTS, ids=["sellers", "events"])
def test_a_page_whose_items_are_not_objects_is_refused(
    isolated_home: Path, json_server: Any, path: str, args: list[str]
) -> None:
    """`items: [null, 5, "x"]` is not an empty list: an error naming the item, not `[]` and exit 0."""
    server = json_server(lambda _, query: {"items": [{"id": 1}, None, 5], "totalItems": 3, "hasNextPage": False})
    result = catalog_cli(isolated_home, server)("--no-cache", *args, "--format", "jsonl")
    assert result.code == 1 and result.stdout == ""
    assert_one_error_line(result.stderr)
    assert "`items[1]` should be an object, got null" in result.stderr

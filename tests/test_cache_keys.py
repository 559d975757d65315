"""KeyMaker gives exactly requests-cache's cache keys, only faster."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import requests
from requests_cache import SQLiteCache
from urllib3 import HTTPResponse

from lotsdb_cli.http.keys import KeyMaker

URLS = [
    "http://127.0.0.1:8765/api/Lot/100001",
    "http://127.0.0.1:8765/api/Lot/100002",
    "https://catalog-api.abconnect.co/api/Catalog/1000",
    "HTTPS://Catalog-API.ABConnect.co:443/api/Lot/7",
    "https://api.spotify.com/v1/albums/4aawyAB9vmqN3uQ7FjRGTy?market=US",
    "https://api.spotify.com/v1/albums?ids=a,b&market=US",
    "http://127.0.0.1:8765/api/Lot/../Lot/5",
    "http://127.0.0.1:8765/api/Lot/a%20b",
    "http://bücher.example/api/Lot/1",
    "http://127.0.0.1:8765/",
]


@pytest.fixture
def backend(tmp_path: Path) -> SQLiteCache:
    return SQLiteCache(tmp_path / "cache.sqlite")


@pytest.mark.parametrize("url", URLS)
def test_keys_match_requests_cache(backend: SQLiteCache, url: str) -> None:
    prepared = requests.Request("GET", url).prepare()
    expected = backend.create_key(prepared)
    maker = KeyMaker.install(backend)
    for _ in range(2):  # the first time learns the origin, the second uses the shortcut or the memo
        assert maker.key_for_url(url) == expected
        assert backend.create_key(prepared) == expected
        assert backend.create_key(prepared, verify=False) != expected


def test_shortcut_for_many_urls_of_one_origin(backend: SQLiteCache) -> None:
    urls = [f"http://127.0.0.1:8765/api/Lot/{lot_id}" for lot_id in range(100000, 100200)]
    expected = [backend.create_key(requests.Request("GET", url).prepare()) for url in urls]
    maker = KeyMaker.install(backend)
    assert [maker.key_for_url(url) for url in urls] == expected


def test_bodies_and_matched_headers_go_to_requests_cache(backend: SQLiteCache) -> None:
    post = requests.Request("POST", "http://127.0.0.1:8765/connect/token", data={"a": "b"}).prepare()
    expected = backend.create_key(post)
    KeyMaker.install(backend)
    assert backend.create_key(post) == expected


def _response(url: str, body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code, response._content, response.url, response.reason = 200, body, url, "OK"
    response.headers["Content-Type"] = "application/json"
    response.request = requests.Request("GET", url).prepare()
    response.raw = HTTPResponse(body=io.BytesIO(body), status=200, preload_content=False, request_url=url)
    return response


def test_decode_rows_agrees_with_requests_cache(backend: SQLiteCache) -> None:
    import sqlite3
    from datetime import UTC, datetime, timedelta

    from lotsdb_cli.http.fastcache import CachedEntry, decode_rows

    now = datetime.now(UTC)
    for number, expires in ((1, now + timedelta(hours=1)), (2, now - timedelta(seconds=1)), (3, None)):
        backend.save_response(_response(f"http://h/api/Lot/{number}", b'{"id": %d}' % number), f"k{number}", expires)
    with sqlite3.connect(backend.responses.db_path) as connection:
        rows = connection.execute("SELECT key, value FROM responses ORDER BY key").fetchall()
    rows.append(("bad", b"not a pickle"))
    decoded = decode_rows(backend.responses, rows)
    for key in ("k1", "k2", "k3"):
        entry, reference = decoded[key], backend.get_response(key)
        assert isinstance(entry, CachedEntry)
        assert (entry.content, entry.is_expired, entry.status_code) == (
            reference.content,
            reference.is_expired,
            reference.status_code,
        )
    assert [decoded[key].is_expired for key in ("k1", "k2", "k3")] == [False, True, False]
    assert decoded["bad"] is None  # left to requests-cache, which cannot read it either

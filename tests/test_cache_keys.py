"""KeyMaker gives exactly requests-cache's cache keys, only faster."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from requests_cache import SQLiteCache

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

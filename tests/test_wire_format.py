"""Replays the recorded cassettes with no server: the clients must send exactly what was recorded.

Recorded by `scripts/record_cassettes.py` from the sandbox; credentials and tokens are filtered out
of the cassettes (the Authorization header, password/secret/token form fields and token answers).
A change in paths, query parameters, methods or token request bodies makes these tests fail.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import yaml
from test_contracts import catalog_contract, spotify_contract
from wire import CASSETTES, EVENT_ID, LOT_ID, recorder, run_catalog_calls, run_spotify_calls

from lotsdb_cli.sandbox.albumids import album_id

SECRETS = ("demo-password", "demo-secret", "sandbox-spotify-secret")


def interactions(name: str) -> list[dict]:
    return yaml.safe_load((CASSETTES / name).read_text())["interactions"]


def test_cassettes_hold_no_secret() -> None:
    for path in CASSETTES.glob("*.yaml"):
        text = path.read_text()
        assert "Authorization" not in text and "Bearer " not in text.replace('"Bearer"', "")
        for secret in SECRETS:
            assert secret not in text, f"{secret} in {path.name}"


def test_catalog_calls_replay(tmp_path: Path) -> None:
    with recorder("none").use_cassette("catalog.yaml") as cassette:
        results = run_catalog_calls(tmp_path)
    assert cassette.all_played
    assert results["event"]["id"] == EVENT_ID and results["lot"]["id"] == LOT_ID
    assert len(results["sellers"]) == 3


def test_spotify_calls_replay(tmp_path: Path) -> None:
    with recorder("none").use_cassette("spotify.yaml") as cassette:
        results = run_spotify_calls(tmp_path, album_id(1, 0))
    assert cassette.all_played
    assert results["album"]["id"] == album_id(1, 0)


def test_token_requests_are_shaped_as_the_services_expect() -> None:
    password_grant = interactions("catalog.yaml")[0]["request"]
    assert password_grant["method"] == "POST" and password_grant["uri"].endswith("/connect/token")
    form = parse_qs(password_grant["body"])
    assert form["grant_type"] == ["password"] and form["scope"] == ["offline_access"]
    assert {"username", "password", "client_id", "client_secret"} <= set(form)
    client_credentials = interactions("spotify.yaml")[0]["request"]
    assert client_credentials["uri"].endswith("/api/token")
    assert parse_qs(client_credentials["body"]) == {"grant_type": ["client_credentials"]}


@pytest.mark.parametrize(
    ("name", "suffix", "pointer"),
    [
        ("catalog.yaml", f"/api/Catalog/{EVENT_ID}", "/components/schemas/CatalogExpandedDto"),
        ("catalog.yaml", f"/api/Lot/{LOT_ID}", "/components/schemas/LotDto"),
        ("catalog.yaml", "/api/Seller?PageNumber=1&PageSize=500", "/components/schemas/SellerExpandedDtoPaginatedList"),
    ],
)
def test_recorded_catalog_answers_match_the_contract(name: str, suffix: str, pointer: str) -> None:
    found = [item for item in interactions(name) if item["request"]["uri"].endswith(suffix)]
    assert len(found) == 1
    catalog_contract().check(pointer, json.loads(found[0]["response"]["body"]["string"]))


def test_recorded_album_matches_the_contract() -> None:
    album = next(item for item in interactions("spotify.yaml") if "/v1/albums/" in item["request"]["uri"])
    assert "market=US" in album["request"]["uri"]
    spotify_contract().check("/components/schemas/AlbumObject", json.loads(album["response"]["body"]["string"]))

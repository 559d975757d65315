"""The sandbox over real sockets: auth, the Catalog and Spotify routes, conditional GET, knobs,
faults, counters, determinism, and the `lotsdb sandbox` commands."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from lotsdb_cli.sandbox import DEMO, Sandbox
from lotsdb_cli.sandbox.albumids import album_ids

SMALL: dict[str, Any] = {"seed": 7, "sellers": 5, "events_per_seller": 2, "lots_per_event": 30, "albums": 40}
PROBLEM_JSON = "application/problem+json"


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(**SMALL) as sandbox:
        yield sandbox


def password_grant(sb: Sandbox, **overrides: str) -> requests.Response:
    form = {**DEMO.password_form(), **overrides}
    return requests.post(sb.url + "/connect/token", data=form, timeout=5)


def spotify_grant(sb: Sandbox, secret: str = DEMO.spotify_client_secret) -> requests.Response:
    return requests.post(
        sb.url + "/api/token",
        data={"grant_type": "client_credentials"},
        auth=(DEMO.spotify_client_id, secret),
        timeout=5,
    )


def bearer_session(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def catalog(sb: Sandbox) -> requests.Session:
    return bearer_session(password_grant(sb).json()["access_token"])


def spotify(sb: Sandbox) -> requests.Session:
    return bearer_session(spotify_grant(sb).json()["access_token"])


def first_lot(sb: Sandbox) -> int:
    return sb.data.catalogs[0].first_lot_id


# Identity and auth


def test_password_grant_returns_a_token_pair(sb: Sandbox) -> None:
    answer = password_grant(sb)
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "expires_in", "token_type", "refresh_token"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert catalog(sb).get(f"{sb.url}/api/Lot/{first_lot(sb)}").status_code == 200


def test_refresh_grant_returns_a_new_pair_that_works(sb: Sandbox) -> None:
    refresh_token = password_grant(sb).json()["refresh_token"]
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": DEMO.client_id,
        "client_secret": DEMO.client_secret,
    }
    answer = requests.post(sb.url + "/connect/token", data=form, timeout=5)
    assert answer.status_code == 200
    renewed = answer.json()
    assert renewed["refresh_token"] != refresh_token
    session = bearer_session(renewed["access_token"])
    assert session.get(f"{sb.url}/api/Seller").status_code == 200
    bad = requests.post(sb.url + "/connect/token", data={**form, "refresh_token": "nope"})
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"password": "wrong"}, "invalid_grant"),
        ({"username": "someone"}, "invalid_grant"),
        ({"client_secret": "wrong"}, "invalid_client"),
        ({"client_id": "other-app"}, "invalid_client"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
    ],
)
def test_bad_credentials_answer_oauth_errors(sb: Sandbox, overrides: dict[str, str], error: str) -> None:
    answer = password_grant(sb, **overrides)
    assert answer.status_code == 400
    assert answer.json()["error"] == error


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer not-a-token", "Basic Zm9vOmJhcg=="])
def test_catalog_routes_need_a_valid_bearer_token(sb: Sandbox, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    answer = requests.get(f"{sb.url}/api/Lot/{first_lot(sb)}", headers=headers, timeout=5)
    assert answer.status_code == 401
    assert answer.headers["Content-Type"].startswith(PROBLEM_JSON)
    assert answer.json()["status"] == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_tokens_are_refused() -> None:
    with Sandbox(**SMALL, token_ttl=0) as sandbox:
        answer = catalog(sandbox).get(sandbox.url + "/api/Seller")
        assert answer.status_code == 401
        assert "expired" in answer.json()["detail"]


def test_revoke_tokens_invalidates_access_but_not_refresh_tokens(sb: Sandbox) -> None:
    pair = password_grant(sb).json()
    spotify_session = spotify(sb)
    sb.revoke_tokens()
    assert bearer_session(pair["access_token"]).get(sb.url + "/api/Seller").status_code == 401
    album = sb.data.album_ids[0]
    assert spotify_session.get(f"{sb.url}/v1/albums/{album}").status_code == 401
    form = {
        "grant_type": "refresh_token",
        "refresh_token": pair["refresh_token"],
        "client_id": DEMO.client_id,
        "client_secret": DEMO.client_secret,
    }
    renewed = requests.post(sb.url + "/connect/token", data=form, timeout=5).json()
    assert bearer_session(renewed["access_token"]).get(sb.url + "/api/Seller").status_code == 200


def test_spotify_client_credentials(sb: Sandbox) -> None:
    answer = spotify_grant(sb)
    assert answer.status_code == 200
    assert set(answer.json()) == {"access_token", "token_type", "expires_in"}
    in_form = requests.post(
        sb.url + "/api/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEMO.spotify_client_id,
            "client_secret": DEMO.spotify_client_secret,
        },
        timeout=5,
    )
    assert in_form.status_code == 200
    refused = spotify_grant(sb, secret="wrong")
    assert refused.status_code == 400
    assert refused.json() == {"error": "invalid_client", "error_description": "Invalid client"}


def test_tokens_of_one_service_do_not_open_the_other(sb: Sandbox) -> None:
    album = sb.data.album_ids[0]
    assert catalog(sb).get(f"{sb.url}/v1/albums/{album}").status_code == 401
    assert spotify(sb).get(f"{sb.url}/api/Seller").status_code == 401
    missing = requests.get(f"{sb.url}/v1/albums/{album}", timeout=5)
    assert missing.json() == {"error": {"status": 401, "message": "No token provided"}}


# Catalog API


def test_seller_pages(sb: Sandbox) -> None:
    session = catalog(sb)
    first = session.get(sb.url + "/api/Seller", params={"PageSize": 2}).json()
    assert first["pageNumber"] == 1
    assert (first["totalItems"], first["totalPages"]) == (5, 3)
    assert (first["hasPreviousPage"], first["hasNextPage"]) == (False, True)
    assert [seller["id"] for seller in first["items"]] == [1, 2]
    last = session.get(sb.url + "/api/Seller", params={"PageSize": 2, "PageNumber": 3}).json()
    assert [seller["id"] for seller in last["items"]] == [5]
    assert (last["hasPreviousPage"], last["hasNextPage"]) == (True, False)
    default = session.get(sb.url + "/api/Seller").json()
    assert default["totalPages"] == 1 and len(default["items"]) == 5


def test_seller_filters(sb: Sandbox) -> None:
    session = catalog(sb)
    named = next(seller for seller in sb.data.sellers if seller.name)
    assert named.name is not None
    fragment = named.name[1:5].upper()
    found = session.get(sb.url + "/api/Seller", params={"Name": fragment}).json()["items"]
    assert named.id in [seller["id"] for seller in found]
    assert all(fragment.lower() in seller["name"].lower() for seller in found)
    inactive = session.get(sb.url + "/api/Seller", params={"IsActive": "false"}).json()["items"]
    assert inactive and all(not seller["isActive"] for seller in inactive)
    display = session.get(sb.url + "/api/Seller", params={"CustomerDisplayId": named.customer_display_id}).json()
    assert [seller["id"] for seller in display["items"]] == [named.id]
    by_id = session.get(sb.url + "/api/seller", params={"id": 2}).json()  # case-insensitive
    assert [seller["id"] for seller in by_id["items"]] == [2]


def test_seller_detail_lists_its_events(sb: Sandbox) -> None:
    seller = catalog(sb).get(sb.url + "/api/Seller/1").json()
    assert seller["id"] == 1
    assert [event["id"] for event in seller["catalogs"]] == [1000, 1001]


def test_catalog_filters(sb: Sandbox) -> None:
    session = catalog(sb)
    url = sb.url + "/api/Catalog"
    two_sellers = session.get(url + "?SellerIds=2&SellerIds=3&PageSize=50").json()["items"]
    assert {seller["id"] for event in two_sellers for seller in event["sellers"]} == {2, 3}
    today = datetime.now(UTC).date().isoformat()
    upcoming = session.get(url, params={"StartDate": today, "PageSize": "50"}).json()["items"]
    assert upcoming and all(event["startDate"][:10] >= today for event in upcoming)
    done = session.get(url, params={"IsCompleted": "true", "PageSize": "50"}).json()["items"]
    assert done and all(event["isCompleted"] for event in done)
    ended = session.get(url, params={"EndDate": today, "PageSize": "50"}).json()["items"]
    assert {event["id"] for event in ended} == {event["id"] for event in done}


def test_catalog_detail_lists_its_lots_in_lot_order(sb: Sandbox) -> None:
    record = sb.data.catalogs[1]
    event = catalog(sb).get(f"{sb.url}/api/Catalog/{record.id}").json()
    assert [lot["id"] for lot in event["lots"]] == list(record.lot_ids)
    assert [lot["lotNumber"] for lot in event["lots"]] == list(record.lot_numbers)
    assert event["sellers"][0]["id"] == record.seller_ids[0]


def test_lot_list_and_its_filters(sb: Sandbox) -> None:
    session = catalog(sb)
    url = sb.url + "/api/Lot"
    everything = session.get(url, params={"PageSize": 500}).json()
    assert everything["totalItems"] == 5 * 2 * 30
    lot = sb.data.lots[first_lot(sb) + 4]
    by_id = session.get(url, params={"Id": lot["id"]}).json()["items"]
    assert by_id == [lot]
    number = lot["catalogs"][0]["lotNumber"]
    by_number = session.get(url, params={"LotNumber": number, "PageSize": 500}).json()["items"]
    assert lot in by_number and len(by_number) == 10  # one lot with that number per event
    with_item_id = next(sb.data.lots[i] for i in sb.data.lots if sb.data.lots[i]["customerItemId"])
    found = session.get(url, params={"CustomerItemId": with_item_id["customerItemId"]}).json()
    assert found["items"] == [with_item_id]


@pytest.mark.parametrize(
    "query",
    ["PageNumber=0", "PageSize=0", "PageSize=501", "PageSize=ten", "PageNumber=1.5",
     "PageNumber=99999999999", "IsActive=maybe"],
)  # fmt: skip
def test_bad_query_values_answer_400_problems(sb: Sandbox, query: str) -> None:
    answer = catalog(sb).get(f"{sb.url}/api/Seller?{query}")
    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith(PROBLEM_JSON)
    problem = answer.json()
    assert problem["status"] == 400 and problem["errors"]
    assert problem["instance"] == "/api/Seller"


def test_bad_dates_and_seller_ids_answer_400(sb: Sandbox) -> None:
    session = catalog(sb)
    assert session.get(sb.url + "/api/Catalog?StartDate=tomorrow").status_code == 400
    assert session.get(sb.url + "/api/Catalog?SellerIds=1&SellerIds=x").status_code == 400


@pytest.mark.parametrize("resource", ["Seller", "Catalog", "Lot"])
def test_ids_non_numeric_400_unknown_404(sb: Sandbox, resource: str) -> None:
    session = catalog(sb)
    bad = session.get(f"{sb.url}/api/{resource}/abc")
    assert bad.status_code == 400 and bad.json()["errors"] == {"id": ["The value 'abc' is not valid for id."]}
    unknown = session.get(f"{sb.url}/api/{resource}/999999")
    assert unknown.status_code == 404
    assert unknown.headers["Content-Type"].startswith(PROBLEM_JSON)
    assert unknown.json()["status"] == 404


def test_unknown_routes_and_methods(sb: Sandbox) -> None:
    session = catalog(sb)
    assert session.get(sb.url + "/nowhere").status_code == 404
    assert session.get(sb.url + "/nowhere").json()["status"] == 404
    assert session.get(sb.url + "/api/Nothing").status_code == 404
    not_allowed = session.delete(f"{sb.url}/api/Lot/{first_lot(sb)}")
    assert not_allowed.status_code == 405 and not_allowed.headers["Allow"] == "GET, HEAD, PUT"


# PUT /api/Lot/{id}


def test_put_lot_applies_and_persists_the_change(sb: Sandbox) -> None:
    session = catalog(sb)
    url = f"{sb.url}/api/Lot/{first_lot(sb)}"
    before = session.get(url)
    override = {**before.json()["initialData"], "Qty": 99, "Notes": "re-measured ✓"}
    change = {
        "customerItemId": "CI-NEW",
        "imageLinks": ["https://example.test/a.jpg", "https://example.test/b.jpg"],
        "overridenData": [*(before.json()["overridenData"] or []), override],
    }
    answer = session.put(url, json=change)
    assert answer.status_code == 200
    updated = answer.json()
    assert updated["customerItemId"] == "CI-NEW"
    assert updated["overridenData"][-1] == override
    assert [link["link"] for link in updated["imageLinks"]] == change["imageLinks"]
    assert len({link["id"] for link in updated["imageLinks"]}) == 2
    assert updated["catalogs"] == before.json()["catalogs"]  # absent fields stay
    after = session.get(url)
    assert after.json() == updated
    assert after.headers["ETag"] != before.headers["ETag"]
    stale = session.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert stale.status_code == 200
    assert sb.data.lots[first_lot(sb)] == updated


@pytest.mark.parametrize(
    ("body", "error_key"),
    [
        (b"{not json", "$"),
        (b"[]", "$"),
        (b'{"unknownField": 1}', "$.unknownField"),
        (b'{"customerItemId": 5}', "$.customerItemId"),
        (b'{"imageLinks": [1]}', "$.imageLinks[0]"),
        (b'{"overridenData": [{"Qty": "two"}]}', "$.overridenData[0].Qty"),
        (b'{"overridenData": [{"Colour": "red"}]}', "$.overridenData[0].Colour"),
        (b'{"catalogs": [{"catalogId": null}]}', "$.catalogs[0].catalogId"),
    ],
)
def test_put_lot_rejects_bodies_outside_the_contract(sb: Sandbox, body: bytes, error_key: str) -> None:
    answer = catalog(sb).put(
        f"{sb.url}/api/Lot/{first_lot(sb)}",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith(PROBLEM_JSON)
    assert error_key in answer.json()["errors"]


def test_put_lot_needs_json_and_a_known_lot(sb: Sandbox) -> None:
    session = catalog(sb)
    as_text = session.put(f"{sb.url}/api/Lot/{first_lot(sb)}", data=b"{}", headers={"Content-Type": "text/plain"})
    assert as_text.status_code == 415
    assert session.put(f"{sb.url}/api/Lot/999999", json={}).status_code == 404


# Conditional GET


def test_get_responses_carry_validators_and_answer_304(sb: Sandbox) -> None:
    session = catalog(sb)
    url = f"{sb.url}/api/Catalog/1000"
    answer = session.get(url)
    etag = answer.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]+"', etag)
    assert "Last-Modified" in answer.headers
    assert "Cache-Control" not in answer.headers
    assert not any(name.lower().startswith("x-ratelimit") for name in answer.headers)
    for validator in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = session.get(url, headers={"If-None-Match": validator})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["ETag"] == etag
    assert session.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    album = spotify(sb).get(f"{sb.url}/v1/albums/{sb.data.album_ids[0]}")
    assert "ETag" in album.headers


# Spotify


def test_album_as_a_development_mode_app_sees_it(sb: Sandbox) -> None:
    album_id = sb.data.album_ids[0]
    album = spotify(sb).get(f"{sb.url}/v1/albums/{album_id}", params={"market": "US"}).json()
    assert album["id"] == album_id and album["uri"] == f"spotify:album:{album_id}"
    assert {"popularity", "label", "available_markets"}.isdisjoint(album)
    assert album["genres"] == []
    assert album["href"] == f"{sb.url}/v1/albums/{album_id}"
    assert album["tracks"]["total"] == album["total_tracks"]


def test_known_albums_are_the_album_ids_of_the_seed(sb: Sandbox) -> None:
    assert sb.data.album_ids == album_ids(SMALL["seed"], SMALL["albums"])


def test_long_albums_page_their_tracks(sb: Sandbox) -> None:
    session = spotify(sb)
    long_id = next(i for i in sb.data.album_ids if sb.data.albums[i]["total_tracks"] > 50)
    album = session.get(f"{sb.url}/v1/albums/{long_id}").json()
    tracks = album["tracks"]
    assert (tracks["limit"], len(tracks["items"])) == (50, 50)
    assert tracks["next"] == f"{sb.url}/v1/albums/{long_id}/tracks?offset=50&limit=50"
    seen = list(tracks["items"])
    next_url = tracks["next"]
    while next_url:
        page = session.get(next_url).json()
        seen.extend(page["items"])
        next_url = page["next"]
    assert len(seen) == album["total_tracks"]
    assert len({track["id"] for track in seen}) == len(seen)
    small_page = session.get(f"{sb.url}/v1/albums/{long_id}/tracks", params={"limit": 5}).json()
    assert len(small_page["items"]) == 5 and small_page["offset"] == 0
    too_big = session.get(f"{sb.url}/v1/albums/{long_id}/tracks", params={"limit": 51})
    assert too_big.status_code == 400


def test_some_albums_have_no_cover_and_covers_are_served(sb: Sandbox) -> None:
    albums = [sb.data.albums[i] for i in sb.data.album_ids]
    assert any(album["images"] == [] for album in albums)
    cover = next(album["images"][0]["url"] for album in albums if album["images"])
    assert cover.startswith(sb.url)
    image = requests.get(cover, timeout=5)
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("album_id", "status", "message"),
    [
        ("too-short", 400, "Invalid base62 id"),
        ("a" * 23, 400, "Invalid base62 id"),
        ("0" * 22, 404, "Resource not found"),
    ],
)
def test_album_errors(sb: Sandbox, album_id: str, status: int, message: str) -> None:
    answer = spotify(sb).get(f"{sb.url}/v1/albums/{album_id}")
    assert answer.status_code == status
    assert answer.json() == {"error": {"status": status, "message": message}}


def test_bad_market_is_400(sb: Sandbox) -> None:
    answer = spotify(sb).get(f"{sb.url}/v1/albums/{sb.data.album_ids[0]}?market=usa")
    assert answer.status_code == 400


def test_batch_albums_are_forbidden_unless_enabled(sb: Sandbox) -> None:
    ids = ",".join(sb.data.album_ids[:3])
    answer = spotify(sb).get(f"{sb.url}/v1/albums", params={"ids": ids})
    assert answer.status_code == 403
    assert answer.json()["error"]["status"] == 403


def test_batch_albums_when_enabled() -> None:
    with Sandbox(**SMALL, spotify_batch=True) as sandbox:
        session = spotify(sandbox)
        ids = [*sandbox.data.album_ids[:3], "0" * 22]
        albums = session.get(f"{sandbox.url}/v1/albums", params={"ids": ",".join(ids)}).json()
        assert [album and album["id"] for album in albums["albums"]] == [*ids[:3], None]
        too_many = session.get(f"{sandbox.url}/v1/albums", params={"ids": ",".join(ids * 6)})
        assert too_many.status_code == 400
        sandbox.set(spotify_batch=False)
        assert session.get(f"{sandbox.url}/v1/albums", params={"ids": ids[0]}).status_code == 403


# Knobs: rate limit, latency, failures


def test_rate_limit_answers_429_with_retry_after() -> None:
    with Sandbox(**SMALL, rate_limit=3) as sandbox:
        session = catalog(sandbox)  # token endpoints are exempt
        statuses = [session.get(sandbox.url + "/api/Seller").status_code for _ in range(5)]
        assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
        limited = session.get(sandbox.url + "/api/Seller")
        assert limited.headers["Retry-After"] == "1"
        assert limited.headers["Content-Type"].startswith(PROBLEM_JSON)
        assert limited.json()["status"] == 429
        assert not any(name.lower().startswith("x-ratelimit") for name in limited.headers)
        # Spotify has its own bucket and body.
        music = spotify(sandbox)
        album_url = f"{sandbox.url}/v1/albums/{sandbox.data.album_ids[0]}"
        answers = [music.get(album_url) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert answers[-1].json() == {"error": {"status": 429, "message": "API rate limit exceeded"}}
        assert requests.get(sandbox.url + "/_sandbox/stats", timeout=5).status_code == 200
        assert password_grant(sandbox).status_code == 200


def test_rate_limit_refills_continuously() -> None:
    with Sandbox(**SMALL, rate_limit=50) as sandbox:
        session = catalog(sandbox)
        url = sandbox.url + "/api/Seller/1"
        while session.get(url).status_code == 200:
            pass
        time.sleep(0.05)  # 2.5 tokens' worth
        assert session.get(url).status_code == 200


def test_a_429_does_not_wait_for_the_latency() -> None:
    with Sandbox(**SMALL, rate_limit=1, latency_ms=300) as sandbox:
        session = catalog(sandbox)
        started = time.perf_counter()
        assert session.get(sandbox.url + "/api/Seller/1").status_code == 200
        middle = time.perf_counter()
        assert session.get(sandbox.url + "/api/Seller/1").status_code == 429
        ended = time.perf_counter()
        assert middle - started >= 0.3
        assert ended - middle < 0.2


def test_latency_is_not_serialised_across_connections() -> None:
    with Sandbox(**SMALL, latency_ms=200) as sandbox:
        token = password_grant(sandbox).json()["access_token"]
        statuses: list[int] = []

        def fetch() -> None:
            answer = bearer_session(token).get(sandbox.url + "/api/Seller/1", timeout=5)
            statuses.append(answer.status_code)

        workers = [threading.Thread(target=fetch) for _ in range(24)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert statuses == [200] * 24
        assert time.perf_counter() - started < 2.0  # serialised, it would take 4.8 s


def test_fail_rate_answers_503_without_retry_after() -> None:
    with Sandbox(**SMALL, fail_rate=1.0) as sandbox:
        session = catalog(sandbox)
        failed = session.get(sandbox.url + "/api/Seller")
        assert failed.status_code == 503
        assert failed.headers["Content-Type"].startswith(PROBLEM_JSON)
        assert "Retry-After" not in failed.headers
        music = spotify(sandbox).get(f"{sandbox.url}/v1/albums/{sandbox.data.album_ids[0]}")
        assert music.json() == {"error": {"status": 503, "message": "Service unavailable"}}


def test_fail_rate_is_a_fraction_and_repeatable() -> None:
    def statuses() -> list[int]:
        with Sandbox(**SMALL, fail_rate=0.3) as sandbox:
            session = catalog(sandbox)
            return [session.get(sandbox.url + "/api/Seller/1").status_code for _ in range(60)]

    first = statuses()
    assert 5 <= first.count(503) <= 35 and first.count(200) + first.count(503) == 60
    assert statuses() == first


def test_knobs_change_at_run_time(sb: Sandbox) -> None:
    session = catalog(sb)
    sb.set(fail_rate=1.0)
    assert session.get(sb.url + "/api/Seller").status_code == 503
    sb.set(fail_rate=0.0, rate_limit=1)
    assert session.get(sb.url + "/api/Seller").status_code == 200
    assert session.get(sb.url + "/api/Seller").status_code == 429
    answer = requests.post(sb.url + "/_sandbox/settings", json={"rate_limit": 0}, timeout=5)
    assert answer.json()["rate_limit"] == 0
    assert session.get(sb.url + "/api/Seller").status_code == 200
    with pytest.raises(ValueError, match="fail_rate"):
        sb.set(fail_rate=2)


# Faults


def test_status_fault_with_headers_and_body_then_normal(sb: Sandbox) -> None:
    session = catalog(sb)
    url = f"{sb.url}/api/Lot/{first_lot(sb)}"
    sb.add_fault(r"/api/Lot/\d+$", "status", count=2, status=502, headers={"X-Why": "test"},
                 body={"oops": True})  # fmt: skip
    first, second, third = (session.get(url) for _ in range(3))
    assert (first.status_code, first.headers["X-Why"], first.json()) == (502, "test", {"oops": True})
    assert second.status_code == 502
    assert third.status_code == 200


def test_status_fault_defaults_to_each_services_error_body(sb: Sandbox) -> None:
    sb.add_fault("/api/Seller", "status", count=1, status=500)
    answer = catalog(sb).get(sb.url + "/api/Seller")
    assert answer.status_code == 500 and answer.json()["status"] == 500
    assert answer.headers["Content-Type"].startswith(PROBLEM_JSON)
    sb.add_fault("/v1/albums", "status", count=1, status=502, body="upstream gone")
    music = spotify(sb).get(f"{sb.url}/v1/albums/{sb.data.album_ids[0]}")
    assert (music.status_code, music.text) == (502, "upstream gone")


def test_faults_are_consumed_in_order(sb: Sandbox) -> None:
    session = catalog(sb)
    sb.add_fault("/api/Seller/1", "status", count=1, status=500)
    sb.add_fault("/api/Seller", "status", count=1, status=503)
    assert session.get(sb.url + "/api/Seller/1").status_code == 500
    assert session.get(sb.url + "/api/Seller/1").status_code == 503
    assert session.get(sb.url + "/api/Seller/1").status_code == 200


def test_forever_fault_until_cleared(sb: Sandbox) -> None:
    session = catalog(sb)
    sb.add_fault("/api/Seller", "status", status=500)
    assert [session.get(sb.url + "/api/Seller").status_code for _ in range(3)] == [500] * 3
    sb.clear_faults()
    assert session.get(sb.url + "/api/Seller").status_code == 200


def test_html_fault_is_a_200_gateway_page(sb: Sandbox) -> None:
    sb.add_fault("/api/Lot/", "html", count=1)
    answer = catalog(sb).get(f"{sb.url}/api/Lot/{first_lot(sb)}")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.text.lstrip().startswith("<!DOCTYPE html>")


def test_truncated_fault_cuts_the_json_body(sb: Sandbox) -> None:
    sb.add_fault("/api/Lot/", "truncated", count=1)
    answer = catalog(sb).get(f"{sb.url}/api/Lot/{first_lot(sb)}")
    assert answer.status_code == 200
    assert int(answer.headers["Content-Length"]) == len(answer.content) > 0
    assert answer.content == sb.data.lots.lookup(first_lot(sb)).body[: len(answer.content)]  # type: ignore[union-attr]
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.content)


def test_empty_fault_is_a_zero_length_200(sb: Sandbox) -> None:
    sb.add_fault("/v1/albums/", "empty", count=1)
    answer = spotify(sb).get(f"{sb.url}/v1/albums/{sb.data.album_ids[0]}")
    assert (answer.status_code, answer.content, answer.headers["Content-Length"]) == (200, b"", "0")


def test_slow_fault_sends_headers_then_nothing(sb: Sandbox) -> None:
    sb.add_fault("/api/Seller", "slow", count=1, seconds=5)
    connection = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=0.3)
    connection.request("GET", "/api/Seller")
    response = connection.getresponse()
    assert response.status == 200 and int(response.headers["Content-Length"]) > 0
    with pytest.raises(TimeoutError):
        response.read()
    connection.close()


def test_close_fault_hangs_up_without_answering(sb: Sandbox) -> None:
    sb.add_fault("/api/Seller", "close", count=1)
    with pytest.raises(requests.ConnectionError):
        catalog(sb).get(sb.url + "/api/Seller")
    assert sb.stats()["routes"]["GET /api/Seller"] == {"closed": 1}


@pytest.mark.parametrize("value", ["3600", "Wed, 21 Oct 2026 07:28:00 GMT", None], ids=["seconds", "date", "none"])
def test_retry_after_fault(sb: Sandbox, value: str | None) -> None:
    sb.add_fault("/api/Seller", "retry_after", count=1, value=value)
    answer = catalog(sb).get(sb.url + "/api/Seller")
    assert answer.status_code == 429 and answer.json()["status"] == 429
    assert answer.headers.get("Retry-After") == value


def test_retry_after_quota_fault_on_spotify(sb: Sandbox) -> None:
    sb.add_fault("/v1/albums/", "retry_after", count=1, value="86400", quota=True)
    answer = spotify(sb).get(f"{sb.url}/v1/albums/{sb.data.album_ids[0]}")
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "86400")
    assert answer.json() == {"error": {"status": 429, "message": "API rate limit exceeded", "reason": "QUOTA_EXCEEDED"}}


def test_unknown_fault_kind_is_refused(sb: Sandbox) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        sb.add_fault("/api", "explode")


def test_faults_over_http_for_other_processes(sb: Sandbox) -> None:
    session = catalog(sb)
    spec = {"path": "/api/Seller", "kind": "status", "count": 1, "params": {"status": 504}}
    assert requests.post(sb.url + "/_sandbox/faults", json=spec, timeout=5).status_code == 201
    assert session.get(sb.url + "/api/Seller").status_code == 504
    forever = {**spec, "count": None}
    requests.post(sb.url + "/_sandbox/faults", json=forever, timeout=5)
    assert requests.delete(sb.url + "/_sandbox/faults", timeout=5).status_code == 200
    assert session.get(sb.url + "/api/Seller").status_code == 200
    bad = requests.post(sb.url + "/_sandbox/faults", json={"path": "x", "kind": "?"}, timeout=5)
    assert bad.status_code == 400


# Stats and reset


def test_stats_count_by_route_template_and_status(sb: Sandbox) -> None:
    session = catalog(sb)
    for offset in range(3):
        session.get(f"{sb.url}/api/Lot/{first_lot(sb) + offset}")
    session.get(f"{sb.url}/api/Lot/abc")
    requests.get(sb.url + "/_sandbox/stats", timeout=5)
    stats = requests.get(sb.url + "/_sandbox/stats", timeout=5).json()
    assert stats == sb.stats()
    assert stats["routes"]["GET /api/Lot/{id}"] == {"200": 3, "400": 1}
    assert stats["routes"]["POST /connect/token"] == {"200": 1}
    assert stats["requests"] == 5
    assert not any("_sandbox" in route for route in stats["routes"])


def test_reset_clears_stats_and_faults(sb: Sandbox) -> None:
    session = catalog(sb)
    sb.add_fault("/api/Seller", "status", status=500)
    assert session.get(sb.url + "/api/Seller").status_code == 500
    sb.reset()
    assert sb.stats() == {"requests": 0, "routes": {}}
    assert session.get(sb.url + "/api/Seller").status_code == 200
    sb.add_fault("/api/Seller", "status", status=500)
    assert requests.post(sb.url + "/_sandbox/reset", timeout=5).status_code == 200
    assert sb.faults() == []
    assert sb.stats()["requests"] == 0


# Data


def test_same_seed_same_data_other_seed_other_data() -> None:
    one, two, other = Sandbox(**SMALL), Sandbox(**SMALL), Sandbox(**{**SMALL, "seed": 8})
    assert [s.dto() for s in one.data.sellers] == [s.dto() for s in two.data.sellers]
    assert [c.dto() for c in one.data.catalogs] == [c.dto() for c in two.data.catalogs]
    sample = list(one.data.lots)[::37]
    assert [one.data.lots[i] for i in sample] == [two.data.lots[i] for i in sample]
    assert [one.data.albums[i] for i in one.data.album_ids] == [two.data.albums[i] for i in two.data.album_ids]
    assert [one.data.lots[i] for i in sample] != [other.data.lots[i] for i in sample]
    assert one.data.album_ids != other.data.album_ids


def test_generated_data_has_the_promised_variety() -> None:
    data = Sandbox(seed=1).data
    assert [seller.id for seller in data.sellers] == list(range(1, 7))
    assert any(seller.name is None for seller in data.sellers)
    assert any(not seller.is_active for seller in data.sellers)
    assert data.catalogs[0].id == 1000 and len(data.catalogs) == 24
    today = datetime.now(UTC).date()
    assert any(c.start_date.date() >= today and not c.is_completed for c in data.catalogs)
    assert any(c.is_completed and c.end_date.date() < today for c in data.catalogs)
    lot_ids = [lot_id for c in data.catalogs for lot_id in c.lot_ids]
    assert lot_ids[0] == 100000 and len(set(lot_ids)) == len(lot_ids) == 24 * 120
    numbers = [n for c in data.catalogs for n in c.lot_numbers]
    assert data.catalogs[0].lot_numbers[:2] == ("1", "2")
    assert any(re.fullmatch(r"\d+A", n) for n in numbers)
    lots = [data.lots[i] for i in data.lots]
    with_overrides = sum(1 for lot in lots if lot["overridenData"])
    assert 0.2 < with_overrides / len(lots) < 0.4
    assert any(lot["overridenData"] is None for lot in lots)
    assert any(lot["overridenData"] == [] for lot in lots)
    assert any(lot["imageLinks"] is None for lot in lots)
    assert any(lot["imageLinks"] == [] for lot in lots)
    texts = [lot["initialData"][f] or "" for lot in lots for f in ("description", "Notes")]
    assert any(text[:1] in "=+-@" and text for text in texts)
    assert any(not text.isascii() for text in texts)
    assert any(data.albums[i]["release_date_precision"] == "year" for i in data.album_ids)


def test_twenty_thousand_lots_in_one_event_start_quickly() -> None:
    started = time.perf_counter()
    with Sandbox(sellers=1, events_per_seller=1, lots_per_event=20000) as sandbox:
        session = catalog(sandbox)
        event = session.get(sandbox.url + "/api/Catalog/1000").json()
        assert len(event["lots"]) == 20000
        last = session.get(f"{sandbox.url}/api/Lot/{event['lots'][-1]['id']}")
        assert last.status_code == 200
        assert last.json()["catalogs"][0]["lotNumber"] == event["lots"][-1]["lotNumber"]
    assert time.perf_counter() - started < 2.0


def test_env_points_at_the_sandbox(sb: Sandbox) -> None:
    env = sb.env()
    assert env["LOTSDB_CATALOG_URL"] == sb.url == f"http://127.0.0.1:{sb.port}"
    assert env["LOTSDB_IDENTITY_URL"] == sb.url + "/connect/token"
    assert env["LOTSDB_SPOTIFY_API_URL"] == env["LOTSDB_SPOTIFY_ACCOUNTS_URL"] == sb.url
    assert env["LOTSDB_USERNAME"] == DEMO.username
    assert env["SPOTIFY_CLIENT_SECRET"] == DEMO.spotify_client_secret


# CLI


def run_cli(*args: str) -> tuple[int, str]:
    from lotsdb_cli.cli.app import run

    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
        code = run(list(args))
    return code, stdout.getvalue()


def test_cli_env_prints_export_lines() -> None:
    code, output = run_cli("sandbox", "env", "--port", "9123")
    assert code == 0
    exported = {}
    for line in output.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        assert line.startswith("export ")
        exported[name] = shlex.split(value)[0]
    assert exported == Sandbox(port=9123).env()


def test_cli_env_brackets_ipv6_hosts() -> None:
    _, output = run_cli("sandbox", "env", "--host", "::1", "--port", "9")
    assert "export LOTSDB_CATALOG_URL='http://[::1]:9'\n" in output  # [ ] are shell globs


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_cli_serve_answers_then_stops_cleanly(stop_signal: signal.Signals) -> None:
    command = [sys.executable, "-m", "lotsdb_cli", "sandbox", "serve", "--port", "0",
               "--lots-per-event", "5", "--albums", "5"]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr is not None
        first_line = server.stderr.readline()
        found = re.fullmatch(r"sandbox listening on (http://127\.0\.0\.1:(\d+))\n", first_line)
        assert found, first_line
        url = found.group(1)
        assert requests.get(url + "/_sandbox/stats", timeout=5).json()["requests"] == 0
        token = requests.post(
            url + "/connect/token",
            data=DEMO.password_form(),
            timeout=5,
        ).json()["access_token"]
        assert bearer_session(token).get(url + "/api/Lot/100000").status_code == 200
        server.send_signal(stop_signal)
        _, rest = server.communicate(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode == 0
    assert "Traceback" not in rest


def test_a_client_hanging_up_mid_request_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    import socket
    import struct

    with Sandbox(**SMALL, latency_ms=150) as sandbox:
        host, port = sandbox.url.removeprefix("http://").rsplit(":", 1)
        for _ in range(3):
            client = socket.create_connection((host, int(port)))
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with RST
            client.sendall(b"GET /api/Lot/100000 HTTP/1.1\r\nHost: sandbox\r\n\r\n")
            client.close()
        time.sleep(0.5)  # the handlers wake from the latency into a reset connection
    assert capsys.readouterr().err == ""

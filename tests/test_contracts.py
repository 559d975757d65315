"""Every kind of sandbox response, validated against the upstream contracts in `contracts/`
(OpenAPI 3.0 documents, checked with openapi-schema-validator, $refs resolved in place)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker
from referencing import Registry
from referencing.jsonschema import DRAFT4

from lotsdb_cli.sandbox import DEMO, Sandbox
from lotsdb_cli.sandbox.service import build_router
from lotsdb_cli.sandbox.services import CATALOG, SPOTIFY

CONTRACTS = Path(__file__).resolve().parents[1] / "contracts"
CATALOG_URI = "urn:lotsdb:contracts:catalog-api"
SPOTIFY_URI = "urn:lotsdb:contracts:spotify-web-api"
SPOTIFY_PREFIX = "/v1"  # the contract's server URL is https://api.spotify.com/v1
# Gone for Development Mode apps since February 2026 (contracts/README.md); the contract still
# lists them as required, so albums are validated against a copy without them in `required`.
DEV_MODE_MISSING_ALBUM_FIELDS = ("popularity", "label", "available_markets")
SIZES: dict[str, Any] = {"seed": 3, "sellers": 6, "events_per_seller": 2, "lots_per_event": 60, "albums": 40}


# Loading the contracts


def load_catalog_contract() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((CONTRACTS / "catalog-api.swagger.json").read_text("utf-8"))
    return document


def load_spotify_contract() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with (CONTRACTS / "spotify-web-api.openapi.yml").open("rb") as stream:
        document: dict[str, Any] = yaml.load(stream, Loader=loader)
    return document


@cache
def strict_catalog_contract() -> dict[str, Any]:
    """The Catalog contract with every property of every schema required.

    The contract marks nothing `required`, but ASP.NET serializes every property of a DTO (nulls
    included), so a response missing one is a sandbox bug; together with the contract's own
    `additionalProperties: false` this pins field names to exactly the contract's."""
    document = copy.deepcopy(load_catalog_contract())
    for schema in document["components"]["schemas"].values():
        if "properties" in schema:
            schema["required"] = sorted(schema["properties"])
    return document


@cache
def dev_mode_spotify_contract() -> dict[str, Any]:
    """The Spotify contract with popularity, label and available_markets no longer required."""
    document = copy.deepcopy(load_spotify_contract())
    schemas = document["components"]["schemas"]
    for name in ("AlbumObject", "AlbumBase"):
        schemas[name]["required"] = [
            field for field in schemas[name]["required"] if field not in DEV_MODE_MISSING_ALBUM_FIELDS
        ]
    return document


def pointer_part(text: str) -> str:
    return text.replace("~", "~0").replace("/", "~1")


class Contract:
    """Validates instances against schemas addressed by JSON pointers into one document."""

    def __init__(self, document: dict[str, Any], uri: str) -> None:
        self.document = document
        self.uri = uri
        self.registry: Registry[Any] = Registry().with_resource(uri, DRAFT4.create_resource(document))

    def errors(self, pointer: str, instance: Any) -> list[str]:
        validator = OAS30ReadValidator(
            {"$ref": f"{self.uri}#{pointer}"}, registry=self.registry, format_checker=oas30_format_checker
        )
        return [
            f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(instance)
        ]

    def check(self, pointer: str, instance: Any) -> None:
        found = self.errors(pointer, instance)
        assert not found, f"{pointer}: {found[:5]}"


@cache
def catalog_contract() -> Contract:
    return Contract(strict_catalog_contract(), CATALOG_URI)


@cache
def spotify_contract() -> Contract:
    return Contract(dev_mode_spotify_contract(), SPOTIFY_URI)


def media_type(response: requests.Response) -> str:
    return response.headers["Content-Type"].split(";")[0].strip()


def check_catalog_response(template: str, method: str, response: requests.Response) -> None:
    """The body matches the schema the contract gives for this path, method, status and type."""
    document = catalog_contract().document
    documented = document["paths"][template][method.lower()]["responses"].get(str(response.status_code))
    if documented is None:
        # 429 and 503 come from gateways in front of the API and are not in the contract;
        # they are ProblemDetails all the same.
        assert response.status_code in (405, 415, 429, 503), response.status_code
        assert media_type(response) == "application/problem+json"
        pointer = "/components/schemas/ProblemDetails"
    else:
        assert media_type(response) in documented["content"], (media_type(response), documented)
        path = f"/paths/{pointer_part(template)}/{method.lower()}/responses/{response.status_code}"
        pointer = f"{path}/content/{pointer_part(media_type(response))}/schema"
    catalog_contract().check(pointer, response.json())


SPOTIFY_SHARED_RESPONSES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    429: "TooManyRequests",
}


def check_spotify_response(template: str, response: requests.Response) -> None:
    document = spotify_contract().document
    operation = document["paths"][template]["get"]
    documented = operation["responses"].get(str(response.status_code))
    if documented is None:
        # The contract has these error responses, just not listed under every path; 503 has
        # the same `{"error": ErrorObject}` shape.
        name = SPOTIFY_SHARED_RESPONSES.get(response.status_code, "TooManyRequests")
        documented = {"$ref": f"#/components/responses/{name}"}
    base = documented["$ref"].removeprefix("#") if "$ref" in documented else None
    assert base is not None, documented
    assert media_type(response) == "application/json"
    spotify_contract().check(f"{base}/content/application~1json/schema", response.json())


# A sandbox and sessions


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """One sandbox for the whole module (replaces conftest's per-test one here)."""
    with Sandbox(**SIZES) as sb:
        yield sb


def catalog_session(sb: Sandbox) -> requests.Session:
    token = requests.post(
        sb.url + "/connect/token",
        data=DEMO.password_form(),
        timeout=5,
    ).json()["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def spotify_session(sb: Sandbox) -> requests.Session:
    answer = requests.post(
        sb.url + "/api/token",
        data={"grant_type": "client_credentials"},
        auth=(DEMO.spotify_client_id, DEMO.spotify_client_secret),
        timeout=5,
    )
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return session


# The routes themselves


def test_every_sandbox_route_is_in_a_contract() -> None:
    catalog_paths = load_catalog_contract()["paths"]
    spotify_paths = load_spotify_contract()["paths"]
    for route in build_router().routes:
        if route.service == CATALOG:
            assert route.method.lower() in catalog_paths[route.template], route.name
        elif route.service == SPOTIFY:
            template = route.template.removeprefix(SPOTIFY_PREFIX)
            assert route.method.lower() in spotify_paths[template], route.name


def sample_value(schema: dict[str, Any]) -> list[str]:
    if schema.get("type") == "array":
        return sample_value(schema["items"]) * 2
    if schema.get("format") == "date-time":
        return [datetime.now(UTC).date().isoformat()]
    return {"integer": ["1"], "boolean": ["true"]}.get(schema.get("type", ""), ["x"])


@pytest.mark.parametrize("template", ["/api/Seller", "/api/Catalog", "/api/Lot"])
def test_every_query_parameter_of_the_contract_is_accepted(sandbox: Sandbox, template: str) -> None:
    session = catalog_session(sandbox)
    for parameter in load_catalog_contract()["paths"][template]["get"]["parameters"]:
        values = sample_value(parameter["schema"])
        answer = session.get(sandbox.url + template, params={parameter["name"]: values})
        assert answer.status_code == 200, (parameter["name"], answer.text)
        check_catalog_response(template, "GET", answer)


# Catalog API: successes


def test_every_seller_page_and_seller(sandbox: Sandbox) -> None:
    session = catalog_session(sandbox)
    page = session.get(sandbox.url + "/api/Seller", params={"PageSize": "500"})
    check_catalog_response("/api/Seller", "GET", page)
    assert any(seller["name"] is None for seller in page.json()["items"])
    for seller in sandbox.data.sellers:
        check_catalog_response("/api/Seller/{id}", "GET", session.get(f"{sandbox.url}/api/Seller/{seller.id}"))


def test_every_catalog_page_and_catalog(sandbox: Sandbox) -> None:
    session = catalog_session(sandbox)
    check_catalog_response("/api/Catalog", "GET", session.get(sandbox.url + "/api/Catalog?PageSize=500"))
    for record in sandbox.data.catalogs:
        answer = session.get(f"{sandbox.url}/api/Catalog/{record.id}")
        check_catalog_response("/api/Catalog/{id}", "GET", answer)


def test_every_lot(sandbox: Sandbox) -> None:
    session = catalog_session(sandbox)
    page = session.get(sandbox.url + "/api/Lot", params={"PageSize": "500", "PageNumber": "1"})
    check_catalog_response("/api/Lot", "GET", page)
    empty_page = session.get(sandbox.url + "/api/Lot", params={"PageNumber": "999"})
    check_catalog_response("/api/Lot", "GET", empty_page)
    for lot_id in list(sandbox.data.lots)[::7]:
        check_catalog_response("/api/Lot/{id}", "GET", session.get(f"{sandbox.url}/api/Lot/{lot_id}"))
    contract = catalog_contract()
    for lot_id in sandbox.data.lots:  # all of them, without the HTTP round trip
        contract.check("/components/schemas/LotDto", sandbox.data.lots[lot_id])


def test_put_lot_request_and_response(sandbox: Sandbox) -> None:
    session = catalog_session(sandbox)
    lot_id = sandbox.data.catalogs[-1].first_lot_id
    lot = sandbox.data.lots[lot_id]
    change = {
        "customerItemId": None,
        "imageLinks": ["https://example.test/x.jpg"],
        "overridenData": [{**lot["initialData"], "Qty": 3}],
        "catalogs": lot["catalogs"],
    }
    catalog_contract().check("/components/schemas/UpdateLotRequest", change)
    check_catalog_response("/api/Lot/{id}", "PUT", session.put(f"{sandbox.url}/api/Lot/{lot_id}", json=change))


# Catalog API: errors


def catalog_error_cases(sb: Sandbox) -> Iterator[tuple[str, str, requests.Response]]:
    session = catalog_session(sb)
    lot_url = f"{sb.url}/api/Lot/{sb.data.catalogs[0].first_lot_id}"
    yield "/api/Lot/{id}", "GET", session.get(sb.url + "/api/Lot/abc")
    yield "/api/Lot/{id}", "GET", session.get(sb.url + "/api/Lot/1")
    yield "/api/Lot/{id}", "GET", requests.get(lot_url, timeout=5)
    yield "/api/Lot/{id}", "PUT", session.put(lot_url, json={"nope": 1})
    yield "/api/Lot/{id}", "PUT", session.put(sb.url + "/api/Lot/1", json={})
    yield "/api/Seller", "GET", session.get(sb.url + "/api/Seller?PageSize=0")
    yield "/api/Seller/{id}", "GET", session.get(sb.url + "/api/Seller/0")
    yield "/api/Catalog", "GET", session.get(sb.url + "/api/Catalog?StartDate=soon")
    yield "/api/Catalog/{id}", "GET", session.get(sb.url + "/api/Catalog/1")
    yield "/api/Catalog/{id}", "GET", requests.get(sb.url + "/api/Catalog/1000", timeout=5)
    sb.set(fail_rate=1.0)
    yield "/api/Lot/{id}", "GET", session.get(lot_url)
    sb.set(fail_rate=0.0, rate_limit=1)
    session.get(lot_url)
    yield "/api/Lot/{id}", "GET", session.get(lot_url)
    sb.set(rate_limit=0)
    sb.add_fault("/api/Seller", "retry_after", count=1, value="60")
    yield "/api/Seller", "GET", session.get(sb.url + "/api/Seller")
    sb.add_fault("/api/Seller", "status", count=1, status=500)
    yield "/api/Seller", "GET", session.get(sb.url + "/api/Seller")


def test_catalog_error_bodies_are_problem_details() -> None:
    statuses = set()
    with Sandbox(**SIZES) as sb:
        for template, method, answer in catalog_error_cases(sb):
            statuses.add(answer.status_code)
            check_catalog_response(template, method, answer)
    assert statuses == {400, 401, 404, 429, 500, 503}


# Spotify


def test_every_album_with_and_without_market(sandbox: Sandbox) -> None:
    session = spotify_session(sandbox)
    for album_id in sandbox.data.album_ids:
        check_spotify_response("/albums/{id}", session.get(f"{sandbox.url}/v1/albums/{album_id}"))
    for album_id in sandbox.data.album_ids[:10]:
        answer = session.get(f"{sandbox.url}/v1/albums/{album_id}", params={"market": "DE"})
        check_spotify_response("/albums/{id}", answer)


def test_album_track_pages(sandbox: Sandbox) -> None:
    session = spotify_session(sandbox)
    long_album = next(i for i in sandbox.data.album_ids if sandbox.data.albums[i]["total_tracks"] > 50)
    url = sandbox.data.albums[long_album]["tracks"]["next"]
    while url:
        page = session.get(url)
        check_spotify_response("/albums/{id}/tracks", page)
        url = page.json()["next"]


def test_batch_albums() -> None:
    with Sandbox(**SIZES, spotify_batch=True) as sb:
        ids = ",".join(sb.data.album_ids[:20])
        check_spotify_response("/albums", spotify_session(sb).get(f"{sb.url}/v1/albums", params={"ids": ids}))


def test_spotify_error_bodies() -> None:
    statuses = set()
    with Sandbox(**SIZES) as sb:
        session = spotify_session(sb)
        album = f"{sb.url}/v1/albums/{sb.data.album_ids[0]}"
        answers = [
            (session.get(sb.url + "/v1/albums/bad-id"), "/albums/{id}"),
            (session.get(f"{sb.url}/v1/albums/{'0' * 22}"), "/albums/{id}"),
            (requests.get(album, timeout=5), "/albums/{id}"),
            (session.get(sb.url + "/v1/albums", params={"ids": sb.data.album_ids[0]}), "/albums"),
        ]
        sb.set(rate_limit=1)
        session.get(album)
        answers.append((session.get(album), "/albums/{id}"))
        sb.set(rate_limit=0, fail_rate=1.0)
        answers.append((session.get(album), "/albums/{id}"))
        sb.set(fail_rate=0.0)
        sb.add_fault("/tracks", "retry_after", count=1, value="3600", quota=True)
        answers.append((session.get(album + "/tracks"), "/albums/{id}/tracks"))
        for answer, template in answers:
            statuses.add(answer.status_code)
            check_spotify_response(template, answer)
    assert statuses == {400, 401, 403, 404, 429, 503}


def test_development_mode_copy_relaxes_only_the_three_fields(sandbox: Sandbox) -> None:
    original = Contract(load_spotify_contract(), SPOTIFY_URI)
    album = sandbox.data.albums[sandbox.data.album_ids[0]]
    missing = original.errors("/components/schemas/AlbumObject", album)
    assert sorted(missing) == sorted(f": '{name}' is a required property" for name in DEV_MODE_MISSING_ALBUM_FIELDS)
    assert spotify_contract().errors("/components/schemas/AlbumObject", album) == []


def test_token_responses(sandbox: Sandbox) -> None:
    """Neither contract describes the token endpoints; contracts/README.md gives their fields."""
    identity = requests.post(
        sandbox.url + "/connect/token",
        data=DEMO.password_form(),
        timeout=5,
    )
    spotify = requests.post(
        sandbox.url + "/api/token",
        data={"grant_type": "client_credentials"},
        auth=(DEMO.spotify_client_id, DEMO.spotify_client_secret),
        timeout=5,
    )
    assert identity.json().keys() == {"access_token", "expires_in", "token_type", "refresh_token"}
    assert spotify.json().keys() == {"access_token", "token_type", "expires_in"}
    for body in (identity.json(), spotify.json()):
        assert body["token_type"] == "Bearer" and isinstance(body["expires_in"], int)


# The data exercises the contract's nullable fields


def nullable_properties(schema_name: str) -> list[str]:
    schema = load_catalog_contract()["components"]["schemas"][schema_name]
    return [name for name, prop in schema["properties"].items() if prop.get("nullable")]


def test_every_nullable_field_is_null_somewhere(sandbox: Sandbox) -> None:
    lots = [sandbox.data.lots[lot_id] for lot_id in sandbox.data.lots]
    initial_data = [lot["initialData"] for lot in lots]
    for name in nullable_properties("LotDataDto"):
        assert any(data[name] is None for data in initial_data), f"LotDataDto.{name}"
        assert any(data[name] is not None for data in initial_data), f"LotDataDto.{name}"
    for name in ("customerItemId", "overridenData", "imageLinks"):
        assert any(lot[name] is None for lot in lots), f"LotDto.{name}"
    sellers = [seller.dto() for seller in sandbox.data.sellers]
    assert any(seller["name"] is None for seller in sellers)
    catalogs = [record.dto() for record in sandbox.data.catalogs]
    for name in nullable_properties("CatalogDto"):
        assert any(record[name] is None for record in catalogs), f"CatalogDto.{name}"


# Any request body the contract allows is accepted


def body_strategy(node: dict[str, Any], components: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values that an OpenAPI 3.0 schema allows (refs followed, `nullable` honoured).

    Written here because hypothesis-jsonschema 0.23 no longer works with current Hypothesis."""
    if "$ref" in node:
        return body_strategy(components[node["$ref"].rsplit("/", 1)[-1]], components)
    kind = node.get("type")
    strategy: st.SearchStrategy[Any]
    if kind == "object":
        optional = {name: body_strategy(prop, components) for name, prop in node.get("properties", {}).items()}
        strategy = st.fixed_dictionaries({}, optional=optional)
    elif kind == "array":
        strategy = st.lists(body_strategy(node["items"], components), max_size=3)
    elif kind == "integer":
        strategy = st.integers(-(2**31), 2**31 - 1)
    elif kind == "number":
        strategy = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**6), 10**6)
    elif kind == "boolean":
        strategy = st.booleans()
    else:
        strategy = st.text(max_size=40)
    return st.none() | strategy if node.get("nullable") else strategy


CATALOG_SCHEMAS = load_catalog_contract()["components"]["schemas"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=body_strategy(CATALOG_SCHEMAS["UpdateLotRequest"], CATALOG_SCHEMAS))
def test_any_update_lot_request_the_contract_allows_is_accepted(sandbox: Sandbox, body: dict[str, Any]) -> None:
    session = catalog_session(sandbox)
    lot_id = sandbox.data.catalogs[0].first_lot_id + 1
    answer = session.put(
        f"{sandbox.url}/api/Lot/{lot_id}", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 200, answer.text
    check_catalog_response("/api/Lot/{id}", "PUT", answer)

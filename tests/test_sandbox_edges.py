"""The sandbox at its edges, over real sockets: requests that no well-behaved client sends
(odd methods, broken framing, malformed numbers and paths, hostile JSON bodies, slow clients)
still get a valid HTTP answer with the error body of the service they addressed, and nothing
crashes, hangs or prints a traceback."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from lotsdb_cli.sandbox import DEMO, Sandbox

SMALL: dict[str, Any] = {"seed": 5, "sellers": 4, "events_per_seller": 1, "lots_per_event": 10, "albums": 10}
PROBLEM_JSON = "application/problem+json"
FIRST_LOT = 100000


@pytest.fixture
def sb(capfd: pytest.CaptureFixture[str]) -> Iterator[Sandbox]:
    """A sandbox that must not have written anything (a traceback, a log line) when the test ends."""
    with Sandbox(**SMALL) as sandbox:
        yield sandbox
    assert capfd.readouterr().err == ""


@pytest.fixture
def catalog_token(sb: Sandbox) -> str:
    answer = requests.post(sb.url + "/connect/token", data=DEMO.password_form(), timeout=10)
    token: str = answer.json()["access_token"]
    return token


@pytest.fixture
def spotify_token(sb: Sandbox) -> str:
    answer = requests.post(
        sb.url + "/api/token",
        data={"grant_type": "client_credentials"},
        auth=(DEMO.spotify_client_id, DEMO.spotify_client_secret),
        timeout=10,
    )
    token: str = answer.json()["access_token"]
    return token


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    closed: bool | None  # whether the server hung up after answering (None: not checked)

    def json(self) -> Any:
        return strict_json(self.body)

    @property
    def media_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip()


def strict_json(body: bytes) -> Any:
    """JSON as RFC 8259 has it: no NaN or Infinity, which Python's json would otherwise accept."""

    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    return json.loads(body, parse_constant=refuse)


def exchange(sb: Sandbox, raw: bytes, method: str = "GET", check_closed: bool = False) -> Answer:
    """Send `raw` bytes as they are and read one response (http.client parses it, strictly)."""
    with socket.create_connection(("127.0.0.1", sb.port), timeout=30) as connection:
        connection.sendall(raw)
        response = http.client.HTTPResponse(connection, method=method)
        response.begin()
        body = response.read()
        closed = connection.recv(1) == b"" if check_closed else None
        return Answer(response.status, response.headers, body, closed)


def request_bytes(method: str, target: str, *headers: str, body: bytes = b"", token: str | None = None) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: sandbox", *headers]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def assert_problem(answer: Answer, status: int) -> dict[str, Any]:
    assert answer.status == status, answer.body
    assert answer.media_type == PROBLEM_JSON
    problem: dict[str, Any] = answer.json()
    assert problem["status"] == status
    assert {"type", "title", "status", "detail", "instance"} <= problem.keys()
    return problem


# The five found by schemathesis


def test_a_number_beyond_double_range_is_refused_and_never_served(sb: Sandbox, catalog_token: str) -> None:
    body = b'{"overridenData":[{"L":1e400}]}'
    put = exchange(sb, request_bytes("PUT", f"/api/Lot/{FIRST_LOT}", "Content-Type: application/json",
                                     f"Content-Length: {len(body)}", body=body, token=catalog_token))  # fmt: skip
    problem = assert_problem(put, 400)
    assert "$.overridenData[0].L" in problem["errors"]
    lot = exchange(sb, request_bytes("GET", f"/api/Lot/{FIRST_LOT}", token=catalog_token))
    assert lot.status == 200
    assert lot.json()["overridenData"] != [{"L": float("inf")}]


@pytest.mark.parametrize("method", ["TRACE", "QUERY", "FROBNICATE"])
def test_methods_the_server_does_not_know_answer_405_with_allow(sb: Sandbox, catalog_token: str, method: str) -> None:
    answer = exchange(sb, request_bytes(method, "/api/Seller", token=catalog_token))
    assert_problem(answer, 405)
    assert answer.headers["Allow"] == "GET, HEAD"


def test_a_content_length_that_is_not_a_number_is_a_400(sb: Sandbox, catalog_token: str) -> None:
    answer = exchange(
        sb, request_bytes("GET", "/api/Seller", "Content-Length: abc", token=catalog_token), check_closed=True
    )
    assert_problem(answer, 400)
    assert answer.closed  # the message's end is unknown, so the connection cannot be reused


@pytest.mark.parametrize("digit", ["%D9%A1", "%EF%BC%91", "%F0%9D%9F%8F"], ids=["arabic-indic", "fullwidth", "math"])
def test_integers_are_ascii_digits_only(sb: Sandbox, catalog_token: str, spotify_token: str, digit: str) -> None:
    problem = assert_problem(exchange(sb, request_bytes("GET", f"/api/Seller?Id={digit}", token=catalog_token)), 400)
    assert list(problem["errors"]) == ["Id"]
    album = sb.data.album_ids[0]
    tracks = exchange(sb, request_bytes("GET", f"/v1/albums/{album}/tracks?limit={digit}", token=spotify_token))
    assert tracks.status == 400
    assert tracks.json() == {"error": {"status": 400, "message": "Invalid limit"}}


def test_path_parameters_are_percent_decoded(sb: Sandbox, catalog_token: str, spotify_token: str) -> None:
    seller = exchange(sb, request_bytes("GET", "/api/Seller/%31", token=catalog_token))
    assert seller.status == 200 and seller.json()["id"] == 1
    album = sb.data.album_ids[0]
    encoded = "".join(f"%{ord(char):02X}" for char in album)
    assert exchange(sb, request_bytes("GET", f"/v1/albums/{encoded}", token=spotify_token)).json()["id"] == album
    literal = exchange(sb, request_bytes("GET", "/api/%53eller/1", token=catalog_token))
    assert literal.status == 200 and literal.json()["id"] == 1
    # An encoded slash stays inside its segment: one parameter "1/2", not two segments.
    slashed = assert_problem(exchange(sb, request_bytes("GET", "/api/Seller/1%2F2", token=catalog_token)), 400)
    assert slashed["errors"] == {"id": ["The value '1/2' is not valid for id."]}

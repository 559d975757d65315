"""The sandbox at its edges, over real sockets: requests that no well-behaved client sends
(odd methods, broken framing, malformed numbers and paths, hostile JSON bodies, slow clients)
still get a valid HTTP answer with the error body of the service they addressed, and nothing
crashes, hangs or prints a traceback."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

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


def request_bytes(
    method: str, target: str, *headers: str, body: bytes = b"", token: str | None = None, host: bool = True
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", *(["Host: sandbox"] if host else []), *headers]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def json_put(body: bytes, token: str, lot_id: int = FIRST_LOT) -> bytes:
    headers = ("Content-Type: application/json", f"Content-Length: {len(body)}")
    return request_bytes("PUT", f"/api/Lot/{lot_id}", *headers, body=body, token=token)


def assert_spotify_error(answer: Answer, status: int) -> None:
    assert answer.status == status, answer.body
    assert answer.media_type == "application/json"
    error = answer.json()["error"]
    assert error["status"] == status and isinstance(error["message"], str)


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


# Methods


def test_head_is_answered_as_get_without_a_body(sb: Sandbox, catalog_token: str, spotify_token: str) -> None:
    got = exchange(sb, request_bytes("GET", f"/api/Lot/{FIRST_LOT}", token=catalog_token))
    head = exchange(sb, request_bytes("HEAD", f"/api/Lot/{FIRST_LOT}", token=catalog_token), method="HEAD")
    assert (head.status, head.body) == (200, b"")
    assert head.headers["ETag"] == got.headers["ETag"]
    assert head.headers["Content-Length"] == str(len(got.body))
    album = exchange(sb, request_bytes("HEAD", f"/v1/albums/{sb.data.album_ids[0]}", token=spotify_token), "HEAD")
    assert album.status == 200
    assert sb.stats()["routes"]["HEAD /api/Lot/{id}"] == {"200": 1}


def test_options_and_unknown_methods_name_the_allowed_ones_in_each_services_body(
    sb: Sandbox, catalog_token: str, spotify_token: str
) -> None:
    options = exchange(sb, request_bytes("OPTIONS", f"/api/Lot/{FIRST_LOT}", token=catalog_token))
    assert_problem(options, 405)
    assert options.headers["Allow"] == "GET, HEAD, PUT"
    album = f"/v1/albums/{sb.data.album_ids[0]}"
    trace = exchange(sb, request_bytes("TRACE", album, token=spotify_token))
    assert_spotify_error(trace, 405)
    assert trace.headers["Allow"] == "GET, HEAD"
    for token_path in ("/connect/token", "/api/token"):
        get = exchange(sb, request_bytes("GET", token_path))
        assert (get.status, get.headers["Allow"]) == (405, "POST")
        assert get.json()["error"] == "invalid_request"
    lowercase = exchange(sb, request_bytes("get", "/api/Seller", token=catalog_token))
    assert lowercase.status == 405  # methods are case-sensitive (RFC 9110 §9.1)


# Framing


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (("Content-Length: -1",), 400),
        (("Content-Length: +2",), 400),
        (("Content-Length: 0x10",), 400),
        (("Content-Length: 2", "Content-Length: 3"), 400),
        (("Content-Length: 2, 3",), 400),
        (("Content-Length: 99999999999999999999999999",), 413),
        (("Content-Length: 30000001",), 413),
        (("Transfer-Encoding: gzip",), 400),
        (("Transfer-Encoding: chunked, chunked",), 400),
        (("Transfer-Encoding: gzip, chunked",), 501),
    ],
    ids=lambda value: value if isinstance(value, int) else "|".join(value),
)
def test_a_body_whose_length_cannot_be_known_is_refused_and_the_connection_closed(
    sb: Sandbox, catalog_token: str, headers: tuple[str, ...], status: int
) -> None:
    raw = request_bytes("PUT", f"/api/Lot/{FIRST_LOT}", "Content-Type: application/json", *headers, token=catalog_token)
    answer = exchange(sb, raw + b"{}", check_closed=True)
    assert_problem(answer, status)
    assert answer.closed


def test_repeated_equal_content_lengths_are_one(sb: Sandbox, catalog_token: str) -> None:
    headers = ("Content-Type: application/json", "Content-Length: 2", "Content-Length: 2, 2")
    raw = request_bytes("PUT", f"/api/Lot/{FIRST_LOT}", *headers, body=b"{}", token=catalog_token)
    assert exchange(sb, raw).status == 200


def test_chunked_bodies_are_read(sb: Sandbox, catalog_token: str) -> None:
    chunks = b'4;name=value\r\n{"cu\r\n1B\r\nstomerItemId":"CHUNKED-1"}\r\n0\r\nX-Trailer: 1\r\n\r\n'
    headers = ("Content-Type: application/json", "Transfer-Encoding: chunked")
    answer = exchange(sb, request_bytes("PUT", f"/api/Lot/{FIRST_LOT}", *headers, body=chunks, token=catalog_token))
    assert answer.status == 200 and answer.json()["customerItemId"] == "CHUNKED-1"
    # Content-Length beside chunked is ignored, and the connection is not trusted after it.
    both = exchange(sb, request_bytes("PUT", f"/api/Lot/{FIRST_LOT}", *headers, "Content-Length: 3",
                                      body=chunks, token=catalog_token), check_closed=True)  # fmt: skip
    assert both.status == 200 and both.closed
    broken = exchange(sb, request_bytes("PUT", f"/api/Lot/{FIRST_LOT}", *headers, body=b"zz\r\n{}\r\n0\r\n\r\n",
                                        token=catalog_token))  # fmt: skip
    assert_problem(broken, 400)


def read_response(stream: BinaryIO) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One response from a stream that may hold more (http.client's reader closes it after one)."""
    status = int(stream.readline().split()[1])
    headers = http.client.parse_headers(stream)
    return status, headers, stream.read(int(headers.get("Content-Length") or 0))


def test_bytes_beyond_the_announced_body_are_read_as_the_next_request(sb: Sandbox, catalog_token: str) -> None:
    headers = ("Content-Type: application/json", "Content-Length: 2")
    raw = request_bytes("PUT", f"/api/Lot/{FIRST_LOT}", *headers, body=b"{}NOT A REQUEST\r\n\r\n", token=catalog_token)
    with socket.create_connection(("127.0.0.1", sb.port), timeout=30) as connection:
        connection.sendall(raw)
        stream = connection.makefile("rb")
        first, (second, second_headers, second_body) = read_response(stream), read_response(stream)
    assert (first[0], second) == (200, 400)
    assert second_headers["Content-Type"].startswith(PROBLEM_JSON) and strict_json(second_body)["status"] == 400


def test_expect_100_continue_is_answered_before_the_body_is_sent(sb: Sandbox, catalog_token: str) -> None:
    expects = ("Content-Type: application/json", "Content-Length: 2", "Expect: 100-continue")
    with socket.create_connection(("127.0.0.1", sb.port), timeout=30) as connection:
        connection.sendall(request_bytes("PUT", f"/api/Lot/{FIRST_LOT}", *expects, token=catalog_token))
        stream = connection.makefile("rb")
        assert stream.readline() == b"HTTP/1.1 100 Continue\r\n" and stream.readline() == b"\r\n"
        connection.sendall(b"{}")
        assert read_response(stream)[0] == 200


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"PUT /api/Lot/100000 HTTP/1.1\r\nHost: s\r\nContent-Length: 20\r\n\r\n{}", id="body-shorter"),
        pytest.param(b"GET /api/Seller HTTP/1.1\r\nHost: s\r\nX-Slow: 1\r\n", id="head-unfinished"),
        pytest.param(b"GET /api/Sel", id="request-line-unfinished"),
    ],
)
def test_a_request_that_stops_arriving_is_answered_408(capfd: pytest.CaptureFixture[str], raw: bytes) -> None:
    with Sandbox(**SMALL, request_timeout=0.5) as sandbox:
        answer = exchange(sandbox, raw, check_closed=True)
        assert_problem(answer, 408)
        assert answer.closed
    assert capfd.readouterr().err == ""


def test_a_client_sending_its_headers_slowly_cannot_hold_the_request_open(capfd: pytest.CaptureFixture[str]) -> None:
    lines = [b"GET /api/Seller HTTP/1.1\r\n", b"Host: s\r\n", *(b"X-%d: 1\r\n" % n for n in range(100))]
    with (
        Sandbox(**SMALL, request_timeout=0.5) as sandbox,
        socket.create_connection(("127.0.0.1", sandbox.port), timeout=30) as connection,
    ):
        for line in lines:  # each line arrives well within any per-read timeout, the whole never
            try:
                connection.sendall(line)
            except OSError:  # the server answered and hung up
                break
            time.sleep(0.05)
        response = http.client.HTTPResponse(connection)
        response.begin()
        assert response.status == 408
    assert capfd.readouterr().err == ""


# Heads


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        pytest.param(b"GET /api/Seller HTTP/2.0\r\nHost: s\r\n\r\n", 505, id="http2"),
        pytest.param(b"GET /api/Seller\r\n\r\n", 400, id="http0.9"),
        pytest.param(b"GET  /api/Seller HTTP/1.1\r\nHost: s\r\n\r\n", 400, id="two-spaces"),
        pytest.param(b"GET api/Seller HTTP/1.1\r\nHost: s\r\n\r\n", 400, id="target-not-a-path"),
        pytest.param(b"GET /api/Seller/\xe9 HTTP/1.1\r\nHost: s\r\n\r\n", 400, id="raw-non-ascii-target"),
        pytest.param(b"G\x00T /api/Seller HTTP/1.1\r\nHost: s\r\n\r\n", 400, id="nul-in-method"),
        pytest.param(b"GET /api/Seller?Name=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: s\r\n\r\n", 414, id="long-url"),
        pytest.param(b"GET /api/Seller HTTP/1.1\r\n\r\n", 400, id="no-host"),
        pytest.param(b"GET /api/Seller HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, id="two-hosts"),
        pytest.param(b"GET /api/Seller HTTP/1.1\r\nHost: s\r\nGarbage\r\n\r\n", 400, id="no-colon"),
        pytest.param(b"GET /api/Seller HTTP/1.1\r\nHost : s\r\n\r\n", 400, id="space-before-colon"),
        pytest.param(b"GET /api/Seller HTTP/1.1\r\nHost: s\r\nX: 1\r\n folded\r\n\r\n", 400, id="obs-fold"),
        pytest.param(b"GET /api/Seller HTTP/1.1\r\nHost: s\r\nX: a\x00b\r\n\r\n", 400, id="nul-in-value"),
        pytest.param(b"GET /api/Seller HTTP/1.1\r\nHost: s\r\nX: " + b"a" * 70000 + b"\r\n\r\n", 431, id="long-field"),
        pytest.param(b"GET /api/Seller HTTP/1.1\r\nHost: s\r\n" + b"X: 1\r\n" * 120 + b"\r\n", 431, id="many-fields"),
    ],
)
def test_malformed_heads_are_answered_in_problem_details(sb: Sandbox, raw: bytes, status: int) -> None:
    answer = exchange(sb, raw, check_closed=True)
    assert_problem(answer, status)
    assert answer.closed


def test_a_long_url_is_a_414_in_the_error_body_of_the_service_it_addressed(sb: Sandbox, spotify_token: str) -> None:
    album = f"/v1/albums/{sb.data.album_ids[0]}/tracks?offset=" + "9" * 9000
    answer = exchange(sb, request_bytes("GET", album, token=spotify_token), check_closed=True)
    assert_spotify_error(answer, 414)
    assert answer.closed


def test_heads_a_lenient_server_accepts(sb: Sandbox, catalog_token: str) -> None:
    auth = f"Authorization: Bearer {catalog_token}"
    bare_line_feeds = f"GET /api/Seller/1 HTTP/1.1\nHost: s\n{auth}\n\n".encode()
    assert exchange(sb, bare_line_feeds).status == 200
    assert exchange(sb, b"\r\n" + request_bytes("GET", "/api/Seller/1", token=catalog_token)).status == 200
    absolute = exchange(sb, request_bytes("GET", f"http://{sb.host}:{sb.port}/api/Seller/1", token=catalog_token))
    assert absolute.status == 200 and absolute.json()["id"] == 1
    http10 = exchange(sb, f"GET /api/Seller/1 HTTP/1.0\r\n{auth}\r\n\r\n".encode(), check_closed=True)
    assert http10.status == 200 and http10.closed


def test_repeated_authorization_fields_are_one_invalid_credential(sb: Sandbox, catalog_token: str) -> None:
    auth = f"Authorization: Bearer {catalog_token}"
    answer = exchange(sb, request_bytes("GET", "/api/Seller", auth, auth))
    assert_problem(answer, 401)


def test_a_non_ascii_basic_credential_is_an_invalid_client(sb: Sandbox) -> None:
    form = b"grant_type=client_credentials"
    raw = request_bytes("POST", "/api/token", "Authorization: Basic \xe9\xe9", f"Content-Length: {len(form)}",
                        "Content-Type: application/x-www-form-urlencoded", body=form)  # fmt: skip
    answer = exchange(sb, raw)
    assert (answer.status, answer.json()["error"]) == (400, "invalid_client")


# JSON bodies


@pytest.mark.parametrize(
    ("body", "error_key"),
    [
        pytest.param(b'{"customerItemId":"\xff"}', "$", id="invalid-utf8"),
        pytest.param("{}".encode("utf-16"), "$", id="utf16"),
        pytest.param(b'{"customerItemId":"\\ud800"}', "$", id="lone-surrogate"),
        pytest.param(b'{"\\udc00":1}', "$", id="lone-surrogate-in-a-name"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "$", id="nested-100000"),
        pytest.param(b'{"catalogs":' + b"[" * 64 + b"]" * 64 + b"}", "$", id="nested-65"),
        pytest.param(b'{"overridenData":[{"L":' + b"9" * 5000 + b"}]}", "$", id="5000-digits"),
        pytest.param(b'{"overridenData":[{"L":' + b"9" * 400 + b"}]}", "$.overridenData[0].L", id="400-digit-double"),
        pytest.param(b'{"overridenData":[{"Qty":' + b"9" * 400 + b"}]}", "$.overridenData[0].Qty", id="400-digit-int"),
        pytest.param(b'{"overridenData":[{"W":-1e400}]}', "$.overridenData[0].W", id="minus-1e400"),
        pytest.param(b'{"overridenData":[{"L":NaN}]}', "$", id="nan"),
        pytest.param(b'{"overridenData":[{"L":-Infinity}]}', "$", id="infinity"),
        pytest.param(b'{"catalogs":[{"catalogId":1.0}]}', "$.catalogs[0].catalogId", id="int-as-float"),
        pytest.param(b"{} trailing", "$", id="trailing-text"),
        pytest.param(b"", "$", id="empty"),
    ],
)
def test_json_bodies_system_text_json_would_not_read_are_400(
    sb: Sandbox, catalog_token: str, body: bytes, error_key: str
) -> None:
    problem = assert_problem(exchange(sb, json_put(body, catalog_token)), 400)
    assert error_key in problem["errors"]
    lot = exchange(sb, request_bytes("GET", f"/api/Lot/{FIRST_LOT}", token=catalog_token))
    assert lot.json() == sb.data.lots[FIRST_LOT]  # unchanged, and strict JSON


def test_json_bodies_it_reads(sb: Sandbox, catalog_token: str) -> None:
    with_bom = exchange(sb, json_put(b'\xef\xbb\xbf{"customerItemId":"BOM"}', catalog_token))
    assert with_bom.json()["customerItemId"] == "BOM"
    tiny = exchange(sb, json_put(b'{"overridenData":[{"W":1e-400,"L":12345678901234567890}]}', catalog_token))
    assert tiny.json()["overridenData"][0]["W"] == 0.0
    nested_64 = b'{"imageLinks":' + b"[" * 63 + b"]" * 63 + b"}"  # 64 levels: the limit, a type error
    assert "$.imageLinks[0]" in assert_problem(exchange(sb, json_put(nested_64, catalog_token)), 400)["errors"]


# Query values


@pytest.mark.parametrize("query", ["PageSize=-1", "PageSize=NaN", "PageSize=1e3", f"PageSize={10**30}",
                                   "PageNumber=%00", "Id=%EF%BC%91", "Id=1_000", "IsActive=%00true"])  # fmt: skip
def test_absurd_query_values_are_400_problems(sb: Sandbox, catalog_token: str, query: str) -> None:
    answer = exchange(sb, request_bytes("GET", f"/api/Seller?{query}", token=catalog_token))
    assert_problem(answer, 400)


def test_a_repeated_query_parameter_binds_its_first_value(sb: Sandbox, catalog_token: str) -> None:
    def page_size(query: str) -> int:
        answer = exchange(sb, request_bytes("GET", f"/api/Seller?{query}", token=catalog_token))
        return len(answer.json()["items"])

    assert page_size("PageSize=1&PageSize=2") == 1
    assert page_size("PageSize=&PageSize=2") == len(sb.data.sellers)  # blank first value: not given
    assert page_size("pagesize=1&PageSize=3") == 1  # names are case-insensitive


def test_a_blank_element_of_a_list_of_ints_is_invalid(sb: Sandbox, catalog_token: str) -> None:
    for query in ("SellerIds=", "SellerIds=1&SellerIds="):
        problem = assert_problem(exchange(sb, request_bytes("GET", f"/api/Catalog?{query}", token=catalog_token)), 400)
        assert list(problem["errors"]) == ["SellerIds"]


def test_spotify_query_values_out_of_range_are_400(sb: Sandbox, spotify_token: str) -> None:
    album = f"/v1/albums/{sb.data.album_ids[0]}"
    for query in ("offset=2147483648", "offset=-1", "limit=0", "limit=1_0", "market=us", "market=US%0A"):
        answer = exchange(sb, request_bytes("GET", f"{album}/tracks?{query}", token=spotify_token))
        assert_spotify_error(answer, 400)


# Control routes and knobs refuse what they could not honour later


@pytest.mark.parametrize(
    ("route", "document"),
    [
        ("settings", {"latency_ms": "1e400"}),
        ("settings", {"spotify_batch": "false"}),
        ("settings", {"rate_limit": -1}),
        ("faults", {"path": "(", "kind": "status"}),
        ("faults", {"path": "x", "kind": "status", "params": {"status": 99}}),
        ("faults", {"path": "x", "kind": "status", "params": {"headers": {"X": "a\r\nInjected: 1"}}}),
        ("faults", {"path": "x", "kind": "slow", "params": {"seconds": "1e400"}}),
        ("faults", {"path": "x", "kind": "status", "count": 0}),
    ],
)
def test_control_routes_refuse_settings_they_could_not_honour(
    sb: Sandbox, route: str, document: dict[str, Any]
) -> None:
    body = json.dumps(document).replace('"1e400"', "1e400").encode()
    answer = exchange(sb, request_bytes("POST", f"/_sandbox/{route}", f"Content-Length: {len(body)}", body=body))
    assert answer.status == 400 and "error" in answer.json()
    assert sb.faults() == []
    assert sb.settings() == {"latency_ms": 0.0, "rate_limit": 0.0, "fail_rate": 0.0, "spotify_batch": False}

"""`/_sandbox/...`: counters, reset, faults and knobs, for tests driving a sandbox in another
process. These routes need no token and are never delayed, limited, faulted or counted."""

from __future__ import annotations

from typing import Any

from lotsdb_cli.sandbox.faults import Fault
from lotsdb_cli.sandbox.json_body import parse_json_body
from lotsdb_cli.sandbox.messages import Response, json_response
from lotsdb_cli.sandbox.routing import Call, Route
from lotsdb_cli.sandbox.services import CONTROL

KNOB_NAMES = ("latency_ms", "rate_limit", "fail_rate", "spotify_batch")


def _json_body(call: Call) -> dict[str, Any]:
    document = parse_json_body(call.request.body or b"{}")
    if not isinstance(document, dict):
        raise ValueError("expected a JSON object")
    return document


def _bad_request(message: str) -> Response:
    return json_response(400, {"error": message})


def get_stats(call: Call) -> Response:
    return json_response(200, call.state.stats.snapshot())


def post_reset(call: Call) -> Response:
    call.state.reset()
    return json_response(200, {"reset": True})


def get_faults(call: Call) -> Response:
    return json_response(200, {"faults": call.state.faults.describe()})


def post_fault(call: Call) -> Response:
    try:
        spec = _json_body(call)
        fault = Fault(
            path_regex=str(spec["path"]),
            kind=str(spec["kind"]),
            remaining=spec.get("count"),
            params=dict(spec.get("params") or {}),
        )
    except (ValueError, KeyError, TypeError) as exc:
        return _bad_request(f"bad fault: {exc}")
    call.state.faults.add(fault)
    return json_response(201, {"faults": call.state.faults.describe()})


def delete_faults(call: Call) -> Response:
    call.state.faults.clear()
    return json_response(200, {"faults": []})


def post_revoke_tokens(call: Call) -> Response:
    call.state.tokens.revoke_access_tokens()
    return json_response(200, {"revoked": True})


def get_settings(call: Call) -> Response:
    return json_response(200, call.state.settings())


def post_settings(call: Call) -> Response:
    """Change knobs at run time: JSON with any of latency_ms, rate_limit, fail_rate, spotify_batch."""
    try:
        changes = _json_body(call)
        unknown = set(changes) - set(KNOB_NAMES)
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}")
        call.state.apply_settings(**changes)
    except (ValueError, TypeError) as exc:
        return _bad_request(str(exc))
    return json_response(200, call.state.settings())


def control_routes() -> list[Route]:
    return [
        Route("GET", "/_sandbox/stats", CONTROL, get_stats),
        Route("POST", "/_sandbox/reset", CONTROL, post_reset),
        Route("GET", "/_sandbox/faults", CONTROL, get_faults),
        Route("POST", "/_sandbox/faults", CONTROL, post_fault),
        Route("DELETE", "/_sandbox/faults", CONTROL, delete_faults),
        Route("POST", "/_sandbox/revoke-tokens", CONTROL, post_revoke_tokens),
        Route("GET", "/_sandbox/settings", CONTROL, get_settings),
        Route("POST", "/_sandbox/settings", CONTROL, post_settings),
    ]

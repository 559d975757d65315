"""Injected faults: the next requests whose path matches answer badly on purpose."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lotsdb_cli.sandbox.messages import JSON_TYPE, Response, to_json_bytes
from lotsdb_cli.sandbox.problems import service_error
from lotsdb_cli.sandbox.services import SPOTIFY

FAULT_KINDS = ("status", "html", "truncated", "empty", "slow", "close", "retry_after")
GATEWAY_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    b"<body><h1>502 Bad Gateway</h1><p>The upstream server did not answer. "
    b"Please try again later.</p><hr><address>sandbox-gateway</address></body></html>\n"
)
SLOW_ANNOUNCED_LENGTH = 1024
_FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", re.ASCII)
_LINE_BREAK_OR_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@dataclass
class Fault:
    path_regex: str
    kind: str
    remaining: int | None  # None: for ever
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse now what could not be sent later: a fault must still answer valid HTTP."""
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.remaining is not None and not (_is_int(self.remaining) and self.remaining >= 1):
            raise ValueError("count must be a whole number >= 1 (or None for ever)")
        try:
            self.pattern = re.compile(self.path_regex)
        except re.error as exc:
            raise ValueError(f"path is not a regular expression: {exc}") from None
        check_params(self.kind, self.params)

    def describe(self) -> dict[str, Any]:
        return {
            "path": self.path_regex,
            "kind": self.kind,
            "count": self.remaining,
            "params": self.params,
        }


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_field_value(value: Any) -> bool:
    return isinstance(value, str | int | float) and not _LINE_BREAK_OR_CONTROL.search(str(value))


def check_params(kind: str, params: dict[str, Any]) -> None:
    if kind == "status":
        status = params.get("status", 500)
        if not (_is_int(status) and 200 <= status <= 599):
            raise ValueError("status must be an HTTP status from 200 to 599")
        headers = params.get("headers") or {}
        if not isinstance(headers, dict) or not all(
            isinstance(name, str) and _FIELD_NAME.fullmatch(name) and _is_field_value(value)
            for name, value in headers.items()
        ):
            raise ValueError("headers must map field names to values without control characters")
        body = params.get("body")
        if body is not None and not isinstance(body, str):
            to_json_bytes(body)  # ValueError or TypeError unless it is JSON
    elif kind == "slow":
        seconds = params.get("seconds", 5.0)
        if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds >= 0):
            raise ValueError("seconds must be a number >= 0")
    elif kind == "retry_after":
        value = params.get("value", "1")
        if value is not None and not _is_field_value(value):
            raise ValueError("value must be a Retry-After value without control characters")


class FaultList:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.describe() for fault in self._faults]

    def take(self, path: str) -> Fault | None:
        """Consume one use of the first fault, in the order added, that matches `path`."""
        with self._lock:
            for fault in self._faults:
                if fault.pattern.search(path):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            self._faults.remove(fault)
                    return fault
        return None


def fault_response(fault: Fault, service: str, path: str, normal_answer: Callable[[], Response]) -> Response:
    """What the sandbox sends instead of its normal answer."""
    params = fault.params
    if fault.kind == "status":
        return _status_response(params, service, path)
    if fault.kind == "html":
        return Response(200, GATEWAY_PAGE, "text/html; charset=utf-8")
    if fault.kind == "truncated":
        return _truncated(normal_answer())
    if fault.kind == "empty":
        return Response(200, b"", JSON_TYPE)
    if fault.kind == "slow":
        seconds = float(params.get("seconds", 5.0))
        return Response(
            200, b"", JSON_TYPE, action="slow", hold_seconds=seconds,
            announced_length=SLOW_ANNOUNCED_LENGTH,
        )  # fmt: skip
    if fault.kind == "close":
        return Response(0, action="close")
    return _retry_after(params, service, path)


def _status_response(params: dict[str, Any], service: str, path: str) -> Response:
    status = int(params.get("status", 500))  # checked by check_params
    body = params.get("body")
    if body is None:
        response = service_error(service, status, path)
    elif isinstance(body, str):
        response = Response(status, body.encode(), "text/plain; charset=utf-8")
    else:
        response = Response(status, to_json_bytes(body), JSON_TYPE)
    for name, value in (params.get("headers") or {}).items():
        if str(name).lower() == "content-type":
            response.content_type = str(value)
        else:
            response.headers[str(name)] = str(value)
    return response


def _truncated(normal: Response) -> Response:
    whole = normal.body if len(normal.body) >= 2 else b'{"items":[{"id":1,"name":"cut"}]}'
    return Response(200, whole[: len(whole) // 2], JSON_TYPE)


def _retry_after(params: dict[str, Any], service: str, path: str) -> Response:
    reason = "QUOTA_EXCEEDED" if params.get("quota") and service == SPOTIFY else None
    response = service_error(service, 429, path, reason=reason)
    value = params.get("value", "1")
    if value is not None:
        response.headers["Retry-After"] = str(value)
    return response

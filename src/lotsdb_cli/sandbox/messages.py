"""Requests and responses as the sandbox's route handlers see them, independent of the socket."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs

from lotsdb_cli.sandbox.lexical import path_segments

JSON_TYPE = "application/json; charset=utf-8"
PROBLEM_TYPE = "application/problem+json; charset=utf-8"


@dataclass(frozen=True)
class Request:
    method: str
    raw_path: str  # as sent, percent-encoded
    query_string: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased, repeated fields joined
    body: bytes = b""

    @cached_property
    def segments(self) -> tuple[str, ...]:
        """The path's segments, percent-decoded: what routes match and bind."""
        return path_segments(self.raw_path)

    @cached_property
    def path(self) -> str:
        """The decoded path, as ASP.NET's Request.Path: error bodies and faults see this one."""
        return "/" + "/".join(self.segments)

    def query(self) -> dict[str, list[str]]:
        """Query parameters by name as sent (repeatable names keep every value)."""
        return parse_qs(self.query_string, keep_blank_values=True)

    def query_folded(self) -> dict[str, list[str]]:
        """Query parameters by lower-cased name: ASP.NET binds them case-insensitively."""
        folded: dict[str, list[str]] = {}
        for name, values in self.query().items():
            folded.setdefault(name.lower(), []).extend(values)
        return folded

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    # Socket-level behaviour of faults: "slow" (headers, then silence) or "close" (no answer).
    action: str | None = None
    hold_seconds: float = 0.0
    # Content-Length to announce when it differs from len(body) (the "slow" fault).
    announced_length: int | None = None

    @property
    def stats_key(self) -> str:
        return "closed" if self.action == "close" else str(self.status)


def to_json_bytes(document: Any) -> bytes:
    """Compact UTF-8 JSON, as ASP.NET and Spotify send it. NaN and Infinity are not JSON: a
    document holding one raises ValueError instead of reaching a client."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def json_response(status: int, document: Any, content_type: str = JSON_TYPE) -> Response:
    return Response(status, to_json_bytes(document), content_type)


def etag_of(body: bytes) -> str:
    """A strong validator derived from the body, so equal bodies share it."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = [item.strip() for item in if_none_match.split(",")]
    bare = etag.strip('"')
    return any(c == "*" or c.removeprefix("W/").strip('"') == bare for c in candidates)

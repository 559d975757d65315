"""Reading many cached responses at once, without building a full `CachedResponse` for each.

requests-cache stores a response in SQLite as a pickled dict (its cattrs "unstructured" form) and
rebuilds a `CachedResponse` from it on every read: attrs classes, a `CaseInsensitiveDict` of
headers, a `CachedHTTPResponse`, datetimes, for a lot of which a dump needs only the body and the
expiry. `decode_rows` reads those two (and the headers) straight from the dict.

It only does so for the serializer it knows (cattrs, then pickle), and checks the first row of
every batch against requests-cache's own decoding; a row it cannot read, or any disagreement,
goes to requests-cache as before.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class CachedEntry:
    """The parts of a cached response a reader of fresh JSON needs."""

    content: bytes
    expires: datetime | None
    status_code: int
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def is_expired(self) -> bool:
        return self.expires is not None and datetime.now(UTC) >= self.expires


def decode_rows(responses: Any, rows: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """`{key: response}` for SQLite rows of requests-cache's `responses` table."""
    fast = _knows(responses)
    decoded: dict[str, Any] = {}
    for key, value in rows:
        entry = _decode(value) if fast else None
        if entry is not None and fast and not decoded:
            fast = _agrees(entry, responses.deserialize(key, value))  # check the first row
            entry = entry if fast else None
        decoded[key] = entry if entry is not None else responses.deserialize(key, value)
    return decoded


def _knows(responses: Any) -> bool:
    stages = getattr(getattr(responses, "serializer", None), "stages", None)
    return (
        isinstance(stages, list)
        and [type(stage).__name__ for stage in stages] == ["CattrStage", "Stage"]
        and getattr(stages[1], "loads", None) is pickle.loads
    )


def _decode(value: Any) -> CachedEntry | None:
    try:
        data = pickle.loads(value)
        content, status, expires = data["_content"], data["status_code"], data.get("expires")
        if not isinstance(content, bytes) or not isinstance(status, int):
            return None
        moment = datetime.fromisoformat(expires) if isinstance(expires, str) else None
        if expires is not None and (moment is None or moment.tzinfo is None):
            return None
        headers = data.get("headers")
        return CachedEntry(content, moment, status, dict(headers) if isinstance(headers, dict) else {})
    except Exception:  # anything unexpected: requests-cache decodes it
        return None


def _agrees(entry: CachedEntry, response: Any) -> bool:
    try:
        return bool(
            response is not None
            and response.content == entry.content
            and response.status_code == entry.status_code
            and response.expires == entry.expires
            and response.is_expired == entry.is_expired
        )
    except Exception:
        return False

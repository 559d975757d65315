"""Cache keys for GET requests, without redoing requests-cache's URL normalization each time.

requests-cache derives a key from the method, the normalized URL (scheme, IDNA host, port, path,
sorted query), the body, `verify` and the serializer, and normalizes the URL again for every key
it makes: about 0.1 ms of CPU, three times per request (our lookup, its own lookup, the save),
and once per lot for the bulk lookup of a dump. `KeyMaker` takes over `backend.create_key`:

- it remembers the key of each (method, URL, verify) it has seen;
- for a URL whose path is plain segments of letters, digits, `-` and `_` (no query, no dots, no
  escapes), which normalization leaves as they are, it normalizes the origin once and hashes
  the rest itself. That shortcut is checked against requests-cache's own key on the first URL of
  each origin, and not used for the origin if they differ (another requests-cache version).

Anything else (a body, headers to match, a query) goes to requests-cache as before.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

import requests

MEMO_SIZE = 8192
PLAIN_PATH = re.compile(r"(?:/[A-Za-z0-9_-]+)+")


class KeyMaker:
    def __init__(self, backend: Any) -> None:
        self._create = backend.create_key
        self._serializer = str(getattr(getattr(backend, "responses", None), "serializer", None))
        self._memo: dict[tuple[str, str, bool], str] = {}
        self._origins: dict[tuple[str, str, str, bool], str] = {}  # -> normalized origin, "" if unusable

    @classmethod
    def install(cls, backend: Any) -> KeyMaker:
        maker = cls(backend)
        backend.create_key = maker.create_key
        return maker

    def create_key(self, request: Any = None, match_headers: Any = None, **kwargs: Any) -> str:
        """Drop-in for `BaseCache.create_key`."""
        if match_headers or not isinstance(request, requests.PreparedRequest) or request.body:
            return str(self._create(request, match_headers=match_headers, **kwargs))
        return self._key(request.method or "", request.url or "", bool(kwargs.get("verify", True)), request)

    def key_for_url(self, url: str) -> str:
        """The key of a plain `GET url` (what `create_key` gives for its prepared request)."""
        return self._key("GET", url, True, None)

    def _key(self, method: str, url: str, verify: bool, prepared: requests.PreparedRequest | None) -> str:
        memo_key = (method, url, verify)
        key = self._memo.get(memo_key)
        if key is not None:
            return key
        key = self._shortcut(method, url, verify)
        if key is None:
            if prepared is None:
                prepared = requests.Request(method, url).prepare()
            key = str(self._create(prepared, verify=verify))
        if len(self._memo) >= MEMO_SIZE:
            self._memo.clear()
        self._memo[memo_key] = key
        return key

    def _shortcut(self, method: str, url: str, verify: bool) -> str | None:
        parts = urlsplit(url)
        if parts.query or parts.fragment or not PLAIN_PATH.fullmatch(parts.path):
            return None
        origin_key = (method, parts.scheme, parts.netloc, verify)
        base = self._origins.get(origin_key)
        if base is None:
            base = self._origins[origin_key] = self._learn_origin(method, url, parts.path, verify)
        return self._hash(method, base + parts.path, verify) if base else None

    def _learn_origin(self, method: str, url: str, path: str, verify: bool) -> str:
        """The normalized origin of `url`, if hashing it with a plain path gives requests-cache's key."""
        try:
            from requests_cache.cache_keys import normalize_url

            prepared = requests.Request(method, url).prepare()
            normalized = normalize_url(url, None)
            if prepared.url != url or not normalized.endswith(path):
                return ""
            base = normalized[: len(normalized) - len(path)]
            if self._hash(method, base + path, verify) != str(self._create(prepared, verify=verify)):
                return ""
            return base
        except Exception:  # any surprise: no shortcut for this origin
            return ""

    def _hash(self, method: str, normalized_url: str, verify: bool) -> str:
        digest = hashlib.blake2b(digest_size=8)
        for part in (method, normalized_url, "", verify, self._serializer):
            digest.update(str(part).encode() if part else b"")
        return digest.hexdigest()

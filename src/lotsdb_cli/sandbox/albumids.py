"""Deterministic Spotify-shaped album ids of the sandbox (22 base62 characters)."""

from __future__ import annotations

import hashlib

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def album_id(seed: int, index: int) -> str:
    """The id of album number `index` (0-based) of the sandbox started with `seed`."""
    number = int.from_bytes(hashlib.sha256(f"lotsdb-sandbox-album:{seed}:{index}".encode()).digest())
    chars = []
    for _ in range(22):
        number, digit = divmod(number, 62)
        chars.append(BASE62[digit])
    return "".join(chars)


def album_ids(seed: int, count: int) -> list[str]:
    return [album_id(seed, index) for index in range(count)]

"""Generated album covers: a square PNG per album and size, its colours and shapes derived from the
album id, written with zlib and struct (no imaging library). The same id always gives the same
picture, at every size."""

from __future__ import annotations

import colorsys
import functools
import hashlib
import math
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KINDS = ("sunset", "record", "blocks", "rings")


@dataclass(frozen=True)
class Span:
    """Pixels [start, stop) of one row in one colour."""

    start: int
    stop: int
    color: bytes


@dataclass(frozen=True)
class Design:
    """What a cover shows, in fractions of its side so that every size looks alike."""

    kind: str
    top: bytes  # background at the top edge (RGB)
    bottom: bytes  # background at the bottom edge
    accent: bytes
    ink: bytes
    center_x: float
    center_y: float
    radius: float


def design_for(album_id: str) -> Design:
    digest = hashlib.sha256(f"lotsdb-sandbox-cover:{album_id}".encode()).digest()
    hue = digest[0] / 256
    accent_hue = hue + 0.25 + digest[1] / 1024  # far enough round the wheel to stand out
    return Design(
        kind=KINDS[digest[2] % len(KINDS)],
        top=_rgb(hue, 0.18 + digest[3] / 2048, 0.45),
        bottom=_rgb(hue + 0.06, 0.42 + digest[4] / 2048, 0.55),
        accent=_rgb(accent_hue, 0.62, 0.75),
        ink=_rgb(hue + 0.5, 0.12, 0.25),
        center_x=0.35 + digest[5] / 850,
        center_y=0.38 + digest[6] / 1000,
        radius=0.22 + digest[7] / 2000,
    )


@functools.lru_cache(maxsize=512)
def cover_png(album_id: str, size: int) -> bytes:
    """The cover of `album_id` as a `size` x `size` RGB PNG."""
    return encode_png(size, size, paint(design_for(album_id), size))


def paint(design: Design, size: int) -> Iterator[bytes]:
    """The picture's rows, top to bottom, as RGB bytes."""
    last_row = max(1, size - 1)
    for y in range(size):
        row = bytearray(_mix(design.top, design.bottom, y / last_row) * size)
        for span in _spans(design, size, y + 0.5):
            start, stop = max(0, span.start), min(size, span.stop)
            if stop > start:
                row[start * 3 : stop * 3] = span.color * (stop - start)
        yield bytes(row)


def encode_png(width: int, height: int, rows: Iterator[bytes]) -> bytes:
    """An 8-bit RGB PNG of `rows` (each `width` * 3 bytes), no filtering."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + row for row in rows), 6)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def _spans(design: Design, size: int, y: float) -> list[Span]:
    cx, cy, radius = design.center_x * size, design.center_y * size, design.radius * size
    if design.kind == "sunset":
        # A low sun cut by bands that thicken towards the horizon, over dark ground.
        sun_y, sun_radius = size * 0.55, radius * 1.3
        below = (y - sun_y) / sun_radius  # 0 to 1 across the sun's lower half
        cut = below > 0 and (below * 6) % 1 < below * 0.8
        spans = [] if cut else _disc(size / 2, sun_y, sun_radius, y, design.accent)
        return spans + ([Span(0, size, design.ink)] if y > size * 0.8 else [])
    if design.kind == "record":
        return (
            _disc(size / 2, size / 2, size * 0.44, y, design.ink)
            + _disc(size / 2, size / 2, size * 0.30, y, _mix(design.ink, design.top, 0.25))
            + _disc(size / 2, size / 2, size * 0.27, y, design.ink)
            + _disc(size / 2, size / 2, size * 0.15, y, design.accent)
            + _disc(size / 2, size / 2, size * 0.02, y, design.top)
        )
    if design.kind == "blocks":
        spans = []
        if size * 0.12 <= y < cy + radius:
            spans.append(Span(round(size * 0.12), round(cx + radius), design.accent))
        if cy <= y < size * 0.88:
            spans.append(Span(round(cx), round(size * 0.88), design.ink))
        if abs(y - size * 0.7) < max(1.0, size * 0.012):
            spans.append(Span(0, size, design.accent))
        return spans
    spans = []
    for ring in range(5, 0, -1):  # "rings": concentric, alternating accent and background
        color = design.accent if ring % 2 else _mix(design.top, design.bottom, 0.5)
        spans += _disc(cx, cy, radius * ring / 3.2, y, color)
    return spans


def _disc(cx: float, cy: float, radius: float, y: float, color: bytes) -> list[Span]:
    dy = y - cy
    if abs(dy) >= radius:
        return []
    half = math.sqrt(radius * radius - dy * dy)
    return [Span(round(cx - half), round(cx + half), color)]


def _rgb(hue: float, lightness: float, saturation: float) -> bytes:
    red, green, blue = colorsys.hls_to_rgb(hue % 1.0, lightness, saturation)
    return bytes(round(channel * 255) for channel in (red, green, blue))


def _mix(first: bytes, second: bytes, share: float) -> bytes:
    return bytes(round(a + (b - a) * share) for a, b in zip(first, second, strict=True))


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

"""Reading a gallery page back the way a browser's parser would (its tiles, tags and inline code), and PNGs."""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Debian's headless Chromium, as the browser tests and the gallery scripts start it.
CHROMIUM = os.environ.get("LOTSDB_CHROMIUM", "/usr/bin/chromium")
# Without the network-related flags Chromium keeps calling home, which a closed network refuses.
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Tile:
    q: str
    href: str | None = None
    img: dict[str, str | None] | None = None
    placeholder: bool = False
    texts: dict[str, str] = field(default_factory=dict)  # span class -> its text

    @property
    def title(self) -> str:
        return self.texts.get("title", "")

    @property
    def artist(self) -> str:
        return self.texts.get("artist", "")


@dataclass
class Page:
    tiles: list[Tile] = field(default_factory=list)
    tags: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)  # http-equiv or name -> content

    @property
    def csp(self) -> str:
        return self.meta.get("content-security-policy", "")


class _GalleryParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._tile: Tile | None = None
        self._span: str | None = None
        self._raw: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.page.tags.append((tag, attributes))
        classes = (attributes.get("class") or "").split()
        if tag == "meta" and (attributes.get("http-equiv") or attributes.get("name")):
            key = (attributes.get("http-equiv") or attributes.get("name") or "").lower()
            self.page.meta[key] = attributes.get("content") or ""
        elif tag in ("script", "style"):
            self._raw = []
        elif tag == "li" and "tile" in classes:
            self._tile = Tile(q=attributes.get("data-q") or "")
            self.page.tiles.append(self._tile)
        elif self._tile is not None:
            if tag == "a":
                self._tile.href = attributes.get("href")
            elif tag == "img":
                self._tile.img = attributes
            elif tag == "span" and "cover" in classes and attributes.get("aria-label") == "No cover":
                self._tile.placeholder = True
            elif tag == "span" and classes and classes[0] in ("title", "artist", "meta", "note"):
                self._span = classes[0]
                self._tile.texts[self._span] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._raw is not None:
            (self.page.scripts if tag == "script" else self.page.styles).append("".join(self._raw))
            self._raw = None
        elif tag == "span":
            self._span = None
        elif tag == "li":
            self._tile = None

    def handle_data(self, data: str) -> None:
        if self._raw is not None:
            self._raw.append(data)
        elif self._tile is not None and self._span is not None:
            self._tile.texts[self._span] += data


def parse_gallery(text: str) -> Page:
    parser = _GalleryParser()
    parser.feed(text)
    parser.close()
    return parser.page


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of raw pixel bytes of an 8-bit RGB or RGBA PNG: two screenshots with the
    same pixels need not be the same bytes."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    position, compressed = 8, b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind, body = data[position + 4 : position + 8], data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, color_type = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color_type in (2, 6), "only 8-bit RGB or RGBA"
        elif kind == b"IDAT":
            compressed += body
    raw = zlib.decompress(compressed)
    pixel = 3 if color_type == 2 else 4
    stride = width * pixel
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind_of_filter, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - pixel] if x >= pixel else 0
            up, up_left = previous[x], previous[x - pixel] if x >= pixel else 0
            predictor = (0, left, up, (left + up) // 2, _paeth(left, up, up_left))[kind_of_filter]
            line[x] = (line[x] + predictor) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def _paeth(left: int, up: int, up_left: int) -> int:
    estimate = left + up - up_left
    distances = (abs(estimate - left), abs(estimate - up), abs(estimate - up_left))
    return (left, up, up_left)[distances.index(min(distances))]

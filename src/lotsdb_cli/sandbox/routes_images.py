"""Album covers: every cover URL of the sandbox answers the same tiny PNG, without a token,
as Spotify's image CDN does."""

from __future__ import annotations

import struct
import zlib

from lotsdb_cli.sandbox.messages import Response
from lotsdb_cli.sandbox.routing import Call, Route
from lotsdb_cli.sandbox.services import IMAGES


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    checksum = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", checksum)


def _one_pixel_png() -> bytes:
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\x1d\xb9\x54")  # filter byte, then one green pixel
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", pixels) + _png_chunk(b"IEND", b"")


COVER_PNG = _one_pixel_png()


def get_image(call: Call) -> Response:
    return Response(200, COVER_PNG, "image/png")


def image_routes() -> list[Route]:
    return [Route("GET", "/image/{key}", IMAGES, get_image)]

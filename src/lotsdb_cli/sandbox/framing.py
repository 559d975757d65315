"""How HTTP/1.1 frames a request (RFC 9112), read strictly from the client's buffered stream: the
request line, the header fields, and the body by Content-Length or chunked. What the sandbox
cannot read raises Unreadable with the status to answer, after which the connection is closed:
where the next request would begin is no longer known. Limits are Kestrel's defaults."""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass
from io import BufferedIOBase
from urllib.parse import urlsplit

MAX_REQUEST_LINE = 8 * 1024  # Kestrel's MaxRequestLineSize
MAX_BODY = 30_000_000  # Kestrel's MaxRequestBodySize
MAX_FIELD_LINE = 64 * 1024  # http.client's limit on one header (or trailer) line
MAX_TRAILER_LINES = 100
MAX_CHUNK_SIZE_DIGITS = 16

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_REQUEST_LINE = re.compile(rf"({_TOKEN}) ([\x21-\x7e]+) HTTP/([0-9])\.([0-9])", re.ASCII)
_LINE_START = re.compile(rf"({_TOKEN}) (/[\x21-\x3e\x40-\x7e]*)", re.ASCII)  # up to any "?"
_FIELD_NAME = re.compile(_TOKEN, re.ASCII)
_CONTROL_IN_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # HTAB is allowed
_DECIMAL = re.compile(r"[0-9]+", re.ASCII)
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]+")
_LINE_ENDS = (b"\r\n", b"\n")


class Unreadable(Exception):
    """A request the sandbox cannot read: answered with `status` and the connection closed.
    `line` is what could be made of the request line, so the answer names the right service."""

    def __init__(self, status: int, detail: str, line: RequestLine | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.line = line


@dataclass(frozen=True)
class RequestLine:
    method: str
    target: str
    version: tuple[int, int]
    raw_path: str  # percent-encoded, as sent
    query_string: str


@dataclass(frozen=True)
class BodyFraming:
    length: int | None  # None: chunked
    close_after: bool  # framing a well-behaved client never sends; do not trust the stream after it

    @property
    def has_body(self) -> bool:
        return self.length != 0


def read_request_line(stream: BufferedIOBase) -> RequestLine | None:
    """The request line, or None when the client hung up before sending one. One empty line
    before it is skipped, as RFC 9112 §2.2 asks of servers."""
    line = stream.readline(MAX_REQUEST_LINE + 1)
    if line in _LINE_ENDS:
        line = stream.readline(MAX_REQUEST_LINE + 1)
    if not line:
        return None
    if len(line) > MAX_REQUEST_LINE:
        raise Unreadable(414, f"The request line is longer than {MAX_REQUEST_LINE} bytes.", _start_of(line))
    found = _REQUEST_LINE.fullmatch(line.rstrip(b"\r\n").decode("latin-1"))
    if found is None or not line.endswith(b"\n"):
        raise Unreadable(400, "The request line is malformed.")
    method, target, major, minor = found.groups()
    if major != "1":
        raise Unreadable(505, f"HTTP/{major}.{minor} is not supported; send HTTP/1.1.")
    raw_path, query_string = split_target(target)
    return RequestLine(method, target, (1, int(minor)), raw_path, query_string)


def _start_of(line: bytes) -> RequestLine | None:
    """The method and path of a request line cut short, when its start is well formed."""
    found = _LINE_START.match(line.decode("latin-1"))
    if found is None:
        return None
    method, path = found.groups()
    return RequestLine(method, path, (1, 1), path, "")


def split_target(target: str) -> tuple[str, str]:
    """(path, query) of an origin-form target, or of an absolute-form one (which RFC 9112 §3.2.2
    requires servers to accept)."""
    if target.lower().startswith(("http://", "https://")):
        parts = urlsplit(target)
        return parts.path or "/", parts.query
    if not target.startswith("/"):
        raise Unreadable(400, "The request target must be a path such as /api/Seller.")
    path, _, query = target.partition("?")
    return path, query


def read_fields(stream: BufferedIOBase, version: tuple[int, int]) -> http.client.HTTPMessage:
    """The header section, refused if any line is malformed (no colon, space before the colon,
    a folded line, a control character) and, in HTTP/1.1, without exactly one Host."""
    try:
        fields = http.client.parse_headers(stream)
    except http.client.LineTooLong:
        raise Unreadable(431, f"A header field is longer than {MAX_FIELD_LINE} bytes.") from None
    except http.client.HTTPException:
        raise Unreadable(431, "The request has too many header fields.") from None
    if fields.defects:
        raise Unreadable(400, "A header field line is malformed.")
    for name, value in fields.items():
        if not _FIELD_NAME.fullmatch(name) or _CONTROL_IN_VALUE.search(value):
            raise Unreadable(400, "A header field line is malformed.")
    hosts = fields.get_all("Host") or []
    if len(hosts) > 1 or (version >= (1, 1) and not hosts):
        raise Unreadable(400, "An HTTP/1.1 request needs exactly one Host header.")
    return fields


def field_values(fields: http.client.HTTPMessage) -> dict[str, str]:
    """Header values by lower-cased name; a repeated field is one comma-separated list (RFC 9110 §5.3)."""
    values: dict[str, list[str]] = {}
    for name, value in fields.items():
        values.setdefault(name.lower(), []).append(value.strip(" \t"))
    return {name: ", ".join(listed) for name, listed in values.items()}


def keeps_alive(fields: http.client.HTTPMessage, version: tuple[int, int]) -> bool:
    options = {option.strip().lower() for value in fields.get_all("Connection") or [] for option in value.split(",")}
    if version >= (1, 1):
        return "close" not in options
    return "keep-alive" in options


def expects_continue(fields: http.client.HTTPMessage, version: tuple[int, int]) -> bool:
    return version >= (1, 1) and (fields.get("Expect") or "").strip().lower() == "100-continue"


def body_framing(fields: http.client.HTTPMessage, version: tuple[int, int]) -> BodyFraming:
    """How long the body is (RFC 9112 §6.3): chunked when Transfer-Encoding says so, else one
    Content-Length (repeats must agree), else none."""
    lengths = fields.get_all("Content-Length") or []
    codings = [c.strip().lower() for value in fields.get_all("Transfer-Encoding") or [] for c in value.split(",")]
    if codings:
        if version < (1, 1):
            raise Unreadable(400, "Transfer-Encoding needs HTTP/1.1.")
        if codings[-1] != "chunked" or codings.count("chunked") > 1:
            raise Unreadable(400, "chunked must be the last transfer coding of a request, and only once.")
        if len(codings) > 1:
            raise Unreadable(501, "Only the chunked transfer coding is supported.")
        # Content-Length beside chunked is ignored, and the connection not reused (RFC 9112 §6.3).
        return BodyFraming(None, close_after=bool(lengths))
    return BodyFraming(content_length(lengths), close_after=False)


def content_length(values: list[str]) -> int:
    announced = {item.strip(" \t") for value in values for item in value.split(",")}
    if not announced:
        return 0
    if len(announced) > 1:
        raise Unreadable(400, "The request announces different Content-Length values.")
    (text,) = announced
    if not _DECIMAL.fullmatch(text):
        raise Unreadable(400, f"Content-Length must be a number of bytes, not {text[:40]!r}.")
    if len(text.lstrip("0")) > len(str(MAX_BODY)) or int(text) > MAX_BODY:
        raise Unreadable(413, f"The body is larger than {MAX_BODY} bytes.")
    return int(text)


def read_body(stream: BufferedIOBase, framing: BodyFraming) -> bytes:
    if framing.length is None:
        return read_chunked(stream)
    body = stream.read(framing.length) if framing.length else b""
    if len(body) < framing.length:
        raise Unreadable(400, "The body ended before its Content-Length.")
    return body


def read_chunked(stream: BufferedIOBase) -> bytes:
    """A chunked body (RFC 9112 §7.1), chunk extensions and trailer fields ignored."""
    chunks: list[bytes] = []
    total = 0
    while size := _chunk_size(stream.readline(MAX_FIELD_LINE + 1)):
        total += size
        if total > MAX_BODY:
            raise Unreadable(413, f"The body is larger than {MAX_BODY} bytes.")
        chunk = stream.read(size)
        if len(chunk) < size or stream.readline(3) not in _LINE_ENDS:
            raise Unreadable(400, "A chunk of the body is malformed.")
        chunks.append(chunk)
    _skip_trailer_section(stream)
    return b"".join(chunks)


def _chunk_size(line: bytes) -> int:
    size = line.split(b";", 1)[0].strip(b" \t\r\n")
    if not line.endswith(b"\n") or not _CHUNK_SIZE.fullmatch(size) or len(size) > MAX_CHUNK_SIZE_DIGITS:
        raise Unreadable(400, "A chunk size line is malformed.")
    return int(size, 16)


def _skip_trailer_section(stream: BufferedIOBase) -> None:
    for _ in range(MAX_TRAILER_LINES):
        line = stream.readline(MAX_FIELD_LINE + 1)
        if line in _LINE_ENDS:
            return
        if not line.endswith(b"\n"):
            raise Unreadable(400, "The trailer section is malformed.")
    raise Unreadable(431, "The request has too many trailer fields.")

"""The physical lines of a spreadsheet's bytes, read a chunk at a time and decoded line by line.

Lines end at CRLF, LF or a lone CR, as the csv module counts them. A stream that starts with a
UTF-16 or UTF-32 byte-order mark is decoded as such. Anything else is read as UTF-8, and a byte
sequence that is not UTF-8 is read as Windows-1252 (cp1252), that sequence alone: the one row a
Windows program pasted into a UTF-8 export comes out right, and the UTF-8 text around it stays
as it was. A file with no UTF-8 at all is thereby read as cp1252 throughout. Each line says
whether it needed that, so the reader of the lines can name them.
"""

from __future__ import annotations

import codecs
import io
import os
import select
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from lotsdb_cli.errors import InvalidInput

CHUNK_BYTES = 64 * 1024
_HEAD_BYTES = 4  # enough to recognise any byte-order mark
_UNICODE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ASCII = bytes(range(128))
# The five bytes Windows-1252 leaves undefined: a sequence holding one is in no encoding we read.
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")


@dataclass(frozen=True)
class Line:
    """One physical line. A line longer than the reader's limit is `cut`: its text is dropped,
    and only its length and the quote characters it held are known."""

    number: int  # 1-based
    text: str  # with its line ending
    length: int  # bytes in the stream (for a UTF-16/32 stream: bytes of its UTF-8 text)
    quotes: int  # '"' characters, counted before any cut
    windows_1252: bool = False  # some bytes were not UTF-8 and were read as cp1252
    undecodable: bool = False  # some bytes are neither UTF-8 nor cp1252
    cut: bool = False


class LineReader:
    """Iterates over the lines of `stream`, holding at most one chunk and one line in memory.

    `before_block` is called before a read from a pipe or terminal that would wait for data (so
    a caller can finish what it holds); `on_read` after every read with the bytes read so far.
    """

    def __init__(
        self,
        stream: BinaryIO,
        source_name: str,
        *,
        max_line_bytes: int,
        before_block: Callable[[], None] | None = None,
        on_read: Callable[[int], None] | None = None,
    ) -> None:
        self.source_name = source_name
        self.max_line_bytes = max_line_bytes
        self.encoding = "utf-8"
        self.bytes_read = 0
        self.utf8_seen = False  # a valid multi-byte UTF-8 sequence was decoded
        self._stream = stream
        self._read = getattr(stream, "read1", stream.read)
        self._before_block = before_block
        self._on_read = on_read
        self._pollable_fd, self._size_at_start = _describe(stream)
        self._head: bytes | None = None
        self._lines_left = 0  # lines of the current chunk not yet handed out

    def head(self) -> bytes:
        """The first bytes of the stream, as read (at least enough for a byte-order mark)."""
        if self._head is None:
            head = self._read_chunk()
            while head and len(head) < _HEAD_BYTES:
                more = self._read_chunk()
                if not more:
                    break
                head += more
            self._head = head
        return self._head

    def changed_while_read(self) -> bool:
        """True if a regular file's size differs from what was read (it grew or shrank meanwhile)."""
        if self._size_at_start is None:
            return False
        try:
            size_now = os.fstat(self._stream.fileno()).st_size
        except (OSError, ValueError):
            return False
        return self.bytes_read != self._size_at_start or size_now != self._size_at_start

    def would_wait(self) -> bool:
        """True when the next line needs a read from a pipe or terminal that has no data yet
        (a slow producer): whoever reads ahead should make do with what it has."""
        return self._lines_left == 0 and self._pollable_fd is not None and not _readable(self._pollable_fd)

    def __iter__(self) -> Iterator[Line]:
        for number, (raw, length, quotes) in enumerate(self._split_lines(), start=1):
            if raw is None:
                yield Line(number, "", length, quotes, cut=True)
            else:
                yield self._decode(number, raw, quotes)

    # -- reading ---------------------------------------------------------------------------

    def _read_chunk(self) -> bytes:
        if self._before_block is not None and self._pollable_fd is not None and not _readable(self._pollable_fd):
            self._before_block()
        try:
            data = self._read(CHUNK_BYTES)
        except OSError as exc:
            raise InvalidInput(f"cannot read {self.source_name}: {exc.strerror or exc}") from None
        self.bytes_read += len(data)
        if self._on_read is not None:
            self._on_read(self.bytes_read)
        return data

    def _chunks(self) -> Iterator[bytes]:
        """The stream as UTF-8 (or cp1252) bytes: a UTF-16/32 stream is transcoded on the way."""
        head = self.head()
        self.encoding = bom_encoding(head) or "utf-8"
        if self.encoding == "utf-8":
            yield head.removeprefix(codecs.BOM_UTF8)
            while head and (chunk := self._read_chunk()):
                yield chunk
            return
        transcode = self._transcoder(self.encoding)
        yield transcode(head, False)
        while head and (chunk := self._read_chunk()):
            yield transcode(chunk, False)
        yield transcode(b"", True)

    def _transcoder(self, encoding: str) -> Callable[[bytes, bool], bytes]:
        decoder = codecs.getincrementaldecoder(encoding)()

        def transcode(data: bytes, final: bool) -> bytes:
            try:
                return decoder.decode(data, final).encode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidInput(
                    f"{self.source_name}: not valid {encoding} text ({exc.reason}, near byte {self.bytes_read:,})"
                ) from None

        return transcode

    def _split_lines(self) -> Iterator[tuple[bytes | None, int, int]]:
        """(bytes, length, quotes) of each line; bytes None for a line longer than the limit.

        A line's end may lie in a later chunk, and so may the LF of a CR at a chunk's end: the
        unfinished part waits in `pending`. A line past the limit is counted, not kept.
        """
        pending = b""
        cut: _CutLine | None = None
        for chunk in self._chunks():
            data = pending + chunk if pending else chunk
            parts = data.splitlines(keepends=True)
            pending = parts.pop() if parts and not parts[-1].endswith(b"\n") else b""
            if cut is not None and parts:
                cut.add(parts.pop(0))
                yield None, cut.length, cut.quotes
                cut = None
            self._lines_left = len(parts)
            for part in parts:
                self._lines_left -= 1
                yield part, len(part), part.count(b'"')
            if cut is None and len(pending) > self.max_line_bytes:
                cut = _CutLine()
            if cut is not None:
                # Keep back a final CR: the LF that may complete it starts the next chunk.
                kept = b"\r" if pending.endswith(b"\r") else b""
                cut.add(pending[: len(pending) - len(kept)])
                pending = kept
        if cut is not None:
            cut.add(pending)
            yield None, cut.length, cut.quotes
        elif pending:
            yield pending, len(pending), pending.count(b'"')

    # -- decoding --------------------------------------------------------------------------

    def _decode(self, number: int, raw: bytes, quotes: int) -> Line:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text, utf8_seen, undecodable = _decode_mixed(raw)
            self.utf8_seen = self.utf8_seen or utf8_seen
            return Line(number, text, len(raw), quotes, windows_1252=True, undecodable=undecodable)
        if not self.utf8_seen and not raw.isascii():
            self.utf8_seen = True
        return Line(number, text, len(raw), quotes)


def bom_encoding(head: bytes) -> str | None:
    """`utf-16` or `utf-32` if `head` starts with their byte-order mark."""
    return next((encoding for bom, encoding in _UNICODE_BOMS if head.startswith(bom)), None)


class _CutLine:
    def __init__(self) -> None:
        self.length = 0
        self.quotes = 0

    def add(self, data: bytes) -> None:
        self.length += len(data)
        self.quotes += data.count(b'"')


def _decode_mixed(raw: bytes) -> tuple[str, bool, bool]:
    """Text of a line that is not all UTF-8: each sequence that is not read as cp1252.

    Also says whether the line holds valid multi-byte UTF-8 too, and whether some bytes are not
    cp1252 either (they become U+FFFD).
    """
    view = memoryview(raw)
    parts: list[str] = []
    position = fallback_bytes = 0
    undecodable = False
    while True:
        try:
            parts.append(str(view[position:], "utf-8"))
            break
        except UnicodeDecodeError as exc:
            bad_start, bad_end = position + exc.start, position + exc.end
            parts.append(str(view[position:bad_start], "utf-8"))
            bad = raw[bad_start:bad_end]
            fallback_bytes += len(bad)
            undecodable = undecodable or any(byte in _CP1252_UNDEFINED for byte in bad)
            parts.append(bad.decode("cp1252", errors="replace"))
            position = bad_end
    non_ascii_bytes = len(raw.translate(None, _ASCII))
    return "".join(parts), non_ascii_bytes > fallback_bytes, undecodable


def _describe(stream: BinaryIO) -> tuple[int | None, int | None]:
    """(a descriptor to poll when reads may wait: pipe, terminal, socket; a regular file's size)."""
    try:
        descriptor = stream.fileno()
        status = os.fstat(descriptor)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return None, None
    if stat.S_ISREG(status.st_mode):
        try:
            position = stream.tell()
        except (OSError, ValueError):
            position = 0
        return None, max(status.st_size - position, 0)
    return descriptor, None


def stream_size(stream: BinaryIO) -> int | None:
    """The bytes left to read in a regular file or an in-memory buffer; None for a pipe or terminal."""
    if isinstance(stream, io.BytesIO):
        return stream.getbuffer().nbytes - stream.tell()
    return _describe(stream)[1]


def _readable(descriptor: int) -> bool:
    try:
        ready, _, _ = select.select([descriptor], [], [], 0)
    except (OSError, ValueError):  # Windows cannot poll pipes: treat every read as one that may wait
        return False
    return bool(ready)

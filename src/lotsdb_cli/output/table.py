"""Plain-text tables for a terminal: list tables that stream and fit its width, and field/value views.

A list table reads a bounded sample of rows (`SAMPLE_ROWS`), chooses its column widths from them
and from the width it must fit, writes them and then writes every later row as it comes, so a
table of a million rows takes no more memory than one of two hundred. When the columns are too
wide, long free text (titles, names, descriptions) shrinks first, then other text (URLs, codes);
ids, numbers, dates and booleans are never cut, only their headers; when even that does not fit,
the rightmost columns are left out and named in `TableWriter.hidden`. With no width (stdout is not
a terminal) nothing is cut; a later cell wider than the sample's pushes the rest of its row right.

A field/value view (one object) never cuts a value: a long value continues on the next lines,
words wrapped, a URL or an id kept whole on its own line so it can be copied; lists of scalars
take one line per item, lists of objects follow as tables of their own, in which only free text
is cut.
"""

from __future__ import annotations

import enum
import functools
import io
import re
import textwrap
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from lotsdb_cli.output.values import flatten, terminal_safe

SAMPLE_ROWS = 200  # rows that set a streamed table's column widths
GAP = "  "
SHRINK_MIN = 10  # a text column is not cut narrower than this; columns are left out instead
HEADER_MIN = 8  # the header of an id, number, date or boolean column is cut to this before any text
NARROWEST_VALUE = 20  # a field/value view's value column, however narrow the terminal
ELLIPSIS = "…"
EMPTY = "(none)\n"


class Shrink(enum.IntEnum):
    """Which columns give up width first."""

    FREE_TEXT = 0  # titles, names, descriptions (text with spaces), and JSON of nested values
    OTHER_TEXT = 1  # URLs, codes: text without spaces
    NEVER = 2  # ids, numbers, dates, booleans (only their header may be cut)


# Text

_WIDE = frozenset("WF")


def display_width(text: str) -> int:
    """Terminal columns `text` takes: wide (CJK) characters count two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(map(_char_width, text))


@functools.lru_cache(maxsize=4096)
def _char_width(char: str) -> int:
    if unicodedata.combining(char) or char == "\u200b":
        return 0
    return 2 if unicodedata.east_asian_width(char) in _WIDE else 1


def clip(text: str, width: int) -> str:
    """`text` cut to `width` columns, the cut marked with an ellipsis."""
    if text.isascii():
        return text if len(text) <= width else text[: max(width - 1, 0)].rstrip() + ELLIPSIS * (width > 0)
    if display_width(text) <= width:
        return text
    if width <= 0:
        return ""
    kept: list[str] = []
    used = 0
    for char in text:
        char_width = _char_width(char)
        if used + char_width > width - 1:
            break
        kept.append(char)
        used += char_width
    return "".join(kept).rstrip() + ELLIPSIS


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def _cell(text: str, width: int, cut: bool) -> str:
    """A cell padded to `width`, cut to it first when `cut`; the common all-ASCII case without a loop."""
    if text.isascii():
        if not cut or len(text) <= width:
            return text + " " * (width - len(text))
        return text[: width - 1].rstrip().ljust(width - 1) + ELLIPSIS
    return _pad(clip(text, width) if cut else text, width)


# Columns

_ID_NAME = re.compile(r"^(?:id|ids|.+Ids?|.+IDs?|.+_ids?)$")
_FIXED_TEXT = re.compile(
    r"""^(?:
        [-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?                                   # a number
      | \d{4}-\d{2}-\d{2}(?:[T\ ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?  # a date or time
      | \d+:\d{2}(?::\d{2})?                                                  # a duration (8:08)
      | true|false|True|False
    )$""",
    re.VERBOSE,
)


def shrink_class(name: str, values: Iterable[Any]) -> Shrink:
    """How a column may shrink, from its name (ids) and its sampled values."""
    if _ID_NAME.match(name):
        return Shrink.NEVER
    present = [value for value in values if value is not None and value != ""]
    if not present:
        return Shrink.OTHER_TEXT
    if all(_is_fixed(value) for value in present):
        return Shrink.NEVER
    if any(isinstance(value, str) and (" " in value.strip() or value[:1] in "[{") for value in present):
        return Shrink.FREE_TEXT
    return Shrink.OTHER_TEXT


def _is_fixed(value: Any) -> bool:
    if isinstance(value, bool | int | float):
        return True
    return isinstance(value, str) and _FIXED_TEXT.match(value) is not None


@dataclass
class Column:
    name: str
    natural: int  # the widest of the header and the sampled cells
    widest_value: int  # the widest sampled cell
    shrink: Shrink
    width: int = 0


def fit(columns: Sequence[Column], width: int | None, *, leave_out: bool = True) -> list[Column]:
    """Set each column's width so the table fits `width` terminal columns; return the columns shown.

    In turn, until the table fits: long headers of ids, numbers, dates and booleans are cut to a
    few characters more than their values (never the values); free text shrinks, widest first, to
    `SHRINK_MIN`; so does other text; those headers are cut to their values' width. If that is
    not enough, the rightmost columns are left out (never the first), or with `leave_out=False`
    the table stays wider than `width`.
    """
    shown = list(columns)
    while True:
        for column in shown:
            column.width = column.natural
        if width is None or _excess(shown, width) <= 0 or len(shown) == 1:
            return shown
        if _shrink(shown, width) or not leave_out:
            return shown
        shown.pop()


# (which columns, the narrowest each may become) in the order they give up width
_SHRINK_STEPS: tuple[tuple[Shrink, Callable[[Column], int]], ...] = (
    (Shrink.NEVER, lambda column: min(column.natural, max(column.widest_value, HEADER_MIN))),
    (Shrink.FREE_TEXT, lambda column: min(column.natural, SHRINK_MIN)),
    (Shrink.OTHER_TEXT, lambda column: min(column.natural, SHRINK_MIN)),
    (Shrink.NEVER, lambda column: min(column.natural, max(column.widest_value, len(ELLIPSIS) + 1))),
)


def _excess(columns: Sequence[Column], width: int) -> int:
    return sum(column.width for column in columns) + len(GAP) * (len(columns) - 1) - width


def _shrink(columns: Sequence[Column], width: int) -> bool:
    excess = _excess(columns, width)
    for level, floor in _SHRINK_STEPS:
        group = [column for column in columns if column.shrink is level]
        while excess > 0:
            candidates = [column for column in group if column.width > floor(column)]
            if not candidates:
                break
            widest = max(candidates, key=lambda column: column.width)
            widest.width -= 1
            excess -= 1
        if excess <= 0:
            return True
    return False


# List tables


class TableWriter:
    """Writes a list table row by row: widths from the first `sample_rows` rows, then streaming.

    Rows are flat mappings (see `flatten`); `columns` defaults to the keys of the sampled rows.
    After `close()`, `hidden` names the columns left out to fit the width. With `whole_values`
    (the tables of a field/value view) only free text is cut, and no column is left out: URLs,
    codes and ids stay whole even if a row is then wider than the terminal.
    """

    def __init__(
        self,
        stream: IO[str],
        columns: Sequence[str] | None = None,
        *,
        width: int | None = None,
        sample_rows: int = SAMPLE_ROWS,
        whole_values: bool = False,
    ) -> None:
        self.stream = stream
        self.whole_values = whole_values
        self.names = list(columns) if columns else None
        self.width = width
        self.sample_rows = max(1, sample_rows)
        self.hidden: list[str] = []
        self._sample: list[Mapping[str, Any]] = []
        self._shown: list[Column] | None = None

    def write(self, row: Mapping[str, Any]) -> None:
        if self._shown is not None:
            self._write_row(row)
            return
        self._sample.append(row)
        if len(self._sample) >= self.sample_rows:
            self._start()

    def close(self) -> None:
        if self._shown is None:
            if not self._sample:
                self.stream.write(EMPTY)
                return
            self._start()

    def _start(self) -> None:
        names = self.names if self.names is not None else list(_union_keys(self._sample))
        cells = [[terminal_safe(row.get(name)) for name in names] for row in self._sample]
        columns = []
        for index, name in enumerate(names):
            widest_value = max((display_width(line[index]) for line in cells), default=0)
            shrink = shrink_class(name, (row.get(name) for row in self._sample))
            if self.whole_values and shrink is Shrink.OTHER_TEXT:
                shrink = Shrink.NEVER
            columns.append(Column(name, max(display_width(name), widest_value), widest_value, shrink))
        self._shown = fit(columns, self.width, leave_out=not self.whole_values)
        self.hidden = [column.name for column in columns[len(self._shown) :]]
        header = [_pad(clip(column.name, column.width), column.width) for column in self._shown]
        self.stream.write(GAP.join(header).rstrip() + "\n")
        self.stream.write(GAP.join("-" * column.width for column in self._shown) + "\n")
        for line in cells:  # the shown columns are the first ones: zip leaves the hidden out
            self.stream.write(self._line(line))
        self._sample = []

    def _write_row(self, row: Mapping[str, Any]) -> None:
        assert self._shown is not None
        self.stream.write(self._line([terminal_safe(row.get(column.name)) for column in self._shown]))

    def _line(self, texts: Sequence[str]) -> str:
        """One row: each cell padded to its column, free and other text cut to it when there is a width."""
        assert self._shown is not None
        cut = self.width is not None
        cells = [
            _cell(text, column.width, cut and column.shrink is not Shrink.NEVER)
            for text, column in zip(texts, self._shown, strict=False)
        ]
        return GAP.join(cells).rstrip() + "\n"


def render_table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, *, width: int | None = None
) -> str:
    """A whole table as text (every row sets the widths); "(none)" for no rows."""
    buffer = io.StringIO()
    writer = TableWriter(buffer, columns, width=width, sample_rows=len(rows))
    for row in rows:
        writer.write(row)
    writer.close()
    return buffer.getvalue()


def _union_keys(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


# Field/value views


class _Items(list[Any]):
    """A list of scalars, shown one item per line."""


def write_fields(stream: IO[str], record: Mapping[str, Any], *, width: int | None = None) -> None:
    """One object as a field/value view; its lists of objects follow as tables of their own."""
    pairs, tables = _split(record)
    field_width = max((display_width(name) for name, _ in pairs), default=0)
    field_width = max(field_width, len("field"))
    value_width = None if width is None else max(width - field_width - len(GAP), NARROWEST_VALUE)
    rows = [(name, _value_lines(value, value_width)) for name, value in pairs]
    rule = max((display_width(line) for _, lines in rows for line in lines), default=0)
    rule = max(len("value"), rule if value_width is None else min(rule, value_width))
    stream.write(_pad("field", field_width) + GAP + "value\n")
    stream.write("-" * field_width + GAP + "-" * rule + "\n")
    indent = " " * (field_width + len(GAP))
    for name, lines in rows:
        stream.write((_pad(name, field_width) + GAP + lines[0]).rstrip() + "\n")
        for line in lines[1:]:
            stream.write(indent + line + "\n")
    for name, items in tables:
        stream.write(f"\n{name}:\n")
        writer = TableWriter(stream, width=width, sample_rows=len(items), whole_values=True)
        for item in items:
            writer.write(flatten(item))
        writer.close()


def _split(record: Mapping[str, Any], prefix: str = "") -> tuple[list[tuple[str, Any]], list[tuple[str, list[Any]]]]:
    """Scalars (nested objects as dotted names) for the view, and the lists of objects for tables."""
    pairs: list[tuple[str, Any]] = []
    tables: list[tuple[str, list[Any]]] = []
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            nested_pairs, nested_tables = _split(value, f"{name}.")
            pairs.extend(nested_pairs)
            tables.extend(nested_tables)
        elif isinstance(value, list) and value and all(isinstance(item, Mapping) for item in value):
            tables.append((name, value))
        elif isinstance(value, list) and not any(isinstance(item, Mapping | list) for item in value):
            pairs.append((name, _Items(value)))
        else:
            pairs.append((name, value))
    return pairs, tables


def _value_lines(value: Any, width: int | None) -> list[str]:
    texts = [terminal_safe(item) for item in value] if isinstance(value, _Items) else [terminal_safe(value)]
    lines = [line for text in texts for line in _wrap(text, width)]
    return lines or [""]


def _wrap(text: str, width: int | None) -> list[str]:
    """Words wrapped to `width`; a word longer than that (a URL, an id) stays whole on its own line."""
    if width is None or display_width(text) <= width:
        return [text]
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]

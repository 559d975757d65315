"""Plain-text tables for a terminal: list tables that stream and fit its width, and field/value views.

Nothing is ever cut: not a value, not a header. A list table reads a bounded sample of rows
(`SAMPLE_ROWS`), chooses its column widths from them and from the width it must fit, writes them,
then writes every later row as it comes, so a table of a million rows takes no more memory than one
of two hundred. When the columns are too wide, the widest text gives up width first: free text
(titles, names, descriptions) is wrapped onto more lines of its row on whole words, long URLs,
paths and codes onto two lines; then URLs, paths and codes are wrapped further, down to
`OTHER_TEXT_MIN` columns, a long word broken after a `/`, `_`, `.` or `-` where it can be; last,
free text down to `FREE_TEXT_MIN` columns, its long words broken the same way (so a variable name
stays whole longest). Ids, numbers, dates and booleans are never wrapped, and no column is narrower
than its header. When even that does not fit (or the wrapped rows would take more lines than
records), every row is shown as a record, one `field  value` line per column under a
`-[ RECORD n ]` rule, as `psql`'s expanded display (`\\x auto`) does. With no width (stdout is not
a terminal) nothing is wrapped; a later cell wider than the sample's pushes the rest of its row right.

A field/value view (one object) wraps a long value onto the next lines of its value column; lists
of scalars take one line per item; lists of objects follow as list tables of their own, which fit
the same way. On a terminal too narrow for the names and a readable value column side by side
(`NARROWEST_VALUE`), each value goes under its name, indented.
"""

from __future__ import annotations

import enum
import functools
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from lotsdb_cli.output.text import display_width, pad, wrap
from lotsdb_cli.output.values import flatten, terminal_safe

SAMPLE_ROWS = 200  # rows that set a streamed table's column widths
GAP = "  "
# The narrowest a column is wrapped to (never narrower than its header): free text reads well
# on short lines, a URL, a path or a code broken into short pieces does not.
FREE_TEXT_MIN = 10
OTHER_TEXT_MIN = 20
NARROWEST_VALUE = 20  # a value column narrower than this puts each value under its name instead
INDENT = "  "  # of a value under its name
EMPTY = "(none)\n"


class Shrink(enum.IntEnum):
    """Which columns give up width first."""

    FREE_TEXT = 0  # titles, names, descriptions (text with spaces), and JSON of nested values
    OTHER_TEXT = 1  # URLs, codes: text without spaces
    NEVER = 2  # ids, numbers, dates, booleans: never wrapped


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
    longest_word: int  # the longest word of a sampled cell: narrower, free text breaks words
    shrink: Shrink
    texts: Sequence[str] = field(default=(), repr=False)  # the sampled cells
    width: int = 0

    @property
    def floor(self) -> int:
        """The narrowest this column may become: never narrower than its header."""
        if self.shrink is Shrink.NEVER:
            return self.natural
        narrowest = FREE_TEXT_MIN if self.shrink is Shrink.FREE_TEXT else OTHER_TEXT_MIN
        return max(display_width(self.name), min(self.natural, narrowest))

    @functools.cached_property
    def two_lines(self) -> int:
        """The narrowest width (down to the floor) at which every sampled cell takes at most two lines."""
        narrowest, widest = self.floor, self.natural
        while narrowest < widest:
            middle = (narrowest + widest) // 2
            if all(len(wrap(text, middle)) <= 2 for text in self.texts):
                widest = middle
            else:
                narrowest = middle + 1
        return widest


def fit(columns: Sequence[Column], width: int | None) -> bool:
    """Set each column's width so the table fits `width` terminal columns; False if it cannot.

    The widest text column gives up width first, in rounds until the table fits: free text down
    to its longest word (wrapped on whole words) and long other text to two lines; then other text
    down to its `floor`; then free text (its words broken). Ids, numbers, dates and booleans keep
    their width, and no column becomes narrower than its header.
    """
    for column in columns:
        column.width = column.natural
    if width is None:
        return True
    excess = sum(column.width for column in columns) + len(GAP) * (len(columns) - 1) - width
    text = [column for column in columns if column.shrink is not Shrink.NEVER]
    excess = _narrow(text, excess, _first_round)
    for kind in (Shrink.OTHER_TEXT, Shrink.FREE_TEXT):
        excess = _narrow([column for column in text if column.shrink is kind], excess, lambda column: column.floor)
    return excess <= 0


def _first_round(column: Column) -> int:
    if column.shrink is Shrink.FREE_TEXT:
        return max(column.floor, column.longest_word)
    # A short code or name (a setting, a status) stays on one line; a long URL or path takes two.
    return max(column.two_lines, min(column.natural, 2 * OTHER_TEXT_MIN))


def _narrow(group: Sequence[Column], excess: int, narrowest: Callable[[Column], int]) -> int:
    """Take up to `excess` columns of width from `group`, the widest first; return what is left."""
    while excess > 0:
        candidates = [column for column in group if column.width > narrowest(column)]
        if not candidates:
            break
        widest = max(candidates, key=lambda column: column.width)
        runner_up = max((column.width for column in candidates if column is not widest), default=0)
        target = max(narrowest(widest), runner_up, widest.width - excess)
        if target >= widest.width:  # as wide as the runner-up: one column at a time
            target = widest.width - 1
        excess -= widest.width - target
        widest.width = target
    return excess


# List tables


class TableWriter:
    """Writes a list table row by row: widths from the first `sample_rows` rows, then streaming.

    Rows are flat mappings (see `flatten`); `columns` defaults to the keys of the sampled rows.
    After the sample, `as_records` says whether the rows are shown as records (the columns could
    not fit the width, or their wrapped cells would take more lines) rather than as a grid.
    """

    def __init__(
        self,
        stream: IO[str],
        columns: Sequence[str] | None = None,
        *,
        width: int | None = None,
        sample_rows: int = SAMPLE_ROWS,
    ) -> None:
        self.stream = stream
        self.names = list(columns) if columns else None
        self.width = width
        self.sample_rows = max(1, sample_rows)
        self.as_records = False
        self._sample: list[Mapping[str, Any]] = []
        self._columns: list[Column] | None = None
        self._records: _RecordLayout | None = None

    def write(self, row: Mapping[str, Any]) -> None:
        if self._columns is not None:
            self._write_row([terminal_safe(row.get(column.name)) for column in self._columns])
            return
        self._sample.append(row)
        if len(self._sample) >= self.sample_rows:
            self._start()

    def close(self) -> None:
        if self._columns is None:
            if not self._sample:
                self.stream.write(EMPTY)
                return
            self._start()

    def _start(self) -> None:
        names = self.names if self.names is not None else _union_keys(self._sample)
        cells = [[terminal_safe(row.get(name)) for name in names] for row in self._sample]
        self._columns = [
            _column(name, [line[index] for line in cells], (row.get(name) for row in self._sample))
            for index, name in enumerate(names)
        ]
        fits = fit(self._columns, self.width)
        records = None if self.width is None else _RecordLayout(self.stream, names, self.width, cells)
        if records is not None and (not fits or records.line_count(cells) < self._grid_line_count(cells)):
            self.as_records = True  # the grid cannot fit, or its cells would wrap onto more lines than records
            self._records = records
        else:
            header = [pad(column.name, column.width) for column in self._columns]
            self.stream.write(GAP.join(header).rstrip() + "\n")
            self.stream.write(GAP.join("-" * column.width for column in self._columns) + "\n")
        for line in cells:
            self._write_row(line)
        self._sample = []

    def _grid_line_count(self, cells: Sequence[Sequence[str]]) -> int:
        assert self._columns is not None
        if all(column.width == column.natural for column in self._columns):
            return len(cells)
        return sum(
            max(len(wrap(text, column.width)) for text, column in zip(row, self._columns, strict=True)) for row in cells
        )

    def _write_row(self, texts: Sequence[str]) -> None:
        if self._records is not None:
            self._records.write(texts)
            return
        assert self._columns is not None
        if self.width is None:
            cells = [pad(text, column.width) for text, column in zip(texts, self._columns, strict=True)]
            self.stream.write(GAP.join(cells).rstrip() + "\n")
            return
        # A later cell wider than the sample's wraps in its column; in the last column, only at the
        # terminal's edge: nothing to its right needs it to keep in line.
        limits = [column.width for column in self._columns]
        limits[-1] = self.width - sum(limits[:-1]) - len(GAP) * (len(limits) - 1)
        wrapped = [wrap(text, limit) for text, limit in zip(texts, limits, strict=True)]
        for number in range(max(map(len, wrapped))):
            cells = [
                pad(lines[number] if number < len(lines) else "", column.width)
                for lines, column in zip(wrapped, self._columns, strict=True)
            ]
            self.stream.write(GAP.join(cells).rstrip() + "\n")


def _column(name: str, texts: Sequence[str], values: Iterable[Any]) -> Column:
    widest = max(map(display_width, texts), default=0)
    longest_word = max((display_width(word) for text in texts for word in text.split()), default=0)
    return Column(name, max(display_width(name), widest), longest_word, shrink_class(name, values), texts)


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


# Fields and values, side by side or one under the other


class _Fields:
    """Lines of `name  value` pairs fitted to a width: values wrapped in a column beside the names,
    or, when that column would be narrower than `NARROWEST_VALUE`, each value under its name."""

    def __init__(self, names: Iterable[str], width: int | None, *, least: int = 0) -> None:
        self.name_width = max([least, *map(display_width, names)])
        value_width = None if width is None else width - self.name_width - len(GAP)
        self.stacked = value_width is not None and value_width < NARROWEST_VALUE
        self.width = width
        self.value_width = max(1, (width or 0) - len(INDENT)) if self.stacked else value_width

    def lines(self, name: str, values: Sequence[str]) -> Iterator[str]:
        value_lines = [line for value in values for line in wrap(value, self.value_width)] or [""]
        if self.stacked:
            yield from wrap(name, self.width)
            yield from (INDENT + line for line in value_lines if line)
            return
        yield (pad(name, self.name_width) + GAP + value_lines[0]).rstrip()
        indent = " " * (self.name_width + len(GAP))
        yield from (indent + line for line in value_lines[1:])


class _RecordLayout:
    """Rows as records: a `-[ RECORD n ]` rule, then one line (or more) per column."""

    def __init__(self, stream: IO[str], names: Sequence[str], width: int, sample: Sequence[Sequence[str]]) -> None:
        self.stream = stream
        self.names = names
        self.fields = _Fields(names, width)
        self.count = 0
        widest = max((display_width(line) for texts in sample for line in self.lines(texts)), default=0)
        self.rule = min(widest, width)

    def lines(self, texts: Sequence[str]) -> list[str]:
        """One record's lines, without its rule."""
        return [line for name, text in zip(self.names, texts, strict=True) for line in self.fields.lines(name, [text])]

    def line_count(self, sample: Sequence[Sequence[str]]) -> int:
        return sum(1 + len(self.lines(texts)) for texts in sample)

    def write(self, texts: Sequence[str]) -> None:
        self.count += 1
        label = f"-[ RECORD {self.count} ]"
        self.stream.write(label + "-" * (self.rule - len(label)) + "\n")
        self.stream.writelines(line + "\n" for line in self.lines(texts))


# Field/value views


class _Items(list[Any]):
    """A list of scalars, shown one item per line."""


def write_fields(stream: IO[str], record: Mapping[str, Any], *, width: int | None = None) -> None:
    """One object as a field/value view; its lists of objects follow as tables of their own."""
    pairs, tables = _split(record)
    fields = _Fields((name for name, _ in pairs), width, least=len("field"))
    rows = [(name, _texts(value)) for name, value in pairs]
    if not fields.stacked:
        widest = max((display_width(line) for _, texts in rows for line in fields.lines("", texts)), default=0)
        rule = max(len("value"), widest - fields.name_width - len(GAP))
        stream.write(pad("field", fields.name_width) + GAP + "value\n")
        stream.write("-" * fields.name_width + GAP + "-" * rule + "\n")
    for name, texts in rows:
        stream.writelines(line + "\n" for line in fields.lines(name, texts))
    for name, items in tables:
        stream.write(f"\n{name}:\n")
        writer = TableWriter(stream, width=width, sample_rows=len(items))
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


def _texts(value: Any) -> list[str]:
    return [terminal_safe(item) for item in value] if isinstance(value, _Items) else [terminal_safe(value)]
